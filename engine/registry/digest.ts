// Digests and the verifying stream: bytes pass through while sha256 is computed; the last chunk is
// held back until the end, so a consumer (or an upload) never receives a whole blob that does not
// match its digest — the error comes instead of the final bytes.
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';

export function sha256Digest(bytes: Buffer): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

export function isSha256(digest: string): boolean {
  return /^sha256:[a-f0-9]{64}$/.test(digest);
}

export class DigestVerifier extends Transform {
  private readonly hash: Hash = createHash('sha256');
  private held: Buffer | undefined;
  private count = 0;

  /**
   * @param expected 'sha256:...'
   * @param expectedSize bytes expected, or -1 when unknown
   * @param mismatch builds the error for a wrong digest or size
   * @param highWaterMark bytes buffered on each side (default: the stream default, 16 KiB)
   */
  constructor(
    private readonly expected: string,
    private readonly expectedSize: number,
    private readonly mismatch: (actual: string, size: number) => Error,
    highWaterMark?: number,
  ) {
    super(highWaterMark ? { highWaterMark } : {});
  }

  get expectedDigest(): string {
    return this.expected;
  }

  /** bytes seen so far */
  get bytes(): number {
    return this.count;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    if (this.expectedSize >= 0 && this.count > this.expectedSize) {
      done(this.mismatch('(more bytes than its size)', this.count));
      return;
    }
    const previous = this.held;
    this.held = chunk;
    if (previous) this.push(previous);
    done();
  }

  override _flush(done: TransformCallback): void {
    const actual = 'sha256:' + this.hash.digest('hex');
    if (actual !== this.expected || (this.expectedSize >= 0 && this.count !== this.expectedSize)) {
      done(this.mismatch(actual, this.count));
      return;
    }
    if (this.held) this.push(this.held);
    this.held = undefined;
    done();
  }
}

const VERIFIED = Symbol('tsplay.verifiedDigest');

/**
 * Marks a stream whose bytes are already checked against `digest` upstream (a getBlob stream, or one
 * piped from it that forwards its errors): putBlob then does not hash them a second time.
 */
export function markVerified<T extends object>(stream: T, digest: string): T {
  (stream as Record<symbol, unknown>)[VERIFIED] = digest;
  return stream;
}

export function isVerified(stream: object, digest: string): boolean {
  return (stream as Record<symbol, unknown>)[VERIFIED] === digest || (stream instanceof DigestVerifier && stream.expectedDigest === digest);
}
