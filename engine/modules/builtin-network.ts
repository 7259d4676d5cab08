// Built-in modules of this group, registered by registry.ts. Add a module here after its file.
import type { ModuleDef } from './types.js';
import addHost from './add_host.js';
import groupBy from './group_by.js';
import includeVars from './include_vars.js';
import pause from './pause.js';
import ping from './ping.js';
import setup from './setup.js';
import uri from './uri.js';
import waitFor from './wait_for.js';
import waitForConnection from './wait_for_connection.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const NETWORK_MODULES: Array<ModuleDef<any>> = [addHost, groupBy, includeVars, pause, ping, setup, uri, waitFor, waitForConnection];
