// One pass over an archive (plain, gzip or zstd tar) that hashes every file and keeps a way to
// read it again: straight from the bundle by offset when the tar is not compressed (no copy),
// from a temp file otherwise (a compressed stream cannot be re-read at an offset). Nothing is
// held in memory but a chunk at a time.
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BundleError } from './bundle-error.js';
import { type Compression, detectFileCompression, readArchiveBytes } from './compression.js';
import { readTar } from './tar-reader.js';

export interface StoredFile {
  /** The name in the archive, normalised ("./a/b" → "a/b"); links are resolved to their target. */
  name: string;
  size: number;
  /** 'sha256:<hex>' of the bytes */
  digest: string;
  /** The first bytes (up to 512): enough to tell a tar from gzip from JSON. */
  head: Buffer;
  /** The bytes from `offset` on. */
  open(offset?: number): Readable;
  /** The whole file as a buffer: for JSON documents only (size-checked). */
  read(): Promise<Buffer>;
}

export interface ArchiveContents {
  file: string;
  compression: Compression;
  files: Map<string, StoredFile>;
}

const MAX_DOCUMENT = 64 * 1024 * 1024;

export function normaliseEntryName(name: string): string {
  const clean = path.posix.normalize(name.replace(/^(\.\/|\/)+/, '')).replace(/\/+$/, '');
  return clean === '.' ? '' : clean;
}

function emptyStream(): Readable {
  return Readable.from([]);
}

/** Reads the archive once; `tempDir` receives copies of the files of a compressed archive. */
export async function scanArchive(file: string, tempDir: string): Promise<ArchiveContents> {
  const compression = await detectFileCompression(file);
  const files = new Map<string, StoredFile>();
  const links: Array<{ name: string; target: string }> = [];
  let counter = 0;
  for await (const entry of named(file, readTar(readArchiveBytes(file)))) {
    const name = normaliseEntryName(entry.header.name);
    if (!name) continue;
    if (entry.header.type === 'symlink') {
      links.push({ name, target: normaliseEntryName(path.posix.join(path.posix.dirname(name), entry.header.linkname)) });
      continue;
    }
    if (entry.header.type === 'hardlink') {
      links.push({ name, target: normaliseEntryName(entry.header.linkname) });
      continue;
    }
    if (entry.header.type !== 'file') continue;
    const size = entry.header.size;
    const hash = createHash('sha256');
    const headParts: Buffer[] = [];
    let headLength = 0;
    const note = (chunk: Buffer): void => {
      hash.update(chunk);
      if (headLength < 512) {
        headParts.push(chunk.subarray(0, 512 - headLength));
        headLength += Math.min(chunk.length, 512 - headLength);
      }
    };
    let open: (offset?: number) => Readable;
    if (compression === 'none') {
      for await (const chunk of entry.body) note(chunk);
      const start = entry.dataOffset;
      open = (offset = 0) => (offset >= size ? emptyStream() : createReadStream(file, { start: start + offset, end: start + size - 1, highWaterMark: 1024 * 1024 }));
    } else {
      const copy = path.join(tempDir, `entry-${++counter}`);
      const out = createWriteStream(copy);
      let writeError: Error | undefined;
      out.on('error', (err) => (writeError ??= err)); // e.g. ENOSPC between two writes
      try {
        for await (const chunk of entry.body) {
          note(chunk);
          if (writeError) throw writeError;
          if (!out.write(chunk)) await once(out, 'drain');
        }
        out.end();
        await finished(out);
      } catch (err) {
        out.destroy();
        throw tempWriteError(err, tempDir, name);
      }
      open = (offset = 0) => (offset >= size ? emptyStream() : createReadStream(copy, { start: offset, highWaterMark: 1024 * 1024 }));
    }
    const stored: StoredFile = {
      name,
      size,
      digest: `sha256:${hash.digest('hex')}`,
      head: Buffer.concat(headParts),
      open,
      read: async () => {
        if (size > MAX_DOCUMENT) throw new BundleError(`${file}: ${name} is ${size} bytes, too big for a JSON document`);
        return streamToBuffer(open());
      },
    };
    files.set(name, stored);
  }
  // links last: docker save writes a shared layer once and links the other layer dirs to it
  for (const link of links) {
    let targetName = link.target;
    let target = files.get(targetName);
    for (let hops = 0; !target && hops < 8; hops++) {
      const next = links.find((l) => l.name === targetName); // a link to a link
      if (!next) break;
      targetName = next.target;
      target = files.get(targetName);
    }
    if (target) files.set(link.name, { ...target, name: link.name });
  }
  return { file, compression, files };
}

/** A full disk while unpacking, said as such; other errors unchanged. */
export function tempWriteError(err: unknown, tempDir: string, name: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return err;
  return new BundleError(`no room left in ${tempDir} to unpack ${name}: give a directory on a bigger disk with --temp-dir (or load an uncompressed .tar, which is read in place)`, { cause: err });
}

/** The archive's entries; tar-level errors name the archive file. */
async function* named<T>(file: string, entries: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* entries;
  } catch (err) {
    if (err instanceof BundleError && !err.message.includes(file)) throw new BundleError(`${file}: ${err.message}`, { cause: err });
    throw err;
  }
}

export async function streamToBuffer(stream: AsyncIterable<Buffer | Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(parts);
}

/** A JSON document of the archive, or a BundleError naming it. */
export async function readJson(contents: ArchiveContents, name: string): Promise<unknown> {
  const stored = contents.files.get(name);
  if (!stored) throw new BundleError(`${contents.file} has no ${name}`);
  const text = (await stored.read()).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BundleError(`${contents.file}: ${name} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
