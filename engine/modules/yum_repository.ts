// yum_repository: one [section] of a .repo INI file in /etc/yum.repos.d, as Ansible's
// yum_repository. The section holds exactly the options given (keys sorted, booleans 1/0,
// `name = description`, as Ansible's configparser writes them); other sections of the file
// are kept as written. An emptied file is removed. The diff is the file.
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';
import { assertNotInterrupted, joinLines, probeHost, systemGuarded, SystemModuleError, textDiff, textLines } from './system-probe.js';

const STRING_OPTIONS = ['baseurl', 'mirrorlist', 'metalink', 'gpgkey', 'gpgcakey', 'exclude', 'includepkgs', 'proxy', 'proxy_username', 'proxy_password', 'metadata_expire', 'username', 'password', 'sslcacert', 'sslclientcert', 'sslclientkey', 'ui_repoid_vars', 'bandwidth', 'throttle', 'ip_resolve', 'failovermethod', 'http_caching', 'deltarpm_percentage', 'mirrorlist_expire', 'metadata_expire_filter'] as const;
const BOOL_OPTIONS = ['enabled', 'gpgcheck', 'repo_gpgcheck', 'sslverify', 'skip_if_unavailable', 'module_hotfixes', 'countme', 'enablegroups', 'keepalive', 'protect', 'async'] as const;
const INT_OPTIONS = ['priority', 'cost', 'timeout', 'retries', 'keepcache'] as const;
const LIST_OPTIONS = new Set(['baseurl', 'gpgkey', 'exclude', 'includepkgs']);
// options whose value is a secret: never in a diff
const SECRET_OPTIONS = new Set(['password', 'proxy_password']);

export type YumRepositoryArgs = {
  name: string;
  description?: string;
  file?: string;
  reposdir?: string;
  state?: 'present' | 'absent';
  mode?: number | string;
} & Record<string, unknown>;

const listOrString = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

export default defineModule<YumRepositoryArgs>({
  name: 'yum_repository',
  aliases: ['ansible.builtin.yum_repository', 'ansible.legacy.yum_repository'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, pattern: '^[^\\[\\]\\s]+$' },
      description: { type: 'string', pattern: '^[^\\n]*$' },
      file: { type: 'string', minLength: 1, pattern: '^[^/]+$' },
      reposdir: { type: 'string', pattern: '^/' },
      state: { enum: ['present', 'absent'] },
      mode: { type: ['integer', 'string'] },
      ...Object.fromEntries(STRING_OPTIONS.map((k) => [k, LIST_OPTIONS.has(k) ? listOrString : { type: 'string', pattern: '^[^\\n]*$' }])),
      ...Object.fromEntries(BOOL_OPTIONS.map((k) => [k, { type: 'boolean' }])),
      ...Object.fromEntries(INT_OPTIONS.map((k) => [k, { type: ['integer', 'string'] }])),
    },
  },
  run: (args, ctx) => systemGuarded(() => runYumRepository(args, ctx)),
});

/** The section's options as Ansible writes them: sorted keys, 1/0 booleans, lists space-joined. */
export function repoOptions(args: YumRepositoryArgs): Map<string, string> {
  const opts = new Map<string, string>();
  for (const key of [...STRING_OPTIONS, ...BOOL_OPTIONS, ...INT_OPTIONS]) {
    const v = args[key];
    if (v === undefined || v === null) continue;
    opts.set(key, typeof v === 'boolean' ? (v ? '1' : '0') : Array.isArray(v) ? v.join(' ') : String(v));
  }
  opts.set('name', args.description ?? args.name);
  return new Map([...opts.entries()].sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface Section {
  name: string | undefined; // undefined: lines before the first section
  lines: string[];
}

function sections(text: string | null): Section[] {
  const out: Section[] = [{ name: undefined, lines: [] }];
  for (const line of textLines(text)) {
    const head = /^\s*\[([^\]]+)\]\s*$/.exec(line);
    if (head) out.push({ name: head[1]!.trim(), lines: [line] });
    else out[out.length - 1]!.lines.push(line);
  }
  return out;
}

function optionsOf(lines: string[]): Map<string, string> {
  const opts = new Map<string, string>();
  let last: string | undefined;
  for (const line of lines.slice(1)) {
    if (/^\s*[#;]/.test(line) || line.trim() === '') continue;
    if (/^\s/.test(line) && last) {
      opts.set(last, `${opts.get(last)} ${line.trim()}`); // a continuation line (several baseurls)
      continue;
    }
    const m = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(line);
    if (m) opts.set((last = m[1]!.trim()), m[2]!.trim());
  }
  return opts;
}

const sameOptions = (a: Map<string, string>, b: Map<string, string>) => a.size === b.size && [...a].every(([k, v]) => b.get(k)?.split(/\s+/).join(' ') === v.split(/\s+/).join(' '));

async function runYumRepository(args: YumRepositoryArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state ?? 'present';
  if (state === 'present' && args.baseurl === undefined && args.mirrorlist === undefined && args.metalink === undefined) {
    throw new SystemModuleError("Parameter 'baseurl', 'metalink' or 'mirrorlist' is required.");
  }
  const path = `${(args.reposdir ?? '/etc/yum.repos.d').replace(/\/$/, '')}/${(args.file ?? args.name).replace(/\.repo$/, '')}.repo`;
  const probe = await probeHost(ctx, { files: [path] });
  const before = probe.files.get(path) ?? null;
  const parts = sections(before);
  const at = parts.findIndex((s) => s.name === args.name);
  const wanted = repoOptions(args);
  const rendered = [`[${args.name}]`, ...[...wanted].map(([k, v]) => `${k} = ${v}`), ''];
  if (state === 'present') {
    if (at >= 0 && sameOptions(optionsOf(parts[at]!.lines), wanted)) return { changed: false, repo: args.name, state };
    if (at >= 0) {
      const trailingBlank = parts[at]!.lines[parts[at]!.lines.length - 1]?.trim() === '';
      parts[at] = { name: args.name, lines: trailingBlank || at < parts.length - 1 ? rendered : rendered.slice(0, -1) };
    } else {
      const last = parts[parts.length - 1]!;
      if (last.lines.length > 0 && last.lines[last.lines.length - 1]!.trim() !== '') last.lines.push('');
      parts.push({ name: args.name, lines: rendered.slice(0, -1) });
    }
  } else {
    if (at < 0) return { changed: false, repo: args.name, state };
    parts.splice(at, 1);
  }
  const lines = parts.flatMap((s) => s.lines);
  const empty = !parts.some((s) => s.name !== undefined);
  const after = empty ? null : joinLines(lines);
  const hide = (text: string | null) => (text === null ? null : textLines(text).map((l) => { const m = /^(\s*([^=\s]+)\s*=\s*)(.*)$/.exec(l); return m && SECRET_OPTIONS.has(m[2]!) ? `${m[1]}********` : l; }).join('\n') + (text.endsWith('\n') ? '\n' : ''));
  const result: ModuleResult = { changed: true, repo: args.name, state, diff: [textDiff(path, hide(before), hide(after))] };
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  const mode = args.mode === undefined ? 0o644 : typeof args.mode === 'number' ? args.mode : parseInt(args.mode, 8);
  if (after === null) await ctx.ops.remove(path);
  else await ctx.ops.writeFileAtomic(path, Buffer.from(after, 'utf8'), before === null || args.mode !== undefined ? { mode } : {});
  return result;
}
