// A ModuleContext for running a module on this machine through the local connection, as
// the runner would build it for a task: for unit specs of modules.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import { InventoryModel } from '../../engine/inventory/inventory.js';
import { renderString } from '../../engine/vars/template.js';
import assert from 'node:assert/strict';
import type { ModuleContext, ModuleResult } from '../../engine/modules/types.js';
import { lookupModule } from '../../engine/modules/registry.js';
import { makeTempDir } from './temp-dir.js';
import { snapshotTree } from './cli.js';

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

/** Run a registered module by any of its names. */
export async function runModule(name: string, args: Record<string, unknown>, ctx: ModuleContext): Promise<ModuleResult> {
  const def = lookupModule(name);
  assert.ok(def, `module ${name} is registered`);
  return def.run(args, ctx);
}

/**
 * The contract every module keeps, on this machine: check mode on a fresh tree predicts the
 * real run's changed, diff and message and leaves the tree exactly as it was; the real run
 * changes; a second run is ok with no diff. `setup` prepares a fresh folder and returns the args.
 */
export async function assertConverges(
  name: string,
  setup: (dir: string) => Record<string, unknown>,
  tempPrefix: string,
): Promise<{ dir: string; real: ModuleResult }> {
  const checkDir = makeTempDir(tempPrefix);
  const checkArgs = setup(checkDir);
  const before = snapshotTree(checkDir);
  const checked = await runModule(name, checkArgs, localModuleContext({ check: true, base: checkDir }));
  assert.equal(snapshotTree(checkDir), before, 'check mode left the tree untouched');

  const dir = makeTempDir(tempPrefix);
  const args = setup(dir);
  const real = await runModule(name, args, localModuleContext({ base: dir }));
  assert.ok(!real.failed, `${name} failed: ${String(real.msg)}`);
  assert.equal(real.changed, true, 'first run changes');
  assert.equal(checked.changed, true, 'check mode predicts changed');
  const norm = (r: ModuleResult) => JSON.stringify(r.diff ?? []).split(checkDir).join('<dir>').split(dir).join('<dir>');
  assert.equal(norm(checked), norm(real), 'check mode predicts the diff');
  assert.equal(String(checked.msg).split(checkDir).join('<dir>'), String(real.msg).split(dir).join('<dir>'), 'check mode predicts the message');

  const again = await runModule(name, args, localModuleContext({ base: dir }));
  assert.ok(!again.failed, String(again.msg));
  assert.equal(again.changed, false, 'second run is ok');
  assert.equal(again.diff, undefined, 'no diff when nothing changes');
  return { dir, real };
}
