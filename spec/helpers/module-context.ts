// A ModuleContext for running a module on this machine through the local connection, as
// the runner would build it for a task: for unit specs of modules.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import { InventoryModel } from '../../engine/inventory/inventory.js';
import { renderString } from '../../engine/vars/template.js';
import type { ModuleContext } from '../../engine/modules/types.js';

export interface LocalContextOptions {
  check?: boolean;
  diff?: boolean;
  /** Folder the task "was written in": files/ and templates/ are looked up under it. */
  base?: string;
  /** The task's variables; templates render against them. */
  vars?: Record<string, unknown>;
  /** Environment for every command the module runs. */
  env?: Record<string, string>;
}

export function localModuleContext(opts: LocalContextOptions = {}): ModuleContext {
  const conn = new LocalConnection('localhost');
  const base = opts.base ?? tmpdir();
  const vars = opts.vars ?? {};
  return {
    host: 'localhost',
    conn,
    ops: new HostOps(conn, opts.env ? { env: opts.env } : {}),
    check: opts.check ?? false,
    diff: opts.diff ?? true,
    vars,
    taskPos: { file: join(base, 'tasks.yml'), line: 1, col: 1 },
    searchPaths: { files: [join(base, 'files')], templates: [join(base, 'templates')] },
    renderTemplate: (text, file) => renderString(text, vars, { file, line: 1, col: 1 }),
    evaluateCondition: () => true,
    evaluateExpression: () => undefined,
    inventory: new InventoryModel(),
  };
}
