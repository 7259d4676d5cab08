// The project config, tsplay's ansible.cfg: tsplay.config.yaml (or .yml, or .tsplay.yaml)
// in the working directory or a parent (up to the filesystem root or the folder holding
// .git), or the file named by --config / $TSPLAY_CONFIG. It is validated against
// schemas/config.schema.json with file:line:col errors. Environment variables win over the
// file; command-line options win over both (the CLI applies its own flags on top).
import path from 'node:path';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { OptionError } from '../errors.js';
import { parseYaml } from '../load/yaml.js';
import { loadSchemaFile, validateAgainstSchema } from '../load/schema.js';
import { ParseErrors } from '../load/collect.js';

/** Names looked for in each folder, in order. */
export const CONFIG_FILE_NAMES = ['tsplay.config.yaml', 'tsplay.config.yml', '.tsplay.yaml', '.tsplay.yml'] as const;

export type HostKeyChecking = 'accept-new' | 'strict' | 'off';

/** The project's settings after the environment is applied; paths are absolute. */
export interface ProjectConfig {
  /** The config file read, or undefined when none was found. */
  file?: string;
  /** Inventory sources used when no -i is given. */
  inventory?: string[];
  rolesPath?: string[];
  /** Folders of custom modules (after library/). */
  modulePaths?: string[];
  forks?: number;
  /** Per-task command timeout in seconds (0 = none). */
  timeout?: number;
  strategy?: 'linear' | 'free';
  remoteUser?: string;
  hostKeyChecking?: HostKeyChecking;
  knownHostsFile?: string;
  vaultPasswordFiles?: string[];
  /** label@source entries. */
  vaultIdentityList?: string[];
  become?: boolean;
  becomeMethod?: 'sudo' | 'su';
  becomeUser?: string;
}

export interface ProjectConfigOptions {
  /** Where the search starts and relative env paths resolve. Default process.cwd(). */
  cwd?: string;
  /** An explicit config file (--config); wins over $TSPLAY_CONFIG and the search. */
  configFile?: string;
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** false: no search for a config file (an explicit --config / $TSPLAY_CONFIG is still read). Default true. */
  search?: boolean;
}

/** The config file that applies: --config, else $TSPLAY_CONFIG, else the nearest one above cwd. */
export function findProjectConfig(opts: ProjectConfigOptions = {}): string | undefined {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const explicit = opts.configFile ?? (env.TSPLAY_CONFIG || undefined);
  if (explicit !== undefined) {
    const file = path.resolve(cwd, explicit);
    if (!existsSync(file) || !statSync(file).isFile()) {
      const via = opts.configFile !== undefined ? '--config' : 'TSPLAY_CONFIG';
      throw new OptionError(`${via}: config file '${explicit}' not found`);
    }
    return file;
  }
  if (opts.search === false) return undefined;
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    for (const name of CONFIG_FILE_NAMES) {
      const candidate = path.join(dir, name);
      if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
    }
    // the project ends at its repository root: a config above it belongs to someone else
    if (existsSync(path.join(dir, '.git')) || path.dirname(dir) === dir) return undefined;
  }
}

/** Find, read and validate the project config, then apply the TSPLAY_* environment variables on top. */
export function loadProjectConfig(opts: ProjectConfigOptions = {}): ProjectConfig {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const env = opts.env ?? process.env;
  const file = findProjectConfig({ ...opts, cwd, env });
  const config: ProjectConfig = file ? readConfigFile(file) : {};
  return applyEnvironment(config, env, cwd);
}

type RawConfig = {
  inventory?: string | string[];
  roles_path?: string | string[];
  module_paths?: string | string[];
  forks?: number;
  timeout?: number;
  strategy?: 'linear' | 'free';
  remote_user?: string;
  host_key_checking?: boolean | string;
  known_hosts_file?: string;
  vault_password_file?: string | string[];
  vault_identity_list?: string[];
  become?: boolean;
  become_method?: 'sudo' | 'su';
  become_user?: string;
};

/** Read one config file; relative paths in it are relative to its folder. Throws ParseError. */
export function readConfigFile(file: string): ProjectConfig {
  const text = readFileSync(file, 'utf8');
  const data = parseYaml(text, file) ?? {};
  const schema = loadSchemaFile('config');
  const errors = validateAgainstSchema(schema, data, data, path.basename(file), { noun: 'setting', unknownCode: 'UNKNOWN_KEYWORD', coerce: true, fallbackPos: { file, line: 1, col: 1 } });
  if (errors.length === 1) throw errors[0]!;
  if (errors.length > 1) throw new ParseErrors(errors);
  const raw = data as RawConfig;
  const base = path.dirname(file);
  const paths = (v: string | string[] | undefined) => (v === undefined ? undefined : (Array.isArray(v) ? v : [v]).map((p) => resolvePath(base, p)));
  const config: ProjectConfig = { file };
  set(config, 'inventory', paths(raw.inventory));
  set(config, 'rolesPath', paths(raw.roles_path));
  set(config, 'modulePaths', paths(raw.module_paths));
  set(config, 'forks', raw.forks);
  set(config, 'timeout', raw.timeout);
  set(config, 'strategy', raw.strategy);
  set(config, 'remoteUser', raw.remote_user);
  set(config, 'hostKeyChecking', raw.host_key_checking === undefined ? undefined : hostKeyPolicy(raw.host_key_checking));
  set(config, 'knownHostsFile', raw.known_hosts_file === undefined ? undefined : resolvePath(base, raw.known_hosts_file));
  set(config, 'vaultPasswordFiles', paths(raw.vault_password_file));
  set(config, 'vaultIdentityList', raw.vault_identity_list?.map((entry) => resolveIdentity(base, entry)));
  set(config, 'become', raw.become);
  set(config, 'becomeMethod', raw.become_method);
  set(config, 'becomeUser', raw.become_user);
  return config;
}

/** The TSPLAY_* variables, each replacing the file's setting (documented in docs/config.md). */
function applyEnvironment(config: ProjectConfig, env: NodeJS.ProcessEnv, cwd: string): ProjectConfig {
  const out = { ...config };
  const value = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const list = (name: string, sep: string) => value(name)?.split(sep).map((s) => s.trim()).filter(Boolean);
  const pathList = (name: string) => list(name, path.delimiter)?.map((p) => resolvePath(cwd, p));
  set(out, 'inventory', list('TSPLAY_INVENTORY', ',')); // as the CLI reads it: sources, or a host list
  set(out, 'rolesPath', pathList('TSPLAY_ROLES_PATH'));
  set(out, 'modulePaths', pathList('TSPLAY_LIBRARY'));
  set(out, 'forks', envInteger(env, 'TSPLAY_FORKS', 1));
  set(out, 'timeout', envInteger(env, 'TSPLAY_TIMEOUT', 0));
  const strategy = value('TSPLAY_STRATEGY');
  if (strategy !== undefined) {
    if (strategy !== 'linear' && strategy !== 'free') throw new OptionError(`TSPLAY_STRATEGY must be linear or free, got '${strategy}'`);
    out.strategy = strategy;
  }
  set(out, 'remoteUser', value('TSPLAY_REMOTE_USER'));
  const hostKey = value('TSPLAY_HOST_KEY_CHECKING');
  if (hostKey !== undefined) {
    const policy = hostKeyPolicy(hostKey);
    if (!policy) throw new OptionError(`TSPLAY_HOST_KEY_CHECKING must be accept-new, strict, off, true or false, got '${hostKey}'`);
    out.hostKeyChecking = policy;
  }
  const knownHosts = value('TSPLAY_KNOWN_HOSTS_FILE');
  if (knownHosts !== undefined) out.knownHostsFile = resolvePath(cwd, knownHosts);
  // one file, kept as written: the vault code reads these variables too and must see the same source
  const vaultFile = value('TSPLAY_VAULT_PASSWORD_FILE') ?? value('ANSIBLE_VAULT_PASSWORD_FILE');
  if (vaultFile !== undefined) out.vaultPasswordFiles = [vaultFile];
  set(out, 'vaultIdentityList', list('TSPLAY_VAULT_IDENTITY_LIST', ','));
  return out;
}

function set<K extends keyof ProjectConfig>(config: ProjectConfig, key: K, value: ProjectConfig[K] | undefined): void {
  if (value !== undefined) config[key] = value;
}

function envInteger(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const text = env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw new OptionError(`${name} must be a whole number >= ${min}, got '${text}'`);
  return n;
}

function hostKeyPolicy(value: boolean | string): HostKeyChecking | undefined {
  if (value === true) return 'accept-new';
  if (value === false) return 'off';
  const word = value.trim().toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(word)) return 'accept-new';
  if (['false', 'no', 'off', '0'].includes(word)) return 'off';
  if (word === 'accept-new' || word === 'strict') return word;
  return undefined;
}

/** `~/x` is the home folder, like Ansible; other relative paths are relative to `base`. */
function resolvePath(base: string, p: string): string {
  if (p === '~' || p.startsWith('~/')) return path.join(process.env.HOME ?? '', p.slice(1));
  return path.resolve(base, p);
}

/** `label@source`: a source that is a path is made absolute; `prompt` stays as it is. */
function resolveIdentity(base: string, entry: string): string {
  const at = entry.indexOf('@');
  const label = entry.slice(0, at);
  const source = entry.slice(at + 1);
  return source === 'prompt' ? entry : `${label}@${resolvePath(base, source)}`;
}

/** Settings that are inventory-variable defaults: the lowest variable layer, so inventory and plays win. */
export function connectionDefaultsFrom(config: ProjectConfig): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  if (config.remoteUser !== undefined) vars.ansible_user = config.remoteUser;
  if (config.hostKeyChecking !== undefined) vars.tsplay_host_key_checking = config.hostKeyChecking;
  if (config.knownHostsFile !== undefined) vars.tsplay_known_hosts_file = config.knownHostsFile;
  if (config.become !== undefined) vars.ansible_become = config.become;
  if (config.becomeMethod !== undefined) vars.ansible_become_method = config.becomeMethod;
  if (config.becomeUser !== undefined) vars.ansible_become_user = config.becomeUser;
  return vars;
}

