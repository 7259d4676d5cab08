// Manifest media types and platform matching for manifest lists / OCI indexes.
export const MediaType = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

export const MANIFEST_ACCEPT = [MediaType.dockerManifestList, MediaType.ociIndex, MediaType.dockerManifest, MediaType.ociManifest];

export function isIndex(mediaType: string): boolean {
  return mediaType === MediaType.dockerManifestList || mediaType === MediaType.ociIndex;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: { os?: string; architecture?: string; variant?: string };
  [key: string]: unknown;
}

export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface IndexManifest {
  schemaVersion: number;
  mediaType?: string;
  manifests: Descriptor[];
}

/** The media type of a manifest body: its own mediaType field, else what the registry said, else guessed. */
export function manifestMediaType(bytes: Buffer, contentType: string | undefined): string {
  const header = contentType?.split(';')[0]?.trim();
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown; layers?: unknown };
    if (typeof parsed.mediaType === 'string' && parsed.mediaType) return parsed.mediaType;
    if (header && header !== 'application/json' && header !== 'text/plain') return header;
    if (Array.isArray(parsed.manifests)) return MediaType.ociIndex;
    if (Array.isArray(parsed.layers)) return MediaType.ociManifest;
  } catch {
    // not JSON: keep the header
  }
  return header || MediaType.ociManifest;
}

/** `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7` against a descriptor's platform. */
export function platformMatches(filter: string, platform: Descriptor['platform']): boolean {
  if (!platform) return false;
  const [os, arch, variant] = filter.split('/');
  if (os && platform.os !== os) return false;
  if (arch && platform.architecture !== arch) return false;
  if (variant && platform.variant !== variant) return false;
  return true;
}

export function formatPlatform(platform: Descriptor['platform']): string {
  if (!platform) return 'unknown';
  return [platform.os, platform.architecture, platform.variant].filter(Boolean).join('/');
}
