// `tsplay registry save`: the images of a list, pulled from a registry into an OCI image layout
// inside one tar (plain, gzip or zstd) — the air-gap bundle that `tsplay registry load` pushes.
//
// Two phases, so a missing image does not ruin a bundle half-written: first every manifest is
// fetched (an image that cannot be found is reported and left out), then the blobs are streamed
// into the tar. A blob that fails in the second phase (after the client's retries) aborts the save
// and removes the half-written bundle: a tar entry cannot be taken back.
import { rm } from 'node:fs/promises';
import { BundleError } from './bundle-error.js';
import { type Compression, createArchiveOutput } from './compression.js';
import { OciLayoutWriter } from './oci-layout.js';
import { TarWriter } from './tar-writer.js';
import type { RegistryClient } from '../client.js';
import { RegistryError } from '../errors.js';
import { mapImage, RANCHER_MAPPING } from '../image-list.js';
import { sha256Digest } from '../digest.js';
import { type Descriptor, formatPlatform, type ImageManifest, type IndexManifest, isIndex, platformMatches } from '../media-types.js';
import { formatReference, type ImageRef } from '../reference.js';

export interface SaveOptions {
  client: RegistryClient;
  /** lines of the image list (rancher-images.txt), as written */
  images: string[];
  /** the registry (and optional path) images without a registry of their own come from */
  from: string;
  output: string;
  compression: Compression;
  /** keep only these platforms of multi-platform images ('linux/amd64', 'linux/arm/v7') */
  platforms?: string[];
  onEvent?: (event: SaveEvent) => void;
}

export type SaveEvent =
  | { kind: 'image-resolved'; line: string; source: string; digest: string; platforms?: string[]; filtered: boolean }
  | { kind: 'image-failed'; line: string; source: string; error: string }
  | { kind: 'image-saved'; line: string; blobs: number; bytes: number };

export interface SaveResult {
  saved: Array<{ line: string; source: string; digest: string }>;
  failed: Array<{ line: string; source: string; error: string }>;
  /** distinct blobs written (manifests included) and their bytes */
  blobs: number;
  bytes: number;
}

/** A manifest (or index) as it goes in the bundle, with the manifests it points to. */
interface ResolvedManifest {
  descriptor: Descriptor;
  bytes: Buffer;
  children: ResolvedManifest[];
}

interface ResolvedImage {
  line: string;
  source: ImageRef;
  top: ResolvedManifest;
}

async function resolveImage(client: RegistryClient, line: string, source: ImageRef, platforms: string[] | undefined, onEvent: SaveOptions['onEvent']): Promise<ResolvedImage> {
  const top = await client.getManifest(source);
  if (!isIndex(top.mediaType)) {
    onEvent?.({ kind: 'image-resolved', line, source: formatReference(source), digest: top.digest, filtered: false });
    return { line, source, top: { descriptor: { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length }, bytes: top.bytes, children: [] } };
  }
  const index = JSON.parse(top.bytes.toString('utf8')) as IndexManifest;
  let entries = index.manifests;
  let bytes = top.bytes;
  let digest = top.digest;
  if (platforms?.length) {
    entries = entries.filter((m) => platforms.some((p) => platformMatches(p, m.platform)));
    if (entries.length === 0) {
      throw new BundleError(`${formatReference(source)} has no ${platforms.join(' or ')} image (it has ${index.manifests.map((m) => formatPlatform(m.platform)).join(', ')})`);
    }
    // a new index holding only the chosen platforms (a registry refuses an index whose entries it
    // lacks), written as `tsplay registry sync --platform` writes it, so both give the same digest
    if (entries.length < index.manifests.length) {
      bytes = Buffer.from(JSON.stringify({ ...index, manifests: entries }, null, 3));
      digest = sha256Digest(bytes);
    }
  }
  const children: ResolvedManifest[] = [];
  for (const entry of entries) {
    const child = await client.getManifest({ registry: source.registry, repository: source.repository, digest: entry.digest });
    if (isIndex(child.mediaType)) throw new BundleError(`${formatReference(source)}: nested index ${entry.digest} is not supported`);
    children.push({ descriptor: { mediaType: child.mediaType, digest: child.digest, size: child.bytes.length }, bytes: child.bytes, children: [] });
  }
  const filtered = digest !== top.digest;
  onEvent?.({ kind: 'image-resolved', line, source: formatReference(source), digest, platforms: entries.map((m) => formatPlatform(m.platform)), filtered });
  return { line, source, top: { descriptor: { mediaType: top.mediaType, digest, size: bytes.length }, bytes, children } };
}

const MANIFEST_FETCHES = 8;

/** Writes the bundle. Resolves with what was saved and what could not be; throws when nothing could be. */
export async function saveBundle(opts: SaveOptions): Promise<SaveResult> {
  // manifests are small: fetch several at once (a Rancher list has hundreds of images); keep list order
  const outcomes: Array<ResolvedImage | SaveResult['failed'][number]> = new Array(opts.images.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.images.length) {
      const at = next++;
      const line = opts.images[at]!;
      const { source } = mapImage(line, opts.from, opts.from, RANCHER_MAPPING);
      try {
        outcomes[at] = await resolveImage(opts.client, line, source, opts.platforms, opts.onEvent);
      } catch (err) {
        if (!(err instanceof RegistryError) && !(err instanceof BundleError)) throw err;
        outcomes[at] = { line, source: formatReference(source), error: err.message };
        opts.onEvent?.({ kind: 'image-failed', line, source: formatReference(source), error: err.message });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(MANIFEST_FETCHES, opts.images.length) }, worker));
  const resolved = outcomes.filter((o): o is ResolvedImage => 'top' in o);
  const failed = outcomes.filter((o): o is SaveResult['failed'][number] => 'error' in o);
  if (resolved.length === 0) throw new BundleError(`no image of the list could be found: nothing saved to ${opts.output}`);

  const output = createArchiveOutput(opts.output, opts.compression);
  const layout = new OciLayoutWriter(new TarWriter(output.stream));
  let blobs = 0;
  let bytes = 0;
  try {
    await layout.begin();
    for (const image of resolved) {
      let imageBlobs = 0;
      let imageBytes = 0;
      const add = async (descriptor: Descriptor, content: () => Promise<Buffer | AsyncIterable<Buffer>>): Promise<void> => {
        if (layout.hasBlob(descriptor.digest)) return;
        await layout.addBlob(descriptor.digest, descriptor.size, await content());
        imageBlobs++;
        imageBytes += descriptor.size;
      };
      const addManifest = async (manifest: ResolvedManifest): Promise<void> => {
        if (manifest.children.length === 0) {
          const parsed = JSON.parse(manifest.bytes.toString('utf8')) as ImageManifest;
          // foreign layers (Windows base layers: `urls`) stay where they are, as with sync
          for (const blob of [parsed.config, ...parsed.layers.filter((l) => !l.urls)]) {
            await add(blob, () => opts.client.getBlob(image.source, blob.digest) as Promise<AsyncIterable<Buffer>>);
          }
        }
        for (const child of manifest.children) await addManifest(child);
        await add(manifest.descriptor, async () => manifest.bytes);
      };
      await addManifest(image.top);
      const tag = image.source.tag;
      layout.addImage(image.top.descriptor, { fullName: formatReference(image.source), line: image.line, ...(tag ? { tag } : {}) });
      blobs += imageBlobs;
      bytes += imageBytes;
      opts.onEvent?.({ kind: 'image-saved', line: image.line, blobs: imageBlobs, bytes: imageBytes });
    }
    await layout.finish();
    await output.done;
  } catch (err) {
    output.stream.destroy();
    await output.done.catch(() => undefined);
    await rm(opts.output, { force: true });
    throw err;
  }
  return {
    saved: resolved.map((r) => ({ line: r.line, source: formatReference(r.source), digest: r.top.descriptor.digest })),
    failed,
    blobs,
    bytes,
  };
}
