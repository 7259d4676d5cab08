// file over a loop's items in one round trip (issue 8): ONE probe of every item's paths, with
// each item's change for the state it expects (file.ts speculate) chained behind it, each with
// its own guard. Then, item by item in order, the plan from what the probe saw, exactly as a
// lone file task (file.ts applyPlan): a chained change counts only if it is that plan.
//
// Soundness: an item's plan is computed from the state BEFORE the earlier items ran. That is
// only the state the item meets when no earlier item changed a path its plan reads. The rule
// (the simple one): an item whose paths overlap what an earlier item of the batch may have
// written — the same path, one below the other, the same inode, or an ancestor the earlier item
// created or a link resolves through — is not planned from the batch probe: it and every item
// after it run one by one (file.ts runFile, their own probes), in order. Chained changes only
// ever go to a prefix of the items: the first guard that does not hold ends the chain on the
// host, so whatever runs after the exec comes after every change made in it.
import { posix } from 'node:path';
import type { FileStat, ProbeResult, ProbeTarget, ProbeThen } from '../connection/host-ops.js';
import type { ModuleContext, ModuleResult } from './types.js';
import type { FileArgs } from './file.js';
import { guarded } from './file-write.js';

/** file.ts's pieces a loop batch uses (passed in: file.ts imports this file). */
export interface FileLoopParts {
  runOne(args: FileArgs, ctx: ModuleContext): Promise<ModuleResult>;
  pathOf(args: FileArgs): string;
  probeTargets(args: FileArgs, path: string): ProbeTarget[];
  speculate(args: FileArgs, path: string, targets: ProbeTarget[], ctx: ModuleContext): Promise<ProbeThen | undefined>;
  /** Whether the plan from `probed` is exactly the speculated change. */
  planIsSpeculation(args: FileArgs, path: string, ctx: ModuleContext, probed: Pick<ProbeResult, 'stats' | 'umask'>, speculation: { script: string }): Promise<boolean>;
  applyPlan(
    args: FileArgs,
    path: string,
    ctx: ModuleContext,
    probed: Pick<ProbeResult, 'stats' | 'umask'>,
    then: { ran: boolean; rc: number; output: string } | undefined,
    speculation: { script: string } | undefined,
  ): Promise<ModuleResult>;
  fileOutcome(path: string, body: () => Promise<ModuleResult>): Promise<ModuleResult>;
}

interface Item {
  args: FileArgs;
  path: string;
  targets: ProbeTarget[];
  /** Each target's index in the batch probe. */
  at: number[];
}

/** Paths (and inodes) an item's plan reads, or an item may have written. */
interface Footprint {
  /** Read or written as a whole: anything at, above or below them overlaps. */
  paths: string[];
  /** Read only as "is a folder": a write at or above them overlaps, one below does not. */
  under: string[];
  /** dev:inode of the existing paths (hard links, bind mounts). */
  ids: string[];
  /** A folder above is a symbolic link: where it leads is another name for the same files. */
  linkedAncestor: boolean;
}

export async function runFileMany(argsList: FileArgs[], ctx: ModuleContext, parts: FileLoopParts): Promise<ModuleResult[]> {
  const items: Item[] = argsList.map((args) => {
    const path = parts.pathOf(args);
    return { args, path, targets: parts.probeTargets(args, path), at: [] };
  });
  // paths compared as text must be plain absolute ones
  if (!items.every((item) => item.targets.every((t) => posix.isAbsolute(t.path) && posix.normalize(t.path) === t.path))) return oneByOne(items, ctx, parts);

  const union: ProbeTarget[] = [];
  const index = new Map<string, number>();
  for (const item of items) {
    item.at = item.targets.map((t) => {
      const key = `${t.follow ? 1 : 0}${t.path}`;
      if (!index.has(key)) index.set(key, union.push(t) - 1);
      return index.get(key)!;
    });
  }

  // chained: a prefix of the items, each expecting a state no earlier chained item touches
  const chain: ProbeThen[] = [];
  const chainedWrites: Footprint[] = [];
  for (const item of items) {
    const speculation = await parts.speculate(item.args, item.path, item.targets, ctx);
    if (!speculation || chainedWrites.some((w) => overlaps(w, lexicalReads(item)))) break;
    chain.push(speculation);
    chainedWrites.push({ paths: [item.path], under: [], ids: [], linkedAncestor: false });
  }

  const probed = await ctx.ops.probeChain(union, {}, chain);
  const results: ModuleResult[] = [];
  const written: Footprint[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const seen = { stats: item.at.map((k) => probed.stats[k]!), umask: probed.umask };
    const speculation = chain[i];
    const then = speculation ? probed.chain[i] : undefined;
    const reads = readsOf(item, seen.stats);
    let stale = written.length > 0 && (reads.linkedAncestor || written.some((w) => overlaps(w, reads)));
    // where the chain stopped: a guard that failed although the probe saw what it expects
    // means an earlier item changed this item's paths under another name
    if (!stale && written.length > 0 && speculation && !then!.ran) stale = await parts.planIsSpeculation(item.args, item.path, ctx, seen, speculation).catch(() => true);
    if (stale) return [...results, ...(await oneByOne(items.slice(i), ctx, parts))];
    const result = await guarded(() => parts.fileOutcome(item.path, () => parts.applyPlan(item.args, item.path, ctx, seen, then, speculation)));
    results.push(result);
    if (!ctx.check && (then?.ran || result.changed || result.failed)) written.push(writesOf(item, seen.stats, reads));
  }
  return results;
}

async function oneByOne(items: readonly Item[], ctx: ModuleContext, parts: FileLoopParts): Promise<ModuleResult[]> {
  const results: ModuleResult[] = [];
  for (const item of items) results.push(await guarded(() => parts.runOne(item.args, ctx)));
  return results;
}

/** Folders above `path`, outermost first, without `path`. */
function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let p = posix.dirname(path); ; p = posix.dirname(p)) {
    out.unshift(p);
    if (posix.dirname(p) === p) break;
  }
  return path === '/' ? [] : out;
}

/** Before the probe: the item's own path and link src, and the folders above it. */
function lexicalReads(item: Item): Footprint {
  const above = ancestorsOf(item.path);
  const own = item.targets.slice(0, item.targets.length - above.length - 1).map((t) => t.path);
  return { paths: [...new Set(own)], under: above, ids: [], linkedAncestor: false };
}

/** The probe's targets: [path, path followed, src (link/hard)?, ...every folder down to path]. */
function split(item: Item, stats: FileStat[]): { own: FileStat[]; above: FileStat[] } {
  const above = ancestorsOf(item.path).length;
  const ownCount = stats.length - above - 1; // the chain's last entry is the path itself
  return { own: stats.slice(0, ownCount), above: stats.slice(ownCount, ownCount + above) };
}

function readsOf(item: Item, stats: FileStat[]): Footprint {
  const { own, above } = split(item, stats);
  const paths = new Set<string>([item.path, ...item.targets.slice(0, own.length).map((t) => t.path)]);
  for (const s of own) if (s.linkSource !== undefined) paths.add(s.linkSource);
  const ids = own.filter((s) => s.exists).map((s) => `${s.dev}:${s.inode}`);
  return { paths: [...paths], under: ancestorsOf(item.path), ids, linkedAncestor: above.some((s) => s.linkSource !== undefined) };
}

function writesOf(item: Item, stats: FileStat[], reads: Footprint): Footprint {
  const { above } = split(item, stats);
  const created = above.filter((s) => !s.exists).map((s) => s.path);
  return { paths: [...reads.paths, ...created], under: [], ids: reads.ids, linkedAncestor: false };
}

function isBelow(child: string, parent: string): boolean {
  return parent === '/' ? child !== '/' : child.startsWith(`${parent}/`);
}

/** Whether what `written` may have changed is something `reads` depends on. */
function overlaps(written: Footprint, reads: Footprint): boolean {
  for (const w of written.paths) {
    if (reads.paths.some((r) => r === w || isBelow(r, w) || isBelow(w, r))) return true;
    if (reads.under.some((a) => a === w || isBelow(a, w))) return true;
  }
  return written.ids.some((id) => reads.ids.includes(id));
}
