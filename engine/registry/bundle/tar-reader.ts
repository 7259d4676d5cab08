// A streaming tar reader: entries one at a time, each body a stream of chunks, so a layer of
// many GiB never sits in memory. Reads ustar, pax (path, linkpath, size) and GNU long names.
import { BundleError } from './bundle-error.js';
import { BLOCK, decodeHeader, decodePax, isZeroBlock, padding, type TarHeader } from './tar-header.js';

/** Exact-length reads over a stream of chunks of any size, counting the bytes consumed. */
class ChunkReader {
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);
  private ended = false;
  position = 0;

  constructor(source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>) {
    const iterator: AsyncIterator<Buffer | Uint8Array> | Iterator<Buffer | Uint8Array> =
      Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
    this.chunks = {
      next: async () => {
        const r = await iterator.next();
        return r.done ? r : { done: false, value: Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value) };
      },
      return: async () => (iterator.return ? iterator.return() : { done: true, value: undefined }),
    } as AsyncIterator<Buffer>;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, next.value]) : next.value;
    return true;
  }

  /** Exactly n bytes, or fewer only at the end of the stream. */
  async read(n: number): Promise<Buffer> {
    while (this.pending.length < n) if (!(await this.fill())) break;
    const out = this.pending.subarray(0, Math.min(n, this.pending.length));
    this.pending = this.pending.subarray(out.length);
    this.position += out.length;
    return out;
  }

  /** The next n bytes as they arrive, in chunks; throws when the stream ends first. */
  async *stream(n: number, what: string): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pending.length === 0 && !(await this.fill())) throw truncated(what, this.position);
      const out = this.pending.subarray(0, Math.min(left, this.pending.length));
      this.pending = this.pending.subarray(out.length);
      this.position += out.length;
      left -= out.length;
      yield out;
    }
  }

  async skip(n: number, what: string): Promise<void> {
    for await (const _ of this.stream(n, what)) void _;
  }

  async close(): Promise<void> {
    await this.chunks.return?.();
  }
}

function notTar(): BundleError {
  return new BundleError('the file is not a tar archive (nor a gzip or zstd compressed one)');
}

function truncated(what: string, position: number): BundleError {
  return new BundleError(`the archive ends in the middle of ${what} (at byte ${position}): it is truncated`);
}

export interface TarEntry {
  header: TarHeader;
  /** Where the entry's data starts in the (uncompressed) tar stream. */
  dataOffset: number;
  /**
   * The entry's data. Read it inside the loop body, or not at all: the reader skips what was
   * not read when the loop asks for the next entry.
   */
  body: AsyncIterable<Buffer>;
}

/** The entries of a tar stream, in order; pax and GNU long-name headers are applied, not returned. */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array> | Iterable<Buffer | Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ChunkReader(source);
  let sawAnyHeader = false;
  let override: Partial<TarHeader> = {};
  try {
    for (;;) {
      const headerAt = reader.position;
      const block = await reader.read(BLOCK);
      if (block.length === 0 && sawAnyHeader) return; // some writers omit the end-of-archive blocks
      if (block.length < BLOCK) {
        if (block.length === 0) throw new BundleError('the archive is empty');
        throw sawAnyHeader ? truncated('a tar header', reader.position) : notTar();
      }
      if (isZeroBlock(block)) return; // end of archive (the second zero block and padding are ignored)
      const header = decodeHeader(block);
      if (!header) {
        throw sawAnyHeader ? new BundleError(`the archive has a corrupt tar header at byte ${headerAt}`) : notTar();
      }
      sawAnyHeader = true;
      if (header.type === 'pax' || header.type === 'pax-global' || header.type === 'gnu-longname' || header.type === 'gnu-longlink') {
        const data = await collect(reader, header.size, 'an extended header');
        await reader.skip(padding(header.size), 'an extended header');
        if (header.type === 'pax') override = { ...override, ...paxOverride(decodePax(data)) };
        else if (header.type === 'gnu-longname') override.name = cString(data);
        else if (header.type === 'gnu-longlink') override.linkname = cString(data);
        // a global pax header sets defaults for the whole archive; nothing we read depends on them
        continue;
      }
      const entryHeader: TarHeader = { ...header, ...override };
      override = {};
      // directory and link entries carry no data even when a writer puts a size in the header
      const size = entryHeader.type === 'file' || entryHeader.type === 'other' ? entryHeader.size : 0;
      entryHeader.size = size;
      const dataOffset = reader.position;
      let consumed = 0;
      const what = `entry ${entryHeader.name}`;
      const body: AsyncIterable<Buffer> = {
        [Symbol.asyncIterator]: () => {
          if (consumed > 0) throw new Error(`the body of ${entryHeader.name} can only be read once`);
          const inner = reader.stream(size, what);
          return {
            next: async () => {
              const r = await inner.next();
              if (!r.done) consumed += r.value.length;
              return r;
            },
          };
        },
      };
      yield { header: entryHeader, dataOffset, body };
      await reader.skip(size - consumed, what);
      await reader.skip(padding(size), what);
    }
  } finally {
    await reader.close();
  }
}

async function collect(reader: ChunkReader, size: number, what: string): Promise<Buffer> {
  if (size > 16 * 1024 * 1024) throw new BundleError(`the archive has ${what} of ${size} bytes: not a sane tar`);
  const parts: Buffer[] = [];
  for await (const chunk of reader.stream(size, what)) parts.push(chunk);
  return Buffer.concat(parts);
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.toString('utf8', 0, end === -1 ? data.length : end);
}

function paxOverride(records: Record<string, string>): Partial<TarHeader> {
  const out: Partial<TarHeader> = {};
  if (records.path !== undefined) out.name = records.path;
  if (records.linkpath !== undefined) out.linkname = records.linkpath;
  if (records.size !== undefined && /^\d+$/.test(records.size)) out.size = Number(records.size);
  if (records.mtime !== undefined && Number.isFinite(Number(records.mtime))) out.mtime = Math.floor(Number(records.mtime));
  return out;
}
