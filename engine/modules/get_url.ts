// get_url: the HOST downloads a URL (with curl, else wget) to dest. Not downloaded again when
// dest exists (unless force), or when its checksum already matches `checksum`. The download
// goes to a temp file on the host, is checked, and is moved into place atomically with
// mode/owner/group. Headers and credentials travel on stdin, never on a command line.
import { posix } from 'node:path';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { shQuote } from '../connection/shell.js';
import { guarded, planAttributes, stateDiff } from './file-write.js';
import { MODE_SCHEMA, type ModeSpec } from './mode.js';
import type { ChecksumAlgorithm } from '../connection/host-ops.js';

export interface GetUrlArgs {
  url: string;
  dest: string;
  checksum?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  force?: boolean;
  timeout?: number;
  headers?: Record<string, string> | string;
  url_username?: string;
  username?: string;
  url_password?: string;
  password?: string;
  validate_certs?: boolean;
  http_agent?: string;
  backup?: boolean;
  force_basic_auth?: boolean;
  use_proxy?: boolean;
}

const ALGORITHMS: ChecksumAlgorithm[] = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

export default defineModule<GetUrlArgs>({
  name: 'get_url',
  aliases: ['ansible.builtin.get_url', 'ansible.legacy.get_url'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['url', 'dest'],
    properties: {
      url: { type: 'string', pattern: '^(https?|ftp|file)://' },
      dest: { type: 'string', minLength: 1 },
      checksum: { type: 'string', pattern: `^(${ALGORITHMS.join('|')}):[0-9A-Fa-f]+$` },
      mode: MODE_SCHEMA,
      owner: { type: 'string' },
      group: { type: 'string' },
      force: { type: 'boolean' },
      timeout: { type: 'integer', minimum: 1 },
      headers: { anyOf: [{ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } }, { type: 'string' }] },
      url_username: { type: 'string' },
      username: { type: 'string' },
      url_password: { type: 'string' },
      password: { type: 'string' },
      validate_certs: { type: 'boolean' },
      http_agent: { type: 'string' },
      backup: { type: 'boolean' },
      force_basic_auth: { type: 'boolean' },
      use_proxy: { type: 'boolean' },
    },
  },
  run: (args, ctx) => guarded(() => getUrl(args, ctx)),
});

/** Ansible's headers: a mapping, or the old "key:value,key:value" string. */
function headerList(headers: GetUrlArgs['headers']): Array<[string, string]> {
  if (headers === undefined) return [];
  if (typeof headers === 'string') {
    return headers.split(',').filter(Boolean).map((h) => {
      const i = h.indexOf(':');
      return [h.slice(0, i).trim(), h.slice(i + 1).trim()] as [string, string];
    });
  }
  return Object.entries(headers).map(([k, v]) => [k, String(v)]);
}

const curlQuote = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** curl's config (-K) and a wgetrc, both carried on stdin (one base64 line each). */
function transferConfig(args: GetUrlArgs): string {
  const user = args.url_username ?? args.username;
  const password = args.url_password ?? args.password;
  const headers = headerList(args.headers);
  for (const [k, v] of headers) if (/[\r\n]/.test(k + v)) throw new Error('a header cannot contain a newline');
  const curl = [`user-agent = ${curlQuote(args.http_agent ?? 'ansible-httpget')}`, ...headers.map(([k, v]) => `header = ${curlQuote(`${k}: ${v}`)}`)];
  const wget = [`user_agent = ${args.http_agent ?? 'ansible-httpget'}`, ...headers.map(([k, v]) => `header = ${k}: ${v}`)];
  if (user !== undefined) {
    curl.push(`user = ${curlQuote(`${user}:${password ?? ''}`)}`);
    wget.push(`user = ${user}`, `password = ${password ?? ''}`, 'auth_no_challenge = on');
  }
  if (args.validate_certs === false) {
    curl.push('insecure');
    wget.push('check_certificate = off');
  }
  if (args.use_proxy === false) {
    curl.push('noproxy = "*"');
    wget.push('use_proxy = off');
  }
  const b64 = (lines: string[]) => Buffer.from(lines.join('\n') + '\n').toString('base64');
  return `${b64(curl)}\n${b64(wget)}\n`;
}

interface Download {
  tmp: string;
  size: number;
  sha1: string;
  sum?: string;
  status?: number;
}

/** Download on the host into a temp file next to dest; returns it with its checksums. */
async function download(ctx: ModuleContext, args: GetUrlArgs, destDir: string, algorithm: ChecksumAlgorithm | undefined): Promise<Download | { failure: ModuleResult }> {
  const t = args.timeout ?? 10;
  // check mode downloads into the temp folder, never next to dest
  const where = ctx.check ? '"${TMPDIR:-/tmp}"' : shQuote(destDir);
  const script = [
    `read -r c; read -r w`,
    `cfg=$(mktemp "\${TMPDIR:-/tmp}/.tsplay-get_url-cfg.XXXXXXXXXX") || exit 70`,
    `tmp=$(mktemp ${where}/.tsplay-get_url.XXXXXXXXXX) || exit 70`,
    `trap 'rm -f -- "$cfg"' EXIT`,
    `trap 'rm -f -- "$cfg" "$tmp"; exit 130' INT TERM HUP`,
    `if command -v curl >/dev/null 2>&1; then`,
    `  printf '%s' "$c" | base64 -d > "$cfg"`,
    `  code=$(curl -K "$cfg" -sS -L -f --connect-timeout ${t} -y ${t} -Y 1 -o "$tmp" -w '%{http_code}' -- ${shQuote(args.url)}); rc=$?`,
    `elif command -v wget >/dev/null 2>&1; then`,
    `  printf '%s' "$w" | base64 -d > "$cfg"`,
    `  WGETRC="$cfg" wget -q -T ${t} -O "$tmp" -- ${shQuote(args.url)}; rc=$?; code=`,
    `else rm -f -- "$tmp"; echo 'neither curl nor wget is installed on the host' >&2; exit 69; fi`,
    `if [ "$rc" -ne 0 ]; then rm -f -- "$tmp"; printf 'status=%s\\n' "$code"; exit 68; fi`,
    `printf 'tmp=%s\\nstatus=%s\\nsize=%s\\nsha1=%s\\n' "$tmp" "$code" "$(stat -c %s -- "$tmp")" "$(sha1sum < "$tmp" | cut -d' ' -f1)"`,
    algorithm ? `printf 'sum=%s\\n' "$(${algorithm}sum < "$tmp" | cut -d' ' -f1)"` : ':',
  ].join('\n');
  const res = await ctx.ops.run(script, { stdin: transferConfig(args), ...(ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {}) });
  const field = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(res.stdout)?.[1];
  const status = field('status') ? Number(field('status')) : undefined;
  if (res.rc !== 0) {
    return { failure: {
      changed: false,
      failed: true,
      msg: res.rc === 69 ? 'neither curl nor wget is installed on the host' : `Request failed: ${res.stderr.trim() || `rc ${res.rc}`}`,
      url: args.url,
      dest: args.dest,
      ...(status ? { status_code: status } : {}),
    } };
  }
  const sum = field('sum');
  return { tmp: field('tmp')!, size: Number(field('size')), sha1: field('sha1')!, ...(sum ? { sum } : {}), ...(status ? { status } : {}) };
}

async function getUrl(args: GetUrlArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const [algorithm, expected] = args.checksum ? (args.checksum.split(':') as [ChecksumAlgorithm, string]) : [undefined, undefined];
  const expectedSum = expected?.toLowerCase();
  const urlName = posix.basename(new URL(args.url).pathname) || 'index.html';
  const { stats, umask } = await ctx.ops.probe([args.dest, posix.join(args.dest, urlName), posix.dirname(args.dest)], {
    follow: true,
    checksum: algorithm ?? 'sha1',
  });
  // a folder dest: the file goes inside under the URL's name
  const intoDir = stats[0]!.type === 'directory';
  const dest = intoDir ? posix.join(args.dest, urlName) : args.dest;
  const destStat = intoDir ? stats[1]! : stats[0]!;
  const dirStat = intoDir ? stats[0]! : stats[2]!;
  if (dirStat.type !== 'directory' && !(ctx.check && !dirStat.exists)) {
    return { changed: false, failed: true, msg: `Destination dir ${posix.dirname(dest)} not writable`, url: args.url, dest };
  }
  if (destStat.exists && destStat.type !== 'file') return { changed: false, failed: true, msg: `Destination ${dest} is not a file`, url: args.url, dest };
  const wanted = {
    ...(args.mode !== undefined ? { mode: args.mode } : {}),
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
  };
  const attrs = planAttributes(destStat.exists ? destStat : undefined, wanted, false, umask);
  const attrOpts = {
    ...(attrs.mode !== undefined ? { mode: attrs.mode } : {}),
    ...(attrs.owner !== undefined ? { owner: attrs.owner } : {}),
    ...(attrs.group !== undefined ? { group: attrs.group } : {}),
  };

  // a present file is kept when its checksum matches, or (without a checksum) unless force
  const keep = destStat.exists && (expectedSum !== undefined ? destStat.checksum === expectedSum : args.force !== true);
  if (keep) {
    const diff: FileDiff[] = attrs.changed ? [stateDiff(dest, attrs.before, attrs.after)] : [];
    if (attrs.changed && !ctx.check) await ctx.ops.setAttributes(dest, attrOpts);
    return {
      changed: attrs.changed,
      msg: 'file already exists',
      url: args.url,
      dest,
      ...(diff.length ? { diff } : {}),
      ...(expectedSum === undefined && destStat.checksum ? { checksum_dest: destStat.checksum } : {}),
    };
  }

  const started = Date.now();
  const got = await download(ctx, args, dirStat.exists ? posix.dirname(dest) : '/tmp', algorithm);
  if ('failure' in got) return got.failure;
  try {
    if (expectedSum !== undefined && got.sum !== expectedSum) {
      return { changed: false, failed: true, msg: `The checksum for ${dest} did not match ${expectedSum}; it was ${got.sum}.`, url: args.url, dest };
    }
    const before = destStat.exists ? (algorithm === undefined || algorithm === 'sha1' ? destStat.checksum : undefined) : undefined;
    const contentChanged = !destStat.exists || (before !== undefined ? before !== got.sha1 : got.sum !== destStat.checksum);
    const changed = contentChanged || attrs.changed;
    const diff: FileDiff[] = [];
    if (contentChanged) {
      diff.push(stateDiff(dest, destStat.exists ? { state: 'file', checksum: before ?? destStat.checksum ?? '' } : { state: 'absent' }, { state: 'file', checksum: before !== undefined || !destStat.exists ? got.sha1 : got.sum ?? '' }));
    } else if (attrs.changed) diff.push(stateDiff(dest, attrs.before, attrs.after));
    const result: ModuleResult = {
      changed,
      msg: `OK (${got.size} bytes)`,
      url: args.url,
      dest,
      checksum_src: got.sha1,
      checksum_dest: contentChanged ? got.sha1 : before ?? null,
      size: got.size,
      elapsed: Math.round((Date.now() - started) / 1000),
      ...(got.status ? { status_code: got.status } : {}),
      ...(diff.length ? { diff } : {}),
    };
    if (ctx.check || !changed) return result;
    if (contentChanged) {
      const written = await ctx.ops.copyFileOnHost(got.tmp, dest, { ...attrOpts, ...(args.backup ? { backup: true } : {}) });
      if (written.backupFile) result.backup_file = written.backupFile;
      result.mode = (written.stat.mode & 0o7777).toString(8).padStart(4, '0');
      result.owner = written.stat.owner;
      result.group = written.stat.group;
    } else {
      await ctx.ops.setAttributes(dest, attrOpts);
    }
    return result;
  } finally {
    await ctx.ops.remove(got.tmp).catch(() => {});
  }
}
