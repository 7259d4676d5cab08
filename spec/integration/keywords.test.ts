// A playbook using every keyword of the engine core runs on three local hosts with the
// right order, results and recap; the second run reports changed=0.
// Fixture: spec/fixtures/playbooks/keywords/site.yml.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir, repoRoot, recap } from '../helpers/cli.js';

const fixture = path.join(repoRoot, 'spec/fixtures/playbooks/keywords');
type Event = Record<string, any>;

function run(root: string, extra: string[] = []) {
  const result = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '-e', `root=${root}`, '--no-retry-files', '--json', ...extra], { cwd: fixture });
  return { ...result, events: events(result.stdout) };
}

const results = (evs: Event[], task: string) => evs.filter((e) => e.kind === 'host-result' && e.task === task && !e.item);
const starts = (evs: Event[]) => evs.filter((e) => e.kind === 'task-start');

describe('every keyword, on three local hosts', () => {
  let tmp: { dir: string; cleanup: () => void };
  let first: ReturnType<typeof run>;
  let second: ReturnType<typeof run>;

  before(() => {
    tmp = tempDir('tsplay-keywords-');
    first = run(tmp.dir);
    second = run(tmp.dir);
  });
  after(() => tmp.cleanup());

  const file = (...parts: string[]) => path.join(tmp.dir, ...parts);
  const read = (...parts: string[]) => readFileSync(file(...parts), 'utf8');

  test('the first run succeeds and changes things', () => {
    assert.equal(first.code, 0, first.stderr);
    const stats = recap(first.events);
    assert.deepEqual(Object.keys(stats).sort(), ['h1', 'h2', 'h3']);
    for (const host of ['h1', 'h2', 'h3']) {
      assert.ok(stats[host]!.changed > 10, `${host} changed=${stats[host]!.changed}`);
      assert.equal(stats[host]!.failed, 0);
      assert.equal(stats[host]!.rescued, 1, 'the block failure was rescued');
      assert.equal(stats[host]!.ignored, 1, 'ignore_errors counted as ignored');
      assert.equal(stats[host]!.skipped, 1, 'one task skipped by when');
    }
  });

  test('the second run reports changed=0 and nothing changed', () => {
    assert.equal(second.code, 0, second.stderr);
    for (const [host, s] of Object.entries(recap(second.events))) assert.equal(s.changed, 0, `${host} changed on the second run`);
    assert.equal(second.events.filter((e) => e.kind === 'host-result' && e.status === 'changed').length, 0);
  });

  test('serial [1, 2] with order sorted: h1 alone, then h2 and h3 in lock step', () => {
    const playStarts = first.events.filter((e) => e.kind === 'play-start');
    const play1 = starts(first.events.slice(0, first.events.indexOf(playStarts[1]!)));
    const batchOne = play1.filter((e) => e.hosts.join() === 'h1');
    const batchTwo = play1.filter((e) => e.hosts.join() === 'h2,h3');
    assert.ok(batchOne.length > 20 && batchTwo.length > 20, 'both batches ran the tasks');
    const lastOfOne = first.events.indexOf(batchOne.at(-1)!);
    const firstOfTwo = first.events.indexOf(batchTwo[0]!);
    assert.ok(lastOfOne < firstOfTwo, 'the second batch started after the first finished');
    // linear: every result of a task comes before the next task starts
    const names = batchTwo.map((e) => e.name);
    assert.deepEqual(names.slice(0, 4), ['host folder exists', 'copy content', 'copy a file from files/', 'template from templates/']);
    for (let i = 0; i + 1 < batchTwo.length; i++) {
      const from = first.events.indexOf(batchTwo[i]!);
      const to = first.events.indexOf(batchTwo[i + 1]!);
      const between = first.events.slice(from, to).filter((e) => e.kind === 'host-result' && !e.item);
      const hosts = new Set(between.map((e) => e.host));
      if (batchTwo[i]!.name !== 'run once for the batch') assert.deepEqual([...hosts].sort(), ['h2', 'h3'], `results of '${batchTwo[i]!.name}'`);
    }
  });

  test('files, templates and loops produced what the playbook says', () => {
    assert.equal(read('h1', 'hello.txt'), 'hello h1\n');
    assert.equal(read('h2', 'static.txt'), 'static file content\n');
    assert.equal(statSync(file('h2', 'static.txt')).mode & 0o7777, 0o600);
    assert.equal(read('h3', 'app.conf'), '# h3\ngreeting=hello\nentry=alpha\nentry=beta\n');
    assert.equal(read('h1', 'alpha.txt'), 'alpha=0\n');
    assert.equal(read('h1', 'beta.txt'), 'beta=1\n');
    assert.ok(existsSync(file('h2', 'dir_a')) && existsSync(file('h2', 'dir_b')));
    for (const host of ['h1', 'h2', 'h3']) {
      const labels = first.events.filter((e) => e.task === 'loop with loop_control' && e.item && e.host === host).map((e) => e.item);
      assert.deepEqual(labels, ['alpha', 'beta'], `item labels on ${host}`);
    }
  });

  test('register, until/retries, failed_when and ignore_errors', () => {
    const until = results(first.events, 'until and retries');
    assert.equal(until.length, 3);
    for (const e of until) assert.equal(e.result.attempts, 2, 'until needed a second attempt');
    for (const e of results(first.events, 'failed_when turns rc 1 into success')) assert.equal(e.status, 'ok');
    for (const e of results(first.events, 'ignore_errors keeps going')) {
      assert.equal(e.status, 'failed');
      assert.equal(e.ignored, true);
    }
    for (const e of results(first.events, 'registered result is usable')) assert.equal(e.status, 'ok');
  });

  test('tags: never is not run, always is', () => {
    assert.equal(results(first.events, 'tagged never').length, 0);
    assert.equal(existsSync(file('h1', 'never.txt')), false);
    assert.equal(results(first.events, 'tagged always').length, 3);
  });

  test('block, rescue, always, and ansible_failed_task', () => {
    for (const e of results(first.events, 'block task fails')) assert.equal(e.status, 'failed');
    assert.equal(results(first.events, 'not reached after the failure').length, 0);
    assert.equal(read('h2', 'rescued.txt'), 'rescued block task fails from-block\n');
    assert.equal(read('h3', 'always.txt'), 'always');
  });

  test('when, run_once, delegate_to and throttle', () => {
    for (const e of results(first.events, 'skipped by when')) assert.equal(e.status, 'skipped');
    const once = results(first.events, 'run once for the batch');
    assert.deepEqual(once.map((e) => e.host), ['h1', 'h2'], 'one host per batch ran it');
    assert.equal(read('once-h1.txt'), 'once by h1\n');
    assert.equal(read('once-h2-h3.txt'), 'once by h2\n');
    for (const e of results(first.events, 'delegated to localhost')) assert.equal(e.delegatedTo, 'localhost');
    assert.equal(read('delegated-h3.txt'), 'delegated for h3\n');
    assert.equal(results(first.events, 'throttled').length, 3);
  });

  test('environment, no_log, check_mode, diff and vars', () => {
    for (const e of results(first.events, 'environment checked')) assert.equal(e.status, 'ok');
    assert.equal(first.stdout.includes('hunter2'), false, 'the no_log secret leaked into the events');
    for (const e of results(first.events, 'no_log hides the secret')) assert.match(String(e.result.censored), /no_log/);
    assert.equal(existsSync(file('h1', 'check-mode-only.txt')), false, 'check_mode: true wrote a file');
    for (const e of results(first.events, 'diff off for one task')) assert.equal(e.diff, undefined);
    for (const e of results(first.events, 'set_fact values keep their type')) assert.equal(e.status, 'ok');
  });

  test('include_tasks with a loop and import_tasks', () => {
    assert.equal(read('h1', 'included-apple.txt'), 'included apple\n');
    assert.equal(read('h3', 'included-pear.txt'), 'included pear\n');
    assert.ok(existsSync(file('h2', 'imported')));
    assert.equal(read('h2', 'imported.conf'), read('h2', 'app.conf'), 'templates/ beside the playbook serves imported task files');
  });

  test('handlers: notify, listen, flush_handlers before the next task, once per host', () => {
    const handlerStarts = starts(first.events).filter((e) => e.handler);
    assert.deepEqual([...new Set(handlerStarts.map((e) => e.name))], ['hello changed', 'listener']);
    const handled = first.events.filter((e) => e.kind === 'host-result' && e.task === 'hello changed');
    assert.deepEqual(handled.map((e) => e.host).sort(), ['h1', 'h2', 'h3']);
    const flushAt = first.events.findIndex((e) => e.kind === 'task-start' && e.handler && e.hosts.includes('h2'));
    const afterFlush = first.events.findIndex((e) => e.kind === 'task-start' && e.name === 'after flush' && e.hosts.includes('h2'));
    assert.ok(flushAt >= 0 && flushAt < afterFlush, 'handlers ran at meta: flush_handlers');
    assert.equal(read('h1', 'handled.txt'), 'handled\n');
    assert.equal(second.events.filter((e) => e.kind === 'task-start' && e.handler).length, 0, 'nothing changed, nothing notified');
  });

  test('meta: end_host and end_play', () => {
    assert.ok(existsSync(file('h1', 'post.txt')) && existsSync(file('h2', 'post.txt')));
    assert.equal(existsSync(file('h3', 'post.txt')), false, 'end_host stopped h3');
    assert.equal(results(first.events, 'never reached after end_play').length, 0);
    assert.equal(results(first.events, 'before end_play').length, 3);
  });

  test('strategy free with facts gathered because the play reads them', () => {
    const gathered = first.events.filter((e) => e.kind === 'host-result' && e.task === 'Gathering Facts');
    assert.deepEqual(gathered.map((e) => e.host).sort(), ['h1', 'h2']);
    for (const e of results(first.events, 'facts are there')) assert.equal(e.status, 'ok');
  });
});

describe('run options', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-options-');
    // the selections below skip the tasks that create each host's folder: converge once first
    assert.equal(run(tmp.dir).code, 0);
  });
  after(() => tmp.cleanup());

  test('--tags selects tagged tasks, including never-tagged ones named explicitly, plus always', () => {
    const r = run(tmp.dir, ['--tags', 'special']);
    assert.equal(r.code, 0, r.stderr);
    const ran = new Set(r.events.filter((e) => e.kind === 'task-start').map((e) => e.name));
    assert.ok(ran.has('tagged never') && ran.has('tagged always'));
    assert.equal(ran.has('copy content'), false);
  });

  test('--skip-tags always skips the always tag', () => {
    const r = run(tmp.dir, ['--tags', 'special', '--skip-tags', 'always']);
    const ran = new Set(r.events.filter((e) => e.kind === 'task-start').map((e) => e.name));
    assert.ok(ran.has('tagged never'));
    assert.equal(ran.has('tagged always'), false);
  });

  test('--limit and --start-at-task', () => {
    const r = run(tmp.dir, ['--limit', 'h2', '--start-at-task', 'task vars']);
    assert.equal(r.code, 0, r.stderr);
    const hosts = new Set(r.events.filter((e) => e.kind === 'host-result').map((e) => e.host));
    assert.deepEqual([...hosts], ['h2']);
    const firstTask = r.events.find((e) => e.kind === 'task-start');
    assert.equal(firstTask!.name, 'task vars');
  });

  test('--list-hosts, --list-tasks and --list-tags', () => {
    const hosts = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '--list-hosts', '--limit', 'web'], { cwd: fixture });
    assert.equal(hosts.code, 0, hosts.stderr);
    assert.match(hosts.stdout, /play #1 \(all\): linear play/);
    assert.match(hosts.stdout, /hosts \(2\):\n\s+h1\n\s+h2\n/);
    const tasks = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '--list-tasks'], { cwd: fixture });
    assert.match(tasks.stdout, /\n\s+copy content\tTAGS: \[\]\n/);
    assert.doesNotMatch(tasks.stdout, /tagged never/);
    const tags = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '--list-tags'], { cwd: fixture });
    assert.match(tags.stdout, /TASK TAGS: \[always\]/);
  });

  test('magic variables: groups, group_names, hostvars, ansible_play_hosts, ansible_check_mode', () => {
    const r = run(tmp.dir, ['--limit', 'h1,h3']);
    const magic = r.events.filter((e) => e.kind === 'host-result' && e.task === 'magic variables');
    assert.deepEqual(magic.map((e) => `${e.host}:${e.status}`).sort(), ['h1:ok', 'h3:ok']);
  });

  test('-e takes key=value, JSON and @file, the later winning', () => {
    const vars = path.join(tmp.dir, 'extra.yml');
    writeFileSync(vars, 'greeting: from-file\n');
    const playbook = path.join(tmp.dir, 'extra-vars.yml');
    writeFileSync(playbook, `- hosts: localhost\n  gather_facts: false\n  vars:\n    greeting: from-play\n  tasks:\n    - debug:\n        msg: "{{ greeting }} {{ n + 1 }} {{ word }}"\n`);
    const r = tsplay(['run', playbook, '--json', '--no-retry-files', '-e', 'word=kv greeting=from-kv', '-e', '{"greeting": "from-json", "n": 3}', '-e', `@${vars}`]);
    assert.equal(r.code, 0, r.stderr);
    const msg = events(r.stdout).find((e) => e.kind === 'host-result')!.result.msg;
    assert.equal(msg, 'from-file 4 kv');
    const bad = tsplay(['run', playbook, '-e', 'not-key-value']);
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /not key=value/);
  });

  test('tsplay inventory --graph, --list and --host', () => {
    const graph = tsplay(['inventory', '-i', 'inventory.ini', '--graph'], { cwd: fixture });
    assert.equal(graph.code, 0, graph.stderr);
    assert.equal(graph.stdout, '@all:\n  |--@ungrouped:\n  |--@web:\n  |  |--h1\n  |  |--h2\n  |--@db:\n  |  |--h3\n');
    const list = JSON.parse(tsplay(['inventory', '-i', 'inventory.ini', '--list'], { cwd: fixture }).stdout);
    assert.deepEqual(list.db.hosts, ['h3']);
    assert.equal(list._meta.hostvars.h3.db_port, 3306);
    const host = JSON.parse(tsplay(['inventory', '-i', 'inventory.ini', '--host', 'h3'], { cwd: fixture }).stdout);
    assert.equal(host.ansible_connection, 'local');
    assert.equal(tsplay(['inventory', '-i', 'inventory.ini'], { cwd: fixture }).code, 5);
  });

  test('--syntax-check loads and validates without running', () => {
    const r = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '--syntax-check', '-e', `root=${tmp.dir}/syntax`], { cwd: fixture });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /playbook: site\.yml/);
    assert.equal(existsSync(path.join(tmp.dir, 'syntax')), false);
  });
});
