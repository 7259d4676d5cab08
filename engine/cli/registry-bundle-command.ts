// `tsplay registry save` and `tsplay registry load`: the air-gap bundle, for networks that no
// registry connection crosses. save pulls an image list into one tar (an OCI image layout);
// load pushes such a tar — or a `docker save` archive like rancher-images.tar.gz — into the
// private registry, with the names `tsplay registry sync` would give. Exit 0 when every image
// went through, 2 when some failed (the others are still saved/loaded).
import type { Command } from 'commander';
import { OptionError } from '../errors.js';
import type { Compression } from '../registry/bundle/compression.js';
import { loadBundle, type LoadEvent } from '../registry/bundle/load.js';
import { saveBundle, type SaveEvent } from '../registry/bundle/save.js';
import { RegistryClient } from '../registry/client.js';
import { RANCHER_MAPPING, readImageList } from '../registry/image-list.js';
import { parseMapping } from './registry-command.js';

interface ClientFlags {
  insecureRegistry?: string[];
  caFile?: string;
  dockerConfig?: string;
  json?: boolean;
}

interface SaveFlags extends ClientFlags {
  images: string;
  from: string;
  output: string;
  compress?: string;
  platform?: string[];
}

interface LoadFlags extends ClientFlags {
  to: string;
  parallel: string;
  defaultNamespace: string;
  namespaceMap?: string[];
  prefix?: string;
  tempDir?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function withClientOptions(command: Command): Command {
  return command
    .option('--insecure-registry <host[:port]>', 'speak plain http to this registry; repeatable', collect)
    .option('--ca-file <file>', 'PEM CA bundle trusted for the registry (besides the system CAs)')
    .option('--docker-config <file>', "docker's config.json holding the credentials (default ~/.docker/config.json)")
    .option('--json', 'NDJSON events on stdout: one per image, then the recap');
}

function makeClient(flags: ClientFlags): RegistryClient {
  return new RegistryClient({
    insecureRegistries: flags.insecureRegistry ?? [],
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    ...(flags.dockerConfig ? { dockerConfig: flags.dockerConfig } : {}),
  });
}

/** Adds `save` and `load` under `tsplay registry`. */
export function registerRegistryBundleCommands(registry: Command): void {
  withClientOptions(
    registry
      .command('save')
      .description('pull the images of a list into one tar (OCI image layout) to carry into an air-gapped network')
      .requiredOption('--images <file>', 'image list: one NAME[:TAG][@DIGEST] a line (rancher-images.txt)')
      .requiredOption('--from <registry>', 'source registry host[:port][/path] for names without one (docker.io for Docker Hub)')
      .requiredOption('-o, --output <file>', 'the bundle to write (bundle.tar, bundle.tar.gz, bundle.tar.zst)')
      .option('--compress <kind>', 'zstd, gzip or none (default: from the output name, else none); zstd needs the zstd command')
      .option('--platform <os/arch[/variant]>', 'keep only this platform of multi-platform images (a new, filtered list); repeatable', collect),
  ).action(async (flags: SaveFlags) => {
    process.exitCode = await runSave(flags);
  });

  withClientOptions(
    registry
      .command('load')
      .description('push a bundle (from tsplay registry save, or a docker save archive such as rancher-images.tar.gz) into a registry')
      .argument('<bundle>', 'the bundle: .tar, .tar.gz or .tar.zst (recognised by content)')
      .requiredOption('--to <registry>', 'target registry host[:port][/path]')
      .option('--parallel <n>', 'images pushed at once', '3')
      .option('--default-namespace <ns>', 'namespace for names without one, as rancher-load-images.sh ("" keeps them bare)', 'rancher')
      .option('--namespace-map <from=to>', 'rename a first path component in the target ("rancher=mirror"); repeatable', collect)
      .option('--prefix <path>', 'put PATH/ in front of every target repository')
      .option('--temp-dir <dir>', 'where a compressed bundle is unpacked while pushing (default: the system temp dir); needs room for the images'),
  ).action(async (bundle: string, flags: LoadFlags) => {
    process.exitCode = await runLoad(bundle, flags);
  });
}

function compressionOf(flags: SaveFlags): Compression {
  if (flags.compress !== undefined) {
    if (flags.compress === 'zstd' || flags.compress === 'gzip' || flags.compress === 'none') return flags.compress;
    throw new OptionError(`--compress takes zstd, gzip or none, not "${flags.compress}"`);
  }
  if (/\.(tar\.gz|tgz)$/.test(flags.output)) return 'gzip';
  if (/\.(tar\.zst|tzst)$/.test(flags.output)) return 'zstd';
  return 'none';
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function print(flags: ClientFlags, json: Record<string, unknown>, line: string | undefined): void {
  if (flags.json) {
    const { kind: _kind, ...fields } = json; // 'event' and 'status' say it for NDJSON readers
    process.stdout.write(JSON.stringify(fields) + '\n');
  } else if (line !== undefined) process.stdout.write(line + '\n');
}

async function runSave(flags: SaveFlags): Promise<number> {
  const compression = compressionOf(flags);
  for (const p of flags.platform ?? []) {
    if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p)) throw new OptionError(`--platform takes os/arch[/variant] (linux/amd64), not "${p}"`);
  }
  const lines = readImageList(flags.images, flags.from, flags.from, RANCHER_MAPPING).map((entry) => entry.text);
  const client = makeClient(flags);
  const started = Date.now();
  try {
    const onEvent = (event: SaveEvent): void => {
      if (event.kind === 'image-failed') print(flags, { event: 'image', status: 'failed', ...event }, `FAILED: ${event.line} (${event.source}): ${event.error}`);
      else if (event.kind === 'image-saved') print(flags, { event: 'image', status: 'saved', ...event }, `saved: ${event.line} (${event.blobs} new blob${event.blobs === 1 ? '' : 's'}, ${mib(event.bytes)})`);
    };
    const result = await saveBundle({ client, images: lines, from: flags.from, output: flags.output, compression, onEvent, ...(flags.platform ? { platforms: flags.platform } : {}) });
    const seconds = (Date.now() - started) / 1000;
    print(
      flags,
      { event: 'report', output: flags.output, compression, saved: result.saved.length, failed: result.failed.length, blobs: result.blobs, bytes: result.bytes, seconds },
      `SAVE RECAP: saved=${result.saved.length} failed=${result.failed.length}\n  ${flags.output} (${compression === 'none' ? 'tar' : `tar, ${compression}`}): ${result.blobs} blobs, ${mib(result.bytes)} before compression, time: ${seconds.toFixed(1)} s`,
    );
    return result.failed.length > 0 ? 2 : 0;
  } finally {
    client.close();
  }
}

async function runLoad(bundle: string, flags: LoadFlags): Promise<number> {
  const parallel = Number(flags.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new OptionError(`--parallel takes a number from 1 to 64, not "${flags.parallel}"`);
  const mapping = parseMapping(flags);
  const client = makeClient(flags);
  const started = Date.now();
  try {
    const onEvent = (event: LoadEvent): void => {
      switch (event.kind) {
        case 'bundle-read':
          print(flags, { event: 'bundle', ...event }, `${bundle}: ${event.format === 'docker-save' ? 'docker save archive' : 'OCI image layout'}${event.compression === 'none' ? '' : ` (${event.compression})`}, ${event.images} image${event.images === 1 ? '' : 's'}`);
          break;
        case 'image-skipped':
          print(flags, { event: 'image', status: 'skipped', reason: event.reason }, `skipped: ${event.reason}`);
          break;
        case 'image-loaded':
          print(
            flags,
            { event: 'image', status: 'loaded', ...event },
            `loaded: ${event.line} -> ${event.target} (${event.digest}; blobs pushed=${event.pushed} mounted=${event.mounted} present=${event.existed})`,
          );
          break;
        case 'image-failed':
          print(flags, { event: 'image', status: 'failed', ...event }, `FAILED: ${event.line} -> ${event.target}: ${event.error}`);
          break;
      }
    };
    const result = await loadBundle({ client, bundle, to: flags.to, mapping, parallel, onEvent, ...(flags.tempDir ? { tempDir: flags.tempDir } : {}) });
    const seconds = (Date.now() - started) / 1000;
    print(
      flags,
      { event: 'report', format: result.format, loaded: result.loaded.length, failed: result.failed.length, seconds },
      `LOAD RECAP: loaded=${result.loaded.length} failed=${result.failed.length}, time: ${seconds.toFixed(1)} s`,
    );
    return result.failed.length > 0 ? 2 : 0;
  } finally {
    client.close();
  }
}
