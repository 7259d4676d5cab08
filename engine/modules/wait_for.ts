// wait_for: wait, ON THE HOST, until a TCP port opens or closes, a file appears, disappears
// or contains a pattern, or a port drains. One exec runs the whole polling loop on the host
// (bash /dev/tcp or nc for ports; test and grep for paths), bounded by `timeout`, so waiting
// costs one round trip. Read-only: never changed, and the same in check mode.
import { randomBytes } from 'node:crypto';
import { shQuote } from '../connection/shell.js';
import { defineModule, type ModuleResult } from './types.js';
import { SECONDS_SCHEMA, sleepUnlessAborted } from './wait-timing.js';

export interface WaitForArgs {
  host?: string;
  port?: number | string;
  path?: string;
  search_regex?: string;
  state?: 'started' | 'present' | 'stopped' | 'absent' | 'drained';
  delay?: number | string;
  timeout?: number | string;
  sleep?: number | string;
  connect_timeout?: number | string;
  msg?: string;
  active_connection_states?: string[];
  exclude_hosts?: string[];
}

// /proc/net/tcp state numbers (include/net/tcp_states.h)
const TCP_STATES: Record<string, string> = {
  ESTABLISHED: '01', SYN_SENT: '02', SYN_RECV: '03', FIN_WAIT1: '04', FIN_WAIT2: '05', TIME_WAIT: '06',
  CLOSE: '07', CLOSE_WAIT: '08', LAST_ACK: '09', LISTEN: '0A', CLOSING: '0B',
};
const DEFAULT_ACTIVE = ['ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'SYN_RECV', 'SYN_SENT', 'TIME_WAIT'];

/** An IPv4 address as /proc/net/tcp writes it (little-endian hex). */
function procHexIpv4(address: string): string | undefined {
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reverse().map((p) => p.toString(16).toUpperCase().padStart(2, '0')).join('');
}

/**
 * Python's re for grep -P (PCRE) where the host has it, else grep -E. Named groups are
 * written (?P<name>) in Python and both PCRE and JS read (?<name>) too.
 */
function jsRegExp(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'), 'm');
}

interface Plan {
  mode: 'port-open' | 'port-closed' | 'port-search' | 'path-present' | 'path-absent' | 'path-search' | 'drained';
  timeoutMsg: string;
}

function plan(args: WaitForArgs, host: string, state: string): Plan | string {
  if (args.port !== undefined && args.path !== undefined) return 'port and path parameter can not both be passed to wait_for';
  if (args.path !== undefined && state === 'stopped') return 'state=stopped should only be used for checking a port in the wait_for module';
  if (args.path !== undefined && state === 'drained') return 'state=drained should only be used for checking a port in the wait_for module';
  if (args.exclude_hosts !== undefined && state !== 'drained') return 'exclude_hosts should only be with state=drained';
  if (args.search_regex !== undefined && (state === 'stopped' || state === 'absent' || state === 'drained')) return `search_regex cannot be used with state=${state}`;
  if (state === 'drained' && args.port === undefined) return 'state=drained needs a port';
  const where = `${host}:${args.port}`;
  if (args.path !== undefined) {
    if (state === 'absent') return { mode: 'path-absent', timeoutMsg: `Timeout when waiting for ${args.path} to be absent.` };
    if (args.search_regex !== undefined) return { mode: 'path-search', timeoutMsg: `Timeout when waiting for search string ${args.search_regex} in ${args.path}` };
    return { mode: 'path-present', timeoutMsg: `Timeout when waiting for file ${args.path}` };
  }
  if (state === 'drained') return { mode: 'drained', timeoutMsg: `Timeout when waiting for ${where} to drain` };
  if (state === 'stopped' || state === 'absent') return { mode: 'port-closed', timeoutMsg: `Timeout when waiting for ${where} to stop.` };
  if (args.search_regex !== undefined) return { mode: 'port-search', timeoutMsg: `Timeout when waiting for search string ${args.search_regex} in ${where}` };
  return { mode: 'port-open', timeoutMsg: `Timeout when waiting for ${where}` };
}

/** The polling loop as one script. Prints MARK=ok|timeout|error:<why>, and MARK-line=<base64> for a match. */
export function waitScript(p: Plan, a: { host: string; port: string; path: string; regex: string; delay: number; timeout: number; sleep: number; connectTimeout: number; states: string[]; exclude: string[] }, mark: string): string {
  const q = shQuote;
  return `tsplay_host=${q(a.host)}; tsplay_port=${q(a.port)}; tsplay_path=${q(a.path)}; tsplay_re=${q(a.regex)}
tsplay_ct=${Math.max(1, Math.ceil(a.connectTimeout))}
tsplay_end=$(( $(date +%s) + ${Math.ceil(a.timeout)} ))
if command -v timeout >/dev/null 2>&1; then tsplay_t() { timeout "$@"; }; else tsplay_t() { shift; "$@"; }; fi
if printf 'a\\n' | grep -qP 'a' 2>/dev/null; then tsplay_grep() { grep -P "$@"; }; else tsplay_grep() { grep -E "$@"; }; fi
tsplay_tool=
if command -v bash >/dev/null 2>&1; then tsplay_tool=bash; elif command -v nc >/dev/null 2>&1; then tsplay_tool=nc; fi
tsplay_found=
tsplay_tcp_open() {
  case $tsplay_tool in
    bash) tsplay_t "$tsplay_ct" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$tsplay_host" "$tsplay_port" 2>/dev/null ;;
    nc) nc -z -w "$tsplay_ct" "$tsplay_host" "$tsplay_port" </dev/null >/dev/null 2>&1 ;;
  esac
}
tsplay_tcp_search() {
  left=$(( tsplay_end - $(date +%s) )); [ "$left" -ge 1 ] || left=1
  tsplay_found=$(tsplay_t "$left" bash -c '
    exec 3<>"/dev/tcp/$0/$1" || exit 1
    while IFS= read -r -t "$2" line <&3 || [ -n "$line" ]; do
      if printf "%s\\n" "$line" | grep -qP -- "$3" 2>/dev/null || printf "%s\\n" "$line" | grep -qE -- "$3" 2>/dev/null; then
        printf "%s\\n" "$line"; exit 0
      fi
      line=
    done
    exit 1' "$tsplay_host" "$tsplay_port" "$left" "$tsplay_re" 2>/dev/null)
}
tsplay_drained() {
  for f in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$f" ] || continue
    awk -v port="$(printf '%04X' "$tsplay_port")" -v states=${q(a.states.join(' '))} -v exclude=${q(a.exclude.join(' '))} '
      NR > 1 {
        split($2, local, ":"); split($3, remote, ":")
        if (local[2] != port) next
        n = split(states, s, " "); active = 0
        for (i = 1; i <= n; i++) if ($4 == s[i]) active = 1
        if (!active) next
        m = split(exclude, e, " "); skip = 0
        for (i = 1; i <= m; i++) if (remote[1] == e[i] || substr(remote[1], length(remote[1]) - 7) == e[i]) skip = 1
        if (!skip) { found = 1; exit }
      }
      END { exit found ? 0 : 1 }' "$f" && return 1
  done
  return 0
}
tsplay_check() {
  case ${q(p.mode)} in
    port-open) tsplay_tcp_open ;;
    port-closed) ! tsplay_tcp_open ;;
    port-search) tsplay_tcp_search ;;
    path-present) [ -e "$tsplay_path" ] ;;
    path-absent) [ ! -e "$tsplay_path" ] && [ ! -L "$tsplay_path" ] ;;
    path-search) [ -r "$tsplay_path" ] && tsplay_found=$(tsplay_grep -m1 -e "$tsplay_re" -- "$tsplay_path" 2>/dev/null) ;;
    drained) tsplay_drained ;;
  esac
}
case ${q(p.mode)} in
  port-search) [ "$tsplay_tool" = bash ] || { echo ${q(`${mark}=error:searching a port needs bash on the host`)}; exit 0; } ;;
  port-*) [ -n "$tsplay_tool" ] || { echo ${q(`${mark}=error:checking a port needs bash or nc on the host`)}; exit 0; } ;;
  drained) [ -r /proc/net/tcp ] || { echo ${q(`${mark}=error:state=drained needs /proc/net/tcp on the host`)}; exit 0; } ;;
esac
${a.delay > 0 ? `sleep ${a.delay}` : ':'}
while :; do
  if tsplay_check; then
    [ -n "$tsplay_found" ] && printf '%s\\n' "$tsplay_found" | head -n 1 | base64 | tr -d '\\n' | sed 's/^/${mark}-line=/' && echo
    echo ${q(`${mark}=ok`)}; exit 0
  fi
  [ "$(date +%s)" -ge "$tsplay_end" ] && { echo ${q(`${mark}=timeout`)}; exit 0; }
  sleep ${a.sleep}
done
`;
}

function num(value: number | string | undefined, fallback: number): number {
  return value === undefined ? fallback : Number(value);
}

export default defineModule<WaitForArgs>({
  name: 'wait_for',
  aliases: ['ansible.builtin.wait_for'],
  freeForm: 'kv',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      host: { type: 'string', minLength: 1 },
      port: { anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: '^\\s*\\d+\\s*$' }] },
      path: { type: 'string', minLength: 1 },
      search_regex: { type: 'string' },
      state: { enum: ['started', 'present', 'stopped', 'absent', 'drained'] },
      delay: SECONDS_SCHEMA,
      timeout: SECONDS_SCHEMA,
      sleep: SECONDS_SCHEMA,
      connect_timeout: SECONDS_SCHEMA,
      msg: { type: 'string' },
      active_connection_states: { type: 'array', items: { enum: Object.keys(TCP_STATES) } },
      exclude_hosts: { type: 'array', items: { type: 'string' } },
    },
  },
  async run(args, ctx) {
    const host = args.host ?? '127.0.0.1';
    const state = args.state ?? 'started';
    const timeout = num(args.timeout, 300);
    const delay = num(args.delay, 0);
    const sleep = num(args.sleep, 1);
    const connectTimeout = num(args.connect_timeout, 5);
    const start = Date.now();
    const elapsed = () => Math.floor((Date.now() - start) / 1000);
    if (args.port === undefined && args.path === undefined && state !== 'drained') {
      // nothing to watch: Ansible just sleeps for `timeout` seconds
      const done = await sleepUnlessAborted(timeout * 1000, ctx.signal);
      return done ? { changed: false, elapsed: elapsed(), state } : { changed: false, failed: true, elapsed: elapsed(), msg: 'wait_for interrupted' };
    }
    const planned = plan(args, host, state);
    if (typeof planned === 'string') return { changed: false, failed: true, msg: planned };
    let regex: RegExp | undefined;
    if (args.search_regex !== undefined) {
      try {
        regex = jsRegExp(args.search_regex);
      } catch (err) {
        return { changed: false, failed: true, msg: `search_regex is not a valid regular expression: ${(err as Error).message}` };
      }
    }
    const states = (args.active_connection_states ?? DEFAULT_ACTIVE).map((s) => TCP_STATES[s]!);
    const exclude: string[] = [];
    for (const h of args.exclude_hosts ?? []) {
      const hex = procHexIpv4(h);
      if (hex) exclude.push(hex);
    }
    const mark = `@@tsplay-wait-${randomBytes(6).toString('hex')}`;
    const script = waitScript(planned, {
      host, port: String(args.port ?? '').trim(), path: args.path ?? '', regex: args.search_regex ?? '', delay, timeout, sleep, connectTimeout, states, exclude,
    }, mark);
    // the loop bounds itself; this guards against a host that stops answering altogether
    const guardMs = (delay + timeout + connectTimeout + 30) * 1000;
    const res = await ctx.ops.run(script, { timeoutMs: ctx.timeoutMs !== undefined ? Math.min(ctx.timeoutMs, guardMs) : guardMs });
    const outcome = new RegExp(`^${mark}=(.*)$`, 'm').exec(res.stdout)?.[1];
    const base: ModuleResult = { changed: false, elapsed: elapsed(), state };
    if (args.port !== undefined) base.port = Number(args.port);
    if (args.path !== undefined) base.path = args.path;
    if (args.search_regex !== undefined) base.search_regex = args.search_regex;
    if (outcome === undefined) {
      return { ...base, failed: true, rc: res.rc, msg: `wait_for probe failed on the host (rc=${res.rc}): ${res.stderr.trim()}` };
    }
    if (outcome.startsWith('error:')) return { ...base, failed: true, msg: outcome.slice('error:'.length) };
    if (outcome === 'timeout') return { ...base, failed: true, msg: args.msg ?? planned.timeoutMsg };
    const line64 = new RegExp(`^${mark}-line=(.*)$`, 'm').exec(res.stdout)?.[1];
    if (regex) {
      const line = line64 ? Buffer.from(line64, 'base64').toString('utf8').replace(/\n$/, '') : '';
      const m = regex.exec(line);
      base.match_groups = m ? m.slice(1).map((g) => g ?? null) : [];
      base.match_groupdict = m?.groups ? { ...m.groups } : {};
    }
    return base;
  },
});
