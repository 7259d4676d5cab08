// A `file` loop goes to the module's runMany: one probe of every item's paths with the items'
// changes chained behind it, one exec for the whole loop (cold, warm and check). Every play here
// also runs with batching off (TSPLAY_LOOP_BATCH=0, one call per item as before) and must give
// the same per-item events, diffs, register and end state.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runPlaybook, registerTransport, type RunEvent } from '../../engine/index.js';
import { LocalConnection } from '../../engine/connection/local.js';
import { makeTempDir } from '../helpers/temp-dir.js';

let execs = 0;
class CountingConnection extends LocalConnection {
  override exec(...args: Parameters<LocalConnection['exec']>): ReturnType<LocalConnection['exec']> {
    execs++;
    return super.exec(...args);
  }
}
registerTransport(['tsplay_counting'], (host) => new CountingConnection(host));

interface Run {
  events: RunEvent[];
  execs: number;
  exitCode: number;
}

/** Runs `tasks` (YAML, indented for a play's task list) on one counting local host. */
async function play(dir: string, root: string, tasks: string, opts: { batch: boolean; check?: boolean }): Promise<Run> {
  writeFileSync(path.join(dir, 'inv.ini'), 'h1 ansible_connection=tsplay_counting\n');
  const file = path.join(dir, `play-${opts.batch ? 'b' : 'u'}.yml`);
  writeFileSync(file, `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`);
  const events: RunEvent[] = [];
  const saved = process.env.TSPLAY_LOOP_BATCH;
  if (!opts.batch) process.env.TSPLAY_LOOP_BATCH = '0';
  else delete process.env.TSPLAY_LOOP_BATCH;
  execs = 0;
  try {
    const outcome = await runPlaybook({ playbook: file, inventory: path.join(dir, 'inv.ini'), extraVars: { root }, check: opts.check ?? false, diff: true, reporter: { onEvent: (e) => events.push(e) } });
    return { events, execs, exitCode: outcome.exitCode };
  } finally {
    if (saved === undefined) delete process.env.TSPLAY_LOOP_BATCH;
    else process.env.TSPLAY_LOOP_BATCH = saved;
  }
}

/** The host results of one task, with the root made neutral and times dropped: comparable across runs. */
function resultsOf(run: Run, task: string, root: string): unknown[] {
  const shown = run.events.filter((e) => e.kind === 'host-result' && e.task === task);
  return JSON.parse(JSON.stringify(shown).replaceAll(root, 'ROOT'), (k, v) => (k === 'time' || k === 'taskId' || k === 'mtime' || k === 'atime' || k === 'ctime' ? undefined : v)) as unknown[];
}

/** The same play batched (root b) and not (root u), from the same starting tree. */
async function bothWays(tasks: string, opts: { check?: boolean; setup?: (root: string) => void; task: string }) {
  const dir = makeTempDir('tsplay-loopb-');
  const b = path.join(dir, 'b');
  const u = path.join(dir, 'u');
  for (const r of [b, u]) {
    mkdirSync(r);
    opts.setup?.(r);
  }
  const batched = await play(dir, b, tasks, { batch: true, ...(opts.check ? { check: true } : {}) });
  const unbatched = await play(dir, u, tasks, { batch: false, ...(opts.check ? { check: true } : {}) });
  assert.deepEqual(resultsOf(batched, opts.task, b), resultsOf(unbatched, opts.task, u));
  assert.equal(batched.exitCode, unbatched.exitCode);
  return { dir, b, u, batched, unbatched };
}

const items20 = Array.from({ length: 20 }, (_, i) => `'${String(i + 1).padStart(2, '0')}'`).join(', ');
const DIR_LOOP = `    - name: dirs
      file:
        path: "{{ root }}/loop/item-{{ item }}"
        state: directory
        mode: '0750'
      loop: [${items20}]
      register: r
    - name: registered
      assert:
        that:
          - r.results | length == 20
          - r.results[0].item == '01'
          - r.results[19].path == root ~ '/loop/item-20'
          - r.changed == (r.results | selectattr('changed') | list | length > 0)
`;

describe('a file loop in one round trip', () => {
  test('20 directories: cold, warm and check are one exec each, with the unbatched results', async () => {
    const cold = await bothWays(DIR_LOOP, { task: 'dirs', setup: (r) => mkdirSync(path.join(r, 'loop')) });
    assert.equal(cold.batched.exitCode, 0);
    assert.equal(cold.batched.execs, 1, 'cold: the probe and all 20 mkdirs in one exec');
    assert.equal(cold.unbatched.execs, 20);
    const perItem = cold.batched.events.filter((e) => e.kind === 'host-result' && e.task === 'dirs' && 'item' in e);
    assert.equal(perItem.length, 20);
    assert.ok(perItem.every((e) => e.kind === 'host-result' && e.status === 'changed' && e.diff?.length === 1));
    for (let i = 1; i <= 20; i++) assert.equal(statSync(path.join(cold.b, 'loop', `item-${String(i).padStart(2, '0')}`)).mode & 0o7777, 0o750);

    const warmB = await play(cold.dir, cold.b, DIR_LOOP, { batch: true });
    const warmU = await play(cold.dir, cold.u, DIR_LOOP, { batch: false });
    assert.equal(warmB.execs, 1, 'warm: the probe alone');
    assert.deepEqual(resultsOf(warmB, 'dirs', cold.b), resultsOf(warmU, 'dirs', cold.u));
    assert.ok(warmB.events.every((e) => e.kind !== 'host-result' || e.status === 'ok'));

    const check = await bothWays(DIR_LOOP, { task: 'dirs', check: true });
    assert.equal(check.batched.execs, 1, 'check: the probe alone');
    assert.equal(existsSync(path.join(check.b, 'loop')), false, 'check mode wrote nothing');
    assert.equal(check.batched.events.filter((e) => e.kind === 'host-result' && e.task === 'dirs' && e.status === 'changed').length, 21);
  });

  test('20 new folders with the same mode are made by ONE mkdir program on the host', async () => {
    const dir = makeTempDir('tsplay-loopm-');
    const bin = path.join(dir, 'bin');
    mkdirSync(bin);
    const log = path.join(dir, 'started.log');
    // a logging mkdir first on PATH (the task's environment reaches the host's scripts)
    writeFileSync(path.join(bin, 'mkdir'), `#!/bin/sh\necho mkdir >> '${log}'\nexec /bin/mkdir "$@"\n`, { mode: 0o755 });
    const root = path.join(dir, 'r');
    mkdirSync(path.join(root, 'loop'), { recursive: true });
    const tasks = DIR_LOOP.replace('      loop:', `      environment:\n        PATH: "${bin}:${process.env.PATH}"\n      loop:`);
    const run = await play(dir, root, tasks, { batch: true });
    assert.equal(run.exitCode, 0);
    assert.equal(run.execs, 1);
    assert.equal(readFileSync(log, 'utf8'), 'mkdir\n');
    for (let i = 1; i <= 20; i++) assert.equal(statSync(path.join(root, 'loop', `item-${String(i).padStart(2, '0')}`)).mode & 0o7777, 0o750);
    assert.equal(run.events.filter((e) => e.kind === 'host-result' && e.task === 'dirs' && 'item' in e && e.status === 'changed').length, 20);
  });

  test('a failing item in the middle: the others are applied, the task fails, as unbatched', async () => {
    const run = await bothWays(DIR_LOOP, {
      task: 'dirs',
      setup: (r) => {
        mkdirSync(path.join(r, 'loop'));
        writeFileSync(path.join(r, 'loop', 'item-10'), 'in the way');
      },
    });
    assert.notEqual(run.batched.exitCode, 0);
    const failed = run.batched.events.filter((e) => e.kind === 'host-result' && e.task === 'dirs' && e.status === 'failed');
    assert.equal(failed.length, 2, 'item 10 and the loop');
    assert.match(String(failed[0]!.kind === 'host-result' && failed[0]!.msg), /already exists as a file/);
    for (const n of ['01', '09', '11', '20']) assert.ok(statSync(path.join(run.b, 'loop', `item-${n}`)).isDirectory());
    assert.ok(run.batched.execs < run.unbatched.execs, `${run.batched.execs} execs`);
  });

  test('nested items (each inside the one before): the same results and tree as unbatched', async () => {
    const tasks = `    - name: nested
      file:
        path: "{{ root }}/{{ item }}"
        state: directory
        mode: '0700'
      loop: [a, a/b, a/b/c, x, x/y]
`;
    const cold = await bothWays(tasks, { task: 'nested' });
    for (const p of ['a', 'a/b', 'a/b/c', 'x/y']) assert.equal(statSync(path.join(cold.b, p)).mode & 0o7777, 0o700);
    const check = await bothWays(tasks, { task: 'nested', check: true });
    assert.equal(existsSync(path.join(check.b, 'a')), false);
  });

  test('when per item, and other states (touch, link, absent, file): the unbatched results, warm too', async () => {
    const tasks = `    - name: mixed
      file:
        path: "{{ root }}/{{ item.p }}"
        state: "{{ item.s }}"
        src: "{{ item.src | default(omit) }}"
        mode: "{{ item.m | default(omit) }}"
      when: item.p != 'skipme'
      loop:
        - { p: t1, s: touch, m: '0600' }
        - { p: skipme, s: directory }
        - { p: gone, s: absent }
        - { p: old, s: absent }
        - { p: l1, s: link, src: t0 }
        - { p: d1, s: directory }
        - { p: t0, s: file, m: '0640' }
        - { p: d1/inner, s: touch }
`;
    const setup = (r: string): void => {
      writeFileSync(path.join(r, 't0'), 'x');
      mkdirSync(path.join(r, 'old'));
    };
    const cold = await bothWays(tasks, { task: 'mixed', setup });
    assert.equal(cold.batched.exitCode, 0);
    assert.equal(readlinkSync(path.join(cold.b, 'l1')), 't0');
    assert.equal(lstatSync(path.join(cold.b, 't0')).mode & 0o7777, 0o640);
    assert.ok(existsSync(path.join(cold.b, 'd1', 'inner')));
    assert.equal(existsSync(path.join(cold.b, 'old')), false);
    const skipped = cold.batched.events.filter((e) => e.kind === 'host-result' && e.task === 'mixed' && e.status === 'skipped');
    assert.equal(skipped.length, 1);

    const warmB = await play(cold.dir, cold.b, tasks, { batch: true });
    const warmU = await play(cold.dir, cold.u, tasks, { batch: false });
    assert.deepEqual(resultsOf(warmB, 'mixed', cold.b).filter((e) => !JSON.stringify(e).includes('"t1"')), resultsOf(warmU, 'mixed', cold.u).filter((e) => !JSON.stringify(e).includes('"t1"')));
    assert.equal(warmB.execs, 1 + 2, 'warm: the probe, then the two touches (touch always changes times)');
  });

  test('a chained change that fails mid-loop (unknown owner): that item fails, the rest are applied, one exec', async () => {
    const tasks = `    - name: owners
      file:
        path: "{{ root }}/o-{{ item }}"
        state: directory
        owner: "{{ 'no-such-user-tsplay' if item == 3 else omit }}"
      loop: [1, 2, 3, 4, 5]
`;
    const run = await bothWays(tasks, { task: 'owners' });
    assert.equal(run.batched.execs, 1);
    assert.notEqual(run.batched.exitCode, 0);
    const failed = run.batched.events.filter((e) => e.kind === 'host-result' && e.task === 'owners' && e.status === 'failed' && 'item' in e);
    assert.equal(failed.length, 1);
    assert.match(String(failed[0]!.kind === 'host-result' && failed[0]!.msg), /could not create directory .*o-3: .*no-such-user-tsplay/);
    for (const n of [1, 2, 4, 5]) assert.ok(statSync(path.join(run.b, `o-${n}`)).isDirectory());
  });

  test('loop_control (loop_var, index_var, label): the same events as unbatched', async () => {
    const tasks = `    - name: controlled
      file:
        path: "{{ root }}/c-{{ idx }}-{{ thing.name }}"
        state: directory
      loop: [{ name: a }, { name: b }, { name: c }]
      loop_control:
        loop_var: thing
        index_var: idx
        label: "{{ thing.name }} at {{ idx }}"
`;
    const run = await bothWays(tasks, { task: 'controlled' });
    assert.equal(run.batched.execs, 1);
    const items = run.batched.events.flatMap((e) => (e.kind === 'host-result' && e.task === 'controlled' && 'item' in e ? [e.item] : []));
    assert.deepEqual(items, ['a at 0', 'b at 1', 'c at 2']);
    assert.ok(existsSync(path.join(run.b, 'c-2-c')));
  });

  test('no batching where something must happen between items: until, or a when on its own register', async () => {
    const until = `    - name: retried
      file:
        path: "{{ root }}/u-{{ item }}"
        state: directory
      loop: [1, 2, 3]
      register: r
      until: r is succeeded
`;
    const u = await bothWays(until, { task: 'retried' });
    assert.equal(u.batched.execs, 3);
    const ownRegister = `    - name: reads own register
      file:
        path: "{{ root }}/w-{{ item }}"
        state: directory
      loop: [1, 2, 3]
      register: w
      when: w is not defined or item > 0
`;
    const w = await bothWays(ownRegister, { task: 'reads own register' });
    assert.equal(w.batched.execs, 3);
  });
});
