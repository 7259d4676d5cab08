// `tsplay registry load`: push a bundle into a registry. The bundle is either our OCI layout tar
// (from `tsplay registry save`, or any OCI layout tar naming its images) or a `docker save`
// archive such as rancher-images.tar.gz; plain, gzip or zstd, recognised by magic bytes.
// Targets are named exactly as `tsplay registry sync` names them (image-list.ts's mapImage).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BundleError } from './bundle-error.js';
import { scanArchive } from './archive-scan.js';
import { type BlobSource, isDockerSave, readDockerSave } from './docker-save.js';
import { isOciLayout, type OciLayout, readOciLayout } from './oci-layout.js';
import type { PutBlobResult, RegistryClient } from '../client.js';
import { RegistryError } from '../errors.js';
import { mapImage, type NameMapping, RANCHER_MAPPING } from '../image-list.js';
import { type Descriptor, type ImageManifest, type IndexManifest, isIndex, MediaType } from '../media-types.js';
import { formatReference, formatRepo, type ImageRef } from '../reference.js';

export interface LoadOptions {
  client: RegistryClient;
  bundle: string;
  /** the target registry, host[:port][/path] */
  to: string;
  mapping?: NameMapping;
  /** where a compressed bundle's files and docker save's compressed layers are kept while pushing */
  tempDir?: string;
  /** images pushed at once; default 3 */
  parallel?: number;
  onEvent?: (event: LoadEvent) => void;
}

export type LoadEvent =
  | { kind: 'bundle-read'; format: 'oci-layout' | 'docker-save'; compression: string; images: number }
  | { kind: 'image-skipped'; reason: string }
  | { kind: 'image-loaded'; line: string; target: string; digest: string; pushed: number; mounted: number; existed: number }
  | { kind: 'image-failed'; line: string; target: string; error: string };

export interface LoadResult {
  format: 'oci-layout' | 'docker-save';
  loaded: Array<{ line: string; target: string; digest: string }>;
  failed: Array<{ line: string; target: string; error: string }>;
}

/** One image to push: a name and a tree of manifests whose leaves are blobs. */
interface PushImage {
  line: string;
  target: ImageRef;
  manifest: PushManifest;
}

interface PushManifest {
  mediaType: string;
  digest: string;
  bytes: Buffer;
  blobs: BlobSource[];
  children: PushManifest[];
}

export async function loadBundle(opts: LoadOptions): Promise<LoadResult> {
  const mapping = opts.mapping ?? RANCHER_MAPPING;
  const temp = await mkdtemp(path.join(opts.tempDir ?? tmpdir(), 'tsplay-load-'));
  try {
    const contents = await scanArchive(opts.bundle, temp);
    const targetOf = (line: string): ImageRef => mapImage(line, opts.to, opts.to, mapping).target;
    let format: LoadResult['format'];
    let images: PushImage[];
    if (isDockerSave(contents)) {
      format = 'docker-save';
      const saved = await readDockerSave(contents, temp, {
        onUntagged: (config) => opts.onEvent?.({ kind: 'image-skipped', reason: `image ${config} has no tag (saved by ID): nothing to name it in the registry` }),
      });
      images = saved.map((image) => ({
        line: image.line,
        target: targetOf(image.line),
        manifest: { mediaType: MediaType.dockerManifest, digest: image.manifestDigest, bytes: image.manifest, blobs: [image.config, ...image.layers], children: [] },
      }));
    } else if (isOciLayout(contents)) {
      format = 'oci-layout';
      const layout = await readOciLayout(contents);
      images = [];
      for (const image of layout.images) {
        if (!image.line) {
          opts.onEvent?.({ kind: 'image-skipped', reason: `manifest ${image.manifest.digest} in index.json has no image name annotation (${'io.containerd.image.name'})` });
          continue;
        }
        images.push({ line: image.line, target: targetOf(image.line), manifest: await layoutManifest(layout, image.manifest) });
      }
    } else {
      throw new BundleError(`${opts.bundle} is neither an OCI image layout (oci-layout, index.json) nor a docker save archive (manifest.json)`);
    }
    opts.onEvent?.({ kind: 'bundle-read', format, compression: contents.compression, images: images.length });
    const result: LoadResult = { format, loaded: [], failed: [] };
    const pusher = new BlobPusher(opts.client);
    await forEachLimited(images, opts.parallel ?? 3, async (image) => {
      const target = formatReference(image.target);
      try {
        const counts = { pushed: 0, mounted: 0, existed: 0 };
        await pushManifestTree(opts.client, pusher, image.target, image.manifest, counts, true);
        result.loaded.push({ line: image.line, target, digest: image.manifest.digest });
        opts.onEvent?.({ kind: 'image-loaded', line: image.line, target, digest: image.manifest.digest, ...counts });
      } catch (err) {
        if (!(err instanceof RegistryError)) throw err;
        result.failed.push({ line: image.line, target, error: err.message });
        opts.onEvent?.({ kind: 'image-failed', line: image.line, target, error: err.message });
      }
    });
    return result;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

/** A manifest of the layout as a push tree; blob sizes are checked against their descriptors. */
async function layoutManifest(layout: OciLayout, descriptor: Descriptor): Promise<PushManifest> {
  const parsed = await layout.manifest(descriptor);
  const stored = layout.blob(descriptor, 'index.json');
  const bytes = await stored.read();
  const mediaType = descriptor.mediaType ?? parsed.mediaType ?? MediaType.ociManifest;
  if (isIndex(mediaType)) {
    const children: PushManifest[] = [];
    for (const child of (parsed as IndexManifest).manifests) children.push(await layoutManifest(layout, child));
    return { mediaType, digest: descriptor.digest, bytes, blobs: [], children };
  }
  const image = parsed as ImageManifest;
  const what = `manifest ${descriptor.digest}`;
  // foreign layers (`urls`: Windows base layers) are not in a bundle; the registry does not need them
  const blobs = [image.config, ...image.layers.filter((l) => !l.urls)].map((d) => {
    const blob = layout.blob(d, what);
    return { digest: d.digest, size: blob.size, mediaType: d.mediaType ?? '', open: blob.open };
  });
  return { mediaType, digest: descriptor.digest, bytes, blobs, children: [] };
}

/**
 * Uploads each blob once per repository. A blob another repository of the same registry holds —
 * or is being sent to right now — is mounted from there (after that upload ends) instead of sent
 * again: images share base layers.
 */
class BlobPusher {
  private readonly done = new Map<string, Promise<PutBlobResult>>();
  /** registry + digest → the first repository it went to in this run, and that upload */
  private readonly first = new Map<string, { repository: string; upload: Promise<PutBlobResult> }>();

  constructor(private readonly client: RegistryClient) {}

  push(target: ImageRef, blob: BlobSource): Promise<PutBlobResult> {
    const repo = { registry: target.registry, repository: target.repository };
    const key = `${formatRepo(repo)}@${blob.digest}`;
    let pending = this.done.get(key);
    if (pending) return pending;
    const firstKey = `${repo.registry}@${blob.digest}`;
    const first = this.first.get(firstKey);
    const put = (mountFrom?: string) => this.client.putBlob(repo, blob.digest, blob.size, (offset) => blob.open(offset), mountFrom ? { mountFrom } : {});
    if (first) {
      // wait for the first upload; mount when it succeeded, send the bytes when it did not
      pending = first.upload.then(
        () => put(first.repository),
        () => put(),
      );
    } else {
      pending = put();
      this.first.set(firstKey, { repository: repo.repository, upload: pending });
    }
    this.done.set(key, pending);
    pending.catch(() => this.done.delete(key));
    return pending;
  }
}

async function pushManifestTree(
  client: RegistryClient,
  pusher: BlobPusher,
  target: ImageRef,
  manifest: PushManifest,
  counts: { pushed: number; mounted: number; existed: number },
  isTop: boolean,
): Promise<void> {
  const results = await Promise.all(manifest.blobs.map((blob) => pusher.push(target, blob)));
  for (const r of results) counts[r === 'pushed' ? 'pushed' : r === 'mounted' ? 'mounted' : 'existed']++;
  for (const child of manifest.children) await pushManifestTree(client, pusher, target, child, counts, false);
  // children of an index go by digest; the image itself under the list line's tag (or digest)
  const ref: ImageRef = { registry: target.registry, repository: target.repository };
  if (isTop && target.tag) ref.tag = target.tag;
  else ref.digest = manifest.digest;
  const digest = await client.putManifest(ref, manifest.mediaType, manifest.bytes);
  if (digest !== manifest.digest) {
    throw new RegistryError('digest', `${formatReference(ref)}: the registry stored the manifest as ${digest}, expected ${manifest.digest}`);
  }
}

async function forEachLimited<T>(items: T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) await run(items[next++]!);
  });
  await Promise.all(workers);
}
