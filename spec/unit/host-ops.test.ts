import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { HostOps, ValidateError } from '../../engine/connection/host-ops.js';
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
