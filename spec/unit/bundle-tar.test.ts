// The bundle's tar layer: what GNU tar writes we read, what we write GNU tar reads, long names,
// sizes past ustar's 8 GiB, and compression recognised by magic bytes (gzip via zlib, zstd via the CLI).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../helpers/temp-dir.js';
import { readTar } from '../../engine/registry/bundle/tar-reader.js';
import { TarWriter } from '../../engine/registry/bundle/tar-writer.js';
import { encodeHeader, decodeHeader } from '../../engine/registry/bundle/tar-header.js';
import { createArchiveOutput, detectFileCompression, readArchiveBytes, type Compression } from '../../engine/registry/bundle/compression.js';
import { BundleError } from '../../engine/registry/bundle/bundle-error.js';
import { readJson, scanArchive, streamToBuffer } from '../../engine/registry/bundle/archive-scan.js';

const hasTar = spawnSync('tar', ['--version']).status === 0;
const hasZstd = spawnSync('zstd', ['--version']).status === 0;

const longDir = 'a'.repeat(120) + '/' + 'b'.repeat(90);
const files: Record<string, Buffer> = {
  'short.txt': Buffer.from('hello\n'),
  // > 100 bytes but splits into ustar prefix + name
  [`${longDir}/split.txt`]: Buffer.from('split\n'),
  // one component of 150 bytes: only pax can hold it
  [`dir/${'c'.repeat(150)}.json`]: Buffer.from('{"pax":true}'),
  // exactly a block, and a block and one byte: padding edge cases
  'block.bin': Buffer.alloc(512, 7),
  'block1.bin': Buffer.alloc(513, 9),
  'empty': Buffer.alloc(0),
  'unicodé/naïve.txt': Buffer.from('ü'),
};

async function writeArchive(file: string, compression: Compression): Promise<void> {
  const output = createArchiveOutput(file, compression);
  const tar = new TarWriter(output.stream);
  await tar.addDirectory('dir');
  for (const [name, data] of Object.entries(files)) {
    // stream in uneven chunks, as a registry blob arrives
    const chunks = [data.subarray(0, 100), data.subarray(100)].filter((c) => c.length > 0);
    await tar.addFile(name, data.length, (async function* () { yield* chunks; })());
  }
  await tar.addSymlink('link-to-short', 'short.txt');
  await tar.finish();
  await output.done;
}

async function readArchive(file: string): Promise<Map<string, { type: string; data: Buffer; linkname: string }>> {
  const out = new Map<string, { type: string; data: Buffer; linkname: string }>();
  for await (const entry of readTar(readArchiveBytes(file))) {
    const parts: Buffer[] = [];
    for await (const chunk of entry.body) parts.push(chunk);
    out.set(entry.header.name.replace(/^\.\//, ''), { type: entry.header.type, data: Buffer.concat(parts), linkname: entry.header.linkname });
  }
  return out;
}

function tarList(file: string, flags: string[] = []): string[] {
  const r = spawnSync('tar', [...flags, '-tf', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean);
}

describe('tar writer and reader', () => {
  test('round trip keeps names (long ones too), contents, directories and symlinks', async () => {
    const dir = makeTempDir('tsplay-tar-');
    const file = path.join(dir, 'out.tar');
    await writeArchive(file, 'none');
    const entries = await readArchive(file);
    for (const [name, data] of Object.entries(files)) {
      assert.equal(entries.get(name)?.type, 'file', name);
      assert.deepEqual(entries.get(name)?.data, data, name);
    }
    assert.equal(entries.get('dir/')?.type, 'directory');
    assert.equal(entries.get('link-to-short')?.linkname, 'short.txt');
    assert.equal(readFileSync(file).length % 512, 0);
  });

  test('GNU tar reads what we write, long names included', { skip: !hasTar && 'no tar command' }, async () => {
    const dir = makeTempDir('tsplay-tar-');
    const file = path.join(dir, 'out.tar');
    await writeArchive(file, 'none');
    const names = tarList(file);
    for (const name of Object.keys(files)) assert.ok(names.includes(name), `${name} in ${names.join(', ')}`);
    const extract = path.join(dir, 'x');
    mkdirSync(extract);
    assert.equal(spawnSync('tar', ['-xf', file, '-C', extract]).status, 0);
    assert.equal(readFileSync(path.join(extract, `dir/${'c'.repeat(150)}.json`), 'utf8'), '{"pax":true}');
  });

  for (const format of ['gnu', 'pax', 'ustar']) {
    test(`we read what GNU tar writes (--format=${format})`, { skip: !hasTar && 'no tar command' }, async () => {
      const dir = makeTempDir('tsplay-tar-');
      const src = path.join(dir, 'src');
      const deep = format === 'ustar' ? `${'f'.repeat(90)}/${'g'.repeat(60)}` : `${'d'.repeat(130)}/${'e'.repeat(140)}`;
      mkdirSync(path.join(src, deep), { recursive: true });
      writeFileSync(path.join(src, deep, 'layer.tar'), Buffer.alloc(70_000, 3));
      symlinkSync('layer.tar', path.join(src, deep, 'link'));
      const file = path.join(dir, 'gnu.tar');
      const r = spawnSync('tar', [`--format=${format}`, '-cf', file, '-C', src, '.'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const entries = await readArchive(file);
      assert.deepEqual(entries.get(`${deep}/layer.tar`)?.data, Buffer.alloc(70_000, 3));
      assert.equal(entries.get(`${deep}/link`)?.type, 'symlink');
      assert.equal(entries.get(`${deep}/link`)?.linkname, 'layer.tar');
    });
  }

  test('a size past 8 GiB is written as pax + base-256 and read back', async () => {
    const size = 9 * 1024 ** 3 + 5;
    const blocks = encodeHeader({ name: 'huge/layer.tar', size, type: 'file' });
    // pax header, its data block, then the ustar header whose size field is base-256
    assert.equal(blocks.length, 3 * 512);
    const ustar = decodeHeader(blocks.subarray(1024));
    assert.equal(ustar?.size, size);
    assert.equal(blocks[1024 + 124]! & 0x80, 0x80);
    const entries: Array<{ name: string; size: number }> = [];
    await assert.rejects(
      (async () => {
        for await (const entry of readTar([blocks, Buffer.alloc(1000)])) {
          entries.push({ name: entry.header.name, size: entry.header.size });
          for await (const _ of entry.body) void _;
        }
      })(),
      (err: Error) => err instanceof BundleError && /ends in the middle of entry huge\/layer\.tar/.test(err.message),
    );
    assert.deepEqual(entries, [{ name: 'huge/layer.tar', size }]);
    if (hasTar) {
      const dir = makeTempDir('tsplay-tar-');
      writeFileSync(path.join(dir, 'h.tar'), blocks);
      const r = spawnSync('tar', ['-tvf', path.join(dir, 'h.tar')], { encoding: 'utf8' });
      assert.match(r.stdout, new RegExp(`\\b${size}\\b.*huge/layer\\.tar`));
    }
  });

  test('a file that is not a tar is refused as such; a truncated tar says truncated', async () => {
    await assert.rejects(collectNames([Buffer.from('{"not":"a tar"}'.padEnd(600, ' '))]), /not a tar archive/);
    const header = encodeHeader({ name: 'x.bin', size: 2000, type: 'file' });
    await assert.rejects(collectNames([header, Buffer.alloc(100)]), /truncated/);
  });
});

async function collectNames(chunks: Buffer[]): Promise<string[]> {
  const names: string[] = [];
  for await (const entry of readTar(chunks)) names.push(entry.header.name);
  return names;
}

describe('compression by magic bytes', () => {
  for (const compression of ['gzip', 'zstd'] as const) {
    test(`${compression}: written, recognised under a .tar name, read back`, { skip: compression === 'zstd' && !hasZstd && 'no zstd command' }, async () => {
      const dir = makeTempDir('tsplay-tar-');
      const file = path.join(dir, 'bundle.out');
      await writeArchive(file, compression);
      const misnamed = path.join(dir, 'bundle.tar');
      renameSync(file, misnamed);
      assert.equal(await detectFileCompression(misnamed), compression);
      const entries = await readArchive(misnamed);
      assert.deepEqual(entries.get('short.txt')?.data, files['short.txt']);
      if (hasTar) {
        const flag = compression === 'gzip' ? ['-z'] : ['--zstd'];
        assert.ok(tarList(misnamed, flag).includes(`dir/${'c'.repeat(150)}.json`));
      }
    });
  }

  test('plain tar is "none"', async () => {
    const dir = makeTempDir('tsplay-tar-');
    const file = path.join(dir, 'b.tar');
    await writeArchive(file, 'none');
    assert.equal(await detectFileCompression(file), 'none');
  });

  test('a corrupt gzip archive is an error, not a short listing', async () => {
    const dir = makeTempDir('tsplay-tar-');
    const file = path.join(dir, 'b.tar.gz');
    await writeArchive(file, 'gzip');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
    await assert.rejects(readArchive(file), (err: Error) => err instanceof BundleError);
  });

  test('without the zstd command, a .tar.zst is refused saying what to install', { skip: !hasZstd && 'no zstd command' }, async () => {
    const dir = makeTempDir('tsplay-tar-');
    const file = path.join(dir, 'b.tar.zst');
    await writeArchive(file, 'zstd');
    const savedPath = process.env.PATH;
    process.env.PATH = makeTempDir('tsplay-nopath-');
    try {
      await assert.rejects(readArchive(file), /zstd command, which is not installed.*apt-get install zstd/);
      await assert.rejects(writeArchive(path.join(dir, 'c.tar.zst'), 'zstd'), /apt-get install zstd/);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('scanning an archive', () => {
  for (const compression of ['none', 'gzip'] as const) {
    test(`${compression}: every file hashed once, readable again from any offset; links (docker save's shared layers) resolved`, async () => {
      const dir = makeTempDir('tsplay-scan-');
      const file = path.join(dir, 'save.tar');
      const layer = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
      const output = createArchiveOutput(file, compression);
      const tar = new TarWriter(output.stream);
      await tar.addFile('./aaa/layer.tar', layer.length, layer);
      await tar.addSymlink('./bbb/layer.tar', '../aaa/layer.tar');
      await tar.addSymlink('./ccc/layer.tar', '../bbb/layer.tar'); // a link to a link
      await tar.addFile('./manifest.json', 2, Buffer.from('[]'));
      await tar.finish();
      await output.done;
      const temp = makeTempDir('tsplay-scan-temp-');
      const contents = await scanArchive(file, temp);
      assert.equal(contents.compression, compression);
      const digest = 'sha256:' + createHash('sha256').update(layer).digest('hex');
      for (const name of ['aaa/layer.tar', 'bbb/layer.tar', 'ccc/layer.tar']) {
        const stored = contents.files.get(name);
        assert.equal(stored?.digest, digest, name);
        assert.deepEqual(await streamToBuffer(stored!.open(1000)), layer.subarray(1000), name);
      }
      assert.deepEqual(await readJson(contents, 'manifest.json'), []);
      // a plain tar is read in place; a compressed one is unpacked into the temp dir
      assert.equal(readdirSync(temp).length, compression === 'none' ? 0 : 2);
    });
  }
});
