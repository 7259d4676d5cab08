// copy: put a controller file, a folder tree, inline content, or a file already on the host
// (remote_src) at dest. One probe round trip for everything compared, one write per file
// that differs, nothing written in check mode. A single file (content or src, up to 64 KiB)
// that is new or differs is written in the probe's own round trip (file-write.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { MODE_SCHEMA, resolveMode, type ModeSpec } from './mode.js';
import { checkDestDir, FILE_WRITE_PROPERTIES, ensureFileContent, guarded, MAX_DIFF_BYTES, planAttributes, speculateFileContent, stateDiff, unlessChained } from './file-write.js';
import { findControllerSource, notFoundMessage } from './source-path.js';
import type { FileStat } from '../connection/host-ops.js';

export interface CopyArgs {
  src?: string;
  content?: string;
  dest: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  backup?: boolean;
  validate?: string;
  force?: boolean;
  remote_src?: boolean;
  directory_mode?: ModeSpec;
  follow?: boolean;
  local_follow?: boolean;
}

export const copySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dest'],
  properties: {
    ...FILE_WRITE_PROPERTIES,
    src: { type: 'string', minLength: 1 },
    content: { type: 'string' },
    remote_src: { type: 'boolean' },
    directory_mode: MODE_SCHEMA,
    local_follow: { type: 'boolean' },
  },
  not: { required: ['src', 'content'] },
};

export default defineModule<CopyArgs>({
  name: 'copy',
  aliases: ['ansible.builtin.copy', 'ansible.legacy.copy'],
  schema: copySchema,
  run: (args, ctx) => guarded(() => runCopy(args, ctx)),
});

/** Owner, group and a numeric mode as the probe wants them. */
function wanted(args: CopyArgs, preserveMode?: number): { mode?: ModeSpec; owner?: string; group?: string } {
  const mode = args.mode === 'preserve' ? preserveMode : args.mode;
  return {
    ...(mode !== undefined ? { mode } : {}),
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
  };
}

async function runCopy(args: CopyArgs, ctx: ModuleContext): Promise<ModuleResult> {
  if (args.src === undefined && args.content === undefined) return { changed: false, failed: true, msg: 'src (or content) is required' };
  const probeOpts = { follow: true, checksum: 'sha1' as const, ...(ctx.diff ? { contentUpTo: MAX_DIFF_BYTES } : {}) };

  if (args.content !== undefined) {
    if (args.dest.endsWith('/')) return { changed: false, failed: true, msg: 'can not use content with a dir as dest' };
    const write = { ...commonArgs(args), content: Buffer.from(args.content, 'utf8'), srcLabel: 'dynamically generated' };
    const speculation = speculateFileContent(ctx, write, posix.dirname(args.dest));
    const { stats, umask, then } = await ctx.ops.probe([args.dest, posix.dirname(args.dest)], probeOpts, speculation);
    // (the guard holds only for a file or nothing at dest, under a folder: these fail it)
    if (stats[0]!.type === 'directory') return unlessChained(then, { changed: false, failed: true, msg: 'can not use content with a dir as dest' });
    const missingDir = checkDestDir(stats[1]!, ctx.check);
    if (missingDir) return unlessChained(then, missingDir);
    return ensureFileContent(ctx, { ...write, stat: stats[0]!, umask }, { speculation, then });
  }

  if (args.remote_src) return copyOnHost(args, args.src!, ctx);

  const lookup = findControllerSource(ctx, args.src!, 'files');
  if (!lookup.found) return { changed: false, failed: true, msg: notFoundMessage(args.src!, lookup.searched) };
  const srcStat = statSync(lookup.found);
  if (srcStat.isDirectory()) return copyTree(args, lookup.found, ctx);
  const content = readFileSync(lookup.found);
  const preserve = srcStat.mode & 0o7777;

  // dest/ or an existing folder: the file goes inside, under its own name
  const name = basename(lookup.found);
  const inside = posix.join(args.dest, name);
  const write = { ...commonArgs(args, preserve), content, src: lookup.found, srcLabel: lookup.found };
  // into a folder: the dest is only known after the probe, so nothing to chain
  const speculation = args.dest.endsWith('/') ? undefined : speculateFileContent(ctx, write, posix.dirname(args.dest));
  const { stats, umask, then } = await ctx.ops.probe([args.dest, inside, posix.dirname(args.dest)], probeOpts, speculation);
  const intoDir = args.dest.endsWith('/') || stats[0]!.type === 'directory';
  const dest = intoDir ? inside : args.dest;
  const stat = intoDir ? stats[1]! : stats[0]!;
  const result: ModuleResult = { changed: false };
  if (args.dest.endsWith('/') && !stats[0]!.exists) {
    // Ansible creates a missing dest/ folder (and its parents) for a file copied into it
    const created = await createFolders(ctx, args.dest.replace(/\/+$/, '') || '/', args, umask);
    result.changed = created.changed;
    if (created.diff.length) result.diff = created.diff;
  } else if (!intoDir) {
    const missingDir = checkDestDir(stats[2]!, ctx.check);
    if (missingDir) return unlessChained(then, missingDir);
  }
  const fileResult = await ensureFileContent(ctx, { ...write, dest, stat, umask }, { speculation, then });
  return mergeResults(result, fileResult);
}

function commonArgs(args: CopyArgs, preserveMode?: number) {
  return {
    ...wanted(args, preserveMode),
    dest: args.dest,
    ...(args.backup !== undefined ? { backup: args.backup } : {}),
    ...(args.validate !== undefined ? { validate: args.validate } : {}),
    ...(args.force !== undefined ? { force: args.force } : {}),
    ...(args.follow !== undefined ? { follow: args.follow } : {}),
  };
}

function mergeResults(first: ModuleResult, second: ModuleResult): ModuleResult {
  const diff: FileDiff[] = [...(first.diff ?? []), ...(second.diff ?? [])];
  return { ...second, changed: first.changed || second.changed, ...(diff.length ? { diff } : {}) };
}

/** Create `dir` and any missing parents, with directory_mode (else the host default). */
async function createFolders(ctx: ModuleContext, dir: string, args: CopyArgs, umask: number): Promise<{ changed: boolean; diff: FileDiff[] }> {
  const chain: string[] = [];
  for (let p = dir; ; p = posix.dirname(p)) {
    chain.unshift(p);
    if (posix.dirname(p) === p) break;
  }
  const stats = await ctx.ops.statMany(chain, { follow: true });
  const missing = chain.filter((_, i) => !stats[i]!.exists);
  return createMissing(ctx, missing, args, umask);
}

async function createMissing(ctx: ModuleContext, missing: string[], args: CopyArgs, umask: number): Promise<{ changed: boolean; diff: FileDiff[] }> {
  if (missing.length === 0) return { changed: false, diff: [] };
  const base = 0o777 & ~umask;
  const mode = args.directory_mode !== undefined ? resolveMode(args.directory_mode, base, true, umask) : undefined;
  const diff = missing.map((p) => stateDiff(p, { state: 'absent' }, { state: 'directory', mode: (mode ?? base).toString(8).padStart(4, '0') }));
  if (!ctx.check) {
    await ctx.ops.mkdirs(missing, {
      ...(mode !== undefined ? { mode } : {}),
      ...(args.owner !== undefined ? { owner: args.owner } : {}),
      ...(args.group !== undefined ? { group: args.group } : {}),
    });
  }
  return { changed: true, diff };
}

interface TreeEntry {
  rel: string;
  local: string;
  dir: boolean;
}

/** Every folder and file under root, parents before children (symlinks followed, like local_follow). */
function walk(root: string, rel = ''): TreeEntry[] {
  const out: TreeEntry[] = [];
  for (const name of readdirSync(join(root, rel)).sort()) {
    const relPath = rel ? `${rel}/${name}` : name;
    const local = join(root, relPath);
    const isDir = statSync(local).isDirectory();
    out.push({ rel: relPath, local, dir: isDir });
    if (isDir) out.push(...walk(root, relPath));
  }
  return out;
}

/** A folder src: `dir/` copies its contents into dest, `dir` the folder itself. */
async function copyTree(args: CopyArgs, srcDir: string, ctx: ModuleContext): Promise<ModuleResult> {
  const destRoot = args.src!.endsWith('/') ? args.dest.replace(/\/+$/, '') || '/' : posix.join(args.dest, basename(srcDir));
  const entries = walk(srcDir);
  const chain: string[] = [];
  for (let p = destRoot; ; p = posix.dirname(p)) {
    chain.unshift(p);
    if (posix.dirname(p) === p) break;
  }
  const paths = [...chain, ...entries.map((e) => posix.join(destRoot, e.rel))];
  const { stats, umask } = await ctx.ops.probe(paths, { follow: true, checksum: 'sha1', ...(ctx.diff ? { contentUpTo: MAX_DIFF_BYTES } : {}) });
  const byPath = new Map(paths.map((p, i) => [p, stats[i]!]));

  let changed = false;
  const diff: FileDiff[] = [];
  const missingDirs = [...chain, ...entries.filter((e) => e.dir).map((e) => posix.join(destRoot, e.rel))].filter((p) => !byPath.get(p)!.exists);
  for (const p of [...chain, ...entries.map((e) => posix.join(destRoot, e.rel))]) {
    const s = byPath.get(p)!;
    const shouldBeDir = chain.includes(p) || entries.find((e) => posix.join(destRoot, e.rel) === p)!.dir;
    if (s.exists && shouldBeDir && s.type !== 'directory') return { changed: false, failed: true, msg: `${p} exists and is not a directory` };
  }
  const created = await createMissing(ctx, missingDirs, args, umask);
  changed ||= created.changed;
  diff.push(...created.diff);

  for (const entry of entries.filter((e) => !e.dir)) {
    const dest = posix.join(destRoot, entry.rel);
    const content = readFileSync(entry.local);
    const r = await ensureFileContent(ctx, {
      ...commonArgs(args, statSync(entry.local).mode & 0o7777),
      dest,
      content,
      src: entry.local,
      srcLabel: entry.local,
      stat: byPath.get(dest)!,
      umask,
    });
    if (r.failed) return { ...r, changed: changed || r.changed };
    changed ||= r.changed;
    if (r.diff) diff.push(...r.diff);
  }
  const rootStat = byPath.get(destRoot)!;
  const mode = rootStat.exists ? rootStat.mode : undefined;
  return {
    changed,
    dest: destRoot.endsWith('/') ? destRoot : `${destRoot}/`,
    src: srcDir,
    ...(mode !== undefined ? { mode: mode.toString(8).padStart(4, '0') } : {}),
    ...(diff.length ? { diff } : {}),
  };
}

/** remote_src: the content is a file on the host; compared by checksum, copied on the host. */
async function copyOnHost(args: CopyArgs, src: string, ctx: ModuleContext): Promise<ModuleResult> {
  const inside = posix.join(args.dest, posix.basename(src));
  const { stats, umask } = await ctx.ops.probe([src, args.dest, inside, posix.dirname(args.dest)], {
    follow: true,
    checksum: 'sha1',
    ...(ctx.diff ? { contentUpTo: MAX_DIFF_BYTES } : {}),
  });
  const srcStat = stats[0]!;
  if (!srcStat.exists) return { changed: false, failed: true, msg: `Source ${src} not found` };
  if (srcStat.type === 'directory') return { changed: false, failed: true, msg: `Source ${src} is a directory: remote_src copies of folders are not supported yet` };
  if (!srcStat.readable) return { changed: false, failed: true, msg: `Source ${src} not readable` };
  const intoDir = args.dest.endsWith('/') || stats[1]!.type === 'directory';
  const dest = intoDir ? inside : args.dest;
  const destStat = intoDir ? stats[2]! : stats[1]!;
  if (!intoDir) {
    const missingDir = checkDestDir(stats[3]!, ctx.check);
    if (missingDir) return missingDir;
  } else if (!stats[1]!.exists) {
    return { changed: false, failed: true, msg: `Destination directory ${args.dest} does not exist` };
  }
  if (destStat.exists && args.force === false) return { changed: false, msg: 'file already exists', dest, src };
  if (destStat.exists && destStat.type !== 'file') return { changed: false, failed: true, msg: `Destination ${dest} is a ${destStat.type}, not a file` };

  const want = wanted(args, srcStat.mode);
  const contentChanged = !destStat.exists || destStat.checksum !== srcStat.checksum;
  const attrs = planAttributes(destStat, want, false, umask);
  const changed = contentChanged || attrs.changed;
  const diff: FileDiff[] = [];
  if (contentChanged) {
    const after = srcStat.content ?? Buffer.from(`diff skipped: source file size is greater than ${MAX_DIFF_BYTES}\n`);
    diff.push({
      before: destStat.exists ? destStat.content?.toString('utf8') ?? `diff skipped: destination file size is greater than ${MAX_DIFF_BYTES}\n` : '',
      after: after.toString('utf8'),
      beforeHeader: dest,
      afterHeader: src,
    });
  }
  if (destStat.exists && Object.keys(attrs.after).length) diff.push(stateDiff(dest, attrs.before, attrs.after));
  const result: ModuleResult = { changed, dest, src, checksum: srcStat.checksum, size: srcStat.size, state: 'file' };
  let final: FileStat | undefined;
  if (changed && !ctx.check) {
    const attrOpts = {
      ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
      ...(attrs.owner !== undefined ? { owner: attrs.owner } : {}),
      ...(attrs.group !== undefined ? { group: attrs.group } : {}),
    };
    if (contentChanged) {
      const written = await ctx.ops.copyFileOnHost(src, dest, {
        ...attrOpts,
        ...(args.validate !== undefined ? { validate: args.validate } : {}),
        ...(args.backup ? { backup: true } : {}),
      });
      final = written.stat;
      if (written.backupFile) result.backup_file = written.backupFile;
    } else {
      await ctx.ops.setAttributes(dest, attrOpts);
    }
  }
  const mode = final?.mode ?? attrs.finalMode;
  if (mode !== undefined) result.mode = mode.toString(8).padStart(4, '0');
  result.owner = final?.owner ?? attrs.owner ?? destStat.owner;
  result.group = final?.group ?? attrs.group ?? destStat.group;
  if (diff.length) result.diff = diff;
  return result;
}
