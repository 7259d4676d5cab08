// Built-in modules of this group (databases), registered by registry.ts. Add a module here after its file.
import type { ModuleDef } from './types.js';
import mysqlDb from './mysql_db.js';
import mysqlUser from './mysql_user.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const DATABASE_MODULES: Array<ModuleDef<any>> = [mysqlDb, mysqlUser];
