// apt_repository: a one-line APT source (`deb [opts] URI suite comps`) present or absent, as
// Ansible's apt_repository. One probe reads sources.list and every sources.list.d/*.list; a
// line already there (enabled) anywhere is left alone, a commented-out copy is enabled in
// place, otherwise the line goes to the file Ansible would pick (from the URI, or filename:).
// The diff is each file touched; update_cache runs apt-get update after a change.
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { assertNotInterrupted, joinLines, mustRun, probeHost, systemGuarded, SystemModuleError, textDiff, textLines } from './system-probe.js';

export interface AptRepositoryArgs {
  repo: string;
  state?: 'present' | 'absent';
  filename?: string;
  mode?: number | string;
  update_cache?: boolean;
  update_cache_retries?: number;
  update_cache_retry_max_delay?: number;
  validate_certs?: boolean;
  install_python_apt?: boolean;
  codename?: string;
}

const SOURCES_LIST = '/etc/apt/sources.list';
const SOURCES_DIR = '/etc/apt/sources.list.d';

export default defineModule<AptRepositoryArgs>({
  name: 'apt_repository',
  aliases: ['ansible.builtin.apt_repository', 'ansible.legacy.apt_repository'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['repo'],
    properties: {
      repo: { type: 'string', minLength: 1, pattern: '^[^\\n]+$' },
      state: { enum: ['present', 'absent'] },
      filename: { type: 'string', minLength: 1, pattern: '^[^/\\s]+$' },
      mode: { type: ['integer', 'string'] },
      update_cache: { type: 'boolean' },
      update_cache_retries: { type: 'integer', minimum: 0 },
      update_cache_retry_max_delay: { type: 'integer', minimum: 0 },
      validate_certs: { type: 'boolean' },
      install_python_apt: { type: 'boolean' },
      codename: { type: 'string' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runAptRepository(args, ctx)),
});

/** A source line in a comparable form (whitespace collapsed, options sorted), or undefined. */
export function normalizeSource(line: string): { source: string; enabled: boolean } | undefined {
  let t = line.trim();
  let enabled = true;
  if (t.startsWith('#')) {
    enabled = false;
    t = t.replace(/^#+\s*/, '');
  }
  t = t.replace(/\s+#.*$/, '');
  const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)((?:\s+\S+)*)$/.exec(t);
  if (!m) return undefined;
  const options = m[2] ? ` [${m[2].trim().split(/\s+/).sort().join(' ')}]` : '';
  const comps = m[5]!.trim() ? ` ${m[5]!.trim().split(/\s+/).join(' ')}` : '';
  return { source: `${m[1]}${options} ${m[3]!.replace(/\/+$/, '')} ${m[4]}${comps}`, enabled };
}

/** The .list file Ansible picks for a repo line: its host and path, non-alphanumerics → '_'. */
export function suggestFilename(repo: string): string {
  let line = repo.replace(/\[[^\]]+\]/g, '').replace(/\w+:\/\//g, '');
  const parts = line.split(/\s+/).filter((p) => p !== '' && p !== 'deb' && p !== 'deb-src');
  line = parts[0] ?? '';
  if (line.includes('@')) line = line.slice(line.indexOf('@') + 1);
  return `${line.replace(/[^a-zA-Z0-9]/g, ' ').split(/\s+/).filter(Boolean).join('_')}.list`;
}

async function runAptRepository(args: AptRepositoryArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state ?? 'present';
  if (args.repo.startsWith('ppa:')) throw new SystemModuleError('PPA repositories need Launchpad, which an air-gapped host cannot reach: give the deb line instead');
  const wanted = normalizeSource(args.repo);
  if (!wanted) throw new SystemModuleError(`Invalid repository string: ${args.repo}`);
  const target = `${SOURCES_DIR}/${args.filename !== undefined ? `${args.filename.replace(/\.list$/, '')}.list` : suggestFilename(args.repo)}`;
  const glob = `${SOURCES_DIR}/*.list`;
  const probe = await probeHost(ctx, { files: [SOURCES_LIST, target], globs: [glob] });
  const files = new Map<string, string | null>();
  files.set(SOURCES_LIST, probe.files.get(SOURCES_LIST) ?? null);
  for (const f of probe.globs.get(glob)!) files.set(f.path, f.text);
  files.set(target, probe.files.get(target) ?? null);

  const edits = new Map<string, string[]>();
  const matches = (line: string) => normalizeSource(line)?.source === wanted.source;
  if (state === 'present') {
    const enabledSomewhere = [...files.values()].some((text) => textLines(text).some((l) => matches(l) && normalizeSource(l)!.enabled));
    if (!enabledSomewhere) {
      // a commented-out copy is enabled where it is; else the line is added to the target
      const disabledIn = [...files.entries()].find(([, text]) => textLines(text).some((l) => matches(l)));
      if (disabledIn) {
        let done = false;
        edits.set(disabledIn[0], textLines(disabledIn[1]).map((l) => (!done && matches(l) ? ((done = true), args.repo.trim()) : l)));
      } else {
        edits.set(target, [...textLines(files.get(target) ?? null), args.repo.trim()]);
      }
    }
  } else {
    for (const [path, text] of files) {
      const lines = textLines(text);
      const kept = lines.filter((l) => !(matches(l) && normalizeSource(l)!.enabled));
      if (kept.length !== lines.length) edits.set(path, kept);
    }
  }

  const diff: FileDiff[] = [];
  const result: ModuleResult = { changed: edits.size > 0, repo: args.repo, state, sources_added: [] as string[], sources_removed: [] as string[] };
  for (const [path, lines] of edits) {
    const before = files.get(path) ?? null;
    // a .list file left empty is removed, as Ansible does
    const after = lines.length === 0 && path !== SOURCES_LIST ? null : joinLines(lines);
    diff.push(textDiff(path, before, after));
    if (before === null) (result.sources_added as string[]).push(path);
    if (after === null) (result.sources_removed as string[]).push(path);
  }
  if (diff.length === 0) return result;
  result.diff = diff;
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  const mode = args.mode === undefined ? 0o644 : typeof args.mode === 'number' ? args.mode : parseInt(args.mode, 8);
  for (const [path, lines] of edits) {
    const before = files.get(path) ?? null;
    if (lines.length === 0 && path !== SOURCES_LIST) await ctx.ops.remove(path);
    else await ctx.ops.writeFileAtomic(path, Buffer.from(joinLines(lines), 'utf8'), before === null || args.mode !== undefined ? { mode } : {});
  }
  if (args.update_cache ?? true) {
    await mustRun(ctx, 'apt-get update', 'apt-get update');
    result.cache_updated = true;
  }
  return result;
}
