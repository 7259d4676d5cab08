// What copy and template share: compare wanted content and attributes with a probed file,
// build the diff a user sees, and write only what differs (nothing in check mode).
import { createHash } from 'node:crypto';
import type { FileStat } from '../connection/host-ops.js';
import { HostOpError, ValidateError } from '../connection/host-ops.js';
import { ShellSplitError } from '../connection/shell.js';
import { formatMode, MODE_SCHEMA, ModeError, resolveMode, type ModeSpec } from './mode.js';
import type { FileDiff, ModuleContext, ModuleResult } from './types.js';

/** Ansible's max_file_size_for_diff default. */
export const MAX_DIFF_BYTES = 104448;

export interface WantedAttributes {
  mode?: ModeSpec;
  owner?: string;
  group?: string;
}

export interface AttributePlan {
  /** The mode to apply (undefined: leave as it is / default for new files). */
  mode?: number;
  /** The mode the path has after the run, when known. */
  finalMode?: number;
  owner?: string;
  group?: string;
  changed: boolean;
  before: Record<string, string>;
  after: Record<string, string>;
}

function ownerMatches(name: string, id: number, wanted: string): boolean {
  return /^\d+$/.test(wanted) ? id === Number(wanted) : name === wanted;
}

/**
 * Compare wanted attributes with a path's stat. For a path about to be created, `stat` is
 * absent and the base mode is what the host gives new files (0666/0777 & ~umask), which is
 * also what a symbolic mode is resolved against, as Ansible does after creating it.
 */
export function planAttributes(stat: FileStat | undefined, wanted: WantedAttributes, isDir: boolean, umask: number): AttributePlan {
  const exists = stat?.exists === true;
  const current = exists ? stat!.mode : (isDir ? 0o777 : 0o666) & ~umask;
  const plan: AttributePlan = { changed: false, before: {}, after: {}, finalMode: current };
  if (wanted.mode !== undefined) {
    const mode = resolveMode(wanted.mode, current, isDir, umask);
    plan.mode = mode;
    plan.finalMode = mode;
    if (exists && mode !== stat!.mode) {
      plan.changed = true;
      plan.before.mode = formatMode(stat!.mode);
      plan.after.mode = formatMode(mode);
    }
  }
  if (wanted.owner !== undefined) {
    plan.owner = wanted.owner;
    if (exists && !ownerMatches(stat!.owner, stat!.uid, wanted.owner)) {
      plan.changed = true;
      plan.before.owner = stat!.owner;
      plan.after.owner = wanted.owner;
    }
  }
  if (wanted.group !== undefined) {
    plan.group = wanted.group;
    if (exists && !ownerMatches(stat!.group, stat!.gid, wanted.group)) {
      plan.changed = true;
      plan.before.group = stat!.group;
      plan.after.group = wanted.group;
    }
  }
  if (!exists) plan.changed = true;
  return plan;
}

/** A YAML-ish scalar for the small state diffs: plain when safe, quoted otherwise. */
function yamlScalar(key: string, value: string): string {
  if (key === 'mode') return `'${value}'`;
  return /^[A-Za-z0-9_\/.@%+,=~-][A-Za-z0-9_\/.@%+,=~: -]*$/.test(value) && !/[ :]$/.test(value) && !/: /.test(value)
    ? value
    : JSON.stringify(value);
}

/** An attribute/state diff like Ansible's: `path: /x\nstate: absent\n` → `...state: directory\n`. */
export function stateDiff(path: string, before: Record<string, string>, after: Record<string, string>): FileDiff {
  const render = (fields: Record<string, string>): string =>
    [`path: ${yamlScalar('path', path)}`, ...Object.entries(fields).map(([k, v]) => `${k}: ${yamlScalar(k, v)}`)].join('\n') + '\n';
  return { before: render(before), after: render(after), beforeHeader: path, afterHeader: path };
}

function isText(buf: Buffer): boolean {
  if (buf.includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
}

/**
 * A content diff. Binary or oversized sides become one-line notes (as Ansible skips them),
 * so the diff still shows that, and what, changed.
 */
export function contentDiff(dest: string, before: FileStat | undefined, after: Buffer, afterHeader: string): FileDiff {
  let beforeText = '';
  if (before?.exists) {
    if (before.content === undefined) beforeText = `diff skipped: destination file size is greater than ${MAX_DIFF_BYTES}\n`;
    else if (!isText(before.content)) beforeText = `diff skipped: destination file appears to be binary (${before.size} bytes, sha1 ${before.checksum ?? '?'})\n`;
    else beforeText = before.content.toString('utf8');
  }
  let afterText: string;
  if (after.length > MAX_DIFF_BYTES) afterText = `diff skipped: source file size is greater than ${MAX_DIFF_BYTES}\n`;
  else if (!isText(after)) afterText = `diff skipped: source file appears to be binary (${after.length} bytes, sha1 ${sha1(after)})\n`;
  else afterText = after.toString('utf8');
  return { before: beforeText, after: afterText, beforeHeader: dest, afterHeader };
}

export function sha1(data: Buffer): string {
  return createHash('sha1').update(data).digest('hex');
}

export interface EnsureContentArgs extends WantedAttributes {
  dest: string;
  content: Buffer;
  /** Shown as the diff's "after" header and returned as `src`. */
  srcLabel: string;
  src?: string;
  backup?: boolean;
  validate?: string;
  force?: boolean;
  /** Write through a symlinked dest to its target (default false: the link is replaced). */
  follow?: boolean;
  /** The probed destination (follow: true, sha1, content up to MAX_DIFF_BYTES when diffing). */
  stat: FileStat;
  umask: number;
}

/**
 * Make `dest` hold `content` with the wanted attributes: write it atomically when the content
 * differs (attributes applied in the same round trip), otherwise only fix attributes.
 */
export async function ensureFileContent(ctx: ModuleContext, a: EnsureContentArgs): Promise<ModuleResult> {
  const { stat } = a;
  // with follow a symlinked dest is written where it points; without, the link is replaced
  const dest = a.follow && stat.exists && stat.linkSource ? stat.linkSource : a.dest;
  if (stat.exists && stat.type !== 'file') {
    return { changed: false, failed: true, msg: `Destination ${a.dest} is a ${stat.type}, not a file`, dest: a.dest };
  }
  if (stat.exists && a.force === false) {
    return { changed: false, msg: 'file already exists', dest: a.dest, ...(a.src ? { src: a.src } : {}) };
  }
  const checksum = sha1(a.content);
  const contentChanged = !stat.exists || stat.checksum !== checksum;
  const attrs = planAttributes(stat, a, false, a.umask);
  const changed = contentChanged || attrs.changed;
  const diff: FileDiff[] = [];
  if (contentChanged) diff.push(contentDiff(a.dest, stat, a.content, a.srcLabel));
  if (stat.exists && Object.keys(attrs.after).length > 0) diff.push(stateDiff(a.dest, attrs.before, attrs.after));

  const result: ModuleResult = {
    changed,
    dest: a.dest,
    ...(a.src ? { src: a.src } : {}),
    checksum,
    size: a.content.length,
    state: 'file',
  };
  let final: FileStat | undefined;
  if (changed && !ctx.check) {
    if (ctx.signal?.aborted) return { ...result, changed: false, failed: true, msg: 'interrupted before writing' };
    if (contentChanged) {
      const written = await ctx.ops.writeFileAtomic(dest, a.content, {
        ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
        ...(attrs.owner !== undefined ? { owner: attrs.owner } : {}),
        ...(attrs.group !== undefined ? { group: attrs.group } : {}),
        ...(a.validate !== undefined ? { validate: a.validate } : {}),
        ...(a.backup ? { backup: true } : {}),
      });
      final = written.stat;
      if (written.backupFile) result.backup_file = written.backupFile;
    } else {
      await ctx.ops.setAttributes(dest, {
        ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
        ...(attrs.owner !== undefined ? { owner: attrs.owner } : {}),
        ...(attrs.group !== undefined ? { group: attrs.group } : {}),
      });
    }
  }
  const mode = final?.mode ?? attrs.finalMode;
  if (mode !== undefined) result.mode = formatMode(mode);
  result.owner = final?.owner ?? attrs.owner ?? stat.owner;
  result.group = final?.group ?? attrs.group ?? stat.group;
  if (final) {
    result.uid = final.uid;
    result.gid = final.gid;
  } else if (stat.exists && !attrs.changed) {
    result.uid = stat.uid;
    result.gid = stat.gid;
  }
  if (diff.length > 0) result.diff = diff;
  return result;
}

/** Turn the errors a host operation or a bad argument can raise into a failed result. */
export function failureResult(err: unknown): ModuleResult {
  if (err instanceof ValidateError) {
    return { changed: false, failed: true, msg: err.message, exit_status: err.rc, stdout: err.stdout, stderr: err.stderr };
  }
  if (err instanceof HostOpError) return { changed: false, failed: true, msg: err.message, rc: err.rc };
  if (err instanceof ModeError) return { changed: false, failed: true, msg: err.message };
  if (err instanceof ShellSplitError) return { changed: false, failed: true, msg: err.message };
  throw err;
}

/** Run a module body, reporting host-operation errors as a failed result. */
export async function guarded(body: () => Promise<ModuleResult>): Promise<ModuleResult> {
  try {
    return await body();
  } catch (err) {
    return failureResult(err);
  }
}

/**
 * The destination's folder must exist. In check mode a missing folder is taken as one an
 * earlier task of the play creates, so the plan shows the file it would then write.
 */
export function checkDestDir(dirStat: FileStat, check: boolean): ModuleResult | undefined {
  if (dirStat.type === 'directory') return undefined;
  if (check && dirStat.type === 'absent') return undefined;
  return { changed: false, failed: true, msg: `Destination directory ${dirStat.path} does not exist` };
}

/** Arguments every module that writes one file shares (copy, template): Ansible's names. */
export const FILE_WRITE_PROPERTIES = {
  dest: { type: 'string', minLength: 1 },
  mode: MODE_SCHEMA,
  owner: { type: 'string' },
  group: { type: 'string' },
  backup: { type: 'boolean' },
  validate: { type: 'string', pattern: '%s' },
  force: { type: 'boolean' },
  follow: { type: 'boolean' },
} as const;
