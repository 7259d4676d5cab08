// Exit codes, the retry file, interrupts and the two text reporters, as a user meets them.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir, cliPath, cliEnv } from '../helpers/cli.js';

const INVENTORY = `[ok]
good1
good2

[bad]
broken

[gone]
nowhere ansible_connection=no-such-transport

[all:vars]
ansible_connection=local
`;

describe('exit codes and the retry file', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-exit-');
    writeFileSync(path.join(tmp.dir, 'hosts.ini'), INVENTORY);
    writeFileSync(
      path.join(tmp.dir, 'site.yml'),
      `- hosts: ok:bad
  gather_facts: false
  tasks:
    - name: fails on one host
      command: "false"
      when: inventory_hostname == 'broken'
    - name: the others go on
      copy:
        content: "{{ inventory_hostname }}\\n"
        dest: "${tmp.dir}/{{ inventory_hostname }}.done"
`,
    );
    writeFileSync(path.join(tmp.dir, 'ok.yml'), `- hosts: ok\n  gather_facts: false\n  tasks:\n    - debug: msg=fine\n`);
    writeFileSync(path.join(tmp.dir, 'gone.yml'), `- hosts: gone:ok\n  gather_facts: false\n  tasks:\n    - command: "true"\n`);
  });
  after(() => tmp.cleanup());

  test('0 when every host is fine', () => {
    const r = tsplay(['run', 'ok.yml', '-i', 'hosts.ini'], { cwd: tmp.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /good1 +: ok=1 +changed=0 +unreachable=0 +failed=0/);
  });

  test('2 when a host failed; the others finish; the retry file lists the failed host', () => {
    const r = tsplay(['run', 'site.yml', '-i', 'hosts.ini'], { cwd: tmp.dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout, /fatal: \[broken\]: FAILED!/);
    assert.ok(existsSync(path.join(tmp.dir, 'good1.done')) && existsSync(path.join(tmp.dir, 'good2.done')));
    assert.equal(existsSync(path.join(tmp.dir, 'broken.done')), false);
    assert.match(r.stdout, /broken +: ok=0 +changed=0 +unreachable=0 +failed=1/);
    assert.equal(readFileSync(path.join(tmp.dir, 'site.retry'), 'utf8'), 'broken\n');
    const retry = tsplay(['run', 'site.yml', '-i', 'hosts.ini', '--limit', '@site.retry', '--list-hosts'], { cwd: tmp.dir });
    assert.match(retry.stdout, /hosts \(1\):\n\s+broken\n/);
  });

  test('3 when a host is unreachable and none failed; the others carry on', () => {
    const r = tsplay(['run', 'gone.yml', '-i', 'hosts.ini', '--no-retry-files'], { cwd: tmp.dir });
    assert.equal(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout, /fatal: \[nowhere\]: UNREACHABLE! => .*no-such-transport/);
    assert.match(r.stdout, /nowhere +: ok=0 +changed=0 +unreachable=1 +failed=0/);
    assert.match(r.stdout, /good2 +: ok=1 +changed=1/);
  });

  test('--json ends with a summary carrying the exit code', () => {
    const r = tsplay(['run', 'site.yml', '-i', 'hosts.ini', '--json', '--no-retry-files'], { cwd: tmp.dir });
    const evs = events(r.stdout);
    const summary = evs.at(-1)!;
    assert.equal(summary.kind, 'summary');
    assert.equal(summary.exitCode, 2);
    assert.equal(summary.stats.broken.failed, 1);
  });

  test('99 on Ctrl-C: running tasks finish, no new one starts, the recap is printed', async () => {
    writeFileSync(
      path.join(tmp.dir, 'slow.yml'),
      `- hosts: ok\n  gather_facts: false\n  tasks:\n    - name: slow\n      command: sleep 1.5\n    - name: never started\n      copy:\n        content: x\n        dest: "${tmp.dir}/{{ inventory_hostname }}.late"\n`,
    );
    const child = spawn(process.execPath, [cliPath, 'run', 'slow.yml', '-i', 'hosts.ini', '--no-retry-files'], { cwd: tmp.dir, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (!interrupted && stdout.includes('TASK [slow]')) {
        interrupted = true; // once: a second Ctrl-C means "quit now"
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 99, stdout);
    assert.match(stdout, /changed: \[good1\]/, 'the running task finished');
    assert.match(stdout, /PLAY RECAP/);
    assert.equal(existsSync(path.join(tmp.dir, 'good1.late')), false, 'a task started after the interrupt');
  });
});

describe('reporters as a user sees them', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-tty-');
    writeFileSync(path.join(tmp.dir, 'hosts.ini'), '[web]\nw1\nw2\nw3\n\n[web:vars]\nansible_connection=local\n');
    writeFileSync(
      path.join(tmp.dir, 'site.yml'),
      `- hosts: web\n  gather_facts: false\n  tasks:\n    - name: write\n      copy:\n        content: hi\n        dest: "${tmp.dir}/{{ inventory_hostname }}"\n    - name: pause a little\n      command: sleep 0.3\n`,
    );
  });
  after(() => tmp.cleanup());

  test('in a pipe: plain lines, no escape sequences', () => {
    const r = tsplay(['run', 'site.yml', '-i', 'hosts.ini', '--no-retry-files'], { cwd: tmp.dir, env: { NO_COLOR: undefined } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^TASK \[write\] \*+$/m);
    assert.match(r.stdout, /^changed: \[w2\]$/m);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
  });

  test('FORCE_COLOR colours a pipe, NO_COLOR wins over it', () => {
    const forced = tsplay(['run', 'site.yml', '-i', 'hosts.ini', '--no-retry-files'], { cwd: tmp.dir, env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.match(forced.stdout, /\x1b\[0;32mok: \[w1\]|\x1b\[[0-9;]*mok: \[w1\]/);
    const both = tsplay(['run', 'site.yml', '-i', 'hosts.ini', '--no-retry-files'], { cwd: tmp.dir, env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    assert.doesNotMatch(both.stdout, /\x1b\[/);
  });

  test('under a pseudo-terminal: progress bars, result lines and the recap', { skip: process.platform !== 'linux' && 'script(1) from util-linux is Linux-only' }, () => {
    const command = `${process.execPath} ${cliPath} run site.yml -i hosts.ini --no-retry-files`;
    const r = spawnSync('script', ['-qfec', command, '/dev/null'], {
      cwd: tmp.dir,
      env: cliEnv({ NO_COLOR: undefined, TERM: 'xterm-256color', COLUMNS: '100', LANG: 'C.UTF-8' }),
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = r.stdout;
    assert.match(out, /\x1b\[\d*[AGK]|\x1b\[\?25l/, 'no cursor movement: bars were not drawn');
    assert.match(out, /[█░#]{5,}/, 'no bar characters');
    const text = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    assert.match(text, /changed: \[w3\]/);
    assert.match(text, /PLAY RECAP/);
    assert.match(text, /w1\s+: ok=2/);
  });
});
