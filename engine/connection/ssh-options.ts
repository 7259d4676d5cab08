// Where and how to connect to one host: Ansible's connection variables first (they are what
// an existing inventory sets), then ~/.ssh/config for the name ssh would be given, then
// OpenSSH's defaults. The result is plain data; ssh.ts turns it into ssh2 connect options.
import { existsSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { TsplayError } from '../errors.js';
import { shlexSplit } from './shell.js';
import {
  defaultSshConfigPath,
  expandTokens,
  hostKeyPolicyFrom,
  loadSshConfig,
  parseJumpChain,
  resolveSshConfig,
  type JumpSpec,
  type SshConfig,
} from './ssh-config.js';

export type HostKeyPolicy = 'accept-new' | 'strict' | 'off';

/** One machine to log in to: a target or a jump host. */
export interface SshHop {
  /** The name as given (ansible_host, inventory name, or the ProxyJump word): for messages. */
  alias: string;
  /** The address or name actually connected to (HostName applied). */
  host: string;
  port: number;
  user: string;
  /** Private key files to try, in order (existing files only are tried). */
  identityFiles: string[];
  /** Only the identity files, not every key in the agent (IdentitiesOnly). */
  identitiesOnly: boolean;
}

export interface SshTarget extends SshHop {
  inventoryHost: string;
  password?: string;
  passphrase?: string;
  /** ssh-agent socket ($SSH_AUTH_SOCK). */
  agentSocket?: string;
  /** Jump hosts, first hop first; empty = direct. */
  jumps: SshHop[];
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  hostKeyPolicy: HostKeyPolicy;
  /** Files read for host keys; new keys are recorded in the first. */
  knownHostsFiles: string[];
  hashKnownHosts: boolean;
  /** Session channels open at once (below OpenSSH's MaxSessions 10). */
  maxSessions: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 5_000;
export const DEFAULT_KEEPALIVE_COUNT_MAX = 3;
export const DEFAULT_MAX_SESSIONS = 8;
export const GLOBAL_KNOWN_HOSTS = '/etc/ssh/ssh_known_hosts';

/** OpenSSH's default identities, tried when no IdentityFile is configured. */
function defaultIdentityFiles(): string[] {
  const dir = join(homedir(), '.ssh');
  return ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'].map((n) => join(dir, n));
}

function str(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
}

/** The first of several aliases that is set. */
function pick(vars: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = str(vars[name]);
    if (v !== undefined) return v;
  }
  return undefined;
}

function pickSecret(vars: Record<string, unknown>, names: readonly string[]): string | undefined {
  for (const name of names) {
    const v = vars[name];
    if (v !== undefined && v !== null && v !== '') return String(v);
  }
  return undefined;
}

function portOf(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new TsplayError('CONNECTION', `${what} must be a port number (1-65535), got ${JSON.stringify(value)}`);
  return n;
}

function secondsToMs(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new TsplayError('CONNECTION', `${what} must be a number of seconds, got ${JSON.stringify(value)}`);
  return Math.round(n * 1000);
}

/** ansible_ssh_host_key_checking: true keeps checking (accept-new), false is off; or a policy name. */
function policyFromVar(value: unknown): HostKeyPolicy | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (value === true) return 'accept-new';
  if (value === false) return 'off';
  const s = String(value).trim().toLowerCase();
  if (s === 'true') return 'accept-new';
  if (s === 'false') return 'off';
  const p = hostKeyPolicyFrom(s);
  if (!p) throw new TsplayError('CONNECTION', `host key checking must be accept-new, strict or off (or yes/no), got ${JSON.stringify(String(value))}`);
  return p;
}

/** `-J hop` or `-o ProxyJump=hop` inside ansible_ssh_common_args / ansible_ssh_extra_args. */
export function jumpFromSshArgs(args: string | undefined): string | undefined {
  if (!args) return undefined;
  let words: string[];
  try {
    words = shlexSplit(args);
  } catch {
    return undefined;
  }
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === '-J' && words[i + 1]) return words[i + 1];
    if (w.startsWith('-J') && w.length > 2) return w.slice(2);
    const opt = w === '-o' ? words[i + 1] : w.startsWith('-o') ? w.slice(2) : undefined;
    if (opt) {
      const m = /^ProxyJump\s*[= ]\s*(.+)$/i.exec(opt);
      if (m) return m[1];
    }
  }
  return undefined;
}

function resolveHop(config: SshConfig, spec: JumpSpec, extraKeys: readonly string[]): SshHop {
  const c = resolveSshConfig(config, spec.host);
  const explicit = [...extraKeys, ...c.identityFiles];
  return {
    alias: spec.host,
    host: c.hostName ?? spec.host,
    port: spec.port ?? c.port ?? 22,
    user: spec.user ?? c.user ?? userInfo().username,
    identityFiles: explicit.length > 0 ? explicit : defaultIdentityFiles(),
    identitiesOnly: c.identitiesOnly ?? false,
  };
}

/**
 * The connection settings for an inventory host. Reads only the connection variables
 * from `vars` (which may be templated lazily) and the ssh config file
 * ($TSPLAY_SSH_CONFIG or ~/.ssh/config; a missing file is no config).
 */
export function resolveSshTarget(inventoryHost: string, vars: Record<string, unknown>, opts: { configPath?: string } = {}): SshTarget {
  const config = loadSshConfig(opts.configPath ?? defaultSshConfigPath());
  const given = pick(vars, ['ansible_host', 'ansible_ssh_host']) ?? inventoryHost;
  const c = resolveSshConfig(config, given);

  const host = c.hostName ?? given;
  const port = portOf(pick(vars, ['ansible_port', 'ansible_ssh_port']), 'ansible_port') ?? c.port ?? 22;
  const user = pick(vars, ['ansible_user', 'ansible_ssh_user', 'remote_user']) ?? c.user ?? userInfo().username;
  const varKey = pick(vars, ['ansible_ssh_private_key_file', 'ansible_private_key_file']);
  const varKeys = varKey ? [expandTokens(varKey, { host, originalHost: given, port, user })] : [];
  const explicitKeys = [...varKeys, ...c.identityFiles];

  const jumpValue =
    pick(vars, ['tsplay_jump_host', 'ansible_ssh_jump_host', 'ansible_jump_host']) ??
    jumpFromSshArgs(pick(vars, ['ansible_ssh_common_args'])) ??
    jumpFromSshArgs(pick(vars, ['ansible_ssh_extra_args']));
  const jumpSpecs = jumpValue !== undefined ? parseJumpChain(jumpValue) : (c.proxyJump ?? []);
  // a bastion is usually reached with the same key as the targets behind it
  const jumps = jumpSpecs.map((spec) => resolveHop(config, spec, varKeys));

  const knownVar = pick(vars, ['tsplay_known_hosts_file', 'ansible_ssh_known_hosts_file']);
  const userKnown = knownVar
    ? [expandTokens(knownVar, { host, originalHost: given, port, user })]
    : (c.userKnownHostsFiles ?? [join(homedir(), '.ssh', 'known_hosts'), join(homedir(), '.ssh', 'known_hosts2')]);

  const maxSessionsValue = pick(vars, ['ansible_ssh_max_sessions', 'tsplay_ssh_max_sessions']);
  const maxSessions = maxSessionsValue === undefined ? DEFAULT_MAX_SESSIONS : Number(maxSessionsValue);
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw new TsplayError('CONNECTION', `ansible_ssh_max_sessions must be a whole number of at least 1, got ${JSON.stringify(maxSessionsValue)}`);
  }

  const hostKeyVar =
    vars.tsplay_host_key_checking ?? vars.ansible_ssh_host_key_checking ?? vars.ansible_host_key_checking;
  const target: SshTarget = {
    inventoryHost,
    alias: given,
    host,
    port,
    user,
    identityFiles: explicitKeys.length > 0 ? explicitKeys : defaultIdentityFiles(),
    identitiesOnly: c.identitiesOnly ?? false,
    jumps,
    connectTimeoutMs:
      secondsToMs(pick(vars, ['ansible_ssh_timeout', 'ansible_timeout']), 'ansible_ssh_timeout') ??
      (c.connectTimeoutSec !== undefined ? c.connectTimeoutSec * 1000 : DEFAULT_CONNECT_TIMEOUT_MS),
    keepaliveIntervalMs: c.serverAliveIntervalSec ? c.serverAliveIntervalSec * 1000 : DEFAULT_KEEPALIVE_INTERVAL_MS,
    keepaliveCountMax: c.serverAliveCountMax ?? DEFAULT_KEEPALIVE_COUNT_MAX,
    hostKeyPolicy: policyFromVar(hostKeyVar) ?? c.strictHostKeyChecking ?? 'accept-new',
    knownHostsFiles: [...userKnown, GLOBAL_KNOWN_HOSTS],
    hashKnownHosts: c.hashKnownHosts ?? false,
    maxSessions,
  };
  // secrets are taken verbatim (no trimming): a space may be part of a password
  const password = pickSecret(vars, ['ansible_password', 'ansible_ssh_pass', 'ansible_ssh_password']);
  if (password !== undefined) target.password = password;
  const passphrase = pickSecret(vars, ['ansible_ssh_private_key_passphrase', 'tsplay_private_key_passphrase']);
  if (passphrase !== undefined) target.passphrase = passphrase;
  const agent = process.env.SSH_AUTH_SOCK;
  if (agent && existsSync(agent)) target.agentSocket = agent;
  return target;
}

/** `user@host:port` as messages and the jump-connection cache name a hop. */
export function hopLabel(hop: Pick<SshHop, 'user' | 'host' | 'port'>): string {
  const host = hop.host.includes(':') ? `[${hop.host}]` : hop.host;
  return `${hop.user}@${host}${hop.port === 22 ? '' : `:${hop.port}`}`;
}
