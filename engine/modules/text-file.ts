// What lineinfile, blockinfile and replace share: read the file (following a symlink, as
// Ansible writes to its real path) in one probe together with its folders, let the module
// compute the new text, then write it atomically (validate, backup, mode/owner/group) or only
// fix attributes — nothing in check mode — and report Ansible's msg and a whole-file diff.
// When the current text is known before the probe (a file to create, or one this run already
// read or wrote) the write rides on the probe's round trip (speculateEdit).
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { FileAttributes, FileStat, ProbeThen, WriteOptions } from '../connection/host-ops.js';
import { absentStat, digestGuard, kindGuard, replaceableGuard } from '../connection/stat-batch.js';
import { MODE_SCHEMA, type ModeSpec } from './mode.js';
import { acceptChainedWrite, failureResult, isNumericMode, planAttributes, SPECULATIVE_WRITE_MAX_BYTES, stateDiff } from './file-write.js';
import { PatternError, type EditOutcome } from './text-edit.js';
import type { FileDiff, ModuleContext, ModuleResult } from './types.js';

/** Files larger than this are read with readFile instead of inside the probe. */
const PROBE_CONTENT_LIMIT = 4 * 1024 * 1024;

export interface TextFileArgs {
  path: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  backup?: boolean;
  validate?: string;
  /** Create a missing file (and its folders); otherwise a missing file is `missing`'s result. */
  create?: boolean;
}

/** Arguments lineinfile, blockinfile and replace share; `path` has Ansible's aliases. */
export const TEXT_FILE_PROPERTIES = {
  path: { type: 'string', minLength: 1 },
  dest: { type: 'string', minLength: 1 },
  destfile: { type: 'string', minLength: 1 },
  name: { type: 'string', minLength: 1 },
  mode: MODE_SCHEMA,
  owner: { type: 'string' },
  group: { type: 'string' },
  backup: { type: 'boolean' },
  validate: { type: 'string', pattern: '%s' },
  unsafe_writes: { type: 'boolean' },
  attributes: { type: 'string' },
  attr: { type: 'string' },
  seuser: { type: 'string' },
  serole: { type: 'string' },
  setype: { type: 'string' },
  selevel: { type: 'string' },
  encoding: { type: 'string' },
} as const;

/** Exactly one of path and its aliases. */
export const ONE_PATH = { oneOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['destfile'] }, { required: ['name'] }] };

export function pathArg(args: { path?: string; dest?: string; destfile?: string; name?: string }): string {
  return (args.path ?? args.dest ?? args.destfile ?? args.name)!;
}

/** How text travels: UTF-8 when the bytes are UTF-8, else latin1 (one char a byte, lossless). */
function decode(buf: Buffer): { text: string; encoding: BufferEncoding } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf), encoding: 'utf8' };
  } catch {
    return { text: buf.toString('latin1'), encoding: 'latin1' };
  }
}

export type TextEditor = (before: string | null) => EditOutcome & { fail?: string; extra?: Record<string, unknown> };

/**
 * Edit a text file on the host. `editor` gets the current text (null when absent and
 * `create`); `missing` is the result for an absent file without create.
 */
export async function editTextFile(ctx: ModuleContext, args: TextFileArgs, missing: () => ModuleResult, editor: TextEditor): Promise<ModuleResult> {
  try {
    return await editTextFileUnguarded(ctx, args, missing, editor);
  } catch (err) {
    if (err instanceof PatternError) return { changed: false, failed: true, msg: err.message };
    return failureResult(err);
  }
}

interface TextPlan {
  /** The result, final when nothing is to be done on the host. */
  result: ModuleResult;
  /** Folders to create before writing (create: true). */
  missingDirs?: string[];
  write?: { path: string; data: Buffer; opts: WriteOptions };
  fix?: { path: string; attrs: FileAttributes };
}

/** The folders above `path`, parents first (what the probe looks at after the file). */
function folderChain(path: string): string[] {
  const chain: string[] = [];
  for (let p = posix.dirname(posix.resolve('/', path)); ; p = posix.dirname(p)) {
    chain.unshift(p);
    if (posix.dirname(p) === p) break;
  }
  return chain;
}

/** Everything the module decides from the probed file (its content read when needed). */
async function planTextFile(ctx: ModuleContext, args: TextFileArgs, missing: () => ModuleResult, editor: TextEditor, stats: readonly FileStat[], umask: number): Promise<TextPlan> {
  const chain = folderChain(args.path);
  const stat = stats[0]!;
  if (stat.exists && stat.type === 'directory') return { result: { changed: false, failed: true, rc: 256, msg: `Path ${args.path} is a directory !` } };
  if (stat.exists && stat.type !== 'file') return { result: { changed: false, failed: true, msg: `Path ${args.path} is not a regular file` } };
  if (!stat.exists && !args.create) return { result: missing() };

  let before: string | null = null;
  let encoding: BufferEncoding = 'utf8';
  if (stat.exists) {
    const content = stat.content ?? (await ctx.ops.readFile(args.path));
    if (content === null) return { result: missing() };
    ({ text: before, encoding } = decode(content));
  }
  const outcome = editor(before);
  if (outcome.fail) return { result: { changed: false, failed: true, msg: outcome.fail } };
  const extra = outcome.extra ?? {};
  const contentChanged = outcome.changed;
  const target = stat.exists && stat.linkSource ? stat.linkSource : args.path;

  const wanted = {
    ...(args.mode !== undefined ? { mode: args.mode } : {}),
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
  };
  const attrs = planAttributes(stat.exists ? stat : undefined, wanted, false, umask);
  const attrsChanged = stat.exists && attrs.changed;
  let msg = outcome.msg;
  if (attrsChanged) msg = `${msg}${contentChanged ? ' and ' : ''}ownership, perms or SE linux context changed`;

  const diff: FileDiff[] = [];
  const header = `${args.path} (content)`;
  if (contentChanged) diff.push({ before: before ?? '', after: outcome.text, beforeHeader: header, afterHeader: header });
  if (attrsChanged) diff.push(stateDiff(args.path, attrs.before, attrs.after));
  const result: ModuleResult = { changed: contentChanged || attrsChanged, msg, ...extra };
  if (diff.length > 0) result.diff = diff;
  if (!result.changed) return { result };

  const attrOpts = {
    ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
    ...(attrs.owner !== undefined ? { owner: attrs.owner } : {}),
    ...(attrs.group !== undefined ? { group: attrs.group } : {}),
  };
  if (!contentChanged) return { result, fix: { path: target, attrs: attrOpts } };
  return {
    result,
    missingDirs: chain.filter((_, i) => !(stats[i + 1] as FileStat).exists),
    write: {
      path: target,
      data: Buffer.from(outcome.text, encoding),
      opts: { ...attrOpts, ...(args.validate !== undefined ? { validate: args.validate } : {}), ...(args.backup && stat.exists ? { backup: true } : {}) },
    },
  };
}

/**
 * What this run last read or wrote at a path, per connection (so per host): the text a later
 * edit of the same file will most likely find (several lineinfile tasks on one sshd_config).
 * Only a guess: the host checks it (sha1) before anything is written. Bounded per host (the
 * most recent files within KNOWN_BYTES_PER_HOST), so a run on many hosts stays small.
 */
const knownTexts = new WeakMap<object, Map<string, Buffer>>();
const KNOWN_BYTES_PER_HOST = 128 * 1024;

function remember(ctx: ModuleContext, path: string, data: Buffer | undefined): void {
  let known = knownTexts.get(ctx.conn);
  if (!known) knownTexts.set(ctx.conn, (known = new Map()));
  known.delete(path);
  if (data === undefined || data.length > SPECULATIVE_WRITE_MAX_BYTES) return;
  known.set(path, data);
  let bytes = 0;
  for (const b of known.values()) bytes += b.length;
  // oldest first (a Map keeps insertion order)
  for (const [p, b] of known) {
    if (bytes <= KNOWN_BYTES_PER_HOST) break;
    known.delete(p);
    bytes -= b.length;
  }
}

/**
 * The new text depends on the current one, so the write can ride on the probe only when the
 * current text is known beforehand:
 * - a file to create (create: true, the editor gets no text) under existing folders; guard:
 *   the file absent (not a link), every folder above a directory;
 * - a file this run read or wrote earlier (knownTexts), expected unchanged since; guard: a
 *   regular file (not a link) whose sha1 is the known text's, every folder a directory.
 * The plan is computed for that state by the same planner; its write is chained behind the
 * guard with the text on stdin, and after the exec the plan from what the probe returned must
 * be that very write (same script), so results, diffs, backup and validate are the two-step
 * ones. Anything else (a file changed by someone else, a first edit of an existing file) is
 * two round trips: the probe brings the text back and the edit (Python regexps) runs on the
 * controller. Never in check mode.
 */
async function speculateEdit(ctx: ModuleContext, args: TextFileArgs, missing: () => ModuleResult, editor: TextEditor): Promise<ProbeThen | undefined> {
  if (ctx.check || ctx.signal?.aborted) return undefined;
  if (args.mode !== undefined && !isNumericMode(args.mode)) return undefined;
  const known = knownTexts.get(ctx.conn)?.get(args.path);
  if (!known && !args.create) return undefined;
  const chain = folderChain(args.path);
  const file: FileStat = known
    ? { ...absentStat(args.path), exists: true, type: 'file', mode: 0o644, nlink: 1, size: known.length, content: known, readable: true, writeable: true }
    : absentStat(args.path);
  const expected = [file, ...chain.map((p) => ({ ...absentStat(p), exists: true, type: 'directory' as const, mode: 0o755 }))];
  try {
    const plan = await planTextFile(ctx, args, missing, editor, expected, 0o022);
    if (!plan.write || plan.missingDirs?.length || plan.write.data.length > SPECULATIVE_WRITE_MAX_BYTES) return undefined;
    const chained = ctx.ops.chainableWrite(plan.write.path, plan.write.data, plan.write.opts);
    if (!chained) return undefined;
    const folders = kindGuard(chain.map((p) => ({ path: p, follow: true, kind: 'directory' as const })));
    const state = known ? digestGuard(args.path, 'sha1sum', createHash('sha1').update(known).digest('hex')) : replaceableGuard(args.path);
    return { guard: `${folders} && ${state}`, ...chained };
  } catch {
    return undefined; // e.g. a bad pattern or mode: the real plan says so
  }
}

async function editTextFileUnguarded(ctx: ModuleContext, args: TextFileArgs, missing: () => ModuleResult, editor: TextEditor): Promise<ModuleResult> {
  const chain = folderChain(args.path);
  const speculation = await speculateEdit(ctx, args, missing, editor);
  const { stats, umask, then } = await ctx.ops.probe([args.path, ...chain], { follow: true, contentUpTo: PROBE_CONTENT_LIMIT }, speculation);
  const stat = stats[0]!;
  remember(ctx, args.path, stat.type === 'file' && !stat.linkSource ? stat.content : undefined);
  const plan = await planTextFile(ctx, args, missing, editor, stats, umask);
  const { result } = plan;
  if (speculation && then?.ran) {
    // the same write with no folder to create first, or the chained one was not this plan
    const written = acceptChainedWrite(ctx, plan.missingDirs?.length ? undefined : plan.write, plan.write?.data ?? Buffer.alloc(0), { speculation, then });
    if (written.backupFile) Object.assign(result, { backup: written.backupFile, backup_file: written.backupFile });
    remember(ctx, args.path, plan.write!.data);
    return result;
  }
  if (ctx.check || !result.changed) return result;
  if (ctx.signal?.aborted) return { ...result, changed: false, failed: true, msg: 'interrupted before writing' };
  if (plan.write) {
    if (plan.missingDirs?.length) await ctx.ops.mkdirs(plan.missingDirs);
    remember(ctx, args.path, undefined);
    const written = await ctx.ops.writeFileAtomic(plan.write.path, plan.write.data, plan.write.opts);
    if (plan.write.path === args.path) remember(ctx, args.path, plan.write.data);
    // lineinfile names it `backup`, blockinfile and replace `backup_file`
    if (written.backupFile) Object.assign(result, { backup: written.backupFile, backup_file: written.backupFile });
  } else if (plan.fix) {
    await ctx.ops.setAttributes(plan.fix.path, plan.fix.attrs);
  }
  return result;
}
