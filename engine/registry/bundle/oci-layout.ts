// The OCI image layout (image-spec image-layout.md) inside a tar: `oci-layout`, `index.json` and
// `blobs/sha256/<hex>`, each blob once. Digests are checked while a blob is written and again for
// every blob when a bundle is read, before anything is pushed.
import { createHash } from 'node:crypto';
import { BundleError } from './bundle-error.js';
import type { ArchiveContents, StoredFile } from './archive-scan.js';
import { readJson } from './archive-scan.js';
import type { TarWriter } from './tar-writer.js';
import { type Descriptor, type ImageManifest, type IndexManifest, isIndex, MediaType } from '../media-types.js';

/** containerd/docker's annotation with the full image name (docker save ≥ 25 and ctr export write it). */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
/** The OCI annotation: the tag (ours), or a full reference (some tools). */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';
/** The image-list line the image was saved from, so load maps it exactly as sync would. */
export const ANNOTATION_IMAGE_LINE = 'io.tsplay.image.line';

const SHA256_HEX = /^[a-f0-9]{64}$/;

export function blobPath(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  if (algorithm !== 'sha256' || !hex || !SHA256_HEX.test(hex)) throw new BundleError(`unsupported digest "${digest}": bundles hold sha256 blobs`);
  return `blobs/sha256/${hex}`;
}

export class OciLayoutWriter {
  private readonly written = new Set<string>();
  private readonly manifests: Descriptor[] = [];

  constructor(private readonly tar: TarWriter) {}

  async begin(): Promise<void> {
    await this.tar.addFile('oci-layout', ...jsonFile({ imageLayoutVersion: '1.0.0' }));
    await this.tar.addDirectory('blobs');
    await this.tar.addDirectory('blobs/sha256');
  }

  hasBlob(digest: string): boolean {
    return this.written.has(digest);
  }

  /**
   * Writes a blob unless the bundle holds it already (false then). Its bytes are hashed as they
   * go into the tar; a mismatch with `digest` throws, naming the blob (the bundle is then unusable:
   * the caller deletes it).
   */
  async addBlob(digest: string, size: number, content: Buffer | AsyncIterable<Buffer | Uint8Array>): Promise<boolean> {
    if (this.written.has(digest)) return false;
    const name = blobPath(digest);
    const hash = createHash('sha256');
    const hashed = Buffer.isBuffer(content)
      ? [content]
      : (async function* () {
          for await (const chunk of content) yield Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        })();
    await this.tar.addFile(
      name,
      size,
      (async function* () {
        for await (const chunk of hashed) {
          hash.update(chunk);
          yield chunk;
        }
      })(),
    );
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) throw new BundleError(`blob ${digest}: its content hashes to ${actual}; not written to the bundle`);
    this.written.add(digest);
    return true;
  }

  /** Lists a manifest (already added as a blob) in index.json under a name. */
  addImage(manifest: Descriptor, names: { fullName: string; tag?: string; line: string }): void {
    const annotations: Record<string, string> = { [ANNOTATION_IMAGE_NAME]: names.fullName, [ANNOTATION_IMAGE_LINE]: names.line };
    if (names.tag) annotations[ANNOTATION_REF_NAME] = names.tag;
    this.manifests.push({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, annotations });
  }

  /** Writes index.json and ends the tar. */
  async finish(): Promise<void> {
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: this.manifests };
    await this.tar.addFile('index.json', ...jsonFile(index));
    await this.tar.finish();
  }
}

function jsonFile(value: unknown): [number, Buffer] {
  const bytes = Buffer.from(JSON.stringify(value));
  return [bytes.length, bytes];
}

/** One image listed in a layout's index.json. */
export interface LayoutImage {
  manifest: Descriptor;
  /** The image-list line (tsplay bundles) or the name docker would show ("rancher/rancher:v2.3.6"). */
  line?: string;
}

export interface OciLayout {
  images: LayoutImage[];
  /** A blob of the bundle, size-checked against the descriptor that names it. */
  blob(descriptor: Descriptor, referencedBy: string): StoredFile;
  /** A manifest or index of the bundle, parsed. */
  manifest(descriptor: Descriptor): Promise<ImageManifest | IndexManifest>;
}

export function isOciLayout(contents: ArchiveContents): boolean {
  return contents.files.has('oci-layout') && contents.files.has('index.json');
}

/**
 * The layout of a scanned bundle. Every blob's bytes are checked against the digest in its name
 * first, so a damaged bundle is refused, naming the blob, before anything is pushed.
 */
export async function readOciLayout(contents: ArchiveContents): Promise<OciLayout> {
  const layout = (await readJson(contents, 'oci-layout')) as { imageLayoutVersion?: string };
  if (typeof layout?.imageLayoutVersion !== 'string' || !layout.imageLayoutVersion.startsWith('1.')) {
    throw new BundleError(`${contents.file}: unsupported OCI layout version ${JSON.stringify(layout?.imageLayoutVersion)}`);
  }
  for (const stored of contents.files.values()) {
    const match = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(stored.name);
    if (!match) continue;
    const expected = `sha256:${match[1]}`;
    if (stored.digest !== expected) {
      throw new BundleError(`${contents.file}: blob ${expected} is corrupt: its content hashes to ${stored.digest} (${stored.size} bytes); the bundle was damaged after it was written`);
    }
  }
  const index = (await readJson(contents, 'index.json')) as IndexManifest;
  if (!Array.isArray(index?.manifests)) throw new BundleError(`${contents.file}: index.json has no "manifests" list`);
  const blob = (descriptor: Descriptor, referencedBy: string): StoredFile => {
    const stored = contents.files.get(blobPath(descriptor.digest));
    if (!stored) throw new BundleError(`${contents.file}: blob ${descriptor.digest} (referenced by ${referencedBy}) is missing from the bundle`);
    if (typeof descriptor.size === 'number' && stored.size !== descriptor.size) {
      throw new BundleError(`${contents.file}: blob ${descriptor.digest} is ${stored.size} bytes, but ${referencedBy} says ${descriptor.size}`);
    }
    return stored;
  };
  const images: LayoutImage[] = index.manifests.map((manifest) => {
    const annotations = (manifest.annotations ?? {}) as Record<string, string>;
    const line = annotations[ANNOTATION_IMAGE_LINE] ?? shortDockerName(annotations[ANNOTATION_IMAGE_NAME]) ?? fullRefName(annotations[ANNOTATION_REF_NAME]);
    return line ? { manifest, line } : { manifest };
  });
  return {
    images,
    blob,
    manifest: async (descriptor) => {
      const stored = blob(descriptor, 'index.json');
      const parsed = JSON.parse((await stored.read()).toString('utf8')) as ImageManifest | IndexManifest;
      const mediaType = descriptor.mediaType ?? parsed.mediaType;
      if (mediaType && isIndex(mediaType) ? !Array.isArray((parsed as IndexManifest).manifests) : !Array.isArray((parsed as ImageManifest).layers)) {
        throw new BundleError(`${contents.file}: manifest ${descriptor.digest} is not a ${mediaType ?? 'manifest'}`);
      }
      return parsed;
    },
  };
}

/** "docker.io/library/nginx:1.14" → "nginx:1.14", "docker.io/rancher/x:1" → "rancher/x:1": the names docker shows. */
export function shortDockerName(name: string | undefined): string | undefined {
  if (!name) return undefined;
  return name.replace(/^docker\.io\/library\/(?=[^/]+$)/, '').replace(/^docker\.io\//, '');
}

/** A ref.name that is a whole reference (has a repository), not just a tag. */
function fullRefName(name: string | undefined): string | undefined {
  if (!name || !/[/]|^[a-z0-9._-]+:[\w.-]+$/.test(name)) return undefined;
  return name;
}
