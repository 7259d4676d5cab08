// dnf and yum share one implementation: rpm -q says what is installed, `<tool> check-update`
// which installed packages have a newer version (state latest), `<tool> list available` the
// version a missing package would get. From that the plan (install / upgrade / remove) and
// its diff are known before anything changes, so check mode reports exactly what the real
// run does. Package files (`name: /path/x.rpm` or a file on the controller) are read with
// `rpm -qp`.
import { shQuote } from '../connection/shell.js';
import { guarded } from './file-write.js';
import { commandFailure, NAME_LIST_SCHEMA, nameList, packageSetDiff, runTool, stagePackageFile, words, type PackageSet, type StagedPackage } from './packages-common.js';
import { defineModule, type ModuleContext, type ModuleDef, type ModuleResult } from './types.js';

export type RpmTool = 'dnf' | 'yum';

export interface RpmArgs {
  name?: string | string[];
  pkg?: string | string[];
  state?: 'present' | 'installed' | 'latest' | 'absent' | 'removed';
  update_cache?: boolean;
  expire_cache?: boolean;
  disable_gpg_check?: boolean;
  enablerepo?: string | string[];
  disablerepo?: string | string[];
  autoremove?: boolean;
  allow_downgrade?: boolean;
  install_weak_deps?: boolean;
  lock_timeout?: number;
}

export const rpmSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: NAME_LIST_SCHEMA,
    pkg: NAME_LIST_SCHEMA,
    state: { enum: ['present', 'installed', 'latest', 'absent', 'removed'] },
    update_cache: { type: 'boolean' },
    expire_cache: { type: 'boolean' },
    disable_gpg_check: { type: 'boolean' },
    enablerepo: NAME_LIST_SCHEMA,
    disablerepo: NAME_LIST_SCHEMA,
    autoremove: { type: 'boolean' },
    allow_downgrade: { type: 'boolean' },
    install_weak_deps: { type: 'boolean' },
    lock_timeout: { type: 'integer', minimum: 0 },
  },
  anyOf: [{ required: ['name'] }, { required: ['pkg'] }, { required: ['update_cache'] }, { required: ['expire_cache'] }, { required: ['autoremove'] }],
  not: { required: ['name', 'pkg'] },
};

export function rpmModule(tool: RpmTool): ModuleDef<RpmArgs> {
  return defineModule<RpmArgs>({
    name: tool,
    aliases: [`ansible.builtin.${tool}`, `ansible.legacy.${tool}`],
    schema: rpmSchema,
    run: (args, ctx) => guarded(() => runRpm(tool, args, ctx)),
  });
}

const RPM_ENV = { LC_ALL: 'C' };
const QF = `%{NAME}\\t%{VERSION}-%{RELEASE}.%{ARCH}\\n`;

function repoOptions(tool: RpmTool, args: RpmArgs): string[] {
  const opts: string[] = [];
  for (const r of nameList(args.enablerepo)) opts.push(`--enablerepo=${r}`);
  for (const r of nameList(args.disablerepo)) opts.push(`--disablerepo=${r}`);
  if (args.disable_gpg_check) opts.push('--nogpgcheck');
  if (tool === 'dnf' && args.install_weak_deps !== undefined) opts.push(`--setopt=install_weak_deps=${args.install_weak_deps ? 'True' : 'False'}`);
  return opts;
}

/** `name.arch  version  repo` lines of check-update / list available, by name and name.arch. */
export function parsePackageList(stdout: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+)\.([A-Za-z0-9_]+)\s+(\S+)\s+\S+\s*$/.exec(line);
    if (!m || /^(Last|Available|Installed|Obsoleting|Updated)$/.test(m[1]!)) continue;
    const version = `${m[3]!.replace(/^\d+:/, '')}.${m[2]}`;
    if (!found.has(m[1]!)) found.set(m[1]!, version);
    found.set(`${m[1]}.${m[2]}`, version);
  }
  return found;
}

/** The available package a spec (`name`, `name.arch`, `name-1.2`) means, if listed. */
function matchSpec(spec: string, listed: Map<string, string>): { name: string; version: string } | undefined {
  const direct = listed.get(spec);
  if (direct !== undefined) return { name: spec.replace(/\.[A-Za-z0-9_]+$/, (a) => (listed.has(spec.slice(0, -a.length)) ? '' : a)), version: direct };
  for (const [name, version] of listed) if (spec.startsWith(`${name}-`) && version.startsWith(spec.slice(name.length + 1))) return { name, version };
  return undefined;
}

async function runRpm(tool: RpmTool, args: RpmArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const specs = nameList(args.name ?? args.pkg);
  const bad = specs.find((s) => s.startsWith('-') || /\s/.test(s));
  if (bad !== undefined) return { changed: false, failed: true, msg: `invalid package name '${bad}'` };
  const state = args.state === 'installed' ? 'present' : args.state === 'removed' ? 'absent' : args.state ?? 'present';
  const repo = repoOptions(tool, args);
  const result: ModuleResult = { changed: false, results: [] };

  // one round trip: the tool, each spec's installed versions, files on the host, updates
  const files = specs.filter((s) => s.endsWith('.rpm'));
  const names = specs.filter((s) => !s.endsWith('.rpm'));
  const lines = [`command -v ${tool} >/dev/null 2>&1 || { printf 'notool\\n'; exit 0; }`];
  names.forEach((spec, i) => lines.push(`rpm -q --qf 'pkg\\t${i}\\t${QF}' -- ${shQuote(spec)} 2>/dev/null | grep '^pkg' || true`));
  files.forEach((file, i) => file.startsWith('/') && lines.push(`[ -f ${shQuote(file)} ] && printf 'onhost\\t${i}\\n'`));
  if (state === 'latest' && names.length) lines.push(`${tool} -q check-update ${words(repo)} -- ${words(names)}; printf 'cu=%s\\n' "$?"`);
  const probe = await runTool(ctx, lines.join('\n') + '\ntrue\n', RPM_ENV);
  if (/^notool$/m.test(probe.stdout)) return { changed: false, failed: true, msg: `${tool} was not found on the host` };
  const installed = new Map<number, Array<{ name: string; version: string }>>();
  for (const m of probe.stdout.matchAll(/^pkg\t(\d+)\t(\S+)\t(\S+)$/gm)) {
    const list = installed.get(Number(m[1])) ?? [];
    list.push({ name: m[2]!, version: m[3]! });
    installed.set(Number(m[1]), list);
  }
  const onHost = new Set([...probe.stdout.matchAll(/^onhost\t(\d+)$/gm)].map((m) => Number(m[1])));
  const cu = /^cu=(\d+)$/m.exec(probe.stdout);
  if (cu && cu[1] !== '0' && cu[1] !== '100') {
    return commandFailure(`${tool} check-update failed`, `${tool} check-update ${names.join(' ')}`, { rc: Number(cu[1]), stdout: probe.stdout, stderr: probe.stderr });
  }
  const updates = cu ? parsePackageList(probe.stdout) : new Map<string, string>();

  if ((args.update_cache ?? args.expire_cache) && !ctx.check) {
    const cmd = `${tool} makecache ${words(repo)}`.trim();
    const res = await runTool(ctx, cmd, RPM_ENV);
    if (res.rc !== 0) return commandFailure(`Failed to update the ${tool} cache`, cmd, res);
  }

  const before: PackageSet = new Map();
  const after: PackageSet = new Map();
  const toInstall: string[] = [];
  const toUpgrade: string[] = [];
  const toRemove: string[] = [];
  const staged: StagedPackage[] = [];
  try {
    // package files: the package inside, compared with what is installed under its name
    for (const [i, file] of files.entries()) {
      if (state === 'absent') return { changed: false, failed: true, msg: `state=absent takes package names, not files (${file})` };
      const s = await stagePackageFile(ctx, file, onHost.has(i));
      if ('missing' in s) return { changed: false, failed: true, msg: s.missing };
      staged.push(s);
      const info = await runTool(ctx, `set -e; n=$(rpm -qp --qf '%{NAME}' -- ${shQuote(s.path)}); rpm -qp --qf 'file\\t${QF}' -- ${shQuote(s.path)}; rpm -q --qf 'pkg\\t${QF}' -- "$n" 2>/dev/null | grep '^pkg' || true`, RPM_ENV);
      const pkg = /^file\t(\S+)\t(\S+)$/m.exec(info.stdout);
      if (info.rc !== 0 || !pkg) return commandFailure(`${file} is not a readable rpm package`, `rpm -qp ${file}`, info);
      const current = /^pkg\t\S+\t(\S+)$/m.exec(info.stdout)?.[1];
      if (current === pkg[2]) continue;
      before.set(pkg[1]!, current);
      after.set(pkg[1]!, pkg[2]);
      toInstall.push(s.path);
    }
    const missing: string[] = [];
    names.forEach((spec, i) => {
      const have = installed.get(i);
      if (state === 'absent') {
        if (!have) return;
        for (const h of have) {
          before.set(h.name, h.version);
          after.set(h.name, undefined);
        }
        toRemove.push(spec);
        return;
      }
      if (!have) {
        missing.push(spec);
        return;
      }
      if (state === 'latest') {
        for (const h of have) {
          const newer = updates.get(h.name);
          if (newer === undefined || newer === h.version) continue;
          before.set(h.name, h.version);
          after.set(h.name, newer);
          if (!toUpgrade.includes(spec)) toUpgrade.push(spec);
        }
      }
    });
    if (missing.length) {
      const cmd = [tool, '-q', 'list', 'available', ...repo, '--', ...missing];
      const res = await runTool(ctx, `${words(cmd)}; true`, RPM_ENV);
      const available = parsePackageList(res.stdout);
      for (const spec of missing) {
        const hit = matchSpec(spec, available);
        if (!hit) {
          const msg = tool === 'dnf' ? `No package ${spec} available.` : `No package matching '${spec}' found available, installed or updated`;
          return commandFailure(msg, cmd.join(' '), res);
        }
        before.set(hit.name, undefined);
        after.set(hit.name, hit.version);
        toInstall.push(spec);
      }
    }
    const steps: string[][] = [];
    const common = [tool, '-y', ...repo];
    if (args.allow_downgrade && tool === 'dnf') common.push('--allowerasing');
    if (toInstall.length) steps.push([...common, 'install', '--', ...toInstall]);
    if (toUpgrade.length) steps.push([...common, 'upgrade', '--', ...toUpgrade]);
    if (toRemove.length) steps.push([...common, 'remove', '--', ...toRemove]);
    if (args.autoremove && tool === 'dnf' && state === 'absent') steps.push([...common, 'autoremove']);
    const changesPackages = toInstall.length + toUpgrade.length + toRemove.length > 0;
    if (!changesPackages) return { ...result, msg: 'Nothing to do' };
    result.changed = true;
    result.diff = [packageSetDiff(before, after)];
    result.results = [...after.entries()].map(([n, v]) => (v === undefined ? `Removed: ${n}-${before.get(n)}` : `Installed: ${n}-${v}`));
    if (ctx.check) return result;
    if (ctx.signal?.aborted) return { ...result, changed: false, failed: true, msg: 'interrupted before changing packages' };
    for (const step of steps) {
      const res = await runTool(ctx, words(step), RPM_ENV);
      result.rc = res.rc;
      result.stdout = res.stdout;
      result.stderr = res.stderr;
      if (res.rc !== 0) return { ...result, ...commandFailure(`'${step.join(' ')}' failed: ${res.stderr.trim() || `rc ${res.rc}`}`, step.join(' '), res) };
    }
    return result;
  } finally {
    for (const s of staged) await s.cleanup();
  }
}
