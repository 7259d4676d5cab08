// Built-in modules of this group, registered by registry.ts. Add a module here after its file.
import type { ModuleDef } from './types.js';
import apt from './apt.js';
import dnf from './dnf.js';
import packageModule from './package.js';
import service from './service.js';
import systemd from './systemd.js';
import yum from './yum.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const PACKAGE_MODULES: Array<ModuleDef<any>> = [apt, dnf, yum, packageModule, service, systemd];
