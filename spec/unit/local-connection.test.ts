import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { CommandTimeoutError } from '../../engine/connection/types.js';
import { shQuote, shlexSplit, wrapBecome, prepareScript } from '../../engine/connection/shell.js';
import { TsplayError } from '../../engine/errors.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const conn = new LocalConnection('localhost');
const NASTY = ["a b", "it's", '$(touch pwned)', '`touch pwned`', 'line1\nline2', 'ünïcødé ✓', '"dq" \\ back', '', '-n', '*', 'a=b', "'", '\t tab'];

describe('shQuote', () => {
  test('every nasty string arrives byte for byte and nothing executes', async () => {
    const dir = makeTempDir('tsplay-quote-');
    for (const s of NASTY) {
      const res = await conn.exec(`printf '%s' ${shQuote(s)}`, { cwd: dir });
      assert.equal(res.stdout, s);
      assert.equal(res.rc, 0);
    }
    assert.equal(existsSync(join(dir, 'pwned')), false);
  });

  test('a word that looks like an assignment stays a command word', () => {
    assert.equal(shQuote('a=b'), "'a=b'");
  });
});

describe('shlexSplit (Python shlex.split)', () => {
  test('quotes, escapes and whitespace', () => {
    assert.deepEqual(shlexSplit(`echo "a b" 'c d' e\\ f "x\\"y" 'it'"'"'s'`), ['echo', 'a b', 'c d', 'e f', 'x"y', "it's"]);
    assert.deepEqual(shlexSplit('  ls   -l  '), ['ls', '-l']);
    assert.deepEqual(shlexSplit(`echo "$HOME" '\\n'`), ['echo', '$HOME', '\\n']);
    assert.deepEqual(shlexSplit(`a""b ''`), ['ab', '']);
  });
  test('an open quote is an error like Python', () => {
    assert.throws(() => shlexSplit('echo "oops'), /No closing quotation/);
  });
});

describe('LocalConnection.exec', () => {
  test('rc, stdout, stderr, stdin, env and cwd', async () => {
    const dir = makeTempDir('tsplay-exec-');
    const res = await conn.exec('cat; echo "$GREETING" >&2; pwd; exit 3', { stdin: 'in\n', env: { GREETING: "it's $(x)" }, cwd: dir });
    assert.equal(res.rc, 3);
    assert.equal(res.stdout, `in\n${dir}\n`);
    assert.equal(res.stderr, "it's $(x)\n");
  });

  test('a missing cwd fails with rc 1 and says so', async () => {
    const res = await conn.exec('echo ran', { cwd: '/nonexistent/dir' });
    assert.equal(res.rc, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /Unable to change directory to \/nonexistent\/dir/);
  });

  test('a bad environment name is refused', () => {
    assert.throws(() => prepareScript('true', { env: { 'A;rm': 'x' } }), TsplayError);
  });

  test('a timeout kills sleep 10 and its children within about a second', async () => {
    const dir = makeTempDir('tsplay-timeout-');
    const started = Date.now();
    await assert.rejects(conn.exec(`sleep 10 & echo $! > ${shQuote(join(dir, 'pid'))}; wait`, { timeoutMs: 300 }), CommandTimeoutError);
    assert.ok(Date.now() - started < 1500, `took ${Date.now() - started} ms`);
    const pid = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    // gone, or a zombie waiting for init to reap it: either way no longer running
    const stateOf = () => {
      try {
        return /^State:\s+(\S)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 'gone';
      } catch {
        return 'gone'; // no such process
      }
    };
    // the kill lands within 100 ms: poll for it rather than always sleeping that long
    const deadline = Date.now() + 100;
    let state = stateOf();
    while (state !== 'gone' && state !== 'Z' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      state = stateOf();
    }
    try {
      assert.ok(state === 'gone' || state === 'Z', `background sleep still running (state ${state})`);
    } finally {
      if (state !== 'gone' && state !== 'Z') process.kill(pid, 'SIGKILL'); // a failed test leaves no sleep behind
    }
  });

  test('binary stdout via execBuffer', async () => {
    const res = await conn.execBuffer(`printf '\\000\\377\\001'`);
    assert.deepEqual([...res.stdout], [0, 255, 1]);
  });
});

describe('become', () => {
  test('sudo without password: -H -S -n, user quoted, script quoted', () => {
    const plan = wrapBecome('echo "$HOME"', { method: 'sudo', user: 'postgres' });
    assert.equal(plan.script, `sudo -H -S -n -u postgres -- /bin/sh -c 'echo "$HOME"'`);
    assert.equal(plan.stdinPrefix, undefined);
  });

  test('sudo with password: the password is not on the command line and -n is dropped', () => {
    const plan = wrapBecome('id', { method: 'sudo', user: 'root', password: 's3cret' });
    assert.ok(!plan.script.includes('s3cret'));
    assert.ok(!/ -n /.test(plan.script));
    assert.equal(plan.stdinPrefix, 's3cret\n');
    assert.ok(plan.promptMarker && plan.script.includes(plan.promptMarker));
  });

  test('su with a password is refused with a clear message; su without one is built', () => {
    assert.throws(() => wrapBecome('id', { method: 'su', user: 'root', password: 'x' }), /needs a terminal/);
    assert.equal(wrapBecome('id', { method: 'su', user: 'nobody' }).script, `su nobody -c '/bin/sh -c id'`);
  });

  // A stand-in sudo on PATH that behaves like the real one towards stdin: with FAKE_SUDO_ASK
  // it prints the -p prompt on stderr and reads one line as the password.
  function fakeSudo(): { dir: string; log: string } {
    const dir = makeTempDir('tsplay-sudo-');
    const log = join(dir, 'password-seen');
    writeFileSync(
      join(dir, 'sudo'),
      `#!/bin/sh
prompt=
while [ $# -gt 0 ]; do case "$1" in -p) prompt=$2; shift 2;; -u) shift 2;; --) shift; break;; *) shift;; esac; done
if [ -n "$FAKE_SUDO_ASK" ]; then
  tries=0
  while :; do
    printf '%s' "$prompt" >&2
    IFS= read -r pw || { echo 'sudo: no password was provided' >&2; exit 1; }
    printf '%s' "$pw" > ${shQuote(log)}
    [ "$pw" = "$FAKE_SUDO_ASK" ] && break
    tries=$((tries+1)); echo 'Sorry, try again.' >&2
    [ $tries -ge 3 ] && exit 1
  done
fi
exec "$@"
`,
    );
    chmodSync(join(dir, 'sudo'), 0o755);
    return { dir, log };
  }

  test('the password goes in only after the prompt; stdin reaches the command untouched; markers are stripped', async () => {
    const { dir, log } = fakeSudo();
    const oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath}`;
    process.env.FAKE_SUDO_ASK = 'pw-123';
    try {
      const res = await conn.exec('cat; echo err >&2', { stdin: 'payload\n', become: { method: 'sudo', user: 'root', password: 'pw-123' } });
      assert.equal(res.rc, 0);
      assert.equal(res.stdout, 'payload\n');
      assert.equal(res.stderr, 'err\n');
      assert.equal(readFileSync(log, 'utf8'), 'pw-123');
    } finally {
      process.env.PATH = oldPath;
      delete process.env.FAKE_SUDO_ASK;
    }
  });

  test('when sudo does not ask (NOPASSWD), the password never reaches the command', async () => {
    const { dir } = fakeSudo();
    const oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath}`;
    try {
      const res = await conn.exec('cat', { stdin: 'data', become: { method: 'sudo', user: 'root', password: 'pw-123' } });
      assert.equal(res.stdout, 'data');
      assert.ok(!res.stdout.includes('pw-123') && !res.stderr.includes('pw-123'));
    } finally {
      process.env.PATH = oldPath;
    }
  });

  test('a wrong password fails once, without a hang and without leaking the password', async () => {
    const { dir } = fakeSudo();
    const oldPath = process.env.PATH;
    process.env.PATH = `${dir}:${oldPath}`;
    process.env.FAKE_SUDO_ASK = 'right';
    try {
      const res = await conn.exec('echo ran', { become: { method: 'sudo', user: 'root', password: 'wrong' }, timeoutMs: 5000 });
      assert.notEqual(res.rc, 0);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /Sorry, try again/);
      assert.ok(!res.stderr.includes('wrong') && !res.stderr.includes('tsplay-become-prompt'));
    } finally {
      process.env.PATH = oldPath;
      delete process.env.FAKE_SUDO_ASK;
    }
  });
});
