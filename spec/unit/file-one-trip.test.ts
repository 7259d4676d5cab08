// file state=directory on an absent path under an existing folder: the probe and the mkdir go
// in ONE exec (the plan for the expected state chained onto the probe), with exactly the
// result, diff and end state of the two-step run; anything else falls back to two steps.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostOps } from '../../engine/connection/host-ops.js';
import { LocalConnection } from '../../engine/connection/local.js';
import type { ModuleContext, ModuleResult } from '../../engine/modules/types.js';
import { localModuleContext, runModule } from '../helpers/module-context.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** A local module context that counts the execs the module makes. */
function counting(opts: { check?: boolean } = {}): { ctx: ModuleContext; execs: () => number } {
  const ctx = localModuleContext({ diff: true, ...opts });
  const local = new LocalConnection('localhost');
  let n = 0;
  const conn = Object.create(local) as LocalConnection;
  conn.exec = (script, o) => {
    n++;
    return local.exec(script, o);
  };
  return { ctx: { ...ctx, conn, ops: new HostOps(conn) }, execs: () => n };
}

/** The same task through the two-step path (a symbolic mode keeps it from chaining). */
function strip(r: ModuleResult): ModuleResult {
  return JSON.parse(JSON.stringify(r)) as ModuleResult;
}

describe('file: probe and create in one round trip', () => {
  test('an absent folder under an existing one: one exec, same result and diff as two steps', async () => {
    const dir = makeTempDir('tsplay-f1-');
    const one = counting();
    const r1 = await runModule('file', { path: join(dir, 'a'), state: 'directory', mode: '0750' }, one.ctx);
    assert.equal(one.execs(), 1);
    assert.equal(r1.changed, true);
    assert.equal(statSync(join(dir, 'a')).mode & 0o7777, 0o750);

    // the same module with chaining impossible (a parent missing too): two execs
    const two = counting();
    const r2 = await runModule('file', { path: join(dir, 'b', 'c'), state: 'directory', mode: '0750' }, two.ctx);
    assert.equal(two.execs(), 2);
    assert.equal(statSync(join(dir, 'b')).mode & 0o7777, 0o750, 'every folder created gets the mode');
    // results differ only in the path
    assert.deepEqual(strip(r1), JSON.parse(JSON.stringify(strip(r2)).replaceAll(join(dir, 'b', 'c'), join(dir, 'a'))));
    assert.deepEqual(r1.diff, [{ before: `path: ${join(dir, 'a')}\nstate: absent\n`, after: `path: ${join(dir, 'a')}\nstate: directory\nmode: '0750'\n`, beforeHeader: join(dir, 'a'), afterHeader: join(dir, 'a') }]);

    const again = counting();
    const r3 = await runModule('file', { path: join(dir, 'a'), state: 'directory', mode: '0750' }, again.ctx);
    assert.equal(r3.changed, false);
    assert.equal(again.execs(), 1);
  });

  test('check mode never chains a change', async () => {
    const dir = makeTempDir('tsplay-f1-');
    const c = counting({ check: true });
    const r = await runModule('file', { path: join(dir, 'a'), state: 'directory' }, c.ctx);
    assert.equal(r.changed, true);
    assert.equal(c.execs(), 1);
    assert.throws(() => statSync(join(dir, 'a')));
  });

  test('a file in the way: the guard does not hold, nothing is changed, Ansible\'s error', async () => {
    const dir = makeTempDir('tsplay-f1-');
    writeFileSync(join(dir, 'f'), 'x');
    const c = counting();
    const r = await runModule('file', { path: join(dir, 'f'), state: 'directory' }, c.ctx);
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /already exists as a file/);
    assert.equal(statSync(join(dir, 'f')).isFile(), true);
  });

  test('a chained mkdir that fails reports mkdir\'s error', { skip: process.getuid?.() === 0 && 'root may write anywhere' }, async () => {
    const dir = makeTempDir('tsplay-f1-');
    mkdirSync(join(dir, 'ro'));
    chmodSync(join(dir, 'ro'), 0o555);
    const c = counting();
    const r = await runModule('file', { path: join(dir, 'ro', 'x'), state: 'directory' }, c.ctx);
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /could not create directory .*ro\/x: .*Permission denied/);
    assert.equal(c.execs(), 1);
  });

  test('a chained chown that fails reports the error and the folder is there (as two steps leave it)', async () => {
    const dir = makeTempDir('tsplay-f1-');
    const c = counting();
    const r = await runModule('file', { path: join(dir, 'x'), state: 'directory', owner: 'no-such-user-tsplay' }, c.ctx);
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /could not create directory .*\/x: .*no-such-user-tsplay/);
    assert.equal(c.execs(), 1);
  });
});
