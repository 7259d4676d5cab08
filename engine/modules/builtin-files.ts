// Built-in modules of this group, registered by registry.ts. Add a module here after its file.
import type { ModuleDef } from './types.js';
import raw from './raw.js';
import script from './script.js';
import lineinfile from './lineinfile.js';
import blockinfile from './blockinfile.js';
import replace from './replace.js';
import fetch from './fetch.js';
import slurp from './slurp.js';
import getUrl from './get_url.js';
import unarchive from './unarchive.js';
import tempfile from './tempfile.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const FILE_MODULES: Array<ModuleDef<any>> = [raw, script, lineinfile, blockinfile, replace, fetch, slurp, getUrl, unarchive, tempfile];
