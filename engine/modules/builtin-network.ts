// Built-in modules of this group, registered by registry.ts. Add a module here after its file.
import type { ModuleDef } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const NETWORK_MODULES: Array<ModuleDef<any>> = [];
