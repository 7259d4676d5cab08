// The long-lived shell's protocol (engine/connection/persistent-shell.ts), against the machine's
// own /bin/sh: what a request returns must be what an exec of the same script returns, nothing a
// script does may leak into the next request, and a request cut short must never run.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import { PERSISTENT_SHELL_COMMAND, PersistentShell, printfLiteral, requestText, type ShellChannel } from '../../engine/connection/persistent-shell.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** A local /bin/sh running the loop, with its pipes as the channel. */
function localShell() {
  const child = spawn('/bin/sh', ['-c', PERSISTENT_SHELL_COMMAND], { stdio: ['pipe', 'pipe', 'pipe'] });
  const channel = Duplex.from({ writable: child.stdin, readable: child.stdout }) as unknown as ShellChannel;
  Object.assign(channel, { stderr: child.stderr, close: () => child.stdin.end() });
  let ended = false;
  child.on('close', () => channel.emit('close'));
  const shell = new PersistentShell(channel, () => new Error('the shell ended'), () => (ended = true));
  return { shell, child, ended: () => ended };
}

/** What `/bin/sh -c script` gives, for comparison. */
function execLocally(script: string, stdin?: Buffer) {
  const r = spawnSync('/bin/sh', ['-c', script], { input: stdin ?? Buffer.alloc(0), maxBuffer: 64 << 20 });
  return { rc: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

describe('PersistentShell', () => {
  test('rc, stdout and stderr apart and exact, as an exec gives them; binary stdin byte-exact', async () => {
    const { shell } = localShell();
    assert.equal(await shell.ready, true);
    const scripts: Array<[string, Buffer | undefined]> = [
      ['echo out; echo err >&2; exit 3', undefined],
      ["printf 'no newline'; printf 'err no newline' >&2", undefined],
      ['cat; printf tail', Buffer.from(Array.from({ length: 256 }, (_, i) => i))],
      ["cat | wc -c; printf '%s' \"$1\"", Buffer.from("it's 100% \\n\\\\ \0 ünï\n")],
      ['head -c 3', Buffer.alloc(200_00, 0x41)], // reads part of its stdin only
      ['if then', undefined], // a syntax error is the script's rc 2, not the shell's end
      ['head -c 3000000 /dev/zero | base64; echo err >&2', undefined], // megabytes in many chunks, lines ending each
      ["sh -c 'kill -KILL $$'", undefined], // a command killed by a signal: 128 + its number
    ];
    for (const [script, stdin] of scripts) {
      const got = await shell.run(script, stdin);
      const want = execLocally(script, stdin);
      assert.equal(got.rc, want.rc, script);
      assert.deepEqual(got.stdout, want.stdout, script);
      // the shell names itself in its messages; the text after that must match
      assert.equal(got.stderr.replace(/^\/bin\/sh: \d+: (eval: )?/, ''), want.stderr.replace(/^\/bin\/sh: \d+: /, ''), script);
    }
    shell.close();
  });

  test('exit, traps, cd, exports, set -e and umask stay in their request', async () => {
    const { shell } = localShell();
    await shell.ready;
    const first = await shell.run('trap "echo trapped" EXIT; cd /; umask 077; X=1; export Y=2; set -e; false; echo not reached', undefined);
    assert.deepEqual([first.rc, first.stdout.toString()], [1, 'trapped\n']);
    const second = await shell.run('printf "%s|%s|%s|%s\\n" "$(pwd)" "$(umask)" "${X-unset}" "${Y-unset}"; false; echo goes on', undefined);
    assert.equal(second.stdout.toString(), `${process.cwd()}|${execLocally('umask').stdout.toString().trim()}|unset|unset\ngoes on\n`);
    assert.equal((await shell.run('exit 7', undefined)).rc, 7);
    assert.equal((await shell.run('echo still here', undefined)).stdout.toString(), 'still here\n');
    assert.equal(shell.idle, true);
    shell.close();
  });

  test('a request cut short (the connection lost mid-write) never runs any of it', async () => {
    const dir = makeTempDir('tsplay-pshell-');
    const marker = join(dir, 'ran');
    const { shell, child, ended } = localShell();
    await shell.ready;
    const text = requestText(`touch ${marker}\nrm -rf ${join(dir, 'nothing-here')}`, Buffer.from('data'), 'TSPLAYENDtest');
    // everything but the closing brace arrives, then end of input
    child.stdin.end(text.slice(0, text.lastIndexOf('}')));
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    assert.equal(existsSync(marker), false);
    assert.equal(ended(), true);
  });

  test('output after a request ended (a process left behind) retires the shell, and a dead shell fails its request', async () => {
    const { shell, ended } = localShell();
    await shell.ready;
    const r = await shell.run('(sleep 0.3; echo late) &', undefined);
    assert.equal(r.rc, 0);
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.equal(shell.broken, true);
    assert.equal(shell.idle, false);
    await assert.rejects(shell.run('true', undefined), /busy or closed/);
    assert.equal(ended(), true);

    const other = localShell();
    await other.shell.ready;
    await assert.rejects(other.shell.run('kill -KILL $PPID; sleep 1', undefined), /the shell ended/);
  });

  test('a request opens with the text the play bench counts requests by', () => {
    // spec/bench/play/child-probe.mjs SHELL_REQUEST: keep the two in step
    for (const script of ['true', "echo 'x'"]) assert.ok(requestText(script, undefined, 'TSPLAYENDx').startsWith('{\ntsplay_sh_c='), script);
  });

  test('printfLiteral prints every byte value exactly, and text stays readable', () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = spawnSync('/bin/sh', ['-c', `printf ${printfLiteral(all)}`]);
    assert.deepEqual(r.stdout, all);
    assert.equal(printfLiteral(Buffer.from('key=value\n\tx')), "'key=value\n\tx'");
    for (const text of ['-n', '--', '-', '-e x', '--help']) {
      assert.equal(spawnSync('/bin/sh', ['-c', `printf ${printfLiteral(Buffer.from(text))}`]).stdout.toString(), text, text);
    }
  });
});
