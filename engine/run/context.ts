// What one run of a playbook shares across plays and hosts: options, inventory,
// connections, the event sink, per-host state that outlives a play, and the counters.
import type { Inventory } from '../inventory/types.js';
import type { ConnectionPool } from '../connection/factory.js';
import type { RunEvent, HostStats } from '../report/events.js';
import { emptyStats } from '../report/events.js';
import { Semaphore } from './semaphore.js';
import type { TagFilter } from './tags.js';
import type { TaskItem } from '../load/model.js';
import type { LoadedRole, RoleEntry } from '../load/roles.js';
import type { ModuleDef } from '../modules/types.js';
import type { VaultKeyring } from '../vault/keyring.js';

export interface RunOptions {
  playbookFile: string;
  check: boolean;
  diff: boolean;
  limit?: string;
  tags: TagFilter;
  startAtTask?: string;
  forks: number;
  extraVars: Record<string, unknown>;
  verbosity: number;
  /** Default per-command timeout in seconds (0 = none). */
  timeoutSeconds?: number;
  /** Write a retry file of failed hosts next to the playbook. */
  retryFiles: boolean;
  /** Secrets from --ask-pass/--ask-become-pass: the lowest variable layer, so the inventory wins. */
  connectionDefaults?: Record<string, unknown>;
  /** Vault passwords (--vault-id & co); loaders decrypt with the active keyring (useVaultKeyring). */
  vault?: VaultKeyring;
  /** Folders of custom modules besides library/ (the project config's module_paths). */
  modulePaths?: readonly string[];
  /** Roles search path (the project config's roles_path), before the default roles/ folders. */
  rolesPath?: readonly string[];
  /** Strategy of plays that name none (the project config's strategy); default linear. */
  defaultStrategy?: 'linear' | 'free';
}

/** State of one host that lasts for the whole run (across plays). */
export interface HostRunState {
  /** Gathered facts (setup), cached for the run. */
  facts?: Record<string, unknown>;
  /** set_fact and register results: they survive into later plays, as in Ansible. */
  hostFacts: Record<string, unknown>;
  /** Failed or unreachable hosts take no part in later plays. */
  failed: boolean;
  unreachable: boolean;
  /** --start-at-task: whether the named task was reached on this host. */
  started: boolean;
}

export interface RunContext {
  opts: RunOptions;
  inventory: Inventory;
  pool: ConnectionPool;
  emit(event: RunEvent): void;
  stats: Map<string, HostStats>;
  hosts: Map<string, HostRunState>;
  forks: Semaphore;
  /** Aborted on interrupt (Ctrl-C): no new task starts after it fires. */
  signal: AbortSignal;
  /** Set when any_errors_fatal tripped: the whole run stops. */
  stopped: boolean;
  lookupModule(name: string): ModuleDef | undefined;
  /** Loads an include_tasks file at run time (already validated where static). */
  loadTaskFile(file: string, includedFrom: { file: string; line: number; col: number }, role?: string): TaskItem[];
  /** Loads a role at run time (include_role with a templated name), checked like at load time. */
  loadRole(entry: RoleEntry, fromFile: string): LoadedRole;
}

export function hostState(ctx: RunContext, host: string): HostRunState {
  let state = ctx.hosts.get(host);
  if (!state) {
    state = { hostFacts: {}, failed: false, unreachable: false, started: ctx.opts.startAtTask === undefined };
    ctx.hosts.set(host, state);
  }
  return state;
}

export function statsOf(ctx: RunContext, host: string): HostStats {
  let stats = ctx.stats.get(host);
  if (!stats) {
    stats = emptyStats();
    ctx.stats.set(host, stats);
  }
  return stats;
}
