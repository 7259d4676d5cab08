// `tsplay registry sync`: fill a private registry from an image list (rancher-images.txt), the
// air-gap step of the Rancher install, without docker. Bars on a TTY, plain lines off it, NDJSON
// with --json; exit 0 when every image is copied or present, 2 when some failed.
//
// Start-up matters here: a warm sync (everything present) takes ~0.05 s, so the CLI's own loading is
// most of its wall time. Only what sync needs is loaded: the progress bars (cli-progress) only on a
// TTY, and save/load (the bundle code: tar, zlib, docker-save parsing) only when one of them, or
// `tsplay registry` without a subcommand, is asked for.
import type { SingleBar, MultiBar } from 'cli-progress';
import type { Command } from 'commander';
import { OptionError } from '../errors.js';
import { RegistryClient } from '../registry/client.js';
import { type NameMapping, readImageList } from '../registry/image-list.js';
import { type ImageOutcome, type SyncEvent, type SyncReport, syncImages } from '../registry/sync.js';

interface SyncFlags {
  images: string;
  from: string;
  to: string;
  parallel: string;
  platform?: string[];
  dryRun?: boolean;
  insecureRegistry?: string[];
  caFile?: string;
  json?: boolean;
  defaultNamespace: string;
  namespaceMap?: string[];
  prefix?: string;
  dockerConfig?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerRegistryCommand(program: Command): void {
  const registry = program.command('registry').description('container registries: copy the images of an air-gapped install');
  registry
    .command('sync')
    .description('copy the images of a list (rancher-images.txt) from a registry to another, each blob once, digests unchanged')
    .requiredOption('--images <file>', 'image list: one NAME[:TAG][@DIGEST] a line (# comments)')
    .requiredOption('--from <registry>', 'source registry host[:port][/path] for names without one (docker.io for Docker Hub)')
    .requiredOption('--to <registry>', 'target registry host[:port][/path]')
    .option('--parallel <n>', 'images and blobs copied at once (docker pushes 5 layers at once, skopeo 6)', '8')
    .option('--platform <os/arch[/variant]>', 'keep only this platform of manifest lists (a new, filtered list is pushed); repeatable', collect)
    .option('--dry-run', 'list what would be copied, copy nothing')
    .option('--insecure-registry <host[:port]>', 'speak plain http to this registry; repeatable', collect)
    .option('--ca-file <file>', 'PEM CA bundle trusted for the registries (besides the system CAs)')
    .option('--docker-config <file>', "docker's config.json holding the credentials (default ~/.docker/config.json)")
    .option('--default-namespace <ns>', 'namespace for names without one, as rancher-load-images.sh ("" keeps them bare)', 'rancher')
    .option('--namespace-map <from=to>', 'rename a first path component in the target ("rancher=mirror"); repeatable', collect)
    .option('--prefix <path>', 'put PATH/ in front of every target repository')
    .option('--json', 'NDJSON events on stdout: one per image, then the report')
    .action(async (flags: SyncFlags) => {
      process.exitCode = await runSync(flags);
    });
  // save / load (the air-gap bundle) are registered when the root program dispatches to `registry`,
  // before `registry` parses its own subcommand: an async point where their modules can be loaded
  program.hook('preSubcommand', async (_root, sub) => {
    if (sub !== registry || registry.commands.some((c) => c.name() === 'save') || registrySubcommand(process.argv) === 'sync') return;
    const { registerRegistryBundleCommands } = await import('./registry-bundle-command.js');
    registerRegistryBundleCommands(registry);
  });
}

/** The word after `registry` on the command line (`sync`, `save`, `load`, `help`...), if any. */
export function registrySubcommand(argv: readonly string[]): string | undefined {
  const at = argv.indexOf('registry');
  if (at < 0) return undefined;
  return argv.slice(at + 1).find((a) => !a.startsWith('-'));
}

export function parseMapping(flags: Pick<SyncFlags, 'defaultNamespace' | 'namespaceMap' | 'prefix'>): NameMapping {
  const namespaceMap: Record<string, string> = {};
  for (const item of flags.namespaceMap ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new OptionError(`--namespace-map takes FROM=TO, not "${item}"`);
    namespaceMap[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return { defaultNamespace: flags.defaultNamespace, namespaceMap, prefix: flags.prefix ?? '' };
}

async function runSync(flags: SyncFlags): Promise<number> {
  const parallel = Number(flags.parallel);
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > 64) throw new OptionError(`--parallel takes a number from 1 to 64, not "${flags.parallel}"`);
  for (const p of flags.platform ?? []) {
    if (!/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(p)) throw new OptionError(`--platform takes os/arch[/variant] (linux/amd64), not "${p}"`);
  }
  const images = readImageList(flags.images, flags.from, flags.to, parseMapping(flags));
  const client = new RegistryClient({
    insecureRegistries: flags.insecureRegistry ?? [],
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
    ...(flags.dockerConfig ? { dockerConfig: flags.dockerConfig } : {}),
    // a blob copy holds a GET and a PUT: room for both sides of every copy, and image checks besides
    maxConcurrentRequests: parallel * 6 + 4,
  });
  const out = process.stdout;
  const view = flags.json ? new JsonView(out) : out.isTTY ? await BarView.create(images.length) : new LineView(out, Boolean(flags.dryRun));
  try {
    const report = await syncImages({
      client,
      images,
      parallel,
      platforms: flags.platform ?? [],
      dryRun: Boolean(flags.dryRun),
      onEvent: (event) => view.event(event),
    });
    view.done(report);
    return report.failed > 0 ? 2 : 0;
  } finally {
    client.close();
  }
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function outcomeLine(o: ImageOutcome): string {
  switch (o.status) {
    case 'copied':
      return `copied: ${o.source} -> ${o.target} (${o.digest}${o.filteredFrom ? `, a new list filtered by platform from ${o.filteredFrom}` : ''}, ${mib(o.bytes)} sent)`;
    case 'present':
      return `present: ${o.target} (${o.digest})`;
    case 'would-copy':
      return `would copy: ${o.source} -> ${o.target} (${o.blobsMissing} blob${o.blobsMissing === 1 ? '' : 's'} missing${o.filteredFrom ? `; a new list filtered by platform from ${o.filteredFrom}` : ''})`;
    default:
      return `FAILED: ${o.source} -> ${o.target}: ${o.error}`;
  }
}

function reportLines(r: SyncReport): string {
  const lines = [
    `SYNC RECAP: copied=${r.copied} already-present=${r.present} failed=${r.failed}${r.wouldCopy ? ` would-copy=${r.wouldCopy}` : ''}`,
    `  bytes sent: ${mib(r.bytes)}, blobs pushed=${r.blobs.pushed} mounted=${r.blobs.mounted} present=${r.blobs.present}, time: ${r.seconds.toFixed(1)} s`,
  ];
  return lines.join('\n') + '\n';
}

interface View {
  event(event: SyncEvent): void;
  done(report: SyncReport): void;
}

class LineView implements View {
  constructor(private readonly out: NodeJS.WritableStream, private readonly dryRun: boolean) {}
  event(event: SyncEvent): void {
    if (event.kind === 'image-done') this.out.write(outcomeLine(event.outcome) + '\n');
  }
  done(report: SyncReport): void {
    if (this.dryRun) this.out.write('dry run: nothing was copied\n');
    this.out.write(reportLines(report));
  }
}

class JsonView implements View {
  constructor(private readonly out: NodeJS.WritableStream) {}
  event(event: SyncEvent): void {
    if (event.kind === 'image-done') this.out.write(JSON.stringify({ event: 'image', ...event.outcome }) + '\n');
  }
  done(report: SyncReport): void {
    const { images: _images, ...totals } = report;
    this.out.write(JSON.stringify({ event: 'report', ...totals }) + '\n');
  }
}

class BarView implements View {
  private readonly multi: MultiBar;
  private readonly images: SingleBar;
  private readonly bytes: SingleBar;
  private bytesTotal = 0;
  private bytesDone = 0;

  static async create(imageCount: number): Promise<BarView> {
    const { default: cliProgress } = await import('cli-progress');
    return new BarView(cliProgress, imageCount);
  }

  private constructor(cliProgress: typeof import('cli-progress'), imageCount: number) {
    this.multi = new cliProgress.MultiBar(
      { format: ' {name} [{bar}] {value}/{total} {unit}', hideCursor: true, clearOnComplete: false, stopOnComplete: false, barsize: 30 },
      cliProgress.Presets.shades_classic,
    );
    this.images = this.multi.create(imageCount, 0, { name: 'images', unit: '' });
    this.bytes = this.multi.create(1, 0, { name: 'MiB   ', unit: '' });
  }

  event(event: SyncEvent): void {
    if (event.kind === 'blob-start') {
      this.bytesTotal += event.size;
      this.bytes.setTotal(Math.max(1, Math.round(this.bytesTotal / 1048576)));
    } else if (event.kind === 'blob-done' && event.result !== 'pushed') {
      this.bytesTotal -= event.size;
      this.bytes.setTotal(Math.max(1, Math.round(this.bytesTotal / 1048576)));
    } else if (event.kind === 'bytes') {
      this.bytesDone += event.bytes;
      this.bytes.update(Math.round(this.bytesDone / 1048576));
    } else if (event.kind === 'image-done') {
      this.images.increment();
      if (event.outcome.status === 'failed' || event.outcome.status === 'would-copy') this.multi.log(outcomeLine(event.outcome) + '\n');
    }
  }

  done(report: SyncReport): void {
    this.multi.stop();
    process.stdout.write(reportLines(report));
  }
}
