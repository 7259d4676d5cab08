// ~/.ssh/config, read the way OpenSSH reads it: `Host` blocks with `*`, `?` and `!negation`
// patterns (several per line), the first value obtained for a keyword wins, IdentityFile
// accumulates. `Match` blocks are not evaluated (only `Match all` applies); their options are
// skipped rather than wrongly applied. `Include` is followed (relative to ~/.ssh).
import { readFileSync, readdirSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { minimatch } from 'minimatch';

/** One `Keyword value` line inside the block that guards it. */
interface ConfigLine {
  keyword: string; // lower case
  args: string[];
  /** Patterns of the enclosing Host line; undefined = top of file (applies to all). */
  hostPatterns?: string[];
  /** Inside a Match block that tsplay does not evaluate. */
  unsupportedMatch?: boolean;
}

export interface SshConfig {
  lines: ConfigLine[];
}

/** A jump host as written in ProxyJump: `[user@]host[:port]` or `ssh://[user@]host[:port]`. */
export interface JumpSpec {
  host: string;
  user?: string;
  port?: number;
}

/** What ~/.ssh/config says about one host. Unset keys are absent. */
export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  identitiesOnly?: boolean;
  /** Empty array = `ProxyJump none`. */
  proxyJump?: JumpSpec[];
  connectTimeoutSec?: number;
  serverAliveIntervalSec?: number;
  serverAliveCountMax?: number;
  userKnownHostsFiles?: string[];
  strictHostKeyChecking?: 'strict' | 'accept-new' | 'off';
  hashKnownHosts?: boolean;
}

/** OpenSSH's glob: `*` any run, `?` one character, everything else literal; case-insensitive. */
export function matchPattern(pattern: string, text: string): boolean {
  const re = new RegExp(
    `^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`,
    'is',
  );
  return re.test(text);
}

/** A Host line's pattern list: any positive match and no negated match. */
export function hostPatternsMatch(patterns: readonly string[], host: string): boolean {
  let positive = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(p.slice(1), host)) return false;
    } else if (matchPattern(p, host)) positive = true;
  }
  return positive;
}

/** Split an option line into words: whitespace-separated, double quotes group, `=` may follow the keyword. */
function splitLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quoted = false;
  for (const ch of line) {
    if (quoted) {
      if (ch === '"') quoted = false;
      else word += ch;
    } else if (ch === '"') {
      quoted = true;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(word);
  return words;
}

function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return path;
}

/** Files an Include names: relative paths live in ~/.ssh; a glob in the last component is expanded. */
function includeFiles(arg: string, baseDir: string): string[] {
  let path = expandHome(arg);
  if (!isAbsolute(path)) path = join(baseDir, path);
  if (!/[*?[]/.test(path)) return [path];
  const dir = dirname(path);
  try {
    return readdirSync(dir)
      .filter((name) => minimatch(join(dir, name), path, { dot: false }))
      .sort()
      .map((name) => join(dir, name));
  } catch {
    return [];
  }
}

/** Parse config text. `file` names it in nothing but Include resolution. */
export function parseSshConfig(text: string, opts: { file?: string; depth?: number } = {}): SshConfig {
  const lines: ConfigLine[] = [];
  let hostPatterns: string[] | undefined;
  let unsupportedMatch = false;
  const baseDir = join(homedir(), '.ssh');
  for (const rawLine of text.split(/\r?\n/)) {
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    // `Keyword=value` and `Keyword = value` are both allowed
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(trimmed);
    if (!m) continue;
    const keyword = m[1]!.toLowerCase();
    const args = splitLine(m[2]!);
    if (keyword === 'host') {
      hostPatterns = args;
      unsupportedMatch = false;
      continue;
    }
    if (keyword === 'match') {
      // `Match all` applies everywhere; other criteria (exec, user, ...) are not evaluated
      hostPatterns = undefined;
      unsupportedMatch = !(args.length === 1 && args[0]!.toLowerCase() === 'all');
      continue;
    }
    if (keyword === 'include') {
      if ((opts.depth ?? 0) >= 16) continue; // OpenSSH's include depth limit
      for (const arg of args) {
        for (const file of includeFiles(arg, baseDir)) {
          let sub: string;
          try {
            sub = readFileSync(file, 'utf8');
          } catch {
            continue;
          }
          // included lines keep the enclosing block's condition
          for (const l of parseSshConfig(sub, { file, depth: (opts.depth ?? 0) + 1 }).lines) {
            lines.push({
              ...l,
              hostPatterns: l.hostPatterns ?? hostPatterns,
              unsupportedMatch: l.unsupportedMatch || unsupportedMatch,
            });
          }
        }
      }
      continue;
    }
    lines.push({ keyword, args, ...(hostPatterns ? { hostPatterns } : {}), ...(unsupportedMatch ? { unsupportedMatch } : {}) });
  }
  return { lines };
}

/** Read a config file; a missing or unreadable file is an empty config. */
export function loadSshConfig(path: string): SshConfig {
  try {
    return parseSshConfig(readFileSync(path, 'utf8'), { file: path });
  } catch {
    return { lines: [] };
  }
}

/** The config file tsplay reads: $TSPLAY_SSH_CONFIG, else ~/.ssh/config. */
export function defaultSshConfigPath(): string {
  return process.env.TSPLAY_SSH_CONFIG || join(homedir(), '.ssh', 'config');
}

/** `[user@]host[:port]`, `[ipv6]:port` or `ssh://...` as ProxyJump and -J accept. */
export function parseJumpSpec(spec: string): JumpSpec {
  let s = spec.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let host = s;
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const colon = /^([^:]+):(\d+)$/.exec(s);
    if (colon) {
      host = colon[1]!;
      port = Number(colon[2]);
    }
  }
  return { host, ...(user ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

/** A comma-separated jump chain, first hop first; `none` is the empty chain. */
export function parseJumpChain(value: string): JumpSpec[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(parseJumpSpec);
}

function yesNo(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  return undefined;
}

/** OpenSSH's StrictHostKeyChecking values mapped to tsplay's policies ("ask" cannot prompt: strict). */
export function hostKeyPolicyFrom(value: string): SshHostConfig['strictHostKeyChecking'] {
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true' || v === 'ask' || v === 'strict') return 'strict';
  if (v === 'accept-new') return 'accept-new';
  if (v === 'no' || v === 'off' || v === 'false') return 'off';
  return undefined;
}

/** Expand OpenSSH's % tokens (%% %h %n %p %r %u %d) and a leading ~. */
export function expandTokens(value: string, t: { host: string; originalHost: string; port?: number; user?: string }): string {
  const expanded = value.replace(/%([%hnpdru])/g, (_, c: string) => {
    switch (c) {
      case '%':
        return '%';
      case 'h':
        return t.host;
      case 'n':
        return t.originalHost;
      case 'p':
        return String(t.port ?? 22);
      case 'r':
        return t.user ?? userInfo().username;
      case 'u':
        return userInfo().username;
      case 'd':
        return homedir();
      default:
        return `%${c}`;
    }
  });
  return expandHome(expanded);
}

/**
 * The settings for `host` (the name as given to ssh: ansible_host or the inventory name).
 * The first value obtained wins, so specific Host blocks must come before `Host *`, as in OpenSSH.
 */
export function resolveSshConfig(config: SshConfig, host: string): SshHostConfig {
  const first = new Map<string, string[]>();
  const identityFiles: string[] = [];
  for (const line of config.lines) {
    if (line.unsupportedMatch) continue;
    if (line.hostPatterns && !hostPatternsMatch(line.hostPatterns, host)) continue;
    if (line.keyword === 'identityfile') {
      if (line.args[0] !== undefined) identityFiles.push(line.args[0]);
      continue;
    }
    if (!first.has(line.keyword)) first.set(line.keyword, line.args);
  }
  const one = (k: string) => first.get(k)?.[0];
  const out: SshHostConfig = { identityFiles: [] };
  const hostName = one('hostname');
  out.hostName = hostName !== undefined ? expandTokens(hostName, { host, originalHost: host }) : undefined;
  if (out.hostName === undefined) delete out.hostName;
  const realHost = out.hostName ?? host;
  const user = one('user');
  if (user !== undefined) out.user = user;
  const port = one('port');
  if (port !== undefined && /^\d+$/.test(port)) out.port = Number(port);
  out.identityFiles = identityFiles
    .filter((f) => f.toLowerCase() !== 'none')
    .map((f) => expandTokens(f, { host: realHost, originalHost: host, port: out.port, user: out.user }));
  const identitiesOnly = yesNo(one('identitiesonly'));
  if (identitiesOnly !== undefined) out.identitiesOnly = identitiesOnly;
  const jump = first.get('proxyjump');
  if (jump) out.proxyJump = parseJumpChain(jump.join(' '));
  const ct = one('connecttimeout');
  if (ct !== undefined && /^\d+$/.test(ct)) out.connectTimeoutSec = Number(ct);
  const sai = one('serveraliveinterval');
  if (sai !== undefined && /^\d+$/.test(sai)) out.serverAliveIntervalSec = Number(sai);
  const sacm = one('serveralivecountmax');
  if (sacm !== undefined && /^\d+$/.test(sacm)) out.serverAliveCountMax = Number(sacm);
  const ukh = first.get('userknownhostsfile');
  if (ukh && ukh.length > 0 && ukh[0]!.toLowerCase() !== 'none') {
    out.userKnownHostsFiles = ukh.map((f) => expandTokens(f, { host: realHost, originalHost: host, port: out.port, user: out.user }));
  }
  const shkc = one('stricthostkeychecking');
  const policy = shkc === undefined ? undefined : hostKeyPolicyFrom(shkc);
  if (policy) out.strictHostKeyChecking = policy;
  const hkh = yesNo(one('hashknownhosts'));
  if (hkh !== undefined) out.hashKnownHosts = hkh;
  return out;
}
