// registry_sync: copy the images of a list into a private registry, from the controller (as
// with Ansible's delegate_to: localhost, whatever host the task names): registry to registry, or
// from a bundle file (`tsplay registry save`, or a docker save archive). Check mode lists the
// images the registry lacks.
//
// Built on engine/registry's syncImages and loadBundle. The host is never contacted: the
// controller is the machine that reaches both the source (or holds the bundle) and the registry.
//
// Check mode is the same comparison without the pushes: each image's source digest against what
// the target's tag points at; the images the target lacks are listed (result `missing`, and the
// diff), changed=true when there are any. A second run finds every image present: changed=false.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { findControllerSource, notFoundMessage } from './source-path.js';
import { TsplayError } from '../errors.js';
import { registerSecret } from '../vault/secrets.js';
import { RegistryClient, type RegistryHostOptions } from '../registry/client.js';
import { type ImageListEntry, mapImage, type NameMapping, readImageList, splitRegistryLocation } from '../registry/image-list.js';
import { syncImages } from '../registry/sync.js';
import { formatReference, type ImageRef } from '../registry/reference.js';
import { loadBundle } from '../registry/bundle/load.js';
import { readJson, scanArchive } from '../registry/bundle/archive-scan.js';
import { isOciLayout, readOciLayout } from '../registry/bundle/oci-layout.js';
import { isDockerSave } from '../registry/bundle/docker-save.js';

export interface RegistrySyncArgs {
  /** a list file on the controller (rancher-images.txt; relative: the role's files/, then beside the task) or the lines */
  images?: string | string[];
  /** registry (and path) the images come from: docker.io, mirror.local:5000/hub */
  source?: string;
  /** the private registry, host[:port][/path] */
  target: string;
  /** load this bundle (tsplay registry save, or a docker save archive) instead of syncing from a source */
  bundle?: string;
  platforms?: string[];
  parallel?: number;
  /** true: plain http to source and target; a list: to these host[:port] only */
  insecure?: boolean | string[];
  /** PEM bundle trusted besides the system CAs (the private registry's CA) */
  ca_file?: string;
  /** target registry credentials */
  username?: string;
  password?: string;
  source_username?: string;
  source_password?: string;
  /** docker's config.json for credentials; false (default): not read */
  docker_config?: string | false;
  default_namespace?: string;
  namespace_map?: Record<string, string>;
  prefix?: string;
  /** where a compressed bundle is unpacked while it is read (default: the system temp dir) */
  temp_dir?: string;
}

export default defineModule<RegistrySyncArgs>({
  name: 'registry_sync',
  aliases: ['tsplay.registry_sync'],
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['target'],
    // a source to sync from, or a bundle to load: one of them
    anyOf: [{ required: ['bundle'] }, { required: ['images', 'source'] }],
    not: { required: ['bundle', 'source'] },
    properties: {
      images: { anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }] },
      source: { type: 'string', minLength: 1 },
      target: { type: 'string', minLength: 1 },
      bundle: { type: 'string', minLength: 1 },
      platforms: { type: 'array', items: { type: 'string', pattern: '^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$' } },
      parallel: { type: 'integer', minimum: 1, maximum: 64 },
      insecure: { anyOf: [{ type: 'boolean' }, { type: 'array', items: { type: 'string', minLength: 1 } }] },
      ca_file: { type: 'string', minLength: 1 },
      username: { type: 'string' },
      password: { type: 'string' },
      source_username: { type: 'string' },
      source_password: { type: 'string' },
      docker_config: { anyOf: [{ type: 'string', minLength: 1 }, { const: false }] },
      default_namespace: { type: 'string' },
      namespace_map: { type: 'object', additionalProperties: { type: 'string' } },
      prefix: { type: 'string' },
      temp_dir: { type: 'string', minLength: 1 },
    },
  },
  run: (args, ctx) => registrySync(args, ctx),
});

/** One image of the plan: where it goes, the digest it must have there, and whether it is there. */
interface PlannedImage {
  target: string;
  digest?: string;
  status: 'present' | 'missing' | 'copied' | 'failed';
  error?: string;
}

async function registrySync(args: RegistrySyncArgs, ctx: ModuleContext): Promise<ModuleResult> {
  // passwords are secrets from here on, wherever they could show up
  for (const secret of [args.password, args.source_password]) if (secret) registerSecret(secret);
  const client = makeClient(args);
  try {
    return args.bundle !== undefined ? await fromBundle(args, ctx, client) : await fromSource(args, ctx, client);
  } catch (err) {
    if (err instanceof TsplayError) {
      const where = err.pos ? `${err.pos.file}:${err.pos.line}:${err.pos.col}: ` : '';
      return { changed: false, failed: true, msg: `${where}${err.message}` };
    }
    throw err;
  } finally {
    client.close();
  }
}

function makeClient(args: RegistrySyncArgs): RegistryClient {
  const target = splitRegistryLocation(args.target).registry;
  const source = args.source ? splitRegistryLocation(args.source).registry : undefined;
  const registries: Record<string, RegistryHostOptions> = {};
  const hostOptions = (username?: string, password?: string): RegistryHostOptions => ({
    ...(args.insecure === true ? { insecure: true } : {}),
    ...(username !== undefined && username !== '' ? { credentials: { username, password: password ?? '' } } : {}),
  });
  registries[target] = hostOptions(args.username, args.password);
  if (source && source !== target) registries[source] = hostOptions(args.source_username, args.source_password);
  const parallel = args.parallel ?? 4;
  return new RegistryClient({
    registries,
    insecureRegistries: Array.isArray(args.insecure) ? args.insecure : [],
    ...(args.ca_file ? { caFile: args.ca_file } : {}),
    dockerConfig: args.docker_config ?? false,
    // a blob copy holds a GET and a PUT: room for both sides of every copy, and image checks besides
    maxConcurrentRequests: parallel * 6 + 4,
  });
}

function mappingOf(args: RegistrySyncArgs): NameMapping {
  return { defaultNamespace: args.default_namespace ?? 'rancher', namespaceMap: args.namespace_map ?? {}, prefix: args.prefix ?? '' };
}

/** The image list: a file on the controller (positions in errors) or the lines given inline. */
function imageEntries(args: RegistrySyncArgs, ctx: ModuleContext): ImageListEntry[] | ModuleResult {
  const mapping = mappingOf(args);
  if (typeof args.images === 'string') {
    const found = findControllerSource(ctx, args.images, 'files');
    if (!found.found) return { changed: false, failed: true, msg: notFoundMessage(args.images, found.searched) };
    return readImageList(found.found, args.source!, args.target, mapping);
  }
  const seen = new Set<string>();
  const entries: ImageListEntry[] = [];
  (args.images ?? []).forEach((raw, index) => {
    const text = raw.trim();
    if (!text || text.startsWith('#')) return;
    const { source, target } = mapImage(text, args.source!, args.target, mapping);
    const key = formatReference(target);
    if (seen.has(key)) return;
    seen.add(key);
    entries.push({ line: index + 1, text, source, target });
  });
  return entries;
}

async function fromSource(args: RegistrySyncArgs, ctx: ModuleContext, client: RegistryClient): Promise<ModuleResult> {
  const entries = imageEntries(args, ctx);
  if (!Array.isArray(entries)) return entries;
  const report = await syncImages({
    client,
    images: entries,
    parallel: args.parallel ?? 4,
    ...(args.platforms?.length ? { platforms: args.platforms } : {}),
    dryRun: ctx.check,
  });
  const plan: PlannedImage[] = report.images.map((o) => ({
    target: o.target,
    ...(o.digest ? { digest: o.digest } : {}),
    status: o.status === 'would-copy' ? 'missing' : o.status,
    ...(o.error ? { error: o.error } : {}),
  }));
  const filtered = report.images.filter((o) => o.filteredFrom).map((o) => ({ target: o.target, digest: o.digest, filtered_from: o.filteredFrom }));
  return {
    ...resultOf(args, ctx, plan, report.bytes),
    blobs: report.blobs,
    ...(filtered.length ? { filtered_lists: filtered } : {}),
  };
}

/**
 * What a bundle holds and whether the target has it: a tsplay/OCI layout bundle by manifest
 * digest (the bytes are the registry's own); a docker save archive by its image config (its
 * layers are compressed again on load, so the manifest digest is not known before a load).
 */
async function planBundle(args: RegistrySyncArgs, bundle: string, client: RegistryClient): Promise<PlannedImage[]> {
  const mapping = mappingOf(args);
  const temp = await mkdtemp(path.join(args.temp_dir ?? tmpdir(), 'tsplay-plan-'));
  try {
    const contents = await scanArchive(bundle, temp);
    const targetOf = (line: string): ImageRef => mapImage(line, args.target, args.target, mapping).target;
    const plan: PlannedImage[] = [];
    if (isOciLayout(contents)) {
      const layout = await readOciLayout(contents);
      for (const image of layout.images) {
        if (!image.line) continue; // loadBundle skips it too, with a note
        const target = targetOf(image.line);
        const there = await client.headManifest(target);
        plan.push({ target: formatReference(target), digest: image.manifest.digest, status: there?.digest === image.manifest.digest ? 'present' : 'missing' });
      }
    } else if (isDockerSave(contents)) {
      const saved = (await readJson(contents, 'manifest.json')) as Array<{ Config?: string; RepoTags?: string[] | null }>;
      for (const entry of Array.isArray(saved) ? saved : []) {
        const config = entry.Config ? contents.files.get(path.posix.normalize(entry.Config.replace(/^\.?\/+/, '')))?.digest : undefined;
        for (const line of entry.RepoTags ?? []) {
          const target = targetOf(line);
          const there = await client.headManifest(target);
          let present = false;
          if (there && config) {
            const got = await client.getManifest(target);
            const manifest = JSON.parse(got.bytes.toString('utf8')) as { config?: { digest?: string } };
            present = manifest.config?.digest === config;
          }
          plan.push({ target: formatReference(target), ...(config ? { digest: config } : {}), status: present ? 'present' : 'missing' });
        }
      }
    }
    // anything else: loadBundle refuses it with its own message
    return plan;
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

async function fromBundle(args: RegistrySyncArgs, ctx: ModuleContext, client: RegistryClient): Promise<ModuleResult> {
  const found = findControllerSource(ctx, args.bundle!, 'files');
  if (!found.found) return { changed: false, failed: true, msg: notFoundMessage(args.bundle!, found.searched) };
  const plan = await planBundle(args, found.found, client);
  if (ctx.check || (plan.length > 0 && plan.every((p) => p.status === 'present'))) return { ...resultOf(args, ctx, plan), bundle: found.found };
  const blobs = { pushed: 0, mounted: 0, present: 0 };
  const loaded = await loadBundle({
    client,
    bundle: found.found,
    to: args.target,
    mapping: mappingOf(args),
    parallel: args.parallel ?? 3,
    ...(args.temp_dir ? { tempDir: args.temp_dir } : {}),
    onEvent: (event) => {
      if (event.kind !== 'image-loaded') return;
      blobs.pushed += event.pushed;
      blobs.mounted += event.mounted;
      blobs.present += event.existed;
    },
  });
  const outcome = new Map<string, PlannedImage>();
  for (const l of loaded.loaded) outcome.set(l.target, { target: l.target, digest: l.digest, status: 'copied' });
  for (const f of loaded.failed) outcome.set(f.target, { target: f.target, status: 'failed', error: f.error });
  // images present before the load stay 'present' (loadBundle pushed nothing new for them)
  const final = plan.map((p) => (p.status === 'present' ? p : outcome.get(p.target) ?? p));
  for (const [target, o] of outcome) if (!plan.some((p) => p.target === target)) final.push(o);
  return { ...resultOf(args, ctx, final), bundle: found.found, format: loaded.format, blobs };
}

/** The module result: lists by status, the counts in msg, and a diff of the target's images. */
function resultOf(args: RegistrySyncArgs, ctx: ModuleContext, plan: PlannedImage[], bytes?: number): ModuleResult {
  const named = (p: PlannedImage) => (p.digest ? `${p.target}@${p.digest}` : p.target);
  const by = (status: PlannedImage['status']) => plan.filter((p) => p.status === status);
  const present = by('present');
  const missing = by('missing');
  const copied = by('copied');
  const failed = by('failed');
  const wanted = [...present, ...missing, ...copied];
  const diff: FileDiff[] =
    missing.length || copied.length
      ? [
          {
            before: lines(present.map(named)),
            after: lines(wanted.map(named)),
            beforeHeader: `${args.target} (images before)`,
            afterHeader: `${args.target} (images after)`,
          },
        ]
      : [];
  const counts = ctx.check
    ? `${missing.length} missing (would be copied), ${present.length} present`
    : `${copied.length} copied, ${present.length} present`;
  const result: ModuleResult = {
    changed: (ctx.check ? missing.length : copied.length) > 0,
    msg: failed.length ? `${failed.length} failed, ${counts}: ${failed.map((f) => `${f.target}: ${moduleHint(f.error ?? '')}`).join('; ')}` : counts,
    target: args.target,
    // absent from the target when the task started: would be copied (check mode) or was copied
    missing: [...missing, ...copied].map((p) => p.target),
    copied: copied.map((p) => p.target),
    present: present.map((p) => p.target),
    failed_images: failed.map((f) => ({ target: f.target, error: moduleHint(f.error ?? '') })),
    images: plan.map((p) => ({ target: p.target, status: p.status, ...(p.digest ? { digest: p.digest } : {}) })),
    namespaces: namespacesOf(args, plan),
    ...(bytes !== undefined ? { bytes } : {}),
    ...(diff.length ? { diff } : {}),
  };
  if (failed.length) result.failed = true;
  return result;
}

/** First path components under the target (after its own path): the projects a Harbor target needs. */
function namespacesOf(args: RegistrySyncArgs, plan: PlannedImage[]): string[] {
  const { registry } = splitRegistryLocation(args.target);
  const out = new Set<string>();
  for (const p of plan) {
    const repo = p.target.slice(registry.length + 1).replace(/[@:][^/]*$/, '');
    // Harbor keeps repositories in projects: the first path component (a bare name has none)
    if (repo.includes('/')) out.add(repo.split('/')[0]!);
  }
  return [...out].sort();
}

const lines = (items: string[]) => (items.length ? [...items].sort().join('\n') + '\n' : '');

/** engine/registry's messages name the CLI's flags; a task sets the module's arguments instead. */
const moduleHint = (message: string) => message.replace(/--ca-file\b/g, 'ca_file').replace(/--insecure-registry\b/g, 'insecure');
