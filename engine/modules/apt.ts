// apt: Debian packages with apt-get and dpkg. One probe round trip (dpkg-query for the named
// packages, the cache's age, whether a deb: path is on the host), then `apt-get -s` — apt's own
// simulation — predicts exactly what the run would install, upgrade or remove: that is the
// diff and `changed`, in check mode and in the real run alike. Only then, and only outside
// check mode, the same apt-get command runs for real (waiting for the dpkg lock up to
// lock_timeout seconds).
import { shQuote } from '../connection/shell.js';
import { guarded } from './file-write.js';
import { commandFailure, NAME_LIST_SCHEMA, nameList, packageSetDiff, runTool, stagePackageFile, words, type PackageSet, type StagedPackage } from './packages-common.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';

export type AptState = 'present' | 'installed' | 'absent' | 'removed' | 'latest' | 'fixed';

export interface AptArgs {
  name?: string | string[];
  package?: string | string[];
  pkg?: string | string[];
  state?: AptState;
  update_cache?: boolean;
  'update-cache'?: boolean;
  cache_valid_time?: number;
  deb?: string;
  purge?: boolean;
  autoremove?: boolean;
  install_recommends?: boolean;
  'install-recommends'?: boolean;
  force_apt_get?: boolean;
  force?: boolean;
  lock_timeout?: number;
  default_release?: string;
  'default-release'?: string;
  allow_downgrade?: boolean;
  allow_unauthenticated?: boolean;
  only_upgrade?: boolean;
  dpkg_options?: string;
}

export const aptSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: NAME_LIST_SCHEMA,
    package: NAME_LIST_SCHEMA,
    pkg: NAME_LIST_SCHEMA,
    state: { enum: ['present', 'installed', 'absent', 'removed', 'latest', 'fixed'] },
    update_cache: { type: 'boolean' },
    'update-cache': { type: 'boolean' },
    cache_valid_time: { type: 'integer', minimum: 0 },
    deb: { type: 'string', minLength: 1 },
    purge: { type: 'boolean' },
    autoremove: { type: 'boolean' },
    install_recommends: { type: 'boolean' },
    'install-recommends': { type: 'boolean' },
    force_apt_get: { type: 'boolean' },
    force: { type: 'boolean' },
    lock_timeout: { type: 'integer', minimum: 0 },
    default_release: { type: 'string' },
    'default-release': { type: 'string' },
    allow_downgrade: { type: 'boolean' },
    allow_unauthenticated: { type: 'boolean' },
    only_upgrade: { type: 'boolean' },
    dpkg_options: { type: 'string' },
  },
  // like Ansible: something to do, and a name given once
  anyOf: [
    { required: ['name'] },
    { required: ['package'] },
    { required: ['pkg'] },
    { required: ['deb'] },
    { required: ['update_cache'] },
    { required: ['update-cache'] },
    { required: ['autoremove'] },
  ],
  not: { anyOf: [{ required: ['name', 'pkg'] }, { required: ['name', 'package'] }, { required: ['pkg', 'package'] }] },
};

export default defineModule<AptArgs>({
  name: 'apt',
  aliases: ['ansible.builtin.apt', 'ansible.legacy.apt'],
  schema: aptSchema,
  run: (args, ctx) => guarded(() => runApt(args, ctx)),
});

/** The environment every apt-get and dpkg runs with: never a question on a terminal. */
export const APT_ENV = { DEBIAN_FRONTEND: 'noninteractive', NEEDRESTART_MODE: 'a', LC_ALL: 'C' };

const DEFAULT_LOCK_TIMEOUT = 60;

/** A package spec split as apt reads it: `name`, `name=version`, `name:arch=version`. */
export function parseAptSpec(spec: string): { name: string; version?: string } {
  const eq = spec.indexOf('=');
  return eq < 0 ? { name: spec } : { name: spec.slice(0, eq), version: spec.slice(eq + 1) };
}

interface Installed {
  version: string;
  /** dpkg's status letter: i installed, c config files only, others half-done. */
  status: string;
}

interface Probe {
  installed: Map<string, Installed>;
  cacheAge?: number;
  hasApt: boolean;
  debOnHost: boolean;
}

/** What is installed (and the cache's age, only when cache_valid_time needs it: three programs fewer). */
async function probe(ctx: ModuleContext, names: string[], deb: string | undefined, wantCacheAge: boolean): Promise<Probe> {
  const lines = [`command -v apt-get >/dev/null 2>&1 && printf 'apt=1\\n'`];
  if (wantCacheAge) {
    lines.push(
      `s=$(stat -c %Y /var/lib/apt/periodic/update-success-stamp 2>/dev/null); l=$(stat -c %Y /var/lib/apt/lists 2>/dev/null)`,
      `[ -n "$l" ] && { [ -z "$s" ] || [ "$l" -gt "$s" ]; } && s=$l`,
      `[ -n "$s" ] && printf 'age=%s\\n' "$(( $(date +%s) - s ))"`,
    );
  }
  if (deb !== undefined && deb.startsWith('/')) lines.push(`[ -f ${shQuote(deb)} ] && printf 'deb=1\\n'`);
  if (names.length) lines.push(`dpkg-query -W -f='pkg\\t\${Package}\\t\${Architecture}\\t\${db:Status-Abbrev}\\t\${Version}\\n' -- ${words(names)} 2>/dev/null`);
  // read-only and tsplay's own: it may run in the connection's long-lived shell
  const res = await runTool(ctx, lines.join('\n') + '\ntrue\n', APT_ENV, { ownScript: true });
  const installed = new Map<string, Installed>();
  for (const line of res.stdout.split('\n')) {
    const [tag, name, arch, abbrev, version] = line.split('\t');
    if (tag !== 'pkg' || !name || !abbrev) continue;
    const status = abbrev[1] ?? 'n';
    if (status === 'n') continue;
    const entry = { version: version ?? '', status: status === 'W' || status === 't' ? 'i' : status };
    installed.set(name, entry);
    installed.set(`${name}:${arch}`, entry);
  }
  const age = /^age=(-?\d+)$/m.exec(res.stdout);
  return {
    installed,
    ...(age ? { cacheAge: Number(age[1]) } : {}),
    hasApt: /^apt=1$/m.test(res.stdout),
    debOnHost: /^deb=1$/m.test(res.stdout),
  };
}

function versionMatches(installed: string, wanted: string): boolean {
  return wanted.endsWith('*') ? installed.startsWith(wanted.slice(0, -1)) : installed === wanted;
}

/** The changes `apt-get -s` announces: Inst name [old] (new ...), Remv name [old], Purg name [old]. */
export function parseSimulation(stdout: string): { before: PackageSet; after: PackageSet } {
  const before: PackageSet = new Map();
  const after: PackageSet = new Map();
  for (const line of stdout.split('\n')) {
    const inst = /^Inst (\S+) (?:\[([^\]]*)\] )?\((\S+)/.exec(line);
    if (inst) {
      before.set(inst[1]!, inst[2]);
      after.set(inst[1]!, inst[3]);
      continue;
    }
    const remove = /^(Remv|Purg) (\S+)(?: \[([^\]]*)\])?/.exec(line);
    if (remove) {
      if (!before.has(remove[2]!)) before.set(remove[2]!, remove[3] ?? '(config files)');
      after.set(remove[2]!, undefined);
    }
  }
  return { before, after };
}

function aptOptions(args: AptArgs, lockTimeout: number): string[] {
  const opts = ['-y', '-o', `DPkg::Lock::Timeout=${lockTimeout}`];
  const dpkg = (args.dpkg_options ?? 'force-confdef,force-confold').split(',').map((o) => o.trim()).filter(Boolean);
  for (const o of dpkg) opts.push('-o', `Dpkg::Options::=--${o.replace(/^-+/, '')}`);
  const recommends = args.install_recommends ?? args['install-recommends'];
  if (recommends === false) opts.push('--no-install-recommends');
  if (recommends === true) opts.push('-o', 'APT::Install-Recommends=yes');
  const release = args.default_release ?? args['default-release'];
  if (release) opts.push('-t', release);
  if (args.allow_downgrade) opts.push('--allow-downgrades');
  if (args.allow_unauthenticated) opts.push('--allow-unauthenticated');
  return opts;
}

interface AptPlan {
  /** apt-get's operation and its words after the options. */
  op: 'install' | 'remove' | 'autoremove';
  extra: string[];
  targets: string[];
}

function isPlan(x: AptPlan | ModuleResult): x is AptPlan {
  return typeof x.op === 'string' && Array.isArray(x.targets);
}

async function runApt(args: AptArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const specs = nameList(args.name ?? args.package ?? args.pkg);
  const bad = specs.find((s) => s.startsWith('-') || /\s/.test(s));
  if (bad !== undefined) return { changed: false, failed: true, msg: `invalid package name '${bad}'` };
  const state = args.state === 'installed' ? 'present' : args.state === 'removed' ? 'absent' : args.state ?? 'present';
  const lockTimeout = args.lock_timeout ?? DEFAULT_LOCK_TIMEOUT;
  const updateCache = args.update_cache ?? args['update-cache'] ?? false;
  const parsed = specs.map(parseAptSpec);

  const found = await probe(ctx, parsed.map((p) => p.name), args.deb, Boolean(updateCache) && args.cache_valid_time !== undefined);
  if (!found.hasApt) return { changed: false, failed: true, msg: 'apt-get was not found on the host: the apt module needs a Debian-like system' };

  const result: ModuleResult = { changed: false, cache_updated: false };
  // the cache: updated when asked and older than cache_valid_time (or always without it)
  const cacheStale = updateCache && (args.cache_valid_time === undefined || found.cacheAge === undefined || found.cacheAge > args.cache_valid_time);
  if (cacheStale) {
    if (!ctx.check) {
      const cmd = `apt-get update -o DPkg::Lock::Timeout=${lockTimeout}`;
      const res = await runTool(ctx, `${cmd} && { touch /var/lib/apt/lists 2>/dev/null; true; }`, APT_ENV);
      if (res.rc !== 0) return commandFailure(`Failed to update apt cache: ${lastError(res.stderr) || `rc ${res.rc}`}`, cmd, res);
    }
    result.cache_updated = true;
    result.cache_update_time = Math.floor(Date.now() / 1000);
  }

  let staged: StagedPackage | undefined;
  try {
    const plan: AptPlan | ModuleResult | undefined = await planApt(args, ctx, state, parsed, found, (s) => (staged = s));
    if (plan === undefined) {
      // nothing to do for the packages; an update of the cache alone is the change
      if (!specs.length && args.deb === undefined) result.changed = cacheStale;
      return result;
    }
    if (!isPlan(plan)) return { ...result, ...plan };
    const base = ['apt-get', ...aptOptions(args, lockTimeout), ...plan.extra, plan.op, ...plan.targets];
    // apt's solver logs every plan to /var/log/apt/eipp.log.xz, even a simulation: a plan
    // must not write to the host
    const simulate = ['apt-get', '-s', '-o', 'Dir::Log::Planner=/dev/null', ...base.slice(1)];
    const sim = await runTool(ctx, words(simulate), APT_ENV);
    if (sim.rc !== 0) return { ...result, ...aptFailure(simulate.join(' '), sim) };
    const { before, after } = parseSimulation(sim.stdout);
    if (after.size === 0) {
      if (!specs.length && args.deb === undefined) result.changed = cacheStale;
      return result;
    }
    result.changed = true;
    result.diff = [packageSetDiff(before, after)];
    if (ctx.check) return result;
    if (ctx.signal?.aborted) return { ...result, changed: false, failed: true, msg: 'interrupted before changing packages' };
    const res = await runTool(ctx, words(base), APT_ENV);
    result.stdout = res.stdout;
    result.stderr = res.stderr;
    if (res.rc !== 0) return { ...result, ...aptFailure(base.join(' '), res) };
    return result;
  } finally {
    if (staged) await (staged as StagedPackage).cleanup();
  }
}

async function planApt(
  args: AptArgs,
  ctx: ModuleContext,
  state: Exclude<AptState, 'installed' | 'removed'>,
  parsed: Array<{ name: string; version?: string }>,
  found: Probe,
  onStaged: (s: StagedPackage) => void,
): Promise<AptPlan | ModuleResult | undefined> {
  const extra: string[] = [];
  if (args.deb !== undefined) {
    const staged = await stagePackageFile(ctx, args.deb, found.debOnHost);
    if ('missing' in staged) return { changed: false, failed: true, msg: staged.missing };
    onStaged(staged);
    const info = await runTool(ctx, `dpkg-deb -f ${shQuote(staged.path)} Package Version Architecture && dpkg-query -W -f='\${db:Status-Abbrev}\\t\${Version}\\n' -- "$(dpkg-deb -f ${shQuote(staged.path)} Package)" 2>/dev/null; true`, APT_ENV);
    const pkg = /^Package: (.+)$/m.exec(info.stdout)?.[1];
    const version = /^Version: (.+)$/m.exec(info.stdout)?.[1];
    if (!pkg || !version) return commandFailure(`Unable to install package: ${args.deb} is not a readable .deb: ${info.stderr.trim()}`, `dpkg-deb -f ${args.deb}`, info);
    const current = /^.(.)\S*\t(.*)$/m.exec(info.stdout);
    const installedSame = current !== null && current[1] === 'i' && current[2] === version;
    if (installedSame && !args.force) return undefined;
    // apt-get installs a local .deb with its dependencies; the path must look like a path
    const target = staged.path.startsWith('/') ? staged.path : `./${staged.path}`;
    return { op: 'install', extra: installedSame ? ['--reinstall'] : [], targets: [target] };
  }
  if (parsed.length === 0) return args.autoremove ? { op: 'autoremove', extra: args.purge ? ['--purge'] : [], targets: [] } : undefined;

  if (state === 'absent') {
    const present = parsed.filter((p) => {
      const cur = found.installed.get(p.name);
      if (!cur) return false;
      if (p.version !== undefined && !versionMatches(cur.version, p.version)) return false;
      return cur.status !== 'c' || args.purge === true;
    });
    if (present.length === 0) return undefined;
    if (args.purge) extra.push('--purge');
    if (args.autoremove) extra.push('--auto-remove');
    return { op: 'remove', extra, targets: present.map((p) => p.name) };
  }
  if (args.autoremove) extra.push('--auto-remove');
  if (state === 'fixed') extra.push('--fix-broken');
  if (state === 'latest') {
    if (args.only_upgrade) extra.push('--only-upgrade');
    // apt-get install upgrades what has a newer candidate; the simulation says whether any does
    return { op: 'install', extra, targets: parsed.map((p) => p.name) };
  }
  const missing = parsed.filter((p) => {
    const cur = found.installed.get(p.name);
    if (!cur || cur.status !== 'i') return true;
    return p.version !== undefined && !versionMatches(cur.version, p.version);
  });
  if (missing.length === 0) return undefined;
  return { op: 'install', extra, targets: missing.map((p) => (p.version !== undefined ? `${p.name}=${p.version}` : p.name)) };
}

function lastError(stderr: string): string {
  const errors = stderr.split('\n').filter((l) => l.startsWith('E: '));
  return (errors.length ? errors.join(' ') : stderr).trim();
}

function aptFailure(cmd: string, res: { rc: number; stdout: string; stderr: string }): ModuleResult {
  const missing = /Unable to locate package (\S+)/.exec(res.stderr) ?? /Package '?([^' ]+)'? has no installation candidate/.exec(res.stderr);
  if (missing) return commandFailure(`No package matching '${missing[1]}' is available`, cmd, res);
  if (/Could not get lock|Unable to acquire the dpkg frontend lock/.test(res.stderr)) {
    return commandFailure(`The dpkg lock is held by another process: ${lastError(res.stderr)}`, cmd, res);
  }
  return commandFailure(`'${cmd}' failed: ${lastError(res.stderr) || `rc ${res.rc}`}`, cmd, res);
}
