// uri: an HTTP(S) request made FROM THE HOST (curl, else GNU wget), so it sees what the host
// sees (its DNS, routes, proxies, CA store). Everything that may be secret (URL, headers,
// credentials, body) reaches curl/wget through stdin-fed config files, never a command line.
// One exec: request, and for `dest` compare with the old file and replace it atomically.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { shQuote } from '../connection/shell.js';
import { defineModule, type ModuleResult } from './types.js';

export interface UriArgs {
  url: string;
  method?: string;
  body?: unknown;
  body_format?: 'json' | 'form-urlencoded' | 'raw';
  status_code?: number | string | Array<number | string>;
  return_content?: boolean;
  headers?: Record<string, unknown>;
  validate_certs?: boolean;
  ca_path?: string;
  timeout?: number | string;
  url_username?: string;
  user?: string;
  url_password?: string;
  password?: string;
  force_basic_auth?: boolean;
  follow_redirects?: 'all' | 'safe' | 'none' | 'urllib2' | 'yes' | 'no' | boolean;
  dest?: string;
  creates?: string;
  removes?: string;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const SPLIT = '@@tsplay-uri-split@@';

/** A value inside double quotes in a curl config file (curl's own escapes). */
function curlQuoted(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t').replace(/\v/g, '\\v')}"`;
}

/** wgetrc values run to the end of the line: a newline cannot be in one. */
function wgetValue(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

/** The URL as shown in results and messages: no user:password@. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1');
}

function requestBody(args: UriArgs, headers: Map<string, string>): string | undefined {
  if (args.body === undefined || args.body === null) return undefined;
  const format = args.body_format ?? 'raw';
  const hasType = [...headers.keys()].some((k) => k.toLowerCase() === 'content-type');
  if (format === 'json') {
    if (!hasType) headers.set('Content-Type', 'application/json');
    return typeof args.body === 'string' ? args.body : JSON.stringify(args.body);
  }
  if (format === 'form-urlencoded') {
    if (!hasType) headers.set('Content-Type', 'application/x-www-form-urlencoded');
    if (typeof args.body === 'string') return args.body;
    const params = new URLSearchParams();
    const pairs = Array.isArray(args.body) ? (args.body as unknown[]) : Object.entries(args.body as Record<string, unknown>);
    for (const pair of pairs) {
      const [k, v] = Array.isArray(pair) ? pair : [String(pair), ''];
      params.append(String(k), typeof v === 'string' ? v : JSON.stringify(v));
    }
    return params.toString();
  }
  return typeof args.body === 'string' ? args.body : JSON.stringify(args.body);
}

function statusCodes(value: UriArgs['status_code']): number[] {
  if (value === undefined) return [200];
  const items = Array.isArray(value) ? value : String(value).split(',');
  return items.map((v) => Number(String(v).trim()));
}

function followMode(value: UriArgs['follow_redirects']): 'all' | 'safe' | 'none' {
  if (value === 'all' || value === 'yes' || value === true) return 'all';
  if (value === 'none' || value === 'no' || value === false) return 'none';
  return 'safe'; // safe and urllib2: redirects for GET/HEAD only
}

/** Ansible's result keys for response headers: lower case, dashes as underscores. */
function headerKeys(block: string): { status: number; reason: string; headers: Record<string, string> } {
  const lines = block.split(/\r?\n/).filter(Boolean);
  const statusLine = /^\s*HTTP\/[\d.]+\s+(\d{3})\s*(.*)$/.exec(lines[0] ?? '');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const at = line.indexOf(':');
    if (at <= 0) continue;
    const key = line.slice(0, at).trim().toLowerCase().replace(/-/g, '_');
    const value = line.slice(at + 1).trim();
    headers[key] = headers[key] !== undefined ? `${headers[key]}, ${value}` : value;
  }
  return { status: statusLine ? Number(statusLine[1]) : -1, reason: statusLine?.[2]?.trim() ?? '', headers };
}

/** The last response's headers from curl -D (or wget -S, indented) output. */
function lastResponse(text: string): ReturnType<typeof headerKeys> | undefined {
  const blocks = text.replace(/\r/g, '').split(/\n(?=\s*HTTP\/)/).filter((b) => /^\s*HTTP\//.test(b));
  const last = blocks[blocks.length - 1];
  return last === undefined ? undefined : headerKeys(last.split(/\n\s*\n/)[0]!.split('\n').map((l) => l.replace(/^ {2}/, '')).join('\n'));
}

function script(mark: string, o: { wantBody: boolean; dest?: string; destName: string; check: boolean; creates?: string; removes?: string; method: string; url: string; follow: string }): string {
  const q = shQuote;
  return `tsplay_um=$(umask)
umask 077
${o.creates !== undefined ? `if [ -e ${q(o.creates)} ]; then echo ${q(`${mark}=creates`)}; exit 0; fi` : ''}
${o.removes !== undefined ? `if [ ! -e ${q(o.removes)} ]; then echo ${q(`${mark}=removes`)}; exit 0; fi` : ''}
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
: > "$d/curl"; : > "$d/wget"; : > "$d/body64"
awk -v d="$d" -v sep=${q(SPLIT)} 'BEGIN { f = d "/curl" } $0 == sep { f = (f == d "/curl") ? d "/wget" : d "/body64"; next } { print > f }'
dest=${o.dest !== undefined ? q(o.dest) : "''"}
if [ -n "$dest" ] && [ -d "$dest" ]; then case $dest in */) dest="$dest"${q(o.destName)} ;; *) dest="$dest/"${q(o.destName)} ;; esac; fi
if [ -n "$dest" ]; then
  ddir=$(dirname -- "$dest")
  [ -d "$ddir" ] || { echo ${q(`${mark}=error:Destination dir `)}"$ddir"' not writable'; exit 0; }
  out=$(mktemp "$ddir/.tsplay-uri.XXXXXX") || { echo ${q(`${mark}=error:Destination dir `)}"$ddir"' not writable'; exit 0; }
  trap 'rm -rf "$d"; rm -f "$out"' EXIT
else
  out="$d/out"
fi
if command -v curl >/dev/null 2>&1; then
  curl -sS -K "$d/curl" -o "$out" -D "$d/headers" -w '%{http_code} %{num_redirects} %{url_effective}' >"$d/meta" 2>"$d/err"
  rc=$?
  echo "${mark}-tool=curl"
elif command -v wget >/dev/null 2>&1; then
  base64 -d "$d/body64" > "$d/reqbody" 2>/dev/null
  set -- --method=${q(o.method)}
  [ -s "$d/reqbody" ] && set -- "$@" --body-file="$d/reqbody"
  ${o.follow === 'none' || (o.follow === 'safe' && !SAFE_METHODS.has(o.method)) ? 'set -- "$@" --max-redirect=0' : ''}
  WGETRC="$d/wget" wget -q -S --content-on-error -O "$out" "$@" -- ${q(o.url)} 2>"$d/headers"
  rc=$?
  [ $rc -eq 8 ] && rc=0
  grep -v '^  ' "$d/headers" > "$d/err"
  echo "${mark}-tool=wget"
else
  echo ${q(`${mark}=error:uri needs curl or wget on the host`)}; exit 0
fi
echo "${mark}-rc=$rc"
echo "${mark}-meta=$(cat "$d/meta" 2>/dev/null)"
echo "${mark}-headers=$(base64 < "$d/headers" 2>/dev/null | tr -d '\\n')"
echo "${mark}-err=$(base64 < "$d/err" | tr -d '\\n')"
echo "${mark}-size=$(wc -c < "$out" | tr -d ' ')"
${o.wantBody ? `echo "${mark}-body=$(base64 < "$out" | tr -d '\\n')"` : ''}
if [ -n "$dest" ] && [ $rc -eq 0 ]; then
  echo "${mark}-dest=$dest"
  if [ -f "$dest" ] && cmp -s "$out" "$dest"; then echo "${mark}-same=1"
  else
    echo "${mark}-same=0"
    ${o.check ? ':' : `if [ -e "$dest" ]; then chmod "$(stat -c %a "$dest")" "$out"; else chmod "$(printf '%o' $(( 0666 & ~0$tsplay_um )))" "$out"; fi
    mv -f -- "$out" "$dest" || { echo ${q(`${mark}=error:could not replace `)}"$dest"; exit 0; }`}
  fi
fi
echo ${q(`${mark}=done`)}
`;
}

const SCALAR_OR_LIST = { anyOf: [{ type: 'integer' }, { type: 'string' }, { type: 'array', items: { anyOf: [{ type: 'integer' }, { type: 'string' }] } }] };

export default defineModule<UriArgs>({
  name: 'uri',
  aliases: ['ansible.builtin.uri'],
  freeForm: 'kv',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      url: { type: 'string', minLength: 1 },
      method: { type: 'string', pattern: '^[A-Za-z]+$' },
      body: {},
      body_format: { enum: ['json', 'form-urlencoded', 'raw'] },
      status_code: SCALAR_OR_LIST,
      return_content: { type: 'boolean' },
      headers: { type: 'object' },
      validate_certs: { type: 'boolean' },
      ca_path: { type: 'string' },
      timeout: { anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: '^\\s*\\d+\\s*$' }] },
      url_username: { type: 'string' },
      user: { type: 'string' },
      url_password: { type: 'string' },
      password: { type: 'string' },
      force_basic_auth: { type: 'boolean' },
      follow_redirects: { enum: ['all', 'safe', 'none', 'urllib2', 'yes', 'no', true, false] },
      dest: { type: 'string', minLength: 1 },
      creates: { type: 'string' },
      removes: { type: 'string' },
    },
    required: ['url'],
  },
  async run(args, ctx) {
    const method = (args.method ?? 'GET').toUpperCase();
    if (ctx.check && !SAFE_METHODS.has(method)) {
      return { changed: false, skipped: true, msg: `uri: a ${method} request is not made in check mode (it may change the server)` };
    }
    const headers = new Map<string, string>();
    for (const [k, v] of Object.entries(args.headers ?? {})) if (v !== undefined && v !== null) headers.set(k, typeof v === 'string' ? v : String(v));
    const body = requestBody(args, headers);
    const follow = followMode(args.follow_redirects);
    const timeout = Number(args.timeout ?? 30);
    const user = args.url_username ?? args.user;
    const password = args.url_password ?? args.password;
    const secrets = [password].filter((s): s is string => typeof s === 'string' && s !== '');

    const curl: string[] = [`url = ${curlQuoted(args.url)}`, `max-time = ${timeout}`, 'globoff'];
    const wget: string[] = [`timeout = ${timeout}`];
    if (method === 'HEAD') curl.push('head');
    else curl.push(`request = ${curlQuoted(method)}`);
    if (follow === 'all' || (follow === 'safe' && SAFE_METHODS.has(method))) curl.push('location', 'max-redirs = 50');
    if (args.validate_certs === false) {
      curl.push('insecure');
      wget.push('check_certificate = off');
    }
    if (args.ca_path !== undefined) {
      curl.push(`cacert = ${curlQuoted(args.ca_path)}`);
      wget.push(`ca_certificate = ${wgetValue(args.ca_path)}`);
    }
    if (user !== undefined) {
      curl.push(`user = ${curlQuoted(`${user}:${password ?? ''}`)}`);
      wget.push(`user = ${wgetValue(user)}`, `password = ${wgetValue(password ?? '')}`);
      if (args.force_basic_auth) wget.push('auth_no_challenge = on');
    }
    for (const [k, v] of headers) {
      curl.push(`header = ${curlQuoted(`${k}: ${v}`)}`);
      wget.push(`header = ${wgetValue(`${k}: ${v}`)}`);
    }
    if (body !== undefined) curl.push(`data-raw = ${curlQuoted(body)}`);
    const stdin = `${curl.join('\n')}\n${SPLIT}\n${wget.join('\n')}\n${SPLIT}\n${Buffer.from(body ?? '', 'utf8').toString('base64')}\n`;

    const mark = `@@tsplay-uri-${randomBytes(6).toString('hex')}`;
    let destName = 'index.html';
    try {
      destName = posix.basename(new URL(args.url).pathname) || 'index.html';
    } catch {
      // curl reports the bad URL itself
    }
    const start = Date.now();
    const res = await ctx.ops.run(
      script(mark, {
        wantBody: args.dest === undefined, ...(args.dest !== undefined ? { dest: args.dest } : {}), destName, check: ctx.check,
        ...(args.creates !== undefined ? { creates: args.creates } : {}), ...(args.removes !== undefined ? { removes: args.removes } : {}),
        method, url: args.url, follow,
      }),
      { stdin, timeoutMs: ctx.timeoutMs ?? (timeout + 30) * 1000 },
    );
    const field = (name: string) => new RegExp(`^${mark}-${name}=(.*)$`, 'm').exec(res.stdout)?.[1];
    const outcome = new RegExp(`^${mark}=(.*)$`, 'm').exec(res.stdout)?.[1];
    const hide = (text: string) => secrets.reduce((t, s) => t.split(s).join('********'), text);
    if (outcome === 'creates') return { changed: false, msg: `skipped, since '${args.creates}' exists` };
    if (outcome === 'removes') return { changed: false, msg: `skipped, since '${args.removes}' does not exist` };
    if (outcome === undefined) return { changed: false, failed: true, rc: res.rc, msg: hide(`uri failed on the host (rc=${res.rc}): ${res.stderr.trim()}`) };
    if (outcome.startsWith('error:')) return { changed: false, failed: true, msg: hide(outcome.slice('error:'.length)) };

    const codes = statusCodes(args.status_code);
    const elapsed = Math.floor((Date.now() - start) / 1000);
    const toolRc = Number(field('rc') ?? -1);
    const result: ModuleResult = { changed: false, url: redactUrl(args.url), elapsed, redirected: false, status: -1 };
    if (toolRc !== 0) {
      const err = Buffer.from(field('err') ?? '', 'base64').toString('utf8').trim().split('\n')[0]!.replace(/^curl: (\(\d+\)\s*)?/, '');
      return { ...result, failed: true, msg: hide(`Status code was -1 and not [${codes.join(', ')}]: Request failed: ${err || `${field('tool')} exited with ${toolRc}`}`) };
    }
    const response = lastResponse(Buffer.from(field('headers') ?? '', 'base64').toString('utf8'));
    const meta = (field('meta') ?? '').split(' ');
    const status = response?.status ?? Number(meta[0] ?? -1);
    result.status = status;
    if (meta.length >= 3 && meta[2]) {
      result.url = redactUrl(meta.slice(2).join(' '));
      result.redirected = Number(meta[1]) > 0;
    }
    Object.assign(result, response?.headers ?? {});
    const size = Number(field('size') ?? 0);
    result.msg = `OK (${response?.headers.content_length ?? (size || 'unknown')} bytes)`;
    const bodyText = field('body') !== undefined ? Buffer.from(field('body')!, 'base64').toString('utf8') : undefined;
    if (bodyText !== undefined) {
      if (args.return_content) result.content = bodyText;
      if (/[/+]json\b/i.test(response?.headers.content_type ?? '')) {
        try {
          result.json = JSON.parse(bodyText);
        } catch {
          // not JSON after all: content (when asked) still has it
        }
      }
    }
    if (!codes.includes(status)) {
      result.failed = true;
      result.msg = `Status code was ${status} and not [${codes.join(', ')}]: HTTP Error ${status}: ${response?.reason ?? ''}`.trim();
      if (bodyText !== undefined && result.content === undefined) result.content = bodyText;
      return result;
    }
    const dest = field('dest');
    if (dest !== undefined) {
      result.path = dest;
      result.changed = field('same') === '0';
    }
    return result;
  },
});
