// File transfer over one SFTP session (ssh2's SFTPWrapper). Reads and writes are pipelined:
// up to PIPELINE requests of CHUNK bytes in flight, like OpenSSH's sftp client, because one
// request at a time would pay a round trip per 32 KiB. Everything here runs as the LOGIN
// user (SFTP knows nothing of become); host-ops decides when that is what it wants.
import type { Readable } from 'node:stream';
import type { SFTPWrapper, Stats } from 'ssh2';
import { TransferError, type TransferErrorCode } from './types.js';

/** OpenSSH's sftp-server accepts 256 KiB requests, but ssh2 splits at the channel packet size (32 KiB). */
const CHUNK = 32 * 1024;
const PIPELINE = 64;

/** SFTP status codes (draft-ietf-secsh-filexfer-02) that say something a caller acts on. */
const SFTP_EOF = 1;
const SFTP_NO_SUCH_FILE = 2;
const SFTP_PERMISSION_DENIED = 3;

export class SftpSession {
  constructor(private readonly sftp: SFTPWrapper) {}

  /**
   * Create `path` (it must not exist: O_CREAT|O_EXCL, so nothing already there, not even a
   * symlink, is followed or replaced) with `mode`, write all of `data`, close. On failure the
   * partial file is removed.
   */
  async put(data: Buffer | Readable, path: string, mode = 0o600): Promise<void> {
    const handle = await this.call<Buffer>('create', path, (cb) => this.sftp.open(path, 'wx', { mode }, cb));
    try {
      // the server applies its umask to the open mode; set it exactly (the file is ours)
      await this.call<void>('chmod', path, (cb) => this.sftp.fchmod(handle, mode, cb));
      if (Buffer.isBuffer(data)) await this.writeBuffer(handle, data, path);
      else await this.writeStream(handle, data, path);
    } catch (err) {
      await this.call<void>('close', path, (cb) => this.sftp.close(handle, cb)).catch(() => {});
      await this.remove(path).catch(() => {});
      throw err;
    }
    await this.call<void>('close', path, (cb) => this.sftp.close(handle, cb));
  }

  /** A regular file's bytes. Anything else (folder, device, fifo) is refused with 'not-regular'. */
  async get(path: string): Promise<Buffer> {
    const handle = await this.call<Buffer>('open', path, (cb) => this.sftp.open(path, 'r', cb));
    try {
      const st = await this.call<Stats>('stat', path, (cb) => this.sftp.fstat(handle, cb));
      // a fifo or device would block or never end; the caller falls back to the shell
      if (!st.isFile()) throw new TransferError(`${path} is not a regular file`, 'not-regular', path);
      return await this.readAll(handle, path, st.size);
    } finally {
      await this.call<void>('close', path, (cb) => this.sftp.close(handle, cb)).catch(() => {});
    }
  }

  /** mkdir with a mode; fails if anything exists at `path` (mkdir never follows a link). */
  async mkdir(path: string, mode: number): Promise<void> {
    await this.call<void>('mkdir', path, (cb) => this.sftp.mkdir(path, { mode }, cb));
  }

  /** Remove a file; absent is fine. */
  async remove(path: string): Promise<void> {
    try {
      await this.call<void>('remove', path, (cb) => this.sftp.unlink(path, cb));
    } catch (err) {
      if (!(err instanceof TransferError && err.code === 'not-found')) throw err;
    }
  }

  /** Remove an empty folder; absent is fine. */
  async removeDir(path: string): Promise<void> {
    try {
      await this.call<void>('remove', path, (cb) => this.sftp.rmdir(path, cb));
    } catch (err) {
      if (!(err instanceof TransferError && err.code === 'not-found')) throw err;
    }
  }

  /** Whether anything (a dangling link too) exists at `path`. */
  async exists(path: string): Promise<boolean> {
    try {
      await this.call<Stats>('stat', path, (cb) => this.sftp.lstat(path, cb));
      return true;
    } catch (err) {
      if (err instanceof TransferError && err.code === 'not-found') return false;
      throw err;
    }
  }

  end(): void {
    this.sftp.end();
  }

  private writeBuffer(handle: Buffer, data: Buffer, path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let offset = 0;
      let inFlight = 0;
      let failed = false;
      const pump = () => {
        while (!failed && inFlight < PIPELINE && offset < data.length) {
          const at = offset;
          const length = Math.min(CHUNK, data.length - at);
          offset += length;
          inFlight++;
          this.sftp.write(handle, data, at, length, at, (err) => {
            inFlight--;
            if (failed) return;
            if (err) {
              failed = true;
              reject(mapError(err, 'write', path));
              return;
            }
            if (offset >= data.length && inFlight === 0) resolve();
            else pump();
          });
        }
      };
      if (data.length === 0) resolve();
      else pump();
    });
  }

  private writeStream(handle: Buffer, stream: Readable, path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      let position = 0;
      let inFlight = 0;
      let ended = false;
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        stream.destroy();
        reject(err instanceof TransferError ? err : mapError(err, 'write', path));
      };
      const maybeDone = () => {
        if (!failed && ended && inFlight === 0) resolve();
      };
      stream.on('data', (chunk: Buffer | string) => {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        for (let off = 0; off < buf.length; off += CHUNK) {
          const length = Math.min(CHUNK, buf.length - off);
          const at = position;
          position += length;
          inFlight++;
          this.sftp.write(handle, buf, off, length, at, (err) => {
            inFlight--;
            if (err) return fail(mapError(err, 'write', path));
            if (inFlight < PIPELINE && stream.isPaused()) stream.resume();
            maybeDone();
          });
        }
        // back-pressure: stop reading while the pipeline is full
        if (inFlight >= PIPELINE) stream.pause();
      });
      stream.once('end', () => {
        ended = true;
        maybeDone();
      });
      stream.once('error', fail);
    });
  }

  private async readAll(handle: Buffer, path: string, expected: number): Promise<Buffer> {
    // 1. the expected size, pipelined; 2. fill any short read and follow a file that grew,
    // one request at a time (OpenSSH returns full chunks for regular files, so 2 is rare)
    const offsets: number[] = [];
    for (let at = 0; at < expected; at += CHUNK) offsets.push(at);
    const firstPass = new Map<number, Buffer>();
    let index = 0;
    const worker = async () => {
      while (index < offsets.length) {
        const at = offsets[index++]!;
        firstPass.set(at, await this.readChunk(handle, path, at, Math.min(CHUNK, expected - at)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(PIPELINE, offsets.length) }, worker));
    const parts: Buffer[] = [];
    let pos = 0;
    for (const at of offsets) {
      const piece = firstPass.get(at)!;
      const want = Math.min(CHUNK, expected - at);
      parts.push(piece);
      pos = at + piece.length;
      if (piece.length < want) break; // short: continue sequentially from here
    }
    for (;;) {
      const more = await this.readChunk(handle, path, pos, CHUNK);
      if (more.length === 0) break;
      parts.push(more);
      pos += more.length;
    }
    return Buffer.concat(parts);
  }

  /** Up to `length` bytes at `at`; empty at the end of the file. */
  private readChunk(handle: Buffer, path: string, at: number, length: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(length);
    return new Promise((resolve, reject) => {
      this.sftp.read(handle, buf, 0, length, at, (err, bytesRead) => {
        if (err && (err as { code?: unknown }).code !== SFTP_EOF) reject(mapError(err, 'read', path));
        else resolve(buf.subarray(0, err ? 0 : bytesRead));
      });
    });
  }

  private call<T>(what: string, path: string, fn: (cb: (err: Error | null | undefined, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        fn((err, value) => (err ? reject(mapError(err, what, path)) : resolve(value as T)));
      } catch (err) {
        reject(mapError(err, what, path));
      }
    });
  }
}

function mapError(err: unknown, what: string, path: string): TransferError {
  if (err instanceof TransferError) return err;
  const status = (err as { code?: unknown }).code;
  const text = err instanceof Error ? err.message : String(err);
  let code: TransferErrorCode = 'failed';
  if (status === SFTP_NO_SUCH_FILE) code = 'not-found';
  else if (status === SFTP_PERMISSION_DENIED) code = 'denied';
  else if (/no response|not open|channel|closed/i.test(text)) code = 'lost';
  return new TransferError(`sftp ${what} ${path}: ${text}`, code, path);
}
