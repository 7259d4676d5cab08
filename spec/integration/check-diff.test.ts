// --check --diff is a plan: on a fresh target it prints the diffs the real run then makes,
// and it leaves the target byte for byte unchanged (contents, modes, mtimes).
// Fixture: spec/fixtures/playbooks/checkdiff/site.yml, on two local hosts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir, repoRoot, snapshotTree } from '../helpers/cli.js';

const fixture = path.join(repoRoot, 'spec/fixtures/playbooks/checkdiff');

interface Planned {
  status: string;
  diff: string;
}

/** Per task, host and item: the status and the diffs a run reported. */
function plan(root: string, mode: string[]): { code: number; stderr: string; byStep: Map<string, Planned>; text: string } {
  const r = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '-e', `root=${root}`, '--no-retry-files', '--json', ...mode], { cwd: fixture });
  const byStep = new Map<string, Planned>();
  for (const e of events(r.stdout)) {
    if (e.kind !== 'host-result' || e.loopSummary) continue;
    byStep.set(`${e.task} | ${e.host} | ${e.item ?? ''}`, { status: e.status, diff: JSON.stringify(e.diff ?? []) });
  }
  return { code: r.code, stderr: r.stderr, byStep, text: r.stdout };
}

describe('check mode is an exact plan', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-check-');
  });
  after(() => tmp.cleanup());

  test('on a fresh target: same diffs as the real run, and nothing written', () => {
    const root = path.join(tmp.dir, 'fresh');
    mkdirSync(root);
    const before = snapshotTree(tmp.dir);
    const check = plan(root, ['--check', '--diff']);
    assert.equal(check.code, 0, check.stderr);
    assert.equal(snapshotTree(tmp.dir), before, 'check mode changed the target tree');

    const real = plan(root, ['--diff']);
    assert.equal(real.code, 0, real.stderr);
    assert.deepEqual([...check.byStep.keys()].sort(), [...real.byStep.keys()].sort());
    let diffs = 0;
    for (const [step, planned] of check.byStep) {
      const done = real.byStep.get(step)!;
      assert.equal(planned.status, done.status, `status of ${step}`);
      assert.equal(planned.diff, done.diff, `diff of ${step}`);
      if (planned.diff !== '[]') diffs++;
    }
    assert.ok(diffs >= 10, `expected diffs for most steps, got ${diffs}`);
    assert.match(real.text, /port=8080/);
  });

  test('on a converged target: no change planned, nothing written', () => {
    const root = path.join(tmp.dir, 'fresh');
    const before = snapshotTree(tmp.dir);
    const check = plan(root, ['--check', '--diff']);
    assert.equal(check.code, 0, check.stderr);
    for (const [step, planned] of check.byStep) assert.notEqual(planned.status, 'changed', step);
    assert.equal(snapshotTree(tmp.dir), before);
  });

  test('on a drifted target: the plan shows the drift and the run repairs exactly that', () => {
    const root = path.join(tmp.dir, 'fresh');
    writeFileSync(path.join(root, 't1/etc/app.env'), 'name=someone-else\nport=8080\n');
    chmodSync(path.join(root, 't2/etc/app.env'), 0o666);
    writeFileSync(path.join(root, 't1/stale.txt'), 'old\n');
    const before = snapshotTree(tmp.dir);
    const check = plan(root, ['--check', '--diff']);
    assert.equal(snapshotTree(tmp.dir), before, 'check mode repaired something');
    const changed = [...check.byStep].filter(([, p]) => p.status === 'changed').map(([s]) => s).sort();
    assert.deepEqual(changed, ['a stale file is removed | t1 | ', 'content file | t1 | ', 'content file | t2 | ']);
    const [t1] = JSON.parse(check.byStep.get('content file | t1 | ')!.diff);
    assert.equal(t1.before, 'name=someone-else\nport=8080\n');
    assert.equal(t1.after, 'name=t1\nport=8080\n');
    const [t2] = JSON.parse(check.byStep.get('content file | t2 | ')!.diff);
    assert.match(t2.before, /0666/);
    assert.match(t2.after, /0640/);
    const real = plan(root, ['--diff']);
    for (const step of changed) assert.equal(real.byStep.get(step)!.diff, check.byStep.get(step)!.diff, step);
    const again = plan(root, []);
    assert.deepEqual([...again.byStep.values()].filter((p) => p.status === 'changed'), []);
  });
});
