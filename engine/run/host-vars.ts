// The variables a task sees on a host, layered by precedence (engine/vars/PRECEDENCE.md):
// inventory < facts < play vars < vars_files < block vars < task vars < set_fact/register
// < extra vars, plus the magic variables, which nothing overrides.
import path from 'node:path';
import type { RunContext } from './context.js';
import { hostState } from './context.js';
import { makeScope, type VarLayer } from './templar.js';

/** What a play contributes to every scope of one host. */
export interface PlayScopeInput {
  playVars: Record<string, unknown>;
  /** The play's vars_files as loaded for a host (their paths may be templated per host). */
  varsFiles: (host: string) => Array<Record<string, unknown>>;
  playHosts: () => string[];
  playHostsAll: string[];
  batch: string[];
  /** Extra per-play magic (role_path later). */
  magic?: Record<string, unknown>;
  /** Role layers every task of the host sees (public roles' defaults and vars), tiered. */
  roleLayers?: (host: string) => VarLayer[];
}

export interface HostScopeFactory {
  /** A fresh scope for a task: `inner` layers (block vars outer→inner, then task vars) sit above vars_files. */
  scope(host: string, inner: VarLayer[]): Record<string, unknown>;
  /** hostvars[host]: the host-level view (no block or task vars). */
  hostvars(): Record<string, unknown>;
}

/** Ansible injects every fact both under ansible_facts and as a top-level ansible_<name>. */
function factLayer(facts: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!facts) return {};
  const out: Record<string, unknown> = { ansible_facts: facts };
  for (const [key, value] of Object.entries(facts)) out[key.startsWith('ansible_') ? key : `ansible_${key}`] = value;
  return out;
}

export function createScopeFactory(ctx: RunContext, play: PlayScopeInput, omitToken: string): HostScopeFactory {
  const playbookDir = path.dirname(path.resolve(ctx.opts.playbookFile));
  const hostLevelCache = new Map<string, Record<string, unknown>>();

  const magicFor = (host: string): Record<string, unknown> => ({
    inventory_hostname: host,
    inventory_hostname_short: host.split('.')[0],
    group_names: ctx.inventory.groupsOf(host),
    groups: ctx.inventory.groupsMap(),
    hostvars: hostvarsView,
    play_hosts: play.playHosts(),
    ansible_play_hosts: play.playHosts(),
    ansible_play_hosts_all: play.playHostsAll,
    ansible_play_batch: play.batch,
    ansible_check_mode: ctx.opts.check,
    ansible_diff_mode: ctx.opts.diff,
    ansible_verbosity: ctx.opts.verbosity,
    playbook_dir: playbookDir,
    omit: omitToken,
    ...play.magic,
  });

  const layersFor = (host: string, given: VarLayer[]): VarLayer[] => {
    const state = hostState(ctx, host);
    // role layers go to their tier (PRECEDENCE.md), whatever block or include they came with
    const all = [...(play.roleLayers?.(host) ?? []), ...given];
    const tier = (t: VarLayer['tier']) => all.filter((l) => l.tier === t);
    return [
      { name: 'command line', vars: ctx.opts.connectionDefaults ?? {}, raw: true },
      ...tier('role defaults'),
      { name: 'inventory', vars: ctx.inventory.hostVars(host) },
      { name: 'facts', vars: factLayer(state.facts), raw: true },
      { name: 'play vars', vars: play.playVars },
      ...play.varsFiles(host).map((vars, i) => ({ name: `vars_files[${i}]`, vars })),
      ...tier('role vars'),
      ...tier(undefined),
      // set_fact values were templated when set; register results are data: neither is templated again
      { name: 'set_fact/register', vars: state.hostFacts, raw: true },
      ...tier('role params'),
      { name: 'extra vars', vars: ctx.opts.extraVars },
    ];
  };

  // hostvars: every inventory host (also those add_host adds during the run), each a cached
  // host-level scope made on first read; a Proxy so templates and expressions see own keys
  const hostLevel = (name: string): Record<string, unknown> => {
    let scope = hostLevelCache.get(name);
    if (!scope) {
      scope = makeScope(layersFor(name, []), magicFor(name));
      hostLevelCache.set(name, scope);
    }
    return scope;
  };
  const known = (name: string | symbol): name is string => typeof name === 'string' && ctx.inventory.hasHost(name);
  const hostvarsView: Record<string, unknown> = new Proxy(Object.create(null) as Record<string, unknown>, {
    get: (_t, name) => (known(name) ? hostLevel(name) : undefined),
    has: (_t, name) => known(name),
    ownKeys: () => ctx.inventory.hostNames(),
    getOwnPropertyDescriptor: (_t, name) => (known(name) ? { value: hostLevel(name), enumerable: true, configurable: true, writable: false } : undefined),
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
  });

  return {
    scope(host, inner) {
      // facts and set_fact change during the play: a host-level view must not go stale
      hostLevelCache.delete(host);
      return makeScope(layersFor(host, inner), magicFor(host));
    },
    hostvars: () => hostvarsView,
  };
}
