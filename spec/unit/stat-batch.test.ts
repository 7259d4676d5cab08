import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import { parseStatBatch, statBatchScript, type BatchTarget } from '../../engine/connection/stat-batch.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const sha1 = (s: string | Buffer): string => createHash('sha1').update(s).digest('hex');

/** Run the batch script with /bin/sh here and parse it, as HostOps.probe does on a host. */
function runBatch(targets: BatchTarget[], opts: { checksumTool?: string; contentUpTo?: number } = {}): { stdout: string; parsed: ReturnType<typeof parseStatBatch> } {
  const stdout = execFileSync('/bin/sh', ['-c', statBatchScript(targets, opts)], { encoding: 'utf8' });
  return { stdout, parsed: parseStatBatch(stdout, targets, opts) };
}

/** How many processes the script forks: counted with strace when it is installed. */
function forks(script: string): number | undefined {
  const log = join(makeTempDir('tsplay-strace-'), 'log');
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-o', log, '/bin/sh', '-c', script], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return undefined;
  // every execve but the shell's own
  return readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('execve(') && !l.includes('ENOENT')).length - 1;
}

describe('the batched file probe (stat-batch)', () => {
  test('odd names: newlines, spaces, quotes, $(...), a leading dash, a backslash', () => {
    const dir = makeTempDir('tsplay-batch-');
    const names = ['new\nline', 'sp ace', "q'uo\"te", '$(touch pwned)', '-dash', 'back\\slash', 'ünï ✓'];
    names.forEach((n, i) => writeFileSync(join(dir, n), `content ${i}\n`));
    const targets = names.map((n) => ({ path: join(dir, n), follow: false }));
    const { parsed } = runBatch(targets, { checksumTool: 'sha1sum', contentUpTo: 100 });
    assert.ok(parsed, 'the script output parses');
    parsed.stats.forEach((s, i) => {
      assert.equal(s.path, join(dir, names[i]!));
      assert.equal(s.type, 'file');
      assert.equal(s.size, `content ${i}\n`.length);
      assert.equal(s.inode, lstatSync(join(dir, names[i]!)).ino);
      assert.equal(s.checksum, sha1(`content ${i}\n`), `checksum of ${JSON.stringify(names[i])}`);
      assert.equal(s.content?.toString(), `content ${i}\n`);
    });
    assert.equal(existsSync(join(dir, 'pwned')), false);
    assert.equal(existsSync('pwned'), false);
  });

  test('missing paths between existing ones keep their places; the umask is the shell\'s', () => {
    const dir = makeTempDir('tsplay-batch-');
    writeFileSync(join(dir, 'a'), 'a');
    mkdirSync(join(dir, 'd'));
    const targets = ['none1', 'a', 'none2', 'd', 'none3'].map((n) => ({ path: join(dir, n), follow: true }));
    const { parsed } = runBatch(targets, { checksumTool: 'sha1sum' });
    assert.deepEqual(parsed!.stats.map((s) => [s.exists, s.type]), [[false, 'absent'], [true, 'file'], [false, 'absent'], [true, 'directory'], [false, 'absent']]);
    assert.equal(parsed!.stats[1]!.checksum, sha1('a'));
    assert.equal(parsed!.stats[3]!.checksum, undefined);
    assert.equal(parsed!.umask, process.umask());
  });

  test('symlinks: described or followed per target, dangling ones absent when followed', () => {
    const dir = makeTempDir('tsplay-batch-');
    writeFileSync(join(dir, 'f'), 'hello\n');
    chmodSync(join(dir, 'f'), 0o640);
    mkdirSync(join(dir, 'd'));
    symlinkSync('f', join(dir, 'to file'));
    symlinkSync(join(dir, 'd'), join(dir, 'to dir'));
    symlinkSync('nowhere\nnl', join(dir, 'dangling'));
    const targets: BatchTarget[] = [
      { path: join(dir, 'to file'), follow: false },
      { path: join(dir, 'to file'), follow: true },
      { path: join(dir, 'to dir'), follow: true },
      { path: join(dir, 'dangling'), follow: false },
      { path: join(dir, 'dangling'), follow: true },
      { path: join(dir, 'f'), follow: true },
    ];
    const { parsed } = runBatch(targets, { checksumTool: 'sha1sum', contentUpTo: 100 });
    const [link, followed, toDir, dangling, danglingFollowed, plain] = parsed!.stats;
    assert.equal(link!.type, 'link');
    assert.equal(link!.linkTarget, 'f');
    assert.equal(link!.linkSource, join(dir, 'f'));
    assert.equal(link!.checksum, undefined, 'a link itself has no checksum');
    assert.equal(link!.content, undefined);
    assert.equal(followed!.type, 'file');
    assert.equal(followed!.mode, 0o640);
    assert.equal(followed!.linkTarget, 'f');
    assert.equal(followed!.linkSource, join(dir, 'f'));
    assert.equal(followed!.checksum, sha1('hello\n'));
    assert.equal(followed!.content?.toString(), 'hello\n');
    assert.equal(followed!.inode, statSync(join(dir, 'f')).ino);
    assert.equal(toDir!.type, 'directory');
    assert.equal(toDir!.linkSource, join(dir, 'd'));
    assert.equal(dangling!.type, 'link');
    assert.equal(dangling!.linkTarget, 'nowhere\nnl');
    assert.equal(danglingFollowed!.exists, false);
    assert.equal(plain!.linkTarget, undefined);
  });

  test('content only up to the limit; the checksum whatever the size', () => {
    const dir = makeTempDir('tsplay-batch-');
    writeFileSync(join(dir, 'small'), 'x'.repeat(10));
    writeFileSync(join(dir, 'exact'), 'y'.repeat(16));
    writeFileSync(join(dir, 'big'), 'z'.repeat(17));
    writeFileSync(join(dir, 'empty'), '');
    const targets = ['small', 'exact', 'big', 'empty'].map((n) => ({ path: join(dir, n), follow: false }));
    const { parsed } = runBatch(targets, { checksumTool: 'sha1sum', contentUpTo: 16 });
    const [small, exact, big, empty] = parsed!.stats;
    assert.equal(small!.content?.toString(), 'x'.repeat(10));
    assert.equal(exact!.content?.toString(), 'y'.repeat(16));
    assert.equal(big!.content, undefined);
    assert.equal(big!.checksum, sha1('z'.repeat(17)));
    assert.equal(empty!.content?.length, 0);
    assert.equal(empty!.checksum, sha1(''));
  });

  test('a fifo and a device are "other", and never read', () => {
    const dir = makeTempDir('tsplay-batch-');
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const { parsed } = runBatch([{ path: join(dir, 'pipe'), follow: false }, { path: '/dev/null', follow: true }], { checksumTool: 'sha1sum', contentUpTo: 10 });
    assert.equal(parsed!.stats[0]!.type, 'other');
    assert.equal(parsed!.stats[0]!.special, 'fifo');
    assert.equal(parsed!.stats[1]!.special, 'chr');
    assert.equal(parsed!.stats[1]!.checksum, undefined);
  });

  test('output that is not what the script prints on success is refused (the caller falls back)', () => {
    const dir = makeTempDir('tsplay-batch-');
    writeFileSync(join(dir, 'a'), 'a');
    const targets = [{ path: join(dir, 'a'), follow: false }, { path: join(dir, 'b'), follow: false }];
    const { stdout, parsed } = runBatch(targets, { checksumTool: 'sha1sum' });
    assert.ok(parsed);
    assert.equal(parseStatBatch(stdout.replace('@@end\n', ''), targets, { checksumTool: 'sha1sum' }), null, 'truncated');
    assert.equal(parseStatBatch(stdout.replace('@@stat1\n', '\n@@fail\n@@stat1\n'), targets, { checksumTool: 'sha1sum' }), null, 'stat failed');
    assert.equal(parseStatBatch(stdout.replace(/^st=.*$/m, 'stat: unknown format'), targets, { checksumTool: 'sha1sum' }), null, 'no st record');
    assert.equal(parseStatBatch(stdout.replace(/^st=.*$/m, 'st=81a4 0 0'), targets, { checksumTool: 'sha1sum' }), null, 'short st record');
    assert.equal(parseStatBatch(stdout, [...targets, { path: join(dir, 'c'), follow: false }], { checksumTool: 'sha1sum' })!.stats[2]!.exists, false);
    assert.equal(parseStatBatch('', targets), null);
  });

  test('HostOps.probe falls back to the per-path probe when the batch output is not usable', async () => {
    const dir = makeTempDir('tsplay-batch-');
    writeFileSync(join(dir, 'a'), 'abc');
    const local = new LocalConnection('localhost');
    const scripts: string[] = [];
    const broken = Object.create(local) as LocalConnection;
    broken.exec = async (script, opts) => {
      scripts.push(script);
      // a host whose stat the batch script cannot use: it fails
      return local.exec(scripts.length === 1 ? script.replaceAll('stat -c', 'stat --no-such-option -c') : script, opts);
    };
    const { stats } = await new HostOps(broken).probe([join(dir, 'a')], { checksum: 'sha1' });
    assert.equal(scripts.length, 2);
    assert.equal(stats[0]!.checksum, sha1('abc'));
    assert.equal(stats[0]!.size, 3);
  });

  test('one stat and one sha1sum process for many paths', { skip: spawnSync('strace', ['-V']).status !== 0 && 'strace not installed' }, () => {
    const dir = makeTempDir('tsplay-batch-');
    const targets: BatchTarget[] = [];
    for (let i = 0; i < 6; i++) {
      writeFileSync(join(dir, `f${i}`), String(i));
      targets.push({ path: join(dir, `f${i}`), follow: true }, { path: join(dir, `none${i}`), follow: false });
    }
    assert.equal(forks(statBatchScript(targets, { checksumTool: 'sha1sum' })), 2);
    assert.equal(forks(statBatchScript(targets)), 1);
  });
});
