import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { HostOpError, HostOps, ValidateError } from '../../engine/connection/host-ops.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const ops = new HostOps(new LocalConnection('localhost'));
const NASTY = "sp ace 'q' \"dq\" $(touch pwned) `touch pwned` new\nline ünï ✓";
const asRoot = process.getuid?.() === 0;

function tempDir(): string {
  return makeTempDir('tsplay-ops-');
}

describe('HostOps.stat / probe', () => {
  test('file, folder, link (followed or not), absent — in one call', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'hello\n');
    chmodSync(join(dir, 'f'), 0o4751);
    symlinkSync('f', join(dir, 'l'));
    const { stats, umask } = await ops.probe(
      [join(dir, 'f'), join(dir, 'l'), { path: join(dir, 'l'), follow: true }, join(dir, 'none'), dir],
      { checksum: 'sha1', contentUpTo: 100 },
    );
    const [f, l, lf, none, d] = stats;
    assert.equal(umask, process.umask());
    assert.equal(f!.type, 'file');
    assert.equal(f!.mode, 0o4751);
    assert.equal(f!.size, 6);
    assert.equal(f!.checksum, createHash('sha1').update('hello\n').digest('hex'));
    assert.equal(f!.content?.toString(), 'hello\n');
    assert.equal(Math.floor(f!.mtime), Math.floor(statSync(join(dir, 'f')).mtimeMs / 1000));
    assert.equal(l!.type, 'link');
    assert.equal(l!.linkTarget, 'f');
    assert.equal(l!.linkSource, join(dir, 'f'));
    assert.equal(l!.checksum, undefined);
    assert.equal(lf!.type, 'file');
    assert.equal(lf!.checksum, f!.checksum);
    assert.equal(none!.exists, false);
    assert.equal(none!.type, 'absent');
    assert.equal(d!.type, 'directory');
  });

  test('sha256 checksums', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'x');
    const s = await ops.stat(join(dir, 'f'), { checksum: 'sha256' });
    assert.equal(s.checksum, createHash('sha256').update('x').digest('hex'));
  });

  test('nasty names are paths, never code', async () => {
    const dir = tempDir();
    const p = join(dir, NASTY);
    writeFileSync(p, 'ok');
    const s = await ops.stat(p, { checksum: 'sha1' });
    assert.equal(s.exists, true);
    assert.equal(s.size, 2);
    assert.deepEqual(await ops.listDir(dir), [NASTY]);
    assert.equal(existsSync(join(dir, 'pwned')), false);
    assert.equal(existsSync('pwned'), false);
  });
});

describe('HostOps.readFile', () => {
  test('binary-safe, null when absent', async () => {
    const dir = tempDir();
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    writeFileSync(join(dir, 'bin'), bytes);
    assert.deepEqual(await ops.readFile(join(dir, 'bin')), bytes);
    assert.equal(await ops.readFile(join(dir, 'missing')), null);
  });
});

describe('HostOps.writeFileAtomic', () => {
  test('a new file gets 0666 & ~umask and the exact bytes', async () => {
    const dir = tempDir();
    const data = Buffer.from([0, 1, 2, 255, 10]);
    const res = await ops.writeFileAtomic(join(dir, 'new'), data);
    assert.deepEqual(readFileSync(join(dir, 'new')), data);
    assert.equal(statSync(join(dir, 'new')).mode & 0o7777, 0o666 & ~process.umask());
    assert.equal(res.stat.mode, 0o666 & ~process.umask());
    assert.equal(res.checksum, createHash('sha1').update(data).digest('hex'));
  });

  test('an existing file keeps its owner and mode', { skip: !asRoot && 'needs root to chown' }, async () => {
    const dir = tempDir();
    const p = join(dir, 'kept');
    writeFileSync(p, 'old');
    chmodSync(p, 0o640);
    chownSync(p, 65534, 65534);
    await ops.writeFileAtomic(p, Buffer.from('new'));
    const s = statSync(p);
    assert.equal(readFileSync(p, 'utf8'), 'new');
    assert.equal(s.mode & 0o7777, 0o640);
    assert.equal(s.uid, 65534);
    assert.equal(s.gid, 65534);
  });

  test('mode, owner and group given are applied (suid survives chown)', { skip: !asRoot && 'needs root to chown' }, async () => {
    const dir = tempDir();
    const p = join(dir, 'f');
    await ops.writeFileAtomic(p, Buffer.from('x'), { mode: 0o4750, owner: '65534', group: '65534' });
    const s = statSync(p);
    assert.equal(s.mode & 0o7777, 0o4750);
    assert.equal(s.uid, 65534);
  });

  test('a failed validate keeps the old file and leaves no temp file', async () => {
    const dir = tempDir();
    const p = join(dir, 'conf');
    writeFileSync(p, 'good\n');
    await assert.rejects(
      ops.writeFileAtomic(p, Buffer.from('bad\n'), { validate: `sh -c 'grep -q good "$1" || { echo "syntax error in $1"; echo oops >&2; exit 4; }' x %s` }),
      (err: unknown) => {
        assert.ok(err instanceof ValidateError);
        assert.equal(err.rc, 4);
        assert.match(err.stdout, /syntax error in .*\.tsplay-tmp\./);
        assert.equal(err.stderr, 'oops\n');
        return true;
      },
    );
    assert.equal(readFileSync(p, 'utf8'), 'good\n');
    assert.deepEqual(readdirSync(dir), ['conf']);
  });

  test('a passing validate sees the new content at %s', async () => {
    const dir = tempDir();
    const p = join(dir, 'conf');
    await ops.writeFileAtomic(p, Buffer.from('good\n'), { validate: 'grep -q good %s' });
    assert.equal(readFileSync(p, 'utf8'), 'good\n');
  });

  test('backup keeps the old file as path.PID.YYYY-MM-DD@HH:MM:SS~', async () => {
    const dir = tempDir();
    const p = join(dir, NASTY);
    writeFileSync(p, 'v1');
    const res = await ops.writeFileAtomic(p, Buffer.from('v2'), { backup: true });
    assert.ok(res.backupFile);
    assert.ok(res.backupFile.startsWith(`${p}.`));
    assert.match(res.backupFile.slice(p.length), /^\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
    assert.equal(readFileSync(res.backupFile, 'utf8'), 'v1');
    assert.equal(readFileSync(p, 'utf8'), 'v2');
    assert.equal(existsSync(join(dir, 'pwned')), false);
  });

  test('stdin that ends early (a connection lost mid-stream) never replaces the file', async () => {
    const dir = tempDir();
    const file = join(dir, 'conf');
    writeFileSync(file, 'old\n');
    // the real local shell, fed only the first half of the data, as a dying connection would
    class CutConnection extends LocalConnection {
      override exec(script: string, opts: Parameters<LocalConnection['exec']>[1] = {}) {
        const stdin = opts.stdin === undefined ? undefined : Buffer.from(opts.stdin).subarray(0, Math.floor(Buffer.from(opts.stdin).length / 2));
        return super.exec(script, { ...opts, ...(stdin ? { stdin } : {}) });
      }
    }
    const cut = new HostOps(new CutConnection('localhost'));
    await assert.rejects(cut.writeFileAtomic(file, Buffer.from('a much longer new content\n'.repeat(100))), /arrived incomplete/);
    assert.equal(readFileSync(file, 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['conf']);
  });

  test('a missing folder fails cleanly', async () => {
    await assert.rejects(ops.writeFileAtomic('/nonexistent-dir/x', Buffer.from('x')), /could not create a temporary file/);
  });

  test('nasty file names survive and nothing executes', async () => {
    const dir = tempDir();
    const p = join(dir, NASTY);
    await ops.writeFileAtomic(p, Buffer.from('content'), { mode: 0o600 });
    assert.equal(readFileSync(p, 'utf8'), 'content');
    assert.equal(lstatSync(p).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), [NASTY]);
    assert.equal(existsSync(join(dir, 'pwned')), false);
  });
});

describe('HostOps other operations', () => {
  test('mkdirs, symlink, hardlink, touch, remove, listTree', async () => {
    const dir = tempDir();
    await ops.mkdirs([join(dir, 'a'), join(dir, 'a', 'b')], { mode: 0o750 });
    assert.equal(statSync(join(dir, 'a', 'b')).mode & 0o7777, 0o750);
    assert.equal(statSync(join(dir, 'a')).mode & 0o7777, 0o750);
    await ops.touch(join(dir, 'a', 'f'), { mtime: '202001020304.05', atime: 'now' });
    const [epoch] = await ops.stampsToEpoch(['202001020304.05']);
    assert.equal(Math.floor(statSync(join(dir, 'a', 'f')).mtimeMs / 1000), epoch);
    assert.equal(epoch, new Date(2020, 0, 2, 3, 4, 5).getTime() / 1000);
    await ops.symlink('a/f', join(dir, 'l'));
    assert.equal(lstatSync(join(dir, 'l')).isSymbolicLink(), true);
    await ops.hardlink(join(dir, 'a', 'f'), join(dir, 'h'));
    assert.equal(statSync(join(dir, 'h')).ino, statSync(join(dir, 'a', 'f')).ino);
    const tree = await ops.listTree(join(dir, 'a'));
    assert.deepEqual(tree.map((s) => [s.path, s.type]).sort(), [[join(dir, 'a', 'b'), 'directory'], [join(dir, 'a', 'f'), 'file']]);
    await ops.remove(join(dir, 'a'), true);
    assert.equal(existsSync(join(dir, 'a')), false);
    mkdirSync(join(dir, 'keep'));
    await assert.rejects(ops.remove(join(dir, 'keep')), /could not remove/);
  });
});

// issue 8: the write and mkdir scripts start as few programs as they can on the host, without
// weakening a guarantee. These run the real scripts in the local /bin/sh.
describe('HostOps: few programs per write and mkdir, guarantees kept', () => {
  /** A HostOps whose scripts run after `prefix` in the same shell (same $$, umask...). */
  function opsWith(prefix: string, env?: Record<string, string>): HostOps {
    class Prefixed extends LocalConnection {
      override exec(script: string, opts: Parameters<LocalConnection['exec']>[1] = {}) {
        return super.exec(`${prefix}\n${script}`, opts);
      }
    }
    return new HostOps(new Prefixed('localhost'), env ? { env } : {});
  }

  /** A folder of wrappers that log each program started (by name) to `log`, then run it. */
  function loggingBin(names: readonly string[], overrides: Record<string, string> = {}): { bin: string; log: string; started: () => string[] } {
    const bin = tempDir();
    const log = join(bin, 'started.log');
    for (const name of names) {
      const real = ['/usr/bin', '/bin'].map((d) => join(d, name)).find((p) => existsSync(p));
      assert.ok(real, `${name} is installed`);
      writeFileSync(join(bin, name), `#!/bin/sh\necho ${name} >> '${log}'\n${overrides[name] ?? `exec ${real} "$@"`}\n`);
      chmodSync(join(bin, name), 0o755);
    }
    return { bin, log, started: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []) };
  }
  const TOOLS = ['dd', 'mv', 'stat', 'chmod', 'chown', 'chgrp', 'cat', 'wc', 'sync', 'mktemp', 'rm', 'mkdir', 'cp', 'date', 'base64', 'tr'];

  test('a new file with a plain mode starts chmod, dd, mv and stat only; 20 new folders one mkdir', async () => {
    const dir = tempDir();
    const { bin, started } = loggingBin(TOOLS);
    const logged = new HostOps(new LocalConnection('localhost'), { env: { PATH: `${bin}:${process.env.PATH}` } });
    await logged.writeFileAtomic(join(dir, 'new.conf'), Buffer.from('a=1\n'), { mode: 0o644 });
    assert.deepEqual(started(), ['chmod', 'dd', 'mv', 'stat']);
    assert.equal(readFileSync(join(dir, 'new.conf'), 'utf8'), 'a=1\n');
    assert.equal(statSync(join(dir, 'new.conf')).mode & 0o7777, 0o644);
    // rewriting our own file: its mode is kept without chmod or chown
    rmSync(join(bin, 'started.log'), { force: true });
    chmodSync(join(dir, 'new.conf'), 0o640);
    await logged.writeFileAtomic(join(dir, 'new.conf'), Buffer.from('a=2\n'));
    assert.deepEqual(started(), ['stat', 'chmod', 'dd', 'mv', 'stat']);
    assert.equal(statSync(join(dir, 'new.conf')).mode & 0o7777, 0o640);
    rmSync(join(bin, 'started.log'), { force: true });
    const folders = [join(dir, 'a'), ...Array.from({ length: 19 }, (_, i) => join(dir, 'a', `d${i}`))];
    await logged.mkdirs(folders, { mode: 0o750 });
    assert.deepEqual(started(), ['mkdir']);
    for (const f of folders) assert.equal(statSync(f).mode & 0o7777, 0o750);
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'new.conf']);
  });

  const setfacl = ['/usr/bin/setfacl', '/bin/setfacl'].find((p) => existsSync(p));
  for (const acl of [false, true]) {
  test(`the temp file of a secret is never readable by others while the data arrives${acl ? ' (a folder with a default ACL that lets everyone read)' : ''}`, { skip: (!asRoot && 'needs root to chown') || (acl && !setfacl && 'needs setfacl (Debian package acl)') }, async () => {
    // the data is fed in two halves; between them the temp file (holding the first half) is looked at
    const seen: Array<{ mode: number; uid: number }> = [];
    class Slow extends LocalConnection {
      constructor(readonly dir: string) {
        super('localhost');
      }
      override async exec(script: string, opts: Parameters<LocalConnection['exec']>[1] = {}) {
        const data = opts.stdin === undefined ? undefined : Buffer.from(opts.stdin);
        if (!data) return super.exec(script, opts);
        const half = Math.floor(data.length / 2);
        const { spawn } = await import('node:child_process');
        const child = spawn('/bin/sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (c: Buffer) => out.push(c));
        child.stderr.on('data', (c: Buffer) => err.push(c));
        const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
        child.stdin.write(data.subarray(0, half));
        for (let i = 0; i < 400; i++) {
          const tmp = readdirSync(this.dir).find((n) => n.startsWith('.tsplay-tmp.'));
          const st = tmp ? lstatSync(join(this.dir, tmp), { throwIfNoEntry: false }) : undefined;
          if (st && st.size === half) {
            seen.push({ mode: st.mode & 0o7777, uid: st.uid });
            break;
          }
          await new Promise((r) => setTimeout(r, 5));
        }
        child.stdin.end(data.subarray(half));
        const rc = await done;
        return { rc, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      }
    }
    const dir = tempDir();
    // a default ACL overrides the umask: files the shell creates there would be 0664
    if (acl) execFileSync(setfacl!, ['-d', '-m', 'u::rwx,g::rwx,o::r--', dir]);
    const slow = new HostOps(new Slow(dir));
    const secret = Buffer.from('password=hunter2\n'.repeat(64));
    // an owner given with a group-readable mode: 0600 until chown and chmod are done
    await slow.writeFileAtomic(join(dir, 'a'), secret, { mode: 0o640, owner: '65534' });
    // 0600 and an owner: the final mode from the start (chown keeps it)
    await slow.writeFileAtomic(join(dir, 'b'), secret, { mode: 0o600, owner: '65534' });
    // an old file of someone else: 0600 until it has the old owner and mode
    writeFileSync(join(dir, 'c'), 'old');
    chmodSync(join(dir, 'c'), 0o644);
    chownSync(join(dir, 'c'), 65534, 65534);
    await slow.writeFileAtomic(join(dir, 'c'), secret);
    // a new file of ours with mode 0644: readable by the same people as the final file
    await slow.writeFileAtomic(join(dir, 'd'), secret, { mode: 0o644 });
    assert.deepEqual(seen, [
      { mode: 0o600, uid: 0 },
      { mode: 0o600, uid: 0 },
      { mode: 0o600, uid: 0 },
      { mode: 0o644, uid: 0 },
    ]);
    assert.deepEqual(['a', 'b', 'c', 'd'].map((n) => [statSync(join(dir, n)).mode & 0o7777, statSync(join(dir, n)).uid]), [
      [0o640, 65534],
      [0o600, 65534],
      [0o644, 65534],
      [0o644, 0],
    ]);
    for (const n of ['a', 'b', 'c', 'd']) assert.deepEqual(readFileSync(join(dir, n)), secret);
    assert.deepEqual(readdirSync(dir).sort(), ['a', 'b', 'c', 'd']);
    // no mode asked: 0666 & ~umask, like Ansible, default ACL or not
    await slow.writeFileAtomic(join(dir, 'e'), secret);
    assert.equal(statSync(join(dir, 'e')).mode & 0o7777, 0o666 & ~process.umask());
  });
  }

  test('temp names already taken (a file, a link, a FIFO) are never opened, reused or removed', { timeout: 20_000 }, async () => {
    const dir = tempDir();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'victim\n');
    // the shell's own $$ names, taken before the write: then mktemp's random names
    const d = shQuoteForTest(dir);
    const planted = opsWith(`printf keep > ${d}/.tsplay-tmp.$$.0; ln -s ${d}/victim ${d}/.tsplay-tmp.$$.1; mkfifo ${d}/.tsplay-tmp.$$.2`);
    const res = await planted.writeFileAtomic(join(dir, 'conf'), Buffer.from('new\n'), { mode: 0o600 });
    assert.equal(readFileSync(join(dir, 'conf'), 'utf8'), 'new\n');
    assert.equal(res.stat.mode, 0o600);
    assert.equal(readFileSync(victim, 'utf8'), 'victim\n');
    const names = readdirSync(dir).sort();
    assert.equal(names.length, 5, names.join(' '));
    const taken = names.filter((n) => n.startsWith('.tsplay-tmp.'));
    assert.deepEqual(taken.map((n) => n.replace(/^\.tsplay-tmp\.\d+\./, '')), ['0', '1', '2']);
    assert.equal(readFileSync(join(dir, taken[0]!), 'utf8'), 'keep');
    assert.equal(lstatSync(join(dir, taken[1]!)).isSymbolicLink(), true);
    assert.equal(lstatSync(join(dir, taken[2]!)).isFIFO(), true);
    // one name taken: the next one is used
    const one = opsWith(`: > ${d}/.tsplay-tmp.$$.0`);
    await one.writeFileAtomic(join(dir, 'conf2'), Buffer.from('two\n'));
    assert.equal(readFileSync(join(dir, 'conf2'), 'utf8'), 'two\n');
    assert.equal(readdirSync(dir).length, 7);
  });

  test('modes are exact under a hostile umask: mkdir -m, a new file with a mode', async () => {
    const dir = tempDir();
    const hostile = opsWith('umask 0777');
    await hostile.mkdirs([join(dir, 'a'), join(dir, 'a', 'b')], { mode: 0o2750 });
    await hostile.mkdirs([join(dir, 'one')], { mode: 0o755 });
    mkdirSync(join(dir, 'there'), 0o700);
    await hostile.mkdirs([join(dir, 'there')], { mode: 0o751 });
    assert.deepEqual(['a', 'a/b', 'one', 'there'].map((p) => (statSync(join(dir, p)).mode & 0o7777).toString(8)), ['2750', '2750', '755', '751']);
    await hostile.writeFileAtomic(join(dir, 'f'), Buffer.from('x'), { mode: 0o644 });
    await hostile.writeFileAtomic(join(dir, 'x'), Buffer.from('#!/bin/sh\n'), { mode: 0o755 });
    assert.equal(statSync(join(dir, 'f')).mode & 0o7777, 0o644);
    assert.equal(statSync(join(dir, 'x')).mode & 0o7777, 0o755);
    // read-only for its owner too: chmod only once the data is in (the slow way)
    await hostile.writeFileAtomic(join(dir, 'ro'), Buffer.from('x'), { mode: 0o444 });
    assert.equal(statSync(join(dir, 'ro')).mode & 0o7777, 0o444);
    assert.equal(readFileSync(join(dir, 'ro'), 'utf8'), 'x');
    // no mode asked: a new file gets 0666 & ~umask, like Ansible
    await opsWith('umask 027').writeFileAtomic(join(dir, 'g'), Buffer.from('x'));
    assert.equal(statSync(join(dir, 'g')).mode & 0o7777, 0o640);
  });

  test('mkdirs with an owner and a setgid mode keeps chmod after chown', { skip: !asRoot && 'needs root to chown' }, async () => {
    const dir = tempDir();
    await ops.mkdirs([join(dir, 'a'), join(dir, 'a', 'b')], { mode: 0o2770, owner: '65534', group: '65534' });
    await ops.mkdirs([join(dir, 'c')], { mode: 0o750, owner: '65534' });
    for (const p of ['a', 'a/b']) {
      const s = statSync(join(dir, p));
      assert.deepEqual([s.mode & 0o7777, s.uid, s.gid], [0o2770, 65534, 65534]);
    }
    assert.deepEqual([statSync(join(dir, 'c')).mode & 0o7777, statSync(join(dir, 'c')).uid], [0o750, 65534]);
  });

  for (const [what, dd, programs] of [
    // a dd without conv=fsync: it refuses before reading stdin; cat, wc and sync do the job
    ['a dd without conv=fsync', `case "$*" in *conv=fsync*) echo "dd: invalid conversion: 'fsync'" >&2; exit 1;; esac; exec dd "$@"`, ['dd', 'cat', 'wc', 'sync']],
    // busybox's dd without its third status line: no byte count, wc counts
    ['a dd that does not say how many bytes', `exec 3>&1; { dd "$@" 2>&1 1>&3 3>&-; } | { grep -v ' copied' >&2; }`, ['dd', 'wc']],
  ] as const) {
    test(`${what}: the write still works, and data that arrives short is still refused (78)`, async () => {
      const dir = tempDir();
      const { bin, started } = loggingBin(['dd', 'cat', 'wc', 'sync'], { dd: `PATH=/usr/bin:/bin\n${dd}` });
      const env = { PATH: `${bin}:${process.env.PATH}` };
      const fallback = new HostOps(new LocalConnection('localhost'), { env });
      const data = Buffer.from('line\n'.repeat(500));
      await fallback.writeFileAtomic(join(dir, 'conf'), data, { mode: 0o640 });
      assert.deepEqual(readFileSync(join(dir, 'conf')), data);
      assert.equal(statSync(join(dir, 'conf')).mode & 0o7777, 0o640);
      assert.deepEqual(started(), programs);
      class Cut extends LocalConnection {
        override exec(script: string, opts: Parameters<LocalConnection['exec']>[1] = {}) {
          return super.exec(script, { ...opts, ...(opts.stdin ? { stdin: Buffer.from(opts.stdin).subarray(0, 100) } : {}) });
        }
      }
      const cut = new HostOps(new Cut('localhost'), { env });
      await assert.rejects(cut.writeFileAtomic(join(dir, 'conf'), Buffer.from('other\n'.repeat(500))), (err: unknown) => {
        assert.ok(err instanceof HostOpError);
        assert.equal(err.rc, 78);
        assert.match(err.message, /arrived incomplete/);
        return true;
      });
      assert.deepEqual(readFileSync(join(dir, 'conf')), data);
      assert.deepEqual(readdirSync(dir), ['conf']);
    });
  }

  test('dd that fails while copying (a file in the way of its output) fails with 71, nothing left', async () => {
    const dir = tempDir();
    const { bin } = loggingBin(['dd'], { dd: `PATH=/usr/bin:/bin\ncat > /dev/null; echo '0+1 records in' >&2; echo 'dd: error writing: No space left on device' >&2; exit 1` });
    const full = new HostOps(new LocalConnection('localhost'), { env: { PATH: `${bin}:${process.env.PATH}` } });
    await assert.rejects(full.writeFileAtomic(join(dir, 'conf'), Buffer.from('x\n')), (err: unknown) => {
      assert.ok(err instanceof HostOpError);
      assert.equal(err.rc, 71);
      assert.match(err.message, /could not write the temporary file .*No space left/s);
      return true;
    });
    assert.deepEqual(readdirSync(dir), []);
  });
});

function shQuoteForTest(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
