// Image references parsed as docker does (distribution/reference ParseNormalizedNamed):
// `[registry[:port]/]repo[:tag][@digest]`, docker.io when the first component is not a host,
// `library/` in front of single names on Docker Hub.
import { RegistryError } from './errors.js';

export interface RepoRef {
  /** host[:port] as written; 'docker.io' for Docker Hub */
  registry: string;
  /** e.g. 'library/busybox', 'rancher/rancher-agent' */
  repository: string;
}

export interface ImageRef extends RepoRef {
  /** 'latest' when neither tag nor digest was given */
  tag?: string;
  /** 'sha256:<64 hex>' */
  digest?: string;
}

export const DOCKER_HUB = 'docker.io';

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]{32,}$/;
const SHA256 = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::\d+)?$/;

function invalid(text: string, why: string): RegistryError {
  return new RegistryError('reference', `invalid image reference "${text}": ${why}`);
}

/** True when a reference's first path component names a registry (docker's rule). */
export function isRegistryComponent(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost' || component !== component.toLowerCase();
}

/**
 * Parses `[registry[:port]/]repo[:tag][@digest]`. `defaultRegistry` replaces docker.io for names
 * without a registry (`library/` is added only on Docker Hub, as docker does).
 */
export function parseReference(text: string, opts: { defaultRegistry?: string } = {}): ImageRef {
  const input = text.trim();
  if (!input) throw invalid(text, 'empty');
  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw invalid(text, `bad digest "${digest}"`);
    if (digest.startsWith('sha256:') && !SHA256.test(digest)) throw invalid(text, 'a sha256 digest is 64 lowercase hex digits');
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(text, `bad tag "${tag}"`);
  }
  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  if (slash >= 0 && isRegistryComponent(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!HOST.test(registry)) throw invalid(text, `bad registry "${registry}"`);
  } else {
    registry = opts.defaultRegistry ?? DOCKER_HUB;
    repository = rest;
  }
  if (registry === 'index.docker.io' || registry === 'registry-1.docker.io') registry = DOCKER_HUB;
  if (repository !== repository.toLowerCase()) throw invalid(text, 'repository name must be lowercase');
  if (!repository) throw invalid(text, 'no repository name');
  for (const part of repository.split('/')) {
    if (!COMPONENT.test(part)) throw invalid(text, `bad repository name component "${part}"`);
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `library/${repository}`;
  if (repository.length > 255) throw invalid(text, 'repository name longer than 255 characters');
  const ref: ImageRef = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

/** `registry/repository[:tag][@digest]` */
export function formatReference(ref: ImageRef): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** `registry/repository` */
export function formatRepo(repo: RepoRef): string {
  return `${repo.registry}/${repo.repository}`;
}

/** Docker Hub's API lives at registry-1.docker.io; every other registry at its own name. */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
}
