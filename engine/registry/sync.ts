// `tsplay registry sync`: copy the images of a list from one registry to another, each blob once
// (HEAD first; mounted from another target repository of the run when one has it), manifests with
// their bytes unchanged, manifest lists whole or filtered by platform. Restartable: what the target
// has is never sent again. Progress and the report come out as events (the CLI renders them).
import { Transform, type Readable } from 'node:stream';
import type { PutBlobResult, RegistryClient } from './client.js';
import { sha256Digest } from './digest.js';
import { RegistryError } from './errors.js';
import type { ImageListEntry } from './image-list.js';
import { Semaphore } from '../run/semaphore.js';
import { type Descriptor, formatPlatform, type ImageManifest, type IndexManifest, isIndex, MediaType, platformMatches } from './media-types.js';
import { formatReference, type ImageRef, type RepoRef } from './reference.js';

export type ImageStatus = 'copied' | 'present' | 'failed' | 'would-copy';

export interface ImageOutcome {
  source: string;
  target: string;
  status: ImageStatus;
  /** digest of what the target tag points at (or would) */
  digest?: string;
  /** set when --platform made a new list: the source list's digest */
  filteredFrom?: string;
  /** bytes sent for this image (blobs mounted or present count 0) */
  bytes: number;
  /** blobs the image needs that the target lacked (for --dry-run: that it would send) */
  blobsMissing?: number;
  error?: string;
}

export type SyncEvent =
  | { kind: 'image-start'; source: string; target: string }
  | { kind: 'image-done'; outcome: ImageOutcome }
  | { kind: 'blob-done'; target: string; digest: string; size: number; result: PutBlobResult }
  | { kind: 'blob-start'; target: string; digest: string; size: number }
  | { kind: 'bytes'; bytes: number };

export interface SyncReport {
  images: ImageOutcome[];
  copied: number;
  present: number;
  failed: number;
  wouldCopy: number;
  bytes: number;
  blobs: { pushed: number; mounted: number; present: number };
  seconds: number;
}

export interface SyncOptions {
  client: RegistryClient;
  images: ImageListEntry[];
  /** images copied at once; blobs in flight at once as well; default 8 */
  parallel?: number;
  /** keep only these platforms of a manifest list ('linux/amd64'); empty: every platform */
  platforms?: string[];
  dryRun?: boolean;
  onEvent?: (event: SyncEvent) => void;
}

export async function syncImages(opts: SyncOptions): Promise<SyncReport> {
  const started = Date.now();
  const run = new SyncRun(opts);
  const outcomes = await run.all();
  const count = (status: ImageStatus) => outcomes.filter((o) => o.status === status).length;
  return {
    images: outcomes,
    copied: count('copied'),
    present: count('present'),
    failed: count('failed'),
    wouldCopy: count('would-copy'),
    bytes: outcomes.reduce((sum, o) => sum + o.bytes, 0),
    blobs: run.blobCounts,
    seconds: (Date.now() - started) / 1000,
  };
}

class SyncRun {
  private readonly client: RegistryClient;
  private readonly parallel: number;
  private readonly blobLimiter: Semaphore;
  /** images being copied (past their check) at once */
  private readonly copyLimiter: Semaphore;
  /** `registry/repo@digest` → the copy (each blob once per target repository) */
  private readonly blobCopies = new Map<string, Promise<number>>();
  /** `registry@digest` → the first target repository holding it (for mounts) */
  private readonly holders = new Map<string, Promise<string | undefined>>();
  readonly blobCounts = { pushed: 0, mounted: 0, present: 0 };

  constructor(private readonly opts: SyncOptions) {
    this.client = opts.client;
    this.parallel = Math.max(1, opts.parallel ?? 8);
    this.blobLimiter = new Semaphore(this.parallel);
    this.copyLimiter = new Semaphore(this.parallel);
  }

  async all(): Promise<ImageOutcome[]> {
    const outcomes: ImageOutcome[] = new Array(this.opts.images.length);
    let next = 0;
    const worker = async () => {
      while (next < this.opts.images.length) {
        const index = next++;
        outcomes[index] = await this.image(this.opts.images[index]!);
      }
    };
    // the check of an image (source manifest, target HEAD) is two small requests: run more of those at
    // once than copies, so a warm sync is not paced by --parallel
    await Promise.all(Array.from({ length: Math.min(this.parallel * 4, this.opts.images.length) }, worker));
    return outcomes;
  }

  private emit(event: SyncEvent): void {
    this.opts.onEvent?.(event);
  }

  private async image(entry: ImageListEntry): Promise<ImageOutcome> {
    const outcome: ImageOutcome = { source: formatReference(entry.source), target: formatReference(entry.target), status: 'failed', bytes: 0 };
    this.emit({ kind: 'image-start', source: outcome.source, target: outcome.target });
    try {
      // the source manifest and the target's tag are asked for at once: a warm sync is one round trip
      // per image (a failed HEAD is the image's failure, as a failed GET)
      const [top, existing] = await Promise.all([this.client.getManifest(entry.source), this.client.headManifest(entry.target)]);
      let bytes = top.bytes;
      let digest = top.digest;
      if (isIndex(top.mediaType) && this.opts.platforms?.length) {
        bytes = filterIndex(bytes, this.opts.platforms, outcome.source);
        digest = sha256Digest(bytes);
        if (digest !== top.digest) outcome.filteredFrom = top.digest;
      }
      outcome.digest = digest;
      if (existing && existing.digest === digest) {
        outcome.status = 'present';
      } else if (this.opts.dryRun) {
        outcome.blobsMissing = await this.countMissing(entry.source, entry.target, top.mediaType, bytes);
        outcome.status = 'would-copy';
      } else {
        outcome.bytes = await this.copyLimiter.run(async () => {
          const sent = await this.copyManifest(entry.source, entry.target, top.mediaType, bytes, outcome.target);
          await this.client.putManifest(entry.target, top.mediaType, bytes);
          return sent;
        });
        outcome.status = 'copied';
      }
    } catch (err) {
      outcome.status = 'failed';
      outcome.error = err instanceof Error ? err.message : String(err);
    }
    this.emit({ kind: 'image-done', outcome });
    return outcome;
  }

  /** Copies what a manifest references (children of a list, or config and layers); returns bytes sent. */
  private async copyManifest(source: RepoRef, target: RepoRef, mediaType: string, bytes: Buffer, label: string): Promise<number> {
    if (isIndex(mediaType)) {
      const index = JSON.parse(bytes.toString('utf8')) as IndexManifest;
      const sent = await Promise.all(
        index.manifests.map(async (child) => {
          const childRef: ImageRef = { registry: source.registry, repository: source.repository, digest: child.digest };
          const got = await this.client.getManifest(childRef);
          const targetChild: ImageRef = { registry: target.registry, repository: target.repository, digest: child.digest };
          const present = await this.client.headManifest(targetChild);
          if (present?.digest === got.digest) return 0;
          const n = await this.copyManifest(source, target, got.mediaType, got.bytes, `${label} (${formatPlatform(child.platform)})`);
          await this.client.putManifest(targetChild, got.mediaType, got.bytes);
          return n;
        }),
      );
      return sent.reduce((a, b) => a + b, 0);
    }
    const sent = await Promise.all(imageBlobs(bytes, mediaType, label).map((blob) => this.copyBlob(source, target, blob)));
    return sent.reduce((a, b) => a + b, 0);
  }

  private copyBlob(source: RepoRef, target: RepoRef, blob: Descriptor): Promise<number> {
    const key = `${target.registry}/${target.repository}@${blob.digest}`;
    let copy = this.blobCopies.get(key);
    if (!copy) {
      copy = this.copyBlobOnce(source, target, blob);
      this.blobCopies.set(key, copy);
      return copy;
    }
    return copy.then(() => 0); // the bytes count for the image that sent them
  }

  private async copyBlobOnce(source: RepoRef, target: RepoRef, blob: Descriptor): Promise<number> {
    const holderKey = `${target.registry}@${blob.digest}`;
    const holder = this.holders.get(holderKey);
    let settle: (repo: string | undefined) => void = () => {};
    if (!holder) this.holders.set(holderKey, new Promise((resolve) => (settle = resolve)));
    // another target repository is getting (or has) this blob: wait for it, then mount
    const mountFrom = holder ? await holder : undefined;
    let sent = 0;
    const onBytes = (n: number) => {
      sent += n;
      this.emit({ kind: 'bytes', bytes: n });
    };
    try {
      this.emit({ kind: 'blob-start', target: formatReference({ ...target }), digest: blob.digest, size: blob.size });
      // the existence check holds no copy slot: an image's checks all go out at once, and a blob the
      // target has never waits behind other blobs' copies
      const present = await this.client.hasBlob(target, blob.digest);
      const result: PutBlobResult = present
        ? 'exists'
        : await this.blobLimiter.run(() =>
            this.client.putBlob(
              target,
              blob.digest,
              blob.size,
              async (offset) => {
                // getBlob's stream checks the digest as the bytes flow (putBlob sees that and does not
                // hash them again); a digest mismatch errors the stream, which fails the upload
                if (offset === 0) return this.client.getBlob(source, blob.digest, { onBytes });
                const stream = await this.client.getBlob(source, blob.digest);
                const counted = skipAndCount(offset, onBytes);
                // pipe() does not pass errors on: a digest mismatch of the source must fail the upload
                stream.on('error', (err) => counted.destroy(err));
                counted.on('close', () => stream.destroy());
                return stream.pipe(counted) as Readable;
              },
              { ...(mountFrom ? { mountFrom } : {}), checked: true },
            ),
          );
      this.blobCounts[result === 'exists' ? 'present' : result]++;
      this.emit({ kind: 'blob-done', target: formatReference({ ...target }), digest: blob.digest, size: blob.size, result });
      settle(target.repository);
      return sent;
    } catch (err) {
      settle(undefined);
      if (!holder) this.holders.delete(holderKey);
      throw err;
    }
  }

  /** --dry-run: how many blobs (config and layers, children included) the target lacks. */
  private async countMissing(source: RepoRef, target: RepoRef, mediaType: string, bytes: Buffer): Promise<number> {
    if (isIndex(mediaType)) {
      const index = JSON.parse(bytes.toString('utf8')) as IndexManifest;
      let missing = 0;
      for (const child of index.manifests) {
        const got = await this.client.getManifest({ ...source, digest: child.digest });
        missing += await this.countMissing(source, target, got.mediaType, got.bytes);
      }
      return missing;
    }
    const blobs = imageBlobs(bytes, mediaType, formatReference(source));
    const present = await Promise.all(blobs.map((b) => this.client.hasBlob(target, b.digest)));
    return present.filter((p) => !p).length;
  }
}

/** The config and layers of an image manifest (Docker v2 schema 2 or OCI). */
function imageBlobs(bytes: Buffer, mediaType: string, label: string): Descriptor[] {
  const manifest = JSON.parse(bytes.toString('utf8')) as Partial<ImageManifest> & { schemaVersion?: number };
  if (manifest.schemaVersion === 1 || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new RegistryError('http', `${label}: ${mediaType} manifests (Docker schema 1) are not supported; push the image with a current docker first`);
  }
  const seen = new Set<string>();
  return [manifest.config, ...manifest.layers].filter((d) => {
    if (seen.has(d.digest) || (d as { urls?: unknown }).urls) return false; // foreign layers stay where they are
    seen.add(d.digest);
    return true;
  });
}

/** A new list holding only the entries of the wanted platforms (same media type, other fields kept). */
function filterIndex(bytes: Buffer, platforms: string[], label: string): Buffer {
  const index = JSON.parse(bytes.toString('utf8')) as IndexManifest;
  const kept = index.manifests.filter((m) => platforms.some((p) => platformMatches(p, m.platform)));
  if (kept.length === 0) {
    const offered = index.manifests.map((m) => formatPlatform(m.platform)).join(', ');
    throw new RegistryError('not-found', `${label}: no manifest for ${platforms.join(', ')} in the list (it has ${offered})`);
  }
  if (kept.length === index.manifests.length) return bytes; // nothing filtered: keep the bytes and the digest
  return Buffer.from(JSON.stringify({ ...index, manifests: kept }, null, 3));
}

/** Drops the first `skip` bytes (a resumed upload starts there) and counts what passes. */
function skipAndCount(skip: number, onBytes: (n: number) => void): Transform {
  let left = skip;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      let out = chunk;
      if (left > 0) {
        const cut = Math.min(left, out.length);
        left -= cut;
        out = out.subarray(cut);
      }
      if (out.length) {
        onBytes(out.length);
        this.push(out);
      }
      done();
    },
  });
}

export { MediaType };
