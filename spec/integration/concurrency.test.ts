// How failures spread and how much runs at once: any_errors_fatal, max_fail_percentage,
// throttle and --forks, on four local hosts.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir } from '../helpers/cli.js';

type Event = Record<string, any>;

describe('failure policies and concurrency limits', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-conc-');
    writeFileSync(path.join(tmp.dir, 'hosts.ini'), '[four]\nc1\nc2\nc3\nc4\n\n[four:vars]\nansible_connection=local\n');
  });
  after(() => tmp.cleanup());

  const play = (name: string, head: string, tasks: string) => {
    const file = path.join(tmp.dir, `${name}.yml`);
    writeFileSync(file, `- hosts: four\n  gather_facts: false\n${head}  tasks:\n${tasks}`);
    const r = tsplay(['run', file, '-i', 'hosts.ini', '--no-retry-files', '--json'], { cwd: tmp.dir });
    return { ...r, events: events(r.stdout) };
  };
  const ran = (evs: Event[], task: string) => evs.filter((e) => e.kind === 'host-result' && e.task === task).map((e) => e.host).sort();
  const FAIL_ON_C2 = `    - name: fails on c2\n      command: "false"\n      when: inventory_hostname == 'c2'\n    - name: next\n      command: "true"\n`;

  test('without any_errors_fatal the other hosts go on', () => {
    const r = play('plain', '', FAIL_ON_C2);
    assert.equal(r.code, 2);
    assert.deepEqual(ran(r.events, 'next'), ['c1', 'c3', 'c4']);
  });

  test('any_errors_fatal stops every host after the failing task', () => {
    const r = play('fatal', '  any_errors_fatal: true\n', FAIL_ON_C2);
    assert.equal(r.code, 2);
    assert.deepEqual(ran(r.events, 'next'), []);
  });

  test('max_fail_percentage: 25% failed is within 30, over 20', () => {
    const within = play('within', '  max_fail_percentage: 30\n', FAIL_ON_C2);
    assert.deepEqual(ran(within.events, 'next'), ['c1', 'c3', 'c4']);
    const over = play('over', '  max_fail_percentage: 20\n', FAIL_ON_C2);
    assert.deepEqual(ran(over.events, 'next'), []);
    assert.equal(over.code, 2);
  });

  /** Largest number of hosts inside the task at the same moment, from start/end stamps they wrote. */
  const overlap = (log: string) => {
    const marks = readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split(' ')).map(([kind, t]) => ({ kind, t: Number(t) }));
    marks.sort((a, b) => a.t - b.t || (a.kind === 'end' ? -1 : 1));
    let inside = 0;
    let most = 0;
    for (const m of marks) {
      inside += m.kind === 'start' ? 1 : -1;
      most = Math.max(most, inside);
    }
    return most;
  };
  const timed = (log: string) => `    - name: timed\n      shell: 'echo "start $(date +%s.%N)" >> ${log}; sleep 0.3; echo "end $(date +%s.%N)" >> ${log}'\n`;

  test('hosts run in parallel by default; throttle: 1 runs the task one host at a time', () => {
    const freeLog = path.join(tmp.dir, 'free.log');
    play('parallel', '', timed(freeLog));
    assert.ok(overlap(freeLog) >= 3, `expected parallel hosts, saw ${overlap(freeLog)}`);
    const throttledLog = path.join(tmp.dir, 'throttled.log');
    const r = play('throttled', '', timed(throttledLog) + '      throttle: 1\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(overlap(throttledLog), 1);
  });

  test('--forks 2 keeps at most two hosts busy', () => {
    const log = path.join(tmp.dir, 'forks.log');
    const file = path.join(tmp.dir, 'forks.yml');
    writeFileSync(file, `- hosts: four\n  gather_facts: false\n  tasks:\n${timed(log)}`);
    const r = tsplay(['run', file, '-i', 'hosts.ini', '--forks', '2', '--no-retry-files'], { cwd: tmp.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(overlap(log), 2);
  });
});
