// Built-in modules of this group, registered by registry.ts. Add a module here after its file.
import type { ModuleDef } from './types.js';
import aptRepository from './apt_repository.js';
import authorizedKey from './authorized_key.js';
import cron from './cron.js';
import group from './group.js';
import hostname from './hostname.js';
import modprobe from './modprobe.js';
import mount from './mount.js';
import selinux from './selinux.js';
import swap from './swap.js';
import sysctl from './sysctl.js';
import user from './user.js';
import yumRepository from './yum_repository.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const SYSTEM_MODULES: Array<ModuleDef<any>> = [user, group, authorizedKey, sysctl, modprobe, hostname, mount, cron, aptRepository, yumRepository, swap, selinux];
