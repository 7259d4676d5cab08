// file: the state of a path — file, directory, link, hard, absent, touch — and its mode,
// owner, group and times, as Ansible's file module. One probe round trip decides everything;
// the real run then does exactly what the probe found different (nothing in check mode).
import { posix } from 'node:path';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { HostOpError, mkdirsFailure, mkdirsScript, type FileStat, type ProbeResult, type ProbeTarget, type ProbeThen } from '../connection/host-ops.js';
import { absentStat, kindGuard } from '../connection/stat-batch.js';
import { formatMode, MODE_SCHEMA, resolveMode, type ModeSpec } from './mode.js';
import { guarded, planAttributes, stateDiff, type AttributePlan } from './file-write.js';
import { runFileMany } from './file-loop.js';

type State = 'file' | 'directory' | 'link' | 'hard' | 'absent' | 'touch';
type PrevState = 'absent' | 'file' | 'directory' | 'link' | 'hard';

export interface FileArgs {
  path?: string;
  dest?: string;
  name?: string;
  state?: State;
  src?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  recurse?: boolean;
  force?: boolean;
  follow?: boolean;
  modification_time?: string;
  modification_time_format?: string;
  access_time?: string;
  access_time_format?: string;
}

const DEFAULT_TIME_FORMAT = '%Y%m%d%H%M.%S';

export default defineModule<FileArgs>({
  name: 'file',
  aliases: ['ansible.builtin.file', 'ansible.legacy.file'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      name: { type: 'string', minLength: 1 },
      state: { enum: ['file', 'directory', 'link', 'hard', 'absent', 'touch'] },
      src: { type: 'string', minLength: 1 },
      mode: MODE_SCHEMA,
      owner: { type: 'string' },
      group: { type: 'string' },
      recurse: { type: 'boolean' },
      force: { type: 'boolean' },
      follow: { type: 'boolean' },
      modification_time: { type: 'string' },
      modification_time_format: { type: 'string' },
      access_time: { type: 'string' },
      access_time_format: { type: 'string' },
    },
    oneOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['name'] }],
  },
  run: (args, ctx) => guarded(() => runFile(args, ctx)),
  runMany: (argsList, ctx) => runFileMany(argsList, ctx, { runOne: runFile, pathOf, probeTargets, speculate, planIsSpeculation, applyPlan, fileOutcome }),
});

class FileModuleError extends Error {}

function fail(msg: string, path: string): never {
  const err = new FileModuleError(msg);
  (err as FileModuleError & { path: string }).path = path;
  throw err;
}

function prevStateOf(s: FileStat): PrevState {
  if (!s.exists) return 'absent';
  if (s.type === 'link') return 'link';
  if (s.type === 'directory') return 'directory';
  return s.nlink > 1 ? 'hard' : 'file';
}

/** Parents first: /a, /a/b, /a/b/c. */
function ancestors(path: string): string[] {
  const chain: string[] = [];
  for (let p = path; ; p = posix.dirname(p)) {
    chain.unshift(p);
    if (posix.dirname(p) === p || posix.dirname(p) === '.') break;
  }
  return chain;
}

/** A time argument → 'now' | 'preserve' | a touch -t stamp (CCYYMMDDhhmm.SS). */
function toStamp(value: string | undefined, format: string | undefined, fallback: 'now' | 'preserve'): string {
  if (value === undefined) return fallback;
  if (value === 'now' || value === 'preserve') return value;
  const fmt = format ?? DEFAULT_TIME_FORMAT;
  const fields: Record<string, string> = { Y: '', m: '01', d: '01', H: '00', M: '00', S: '00' };
  const widths: Record<string, number> = { Y: 4, m: 2, d: 2, H: 2, M: 2, S: 2 };
  let i = 0;
  for (let f = 0; f < fmt.length; f++) {
    if (fmt[f] === '%' && f + 1 < fmt.length && widths[fmt[f + 1]!]) {
      const key = fmt[++f]!;
      const digits = value.slice(i, i + widths[key]!);
      if (!/^\d+$/.test(digits) || digits.length !== widths[key]) throw new FileModuleError(`Error while obtaining timestamp for time ${value} using format ${fmt}`);
      fields[key] = digits;
      i += digits.length;
    } else {
      if (value[i] !== fmt[f]) throw new FileModuleError(`Error while obtaining timestamp for time ${value} using format ${fmt}`);
      i++;
    }
  }
  if (i !== value.length || !fields.Y) throw new FileModuleError(`Error while obtaining timestamp for time ${value} using format ${fmt}`);
  return `${fields.Y}${fields.m}${fields.d}${fields.H}${fields.M}.${fields.S}`;
}

interface Plan {
  changed: boolean;
  diff: FileDiff[];
  /** Applied in order when not in check mode. */
  actions: Array<() => Promise<void>>;
  /** When the one action is a host script (creating folders): its text. */
  script?: string;
  result: ModuleResult;
}

function pathOf(args: FileArgs): string {
  return (args.path ?? args.dest ?? args.name)!.replace(/(.)\/+$/, '$1');
}

async function runFile(args: FileArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const path = pathOf(args);
  return fileOutcome(path, async () => {
    const targets = probeTargets(args, path);
    const speculation = await speculate(args, path, targets, ctx);
    const probed = await ctx.ops.probe(targets, {}, speculation);
    const then = probed.then ? { ran: probed.then.ran, rc: probed.then.rc, output: probed.then.stderr } : undefined;
    return applyPlan(args, path, ctx, probed, then, speculation);
  });
}

/** A plan's failure (FileModuleError) as the module's failed result. */
async function fileOutcome(path: string, body: () => Promise<ModuleResult>): Promise<ModuleResult> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof FileModuleError) return { changed: false, failed: true, msg: err.message, path: (err as FileModuleError & { path?: string }).path ?? path };
    throw err;
  }
}

async function planIsSpeculation(args: FileArgs, path: string, ctx: ModuleContext, probed: Pick<ProbeResult, 'stats' | 'umask'>, speculation: { script: string }): Promise<boolean> {
  const plan = await planFile(args, path, ctx, probed);
  return plan.changed && plan.actions.length === 1 && plan.script === speculation.script;
}

/**
 * The plan from what the probe saw; a change chained onto the probe (`then`) counts only if
 * it is that very plan, else the plan's actions run now (not in check mode).
 */
async function applyPlan(
  args: FileArgs,
  path: string,
  ctx: ModuleContext,
  probed: Pick<ProbeResult, 'stats' | 'umask'>,
  then: { ran: boolean; rc: number; output: string } | undefined,
  speculation: { script: string } | undefined,
): Promise<ModuleResult> {
  const plan = await planFile(args, path, ctx, probed);
  if (then?.ran) {
    // the host created the folder after the probe: only right if the plan from what the
    // probe saw is that very change (the guard makes it so; this keeps it honest)
    if (!plan.changed || plan.actions.length !== 1 || plan.script !== speculation?.script) {
      throw new HostOpError(`internal error: ${path} was changed by a plan the probe did not confirm`, 1);
    }
    if (then.rc !== 0) throw new HostOpError(`${mkdirsFailure([path])}: ${then.output.trim() || `rc ${then.rc}`}`, then.rc, '', then.output);
  } else if (plan.changed && !ctx.check) {
    if (ctx.signal?.aborted) return { changed: false, failed: true, msg: 'interrupted before changing', path };
    for (const action of plan.actions) await action();
  }
  return { ...plan.result, changed: plan.changed, ...(plan.diff.length ? { diff: plan.diff } : {}) };
}

function linkSource(args: FileArgs, path: string): string | undefined {
  return args.src !== undefined && !posix.isAbsolute(args.src) ? posix.join(posix.dirname(path), args.src) : args.src;
}

/** What the plan looks at: the path (as is and followed), a link's src, every folder above. */
function probeTargets(args: FileArgs, path: string): ProbeTarget[] {
  const linkSrc = linkSource(args, path);
  return [
    { path, follow: false },
    { path, follow: true },
    ...(linkSrc !== undefined ? [{ path: linkSrc, follow: true }] : []),
    ...ancestors(path).map((p) => ({ path: p, follow: true })),
  ];
}

/**
 * Cold runs: `state: directory` on a path that is absent under an existing folder is the
 * common case. Plan it for exactly that state with the same planFile, and chain its script
 * onto the probe, guarded by that state (test builtins on every probed path): one round trip
 * instead of two. Only where the plan depends on nothing but those paths' existence and kind:
 * no symbolic mode (it depends on the umask), no times, no recurse, not in check mode.
 */
async function speculate(args: FileArgs, path: string, targets: ProbeTarget[], ctx: ModuleContext): Promise<ProbeThen | undefined> {
  const numericMode = args.mode === undefined || typeof args.mode === 'number' || /^[0-7]+$/.test(args.mode.trim());
  if (ctx.check || args.state !== 'directory' || args.recurse || args.src !== undefined || !numericMode || ctx.signal?.aborted) return undefined;
  if (args.modification_time !== undefined || args.access_time !== undefined || posix.dirname(path) === path) return undefined;
  const expected = targets.map((t) => ({ ...t, kind: t.path === path ? ('absent' as const) : ('directory' as const) }));
  const stats = expected.map((e) => (e.kind === 'absent' ? absentStat(e.path) : { ...absentStat(e.path), exists: true, type: 'directory' as const, mode: 0o755 }));
  try {
    const plan = await planFile(args, path, ctx, { stats, umask: 0o022 });
    if (!plan.changed || plan.actions.length !== 1 || plan.script === undefined) return undefined;
    // a plain folder (no owner, no group): a loop's run of them can share one mkdir (probeChain)
    const attrs = args.mode === undefined ? {} : { mode: typeof args.mode === 'number' ? args.mode : parseInt(args.mode.trim(), 8) };
    const plain = args.owner === undefined && args.group === undefined && plan.script === mkdirsScript([path], attrs);
    return { guard: kindGuard(expected), script: plan.script, ...(plain ? { mkdir: { path, attrs } } : {}) };
  } catch {
    return undefined; // e.g. a bad mode: the real plan says so
  }
}

async function planFile(args: FileArgs, path: string, ctx: ModuleContext, probed: Pick<ProbeResult, 'stats' | 'umask'>): Promise<Plan> {
  const follow = args.follow ?? true;
  const force = args.force ?? false;
  const linkSrc = linkSource(args, path);
  const { stats, umask } = probed;
  const [lstat, followed] = [stats[0]!, stats[1]!];
  const srcStat = linkSrc !== undefined ? stats[2] : undefined;
  const chainStats = stats.slice(linkSrc !== undefined ? 3 : 2);
  const prev = prevStateOf(lstat);
  let state: State = args.state ?? (prev === 'absent' ? (args.recurse ? 'directory' : 'file') : prev === 'hard' ? 'file' : prev);
  if (args.state === undefined && prev === 'link' && args.src === undefined) state = 'link';

  const wanted = {
    ...(args.mode !== undefined ? { mode: args.mode } : {}),
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
  };
  const mtime = toStamp(args.modification_time, args.modification_time_format, state === 'touch' ? 'now' : 'preserve');
  const atime = toStamp(args.access_time, args.access_time_format, state === 'touch' ? 'now' : 'preserve');
  if (args.recurse && state !== 'directory') fail('recurse option requires state to be \'directory\'', path);

  const plan: Plan = { changed: false, diff: [], actions: [], result: { changed: false, path, state } };
  const before: Record<string, string> = {};
  const after: Record<string, string> = {};
  if (prev !== state) {
    before.state = prev;
    after.state = state;
  }

  /** Attributes (and times) of an existing path; adds to the plan. */
  const attributes = async (target: string, stat: FileStat | undefined, isDir: boolean, linkItself = false): Promise<AttributePlan> => {
    const want = linkItself ? { ...wanted, mode: undefined } : wanted;
    if (want.mode === undefined) delete want.mode;
    const attrs = planAttributes(stat, want, isDir, umask);
    if (stat?.exists && attrs.changed) {
      plan.changed = true;
      Object.assign(before, attrs.before);
      Object.assign(after, attrs.after);
      plan.actions.push(() =>
        ctx.ops.setAttributes(
          target,
          {
            ...(attrs.before.mode !== undefined ? { mode: attrs.mode! } : {}),
            ...(attrs.before.owner !== undefined ? { owner: attrs.owner! } : {}),
            ...(attrs.before.group !== undefined ? { group: attrs.group! } : {}),
          },
          { follow: !linkItself },
        ),
      );
    }
    return attrs;
  };
  const times = async (target: string, stat: FileStat, created: boolean): Promise<void> => {
    const wantTimes = { mtime, atime };
    let differs = created ? mtime !== 'preserve' || atime !== 'preserve' : mtime === 'now' || atime === 'now';
    const stamps = [mtime, atime].filter((t) => t !== 'now' && t !== 'preserve');
    if (!created && stamps.length > 0) {
      const epochs = await ctx.ops.stampsToEpoch(stamps);
      let k = 0;
      if (mtime !== 'now' && mtime !== 'preserve' && Math.floor(stat.mtime) !== epochs[k++]) differs = true;
      if (atime !== 'now' && atime !== 'preserve' && Math.floor(stat.atime) !== epochs[k++]) differs = true;
    }
    if (!differs) return;
    plan.changed = true;
    if (mtime !== 'preserve' && !(created && mtime === 'now')) after.mtime = mtime;
    if (atime !== 'preserve' && !(created && atime === 'now')) after.atime = atime;
    plan.actions.push(() => ctx.ops.touch(target, { ...wantTimes, create: false }));
  };
  const finish = (stat: FileStat | undefined, attrs?: AttributePlan): Plan => {
    if (Object.keys(after).length > 0 || Object.keys(before).length > 0) plan.diff.push(stateDiff(path, before, after));
    const mode = attrs?.finalMode ?? stat?.mode;
    if (mode !== undefined && (stat?.exists || attrs)) plan.result.mode = formatMode(mode);
    if (stat?.exists || attrs) {
      plan.result.owner = attrs?.owner ?? stat?.owner;
      plan.result.group = attrs?.group ?? stat?.group;
      if (stat?.exists && !attrs?.changed) Object.assign(plan.result, { uid: stat.uid, gid: stat.gid, size: stat.size });
    }
    return plan;
  };

  switch (state) {
    case 'absent': {
      if (prev === 'absent') return finish(undefined);
      plan.changed = true;
      plan.actions.push(() => ctx.ops.remove(path, prev === 'directory'));
      plan.diff.push(stateDiff(path, { state: prev }, { state: 'absent' }));
      return plan;
    }

    case 'file': {
      let target = path;
      let stat = lstat;
      if (prev === 'link' && follow && followed.exists) {
        target = followed.linkSource ?? path;
        stat = followed;
      }
      const kind = prevStateOf(stat);
      if (kind === 'absent') fail(`file (${path}) is absent, cannot continue`, path);
      if (kind !== 'file' && kind !== 'hard') fail(`file (${path}) is ${kind}, cannot continue`, path);
      delete before.state;
      delete after.state;
      const attrs = await attributes(target, stat, false);
      await times(target, stat, false);
      plan.result.size = stat.size;
      return finish(stat, attrs);
    }

    case 'directory': {
      let target = path;
      let stat = lstat;
      if (prev === 'link' && follow && followed.exists) {
        target = followed.linkSource ?? path;
        stat = followed;
        delete before.state;
        delete after.state;
      }
      const kind = prevStateOf(stat);
      if (kind === 'absent') {
        const chain = ancestors(path);
        const missing = chain.filter((_, i) => !chainStats[i]!.exists);
        const blocked = chain.find((_, i) => chainStats[i]!.exists && chainStats[i]!.type !== 'directory');
        if (blocked) fail(`There is a file in the way: ${blocked} is not a directory`, path);
        const attrs = planAttributes(undefined, wanted, true, umask);
        plan.changed = true;
        if (attrs.finalMode !== undefined) after.mode = formatMode(attrs.finalMode);
        if (args.owner !== undefined) after.owner = args.owner;
        if (args.group !== undefined) after.group = args.group;
        // like Ansible, every folder created gets the mode, owner and group
        const created = {
          ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
          ...(args.owner !== undefined ? { owner: args.owner } : {}),
          ...(args.group !== undefined ? { group: args.group } : {}),
        };
        plan.script = mkdirsScript(missing, created);
        plan.actions.push(() => ctx.ops.mkdirs(missing, created));
        await times(path, stat, true);
        return finish(undefined, attrs);
      }
      if (kind !== 'directory') fail(`${path} already exists as a ${kind}`, path);
      const attrs = await attributes(target, stat, true);
      if (args.recurse) await recurse(target, ctx, wanted, umask, plan);
      await times(target, stat, false);
      return finish(stat, attrs);
    }

    case 'link': {
      let src = args.src;
      if (src === undefined) {
        if (prev === 'link') src = lstat.linkTarget!;
        else fail('src is required for creating new symlinks', path);
      }
      // in check mode a missing src is taken as one an earlier task of the play creates
      if (!force && !ctx.check && !(srcStat?.exists ?? true)) {
        fail(`src file does not exist, use "force=yes" if you really want to create the link: ${linkSrc}`, path);
      }
      if (prev === 'directory') {
        if (!force) fail(`refusing to convert from directory to symlink for ${path}`, path);
        if ((await ctx.ops.listDir(path)).length > 0) fail(`the directory ${path} is not empty, refusing to convert it`, path);
      } else if ((prev === 'file' || prev === 'hard') && !force) {
        fail(`refusing to convert from ${prev} to symlink for ${path}`, path);
      }
      if (prev !== 'link' || lstat.linkTarget !== src) {
        plan.changed = true;
        if (prev === 'link') before.src = lstat.linkTarget!;
        after.src = src!;
        const wasDir = prev === 'directory';
        plan.actions.push(async () => {
          if (wasDir) await ctx.ops.remove(path, true);
          await ctx.ops.symlink(src!, path);
        });
      }
      plan.result.src = src;
      // a link's own owner/group (chown -h); mode only through follow, on what it points to
      const created = plan.changed;
      let attrs: AttributePlan | undefined;
      if (follow && srcStat?.exists) attrs = await attributes(linkSrc!, srcStat, srcStat.type === 'directory');
      else if (!created) attrs = await attributes(path, lstat, false, true);
      else if (args.owner !== undefined || args.group !== undefined) {
        plan.actions.push(() =>
          ctx.ops.setAttributes(path, { ...(args.owner !== undefined ? { owner: args.owner } : {}), ...(args.group !== undefined ? { group: args.group } : {}) }, { follow: false }),
        );
      }
      return finish(lstat.exists ? lstat : undefined, attrs);
    }

    case 'hard': {
      if (args.src === undefined) fail('src is required for creating new hardlinks', path);
      if (!posix.isAbsolute(args.src)) fail('absolute paths are required', path);
      if (!srcStat?.exists) fail('src does not exist', path);
      if (prev === 'directory') {
        if (!force) fail(`refusing to convert from directory to hard link for ${path}`, path);
        if ((await ctx.ops.listDir(path)).length > 0) fail(`the directory ${path} is not empty, refusing to convert it`, path);
      } else if (prev === 'file' && !force) {
        fail(`Cannot link, ${path} exists at destination`, path);
      }
      const same = lstat.exists && lstat.inode === srcStat!.inode && lstat.dev === srcStat!.dev;
      if (!same) {
        plan.changed = true;
        after.src = args.src;
        const wasDir = prev === 'directory';
        plan.actions.push(async () => {
          if (wasDir) await ctx.ops.remove(path, true);
          await ctx.ops.hardlink(args.src!, path);
        });
      }
      plan.result.src = args.src;
      const attrs = await attributes(path, srcStat, false);
      return finish(srcStat, attrs);
    }

    case 'touch': {
      if (prev === 'absent') {
        const attrs = planAttributes(undefined, wanted, false, umask);
        plan.changed = true;
        plan.actions.push(() => ctx.ops.touch(path, { mtime, atime }));
        if (attrs.mode !== undefined || args.owner !== undefined || args.group !== undefined) {
          after.mode = formatMode(attrs.finalMode!);
          plan.actions.push(() =>
            ctx.ops.setAttributes(path, {
              ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
              ...(args.owner !== undefined ? { owner: args.owner } : {}),
              ...(args.group !== undefined ? { group: args.group } : {}),
            }),
          );
        }
        return finish(undefined, attrs);
      }
      const stat = prev === 'link' && follow && followed.exists ? followed : lstat;
      const target = stat === followed ? followed.linkSource ?? path : path;
      const attrs = await attributes(target, stat, stat.type === 'directory');
      await times(target, stat, false);
      return finish(stat, attrs);
    }
  }
}

/** recurse: the same owner/group/mode on everything below (symbolic modes per entry, like chmod -R). */
async function recurse(dir: string, ctx: ModuleContext, wanted: { mode?: ModeSpec; owner?: string; group?: string }, umask: number, plan: Plan): Promise<void> {
  const entries = await ctx.ops.listTree(dir);
  const changedEntries: string[] = [];
  const befores: string[] = [];
  const afters: string[] = [];
  const byMode = new Map<number, string[]>();
  for (const entry of entries) {
    const attrs = planAttributes(entry, entry.type === 'link' ? { ...wanted, mode: undefined } : wanted, entry.type === 'directory', umask);
    if (!attrs.changed) continue;
    changedEntries.push(entry.path);
    befores.push(`${entry.path}: ${Object.values(attrs.before).join(' ')}`);
    afters.push(`${entry.path}: ${Object.values(attrs.after).join(' ')}`);
    if (attrs.before.mode !== undefined && entry.type !== 'link') {
      const mode = resolveMode(wanted.mode!, entry.mode, entry.type === 'directory', umask);
      byMode.set(mode, [...(byMode.get(mode) ?? []), entry.path]);
    }
  }
  if (changedEntries.length === 0) return;
  plan.changed = true;
  plan.diff.push({ before: befores.join('\n') + '\n', after: afters.join('\n') + '\n', beforeHeader: `${dir} (recursive)`, afterHeader: `${dir} (recursive)` });
  plan.actions.push(async () => {
    if (wanted.owner !== undefined || wanted.group !== undefined) {
      await ctx.ops.setAttributes(
        dir,
        { ...(wanted.owner !== undefined ? { owner: wanted.owner } : {}), ...(wanted.group !== undefined ? { group: wanted.group } : {}) },
        { follow: false, recurse: true },
      );
    }
    await ctx.ops.chmodMany([...byMode].flatMap(([mode, paths]) => paths.map((path) => ({ path, mode }))));
  });
}
