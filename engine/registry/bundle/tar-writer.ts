// A streaming tar writer: each entry's data is copied chunk by chunk into the output, honouring
// back-pressure, so writing a multi-GiB layer needs no more memory than a chunk.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { BundleError } from './bundle-error.js';
import { BLOCK, encodeHeader, padding } from './tar-header.js';

export interface TarFileOptions {
  mode?: number;
  mtime?: number;
}

export class TarWriter {
  private failure: Error | undefined;

  constructor(private readonly out: Writable) {
    // remember the first stream error so the next write reports it instead of hanging on 'drain'
    out.on('error', (err) => {
      this.failure ??= err;
    });
  }

  private async write(chunk: Buffer): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.out.write(chunk)) return;
    await once(this.out, 'drain'); // rejects when the stream errors meanwhile; no listener left behind
  }

  /** A regular file of exactly `size` bytes; the content's length is checked against it. */
  async addFile(name: string, size: number, content: Buffer | AsyncIterable<Buffer | Uint8Array>, opts: TarFileOptions = {}): Promise<void> {
    await this.write(encodeHeader({ name, size, type: 'file', ...opts }));
    let written = 0;
    if (Buffer.isBuffer(content)) {
      await this.write(content);
      written = content.length;
    } else {
      for await (const chunk of content) {
        written += chunk.length;
        if (written > size) break;
        await this.write(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      }
    }
    if (written !== size) throw new BundleError(`${name}: expected ${size} bytes of content, got ${written > size ? 'more' : written}`);
    const pad = padding(size);
    if (pad) await this.write(Buffer.alloc(pad));
  }

  async addDirectory(name: string, opts: TarFileOptions = {}): Promise<void> {
    await this.write(encodeHeader({ name: name.endsWith('/') ? name : `${name}/`, size: 0, type: 'directory', ...opts }));
  }

  async addSymlink(name: string, target: string, opts: TarFileOptions = {}): Promise<void> {
    await this.write(encodeHeader({ name, size: 0, type: 'symlink', linkname: target, mode: 0o777, ...opts }));
  }

  /** Writes the end-of-archive marker (two zero blocks) and ends the output stream. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    if (this.failure) throw this.failure;
    this.out.end();
  }
}
