// unarchive: unpack a tar (gz, bz2, xz, zst: GNU tar picks the decompressor) or zip archive
// into an existing folder on the host. The archive is a controller file (uploaded to a temp
// folder on the host, removed after) or a host file (remote_src). It is unpacked only when
// something in it is missing from dest or differs: tar compares with `tar --diff` (size,
// mtime, content), zip with the sizes and CRC-32s `unzip -v` lists.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { shJoin, shQuote } from '../connection/shell.js';
import { guarded, planAttributes, stateDiff } from './file-write.js';
import { MODE_SCHEMA, formatMode, type ModeSpec } from './mode.js';
import { findControllerSource, notFoundMessage } from './source-path.js';
import { HostOpError } from '../connection/host-ops.js';

export interface UnarchiveArgs {
  src: string;
  dest: string;
  remote_src?: boolean;
  copy?: boolean;
  creates?: string;
  list_files?: boolean;
  extra_opts?: string[];
  exclude?: string[];
  include?: string[];
  keep_newer?: boolean;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
}

export default defineModule<UnarchiveArgs>({
  name: 'unarchive',
  aliases: ['ansible.builtin.unarchive', 'ansible.legacy.unarchive'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      remote_src: { type: 'boolean' },
      copy: { type: 'boolean' },
      creates: { type: 'string' },
      list_files: { type: 'boolean' },
      extra_opts: { type: 'array', items: { type: 'string' } },
      exclude: { type: 'array', items: { type: 'string' } },
      include: { type: 'array', items: { type: 'string' } },
      keep_newer: { type: 'boolean' },
      mode: MODE_SCHEMA,
      owner: { type: 'string' },
      group: { type: 'string' },
      validate_certs: { type: 'boolean' },
      decrypt: { type: 'boolean' },
    },
  },
  run: (args, ctx) => guarded(() => unarchive(args, ctx)),
});

const norm = (name: string): string => name.replace(/^(\.\/)+/, '').replace(/\/+$/, '');

interface Listing {
  kind: 'tar' | 'zip';
  /** Entry names as the archive lists them. */
  names: string[];
  /** Entries (normalised) missing in dest or different. */
  differing: Set<string>;
}

async function unarchive(args: UnarchiveArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const remote = args.remote_src === true || args.copy === false;
  let data: Buffer | undefined;
  let srcLabel = args.src;
  if (!remote) {
    const lookup = findControllerSource(ctx, args.src, 'files');
    if (!lookup.found) return { changed: false, failed: true, msg: notFoundMessage(args.src, lookup.searched) };
    data = readFileSync(lookup.found);
    srcLabel = lookup.found;
  }
  // round trip 1: creates, dest, the remote source, and a private temp folder for an upload
  const first = await ctx.ops.run(
    [
      args.creates !== undefined ? `if [ -e ${shQuote(args.creates)} ]; then echo creates=1; exit 0; fi` : ':',
      `[ -d ${shQuote(args.dest)} ] && echo dest=1`,
      remote ? `[ -f ${shQuote(args.src)} ] && echo src=1; [ -r ${shQuote(args.src)} ] && echo readable=1` : `d=$(mktemp -d "\${TMPDIR:-/tmp}/tsplay-unarchive.XXXXXXXXXX") && echo "tmpdir=$d"`,
    ].join('\n'),
  );
  if (/^creates=1$/m.test(first.stdout)) return { changed: false, skipped: true, msg: `skipped, since ${args.creates} exists` };
  const tmpDir = /^tmpdir=(.*)$/m.exec(first.stdout)?.[1];
  try {
    if (!/^dest=1$/m.test(first.stdout)) return { changed: false, failed: true, msg: `dest '${args.dest}' must be an existing dir` };
    if (remote && !/^src=1$/m.test(first.stdout)) return { changed: false, failed: true, msg: `Source '${args.src}' does not exist` };
    if (remote && !/^readable=1$/m.test(first.stdout)) return { changed: false, failed: true, msg: `Source '${args.src}' not readable` };
    let archive = args.src;
    if (!remote) {
      if (!tmpDir) return { changed: false, failed: true, msg: `could not create a temporary folder on the host: ${first.stderr.trim()}` };
      archive = posix.join(tmpDir, posix.basename(srcLabel));
      await ctx.ops.writeFileAtomic(archive, data!, { mode: 0o600 });
    }
    const listing = await listAndCompare(ctx, archive, args);
    if ('failure' in listing) return listing.failure;

    const extract = listing.differing.size > 0;
    const diff: FileDiff[] = [];
    const entries = listing.names.map(norm).filter((n) => n !== '');
    if (extract) {
      const inPlace = entries.filter((n) => !listing.differing.has(n));
      diff.push({ before: inPlace.map((n) => `${n}\n`).join(''), after: entries.map((n) => `${n}\n`).join(''), beforeHeader: `${args.dest} (files)`, afterHeader: `${args.dest} (files)` });
    }
    const result: ModuleResult = { changed: extract, dest: args.dest, src: srcLabel, handler: listing.kind === 'tar' ? 'TgzArchive' : 'ZipArchive' };
    if (args.list_files) result.files = listing.names;
    if (extract && !ctx.check) await extractArchive(ctx, archive, args, listing.kind);

    const attrs = await applyAttributes(ctx, args, entries, ctx.check && extract);
    if (attrs.changed) {
      result.changed = true;
      diff.push(...attrs.diff);
    }
    if (diff.length > 0) result.diff = diff;
    return result;
  } finally {
    if (tmpDir) await ctx.ops.remove(tmpDir, true).catch(() => {});
  }
}

function handlerMissing(src: string, detail: string): ModuleResult {
  return { changed: false, failed: true, msg: `Failed to find handler for "${src}". Make sure the required command to extract the file is installed.${detail ? ` ${detail}` : ''}` };
}

/** Round trip 2: the archive's type and entries, compared with dest. */
async function listAndCompare(ctx: ModuleContext, archive: string, args: UnarchiveArgs): Promise<Listing | { failure: ModuleResult }> {
  const a = shQuote(archive);
  const dest = shQuote(args.dest);
  const extra = shJoin(args.extra_opts ?? []);
  const excludes = (args.exclude ?? []).map((p) => `--exclude=${shQuote(p)}`).join(' ');
  const script = [
    `magic=$(head -c 4 -- ${a} | od -An -tx1 | tr -d ' \\n')`,
    `case "$magic" in 504b0304|504b0506)`,
    `  command -v unzip >/dev/null 2>&1 || { echo 'unzip is not installed' >&2; exit 69; }`,
    `  echo kind=zip; echo @@list; unzip -Z1 ${a} || exit 68; echo @@verbose; unzip -v ${a} || exit 68 ;;`,
    `*)`,
    `  echo kind=tar; echo @@list; tar --quoting-style=literal -t -f ${a} ${extra} ${excludes} || exit 67`,
    `  echo @@diff; tar --quoting-style=literal -d -f ${a} -C ${dest} ${extra} ${excludes} 2>&1; echo "@@diffrc=$?" ;;`,
    `esac`,
  ].join('\n');
  const res = await ctx.ops.run(script);
  if (res.rc !== 0) return { failure: handlerMissing(args.src, res.stderr.trim()) };
  const kind = /^kind=(\w+)$/m.exec(res.stdout)?.[1] as 'tar' | 'zip';
  const after = (marker: string, until?: string) => {
    const start = res.stdout.indexOf(`${marker}\n`) + marker.length + 1;
    const end = until ? res.stdout.indexOf(`${until}`, start) : res.stdout.length;
    return res.stdout.slice(start, end < 0 ? undefined : end);
  };
  if (kind === 'tar') {
    const names = after('@@list', '@@diff\n').split('\n').filter(Boolean);
    const diffText = after('@@diff', '@@diffrc=');
    const rc = Number(/@@diffrc=(\d+)/.exec(res.stdout)?.[1] ?? '2');
    const differing = new Set<string>();
    if (rc === 2) return { failure: handlerMissing(args.src, diffText.trim()) };
    for (const line of diffText.split('\n').filter(Boolean)) {
      // owner and mode differences are not content (and mode/owner/group are applied apart)
      if (/: (Uid|Gid|Mode) differs$/.test(line)) continue;
      const m = /^(?:tar: )?(.*?): (?:Warning: Cannot stat: .*|[A-Z][a-z ]+ differs?.*|Not linked to .*|Could only read .*|Contents differ)$/.exec(line);
      differing.add(norm(m ? m[1]! : line));
    }
    return { kind, names, differing };
  }
  const names = after('@@list', '@@verbose\n').split('\n').filter(Boolean);
  // unzip -v rows: Length Method Size Cmpr Date Time CRC-32 Name
  const entries = new Map<string, { size: number; crc: string; dir: boolean }>();
  for (const line of after('@@verbose').split('\n')) {
    const m = /^\s*(\d+)\s+\S+\s+\d+\s+\S+\s+\S+\s+\S+\s+([0-9a-f]{8})\s\s(.*)$/.exec(line);
    if (m) entries.set(m[3]!, { size: Number(m[1]), crc: m[2]!, dir: m[3]!.endsWith('/') });
  }
  // round trip 3 (zip): type, size and CRC-32 (the gzip trailer of the file) of each dest entry
  const lines = names.map((n) => {
    const p = shQuote(posix.join(args.dest, n));
    return n.endsWith('/')
      ? `if [ -d ${p} ]; then echo d; else echo -; fi`
      : `if [ -f ${p} ] && [ ! -L ${p} ]; then printf 'f %s %s\\n' "$(stat -c %s -- ${p})" "$(gzip -c < ${p} | tail -c 8 | head -c 4 | od -An -tx1 | tr -d ' \\n')"; else echo -; fi`;
  });
  const probe = await ctx.ops.run(lines.join('\n'));
  const rows = probe.stdout.split('\n');
  const differing = new Set<string>();
  names.forEach((n, i) => {
    const want = entries.get(n);
    const row = rows[i] ?? '-';
    if (row === '-' || !want) return differing.add(norm(n));
    if (want.dir) return;
    const [, size, le] = row.split(' ');
    const crc = (le ?? '').match(/../g)?.reverse().join('') ?? '';
    if (Number(size) !== want.size || crc !== want.crc) differing.add(norm(n));
  });
  return { kind, names, differing };
}

async function extractArchive(ctx: ModuleContext, archive: string, args: UnarchiveArgs, kind: 'tar' | 'zip'): Promise<void> {
  const a = shQuote(archive);
  const dest = shQuote(args.dest);
  const extra = shJoin(args.extra_opts ?? []);
  const cmd =
    kind === 'tar'
      ? `tar -x -f ${a} -C ${dest} ${args.keep_newer ? '--keep-newer-files' : ''} ${extra} ${(args.exclude ?? []).map((p) => `--exclude=${shQuote(p)}`).join(' ')}`
      : `unzip -o ${args.keep_newer ? '-u' : ''} ${a} ${extra} ${args.exclude?.length ? `-x ${shJoin(args.exclude)}` : ''} -d ${dest}`;
  const res = await ctx.ops.run(cmd);
  // unzip: 1 is "warnings" (the files were extracted)
  if (res.rc !== 0 && !(kind === 'zip' && res.rc === 1)) {
    throw new HostOpError(`failed to unpack ${args.src} to ${args.dest}: ${res.stderr.trim() || `rc ${res.rc}`}`, res.rc, res.stdout, res.stderr);
  }
}

/** mode/owner/group on every entry, as Ansible applies them (one probe, one batch of changes). */
async function applyAttributes(ctx: ModuleContext, args: UnarchiveArgs, entries: string[], predicting: boolean): Promise<{ changed: boolean; diff: FileDiff[] }> {
  if (args.mode === undefined && args.owner === undefined && args.group === undefined) return { changed: false, diff: [] };
  const paths = entries.map((n) => posix.join(args.dest, n));
  const { stats, umask } = await ctx.ops.probe(paths, { follow: false });
  const wanted = {
    ...(args.mode !== undefined ? { mode: args.mode } : {}),
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
  };
  const commands: string[] = [];
  const diff: FileDiff[] = [];
  let changed = false;
  stats.forEach((s, i) => {
    if (s.type === 'link') return;
    // in check mode an entry about to be unpacked is judged as new (it reports changed already)
    const plan = planAttributes(s.exists && !predicting ? s : undefined, wanted, s.type === 'directory', umask);
    if (!s.exists || !plan.changed) return;
    changed = true;
    if (Object.keys(plan.after).length) diff.push(stateDiff(paths[i]!, plan.before, plan.after));
    const p = shQuote(paths[i]!);
    if (plan.owner !== undefined) commands.push(`chown -- ${shQuote(plan.owner)} ${p}`);
    if (plan.group !== undefined) commands.push(`chgrp -- ${shQuote(plan.group)} ${p}`);
    if (plan.mode !== undefined) commands.push(`chmod ${formatMode(plan.mode)} -- ${p}`);
  });
  if (changed && !ctx.check) {
    const res = await ctx.ops.run(['set -e', ...commands].join('\n'));
    if (res.rc !== 0) throw new HostOpError(`could not set attributes under ${args.dest}: ${res.stderr.trim()}`, res.rc, res.stdout, res.stderr);
  }
  return { changed, diff };
}
