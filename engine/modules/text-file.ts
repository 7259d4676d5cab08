// What lineinfile, blockinfile and replace share: read the file (following a symlink, as
// Ansible writes to its real path) in one probe together with its folders, let the module
// compute the new text, then write it atomically (validate, backup, mode/owner/group) or only
// fix attributes — nothing in check mode — and report Ansible's msg and a whole-file diff.
import { posix } from 'node:path';
import type { FileStat } from '../connection/host-ops.js';
import { MODE_SCHEMA, type ModeSpec } from './mode.js';
import { failureResult, planAttributes, stateDiff } from './file-write.js';
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

async function editTextFileUnguarded(ctx: ModuleContext, args: TextFileArgs, missing: () => ModuleResult, editor: TextEditor): Promise<ModuleResult> {
  const chain: string[] = [];
  for (let p = posix.dirname(posix.resolve('/', args.path)); ; p = posix.dirname(p)) {
    chain.unshift(p);
    if (posix.dirname(p) === p) break;
  }
  const { stats, umask } = await ctx.ops.probe([args.path, ...chain], { follow: true, contentUpTo: PROBE_CONTENT_LIMIT });
  const stat = stats[0]!;
  if (stat.exists && stat.type === 'directory') return { changed: false, failed: true, rc: 256, msg: `Path ${args.path} is a directory !` };
  if (stat.exists && stat.type !== 'file') return { changed: false, failed: true, msg: `Path ${args.path} is not a regular file` };
  if (!stat.exists && !args.create) return missing();

  let before: string | null = null;
  let encoding: BufferEncoding = 'utf8';
  if (stat.exists) {
    const content = stat.content ?? (await ctx.ops.readFile(args.path));
    if (content === null) return missing();
    ({ text: before, encoding } = decode(content));
  }
  const outcome = editor(before);
  if (outcome.fail) return { changed: false, failed: true, msg: outcome.fail };
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
  if (ctx.check || !result.changed) return result;
  if (ctx.signal?.aborted) return { ...result, changed: false, failed: true, msg: 'interrupted before writing' };

  const attrOpts = {
    ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
    ...(attrs.owner !== undefined ? { owner: attrs.owner } : {}),
    ...(attrs.group !== undefined ? { group: attrs.group } : {}),
  };
  if (contentChanged) {
    const missingDirs = chain.filter((_, i) => !(stats[i + 1] as FileStat).exists);
    if (missingDirs.length > 0) await ctx.ops.mkdirs(missingDirs);
    const written = await ctx.ops.writeFileAtomic(target, Buffer.from(outcome.text, encoding), {
      ...attrOpts,
      ...(args.validate !== undefined ? { validate: args.validate } : {}),
      ...(args.backup && stat.exists ? { backup: true } : {}),
    });
    // lineinfile names it `backup`, blockinfile and replace `backup_file`
    if (written.backupFile) Object.assign(result, { backup: written.backupFile, backup_file: written.backupFile });
  } else {
    await ctx.ops.setAttributes(target, attrOpts);
  }
  return result;
}
