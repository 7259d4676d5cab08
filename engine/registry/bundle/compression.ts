// Compressed archives: recognised by their magic bytes, not their file names (rancher-images.tar.gz
// is sometimes renamed .tar). gzip goes through node:zlib; Node 20's zlib has no zstd, so zstd goes
// through the `zstd` command (Debian package zstd) as a child process, streaming both ways.
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { PassThrough, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { BundleError } from './bundle-error.js';

export type Compression = 'none' | 'gzip' | 'zstd';

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** The compression of a buffer holding (at least) the first 4 bytes of a file. */
export function detectCompression(head: Buffer): Compression {
  if (head.subarray(0, 2).equals(GZIP_MAGIC)) return 'gzip';
  if (head.subarray(0, 4).equals(ZSTD_MAGIC)) return 'zstd';
  return 'none';
}

export async function detectFileCompression(file: string): Promise<Compression> {
  const handle = await open(file, 'r').catch((err: NodeJS.ErrnoException) => {
    throw new BundleError(`cannot read ${file}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, { cause: err });
  });
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return detectCompression(head.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

function zstdMissing(file: string, err: unknown): BundleError {
  return new BundleError(
    `${file} needs the zstd command, which is not installed here (Node 20 has no zstd of its own): install it (Debian/Ubuntu: apt-get install zstd) or use --compress gzip`,
    { cause: err },
  );
}

/**
 * The uncompressed bytes of an archive file, whatever its compression. A zstd failure (corrupt
 * data, a missing command) is thrown from the iteration, after zstd's last output.
 */
export async function* readArchiveBytes(file: string): AsyncGenerator<Buffer> {
  const compression = await detectFileCompression(file);
  if (compression === 'none') {
    yield* createReadStream(file, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>;
    return;
  }
  if (compression === 'gzip') {
    const gunzip = createGunzip();
    const source = createReadStream(file, { highWaterMark: 1024 * 1024 });
    source.on('error', (err) => gunzip.destroy(err));
    source.pipe(gunzip);
    try {
      yield* gunzip as AsyncIterable<Buffer>;
    } catch (err) {
      throw new BundleError(`${file}: the gzip data is corrupt: ${(err as Error).message}`, { cause: err });
    } finally {
      source.destroy();
    }
    return;
  }
  const child = spawn('zstd', ['-d', '-c', '-q', '--', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => undefined); // handled below; avoid an unhandled rejection while we stream
  try {
    yield* child.stdout as AsyncIterable<Buffer>;
    let code: number | null;
    try {
      code = await exited;
    } catch (err) {
      throw (err as NodeJS.ErrnoException).code === 'ENOENT' ? zstdMissing(file, err) : err;
    }
    if (code !== 0) throw new BundleError(`${file}: zstd could not decompress it (exit ${code}): ${stderr.trim()}`);
  } finally {
    if (child.exitCode === null) child.kill();
  }
}

export interface ArchiveOutput {
  /** Write the tar here. */
  stream: Writable;
  /** Resolves when the compressed file is complete on disk; rejects on any failure. */
  done: Promise<void>;
}

/** A writable whose bytes land compressed (or not) in `file`. */
export function createArchiveOutput(file: string, compression: Compression): ArchiveOutput {
  if (compression === 'none') {
    const stream = createWriteStream(file);
    // finished() also settles when the stream is destroyed (a failed save), not only on 'finish'
    return { stream, done: finished(stream) };
  }
  const input = new PassThrough({ highWaterMark: 1024 * 1024 });
  if (compression === 'gzip') {
    return { stream: input, done: pipeline(input, createGzip(), createWriteStream(file)) };
  }
  const child = spawn('zstd', ['-q', '-c', '-T0', '-3'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const spawned = new Promise<void>((resolve, reject) => {
    child.on('spawn', resolve);
    child.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ENOENT' ? zstdMissing(file, err) : err));
  });
  const exited = new Promise<void>((resolve, reject) => {
    child.on('close', (code) => (code === 0 ? resolve() : reject(new BundleError(`zstd failed (exit ${code}) writing ${file}: ${stderr.trim()}`))));
  });
  exited.catch(() => undefined); // observed through `done`; never an unhandled rejection
  const done = spawned.then(async () => {
    await Promise.all([pipeline(input, child.stdin), pipeline(child.stdout, createWriteStream(file)), exited]);
  });
  // a missing zstd must fail the writer at once, not leave it waiting for 'drain'
  spawned.catch((err) => input.destroy(err));
  return { stream: input, done };
}
