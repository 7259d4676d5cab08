// Built-in modules of this group (container images), registered by registry.ts. Add a module here after its file.
import type { ModuleDef } from './types.js';
import registrySync from './registry_sync.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const IMAGE_MODULES: Array<ModuleDef<any>> = [registrySync];
