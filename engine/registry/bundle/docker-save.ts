// `docker save` archives (and rancher-save-images.sh's `docker save | gzip`), turned into what
// `docker load` + `docker push` would put in a registry: per image a Docker v2 schema 2 manifest,
// the config blob unchanged, and each layer gzip-compressed.
//
// The archive: manifest.json `[{"Config": "<id>.json", "RepoTags": ["nginx:1.14"], "Layers":
// ["<dir>/layer.tar", ...]}]`, `repositories`, the configs, one `<dir>/layer.tar` (uncompressed)
// a layer — or, from docker 25 on, `blobs/sha256/<hex>` paths in the same manifest.json. A layer
// shared by two images is written once, the other dirs link to it.
//
// A registry stores layers compressed and names them by the digest of the compressed bytes. docker
// save keeps only the uncompressed tars (their digests are the config's rootfs.diff_ids), so the
// compressed bytes — and so layer and manifest digests — differ from the registry the images came
// from, exactly as they do after `docker load && docker push`. Config digests (the image IDs) stay.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { BundleError } from './bundle-error.js';
import { type ArchiveContents, normaliseEntryName, readJson, type StoredFile, tempWriteError } from './archive-scan.js';
import { detectCompression } from './compression.js';
import { MediaType } from '../media-types.js';

export const DOCKER_CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json';
export const DOCKER_LAYER_GZIP_MEDIA_TYPE = 'application/vnd.docker.image.rootfs.diff.tar.gzip';

export interface BlobSource {
  digest: string;
  size: number;
  mediaType: string;
  open(offset?: number): Readable;
}

export interface DockerSaveImage {
  /** The RepoTag ("rancher/rancher:v2.3.6", "busybox:latest"), named as a line of rancher-images.txt. */
  line: string;
  /** The schema 2 manifest, as pushed. */
  manifest: Buffer;
  manifestDigest: string;
  config: BlobSource;
  layers: BlobSource[];
}

interface SaveManifestEntry {
  Config?: string;
  RepoTags?: string[] | null;
  Layers?: string[];
}

interface ImageConfig {
  rootfs?: { type?: string; diff_ids?: string[] };
}

export function isDockerSave(contents: ArchiveContents): boolean {
  return contents.files.has('manifest.json');
}

/**
 * The images of a docker save archive, each with one entry per RepoTag. Layers are compressed into
 * `tempDir` (once each, however many images share them); images saved without a tag are reported
 * through `onUntagged` and skipped: there is no name to push them under.
 */
export async function readDockerSave(
  contents: ArchiveContents,
  tempDir: string,
  opts: { onUntagged?: (configName: string) => void } = {},
): Promise<DockerSaveImage[]> {
  const entries = (await readJson(contents, 'manifest.json')) as SaveManifestEntry[];
  if (!Array.isArray(entries)) throw new BundleError(`${contents.file}: manifest.json is not a list of images`);
  const compressed = new Map<string, Promise<BlobSource>>();
  const images: DockerSaveImage[] = [];
  for (const entry of entries) {
    if (typeof entry?.Config !== 'string' || !Array.isArray(entry.Layers)) {
      throw new BundleError(`${contents.file}: manifest.json has an entry without Config or Layers`);
    }
    const configFile = member(contents, entry.Config, 'manifest.json');
    const tags = (entry.RepoTags ?? []).filter((t) => typeof t === 'string' && t);
    if (tags.length === 0) {
      opts.onUntagged?.(entry.Config);
      continue;
    }
    const config = (await readJson(contents, configFile.name)) as ImageConfig;
    const diffIds = config?.rootfs?.diff_ids ?? [];
    if (diffIds.length !== entry.Layers.length) {
      throw new BundleError(`${contents.file}: ${entry.Config} lists ${diffIds.length} layers (rootfs.diff_ids) but manifest.json gives ${entry.Layers.length}`);
    }
    const layers: BlobSource[] = [];
    for (const [i, layerName] of entry.Layers.entries()) {
      const layerFile = member(contents, layerName, `manifest.json (${tags[0]})`);
      const key = layerFile.digest;
      let layer = compressed.get(key);
      if (!layer) {
        layer = compressLayer(contents, layerFile, diffIds[i]!, path.join(tempDir, `layer-${compressed.size + 1}.tar.gz`));
        compressed.set(key, layer);
      }
      layers.push(await layer);
    }
    const configBlob: BlobSource = { digest: configFile.digest, size: configFile.size, mediaType: DOCKER_CONFIG_MEDIA_TYPE, open: configFile.open };
    const manifest = schema2Manifest(configBlob, layers);
    const manifestDigest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
    for (const line of tags) images.push({ line, manifest, manifestDigest, config: configBlob, layers });
  }
  return images;
}

function member(contents: ArchiveContents, name: string, referencedBy: string): StoredFile {
  const stored = contents.files.get(normaliseEntryName(name));
  if (!stored) throw new BundleError(`${contents.file}: ${name} (named in ${referencedBy}) is missing from the archive`);
  return stored;
}

/**
 * A layer as the registry will hold it. An uncompressed tar is checked against its diff_id (the
 * archive is refused, naming the layer, when it does not match) and gzip-compressed into a temp
 * file while both digests are computed; an already gzip-compressed layer is pushed as it is, after
 * checking that its uncompressed bytes match the diff_id.
 */
async function compressLayer(contents: ArchiveContents, layer: StoredFile, diffId: string, target: string): Promise<BlobSource> {
  const compression = detectCompression(layer.head);
  if (compression === 'zstd') throw new BundleError(`${contents.file}: layer ${layer.name} is zstd-compressed; only plain and gzip layers are supported`);
  if (compression === 'gzip') {
    const uncompressed = createHash('sha256');
    await pipeline(layer.open(), createGunzip(), async function (source: AsyncIterable<Buffer>) {
      for await (const chunk of source) uncompressed.update(chunk);
    }).catch((err: Error) => {
      throw new BundleError(`${contents.file}: layer ${layer.name} is corrupt gzip data: ${err.message}`, { cause: err });
    });
    checkDiffId(contents, layer, `sha256:${uncompressed.digest('hex')}`, diffId);
    return { digest: layer.digest, size: layer.size, mediaType: DOCKER_LAYER_GZIP_MEDIA_TYPE, open: layer.open };
  }
  checkDiffId(contents, layer, layer.digest, diffId);
  const hash = createHash('sha256');
  let size = 0;
  await pipeline(layer.open(), createGzip(), async function* (source: AsyncIterable<Buffer>) {
    for await (const chunk of source) {
      hash.update(chunk);
      size += chunk.length;
      yield chunk;
    }
  }, createWriteStream(target)).catch((err: unknown) => {
    throw tempWriteError(err, path.dirname(target), layer.name);
  });
  return {
    digest: `sha256:${hash.digest('hex')}`,
    size,
    mediaType: DOCKER_LAYER_GZIP_MEDIA_TYPE,
    open: (offset = 0) => createReadStream(target, { start: offset, highWaterMark: 1024 * 1024 }),
  };
}

function checkDiffId(contents: ArchiveContents, layer: StoredFile, actual: string, diffId: string): void {
  if (actual !== diffId) {
    throw new BundleError(`${contents.file}: layer ${layer.name} is corrupt: its content hashes to ${actual}, but the image config says ${diffId}`);
  }
}

/** The manifest `docker push` writes for a loaded image (docker indents with three spaces). */
export function schema2Manifest(config: BlobSource, layers: BlobSource[]): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.dockerManifest,
    config: { mediaType: DOCKER_CONFIG_MEDIA_TYPE, size: config.size, digest: config.digest },
    layers: layers.map((l) => ({ mediaType: l.mediaType, size: l.size, digest: l.digest })),
  };
  return Buffer.from(JSON.stringify(manifest, null, 3));
}
