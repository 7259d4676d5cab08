// `tsplay inventory`: the three views of ansible-inventory (cli/inventory.py).
//   --list   inventoryListJson(): groups with their direct hosts and children (empty groups
//            left out, `all` without hosts), every host's merged variables in _meta.hostvars.
//   --graph  inventoryGraph(): the group tree, `  |--` per level, hosts under their groups.
//   --host   inventoryHostJson(): one host's merged variables.
// Magic variables (inventory_file, inventory_dir, ...) are left out, as ansible-inventory does.
import { OptionError } from '../errors.js';
import type { Inventory } from './types.js';

/** Ansible's C.INTERNAL_STATIC_VARS: never shown by ansible-inventory. */
const INTERNAL_VARS = new Set([
  'ansible_async_path',
  'ansible_collection_name',
  'ansible_config_file',
  'ansible_dependent_role_names',
  'ansible_diff_mode',
  'ansible_facts',
  'ansible_forks',
  'ansible_inventory_sources',
  'ansible_limit',
  'ansible_play_batch',
  'ansible_play_hosts',
  'ansible_play_hosts_all',
  'ansible_play_role_names',
  'ansible_playbook_python',
  'ansible_role_name',
  'ansible_role_names',
  'ansible_run_tags',
  'ansible_skip_tags',
  'ansible_verbosity',
  'ansible_version',
  'inventory_dir',
  'inventory_file',
  'inventory_hostname',
  'inventory_hostname_short',
  'groups',
  'group_names',
  'omit',
  'hostvars',
  'playbook_dir',
  'play_hosts',
  'role_names',
  'ungrouped',
]);

type Vars = Record<string, unknown>;

function withoutInternal(vars: Vars): Vars {
  const out: Vars = {};
  for (const [key, value] of Object.entries(vars)) {
    if (!INTERNAL_VARS.has(key)) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Keys sorted at every level, so JSON.stringify(x, null, 4) prints what json.dumps(sort_keys=True, indent=4) does. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (value !== null && typeof value === 'object') {
    const out: Vars = {};
    for (const key of Object.keys(value).sort()) {
      Object.defineProperty(out, key, { value: sortKeysDeep((value as Vars)[key]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

function groupPriority(inventory: Inventory, group: string): number {
  const withPriority = inventory as Inventory & { groupPriority?: (name: string) => number };
  return withPriority.groupPriority ? withPriority.groupPriority(group) : 1;
}

/** ansible-inventory's _get_group_variables: the group's merged vars, plus its priority when not 1. */
function groupVariables(inventory: Inventory, group: string): Vars {
  const vars: Vars = { ...(inventory.group(group)?.vars ?? {}) };
  const priority = groupPriority(inventory, group);
  if (priority !== 1) vars['ansible_group_priority'] = priority;
  return withoutInternal(vars);
}

/** ansible-inventory --list, as an object with sorted keys (print with JSON.stringify(x, null, 4)). */
export function inventoryListJson(inventory: Inventory): Record<string, unknown> {
  const available = inventory.select('all');
  const availableSet = new Set(available);
  const results: Vars = {};
  const seen = new Set<string>();

  const formatGroup = (name: string): void => {
    const group = inventory.group(name)!;
    const entry: Vars = {};
    if (name !== 'all') entry['hosts'] = group.hosts.filter((h) => availableSet.has(h));
    entry['children'] = [...group.children];
    for (const child of group.children) {
      if (seen.has(child)) continue;
      formatGroup(child);
      seen.add(child);
    }
    for (const key of ['hosts', 'children']) {
      if (Array.isArray(entry[key]) && (entry[key] as unknown[]).length === 0) delete entry[key];
    }
    if (Object.keys(entry).length > 0) results[name] = entry;
    else delete results[name];
  };
  formatGroup('all');

  const hostvars: Vars = {};
  for (const host of available) {
    const vars = withoutInternal(inventory.hostVars(host));
    if (Object.keys(vars).length > 0) hostvars[host] = vars;
  }
  results['_meta'] = { hostvars };
  return sortKeysDeep(results) as Record<string, unknown>;
}

/** The text ansible-inventory --list prints (json.dumps with sort_keys and indent=4). */
export function inventoryListText(inventory: Inventory): string {
  return JSON.stringify(inventoryListJson(inventory), null, 4);
}

/** ansible-inventory --host NAME: the host's merged inventory variables, keys sorted. */
export function inventoryHostJson(inventory: Inventory, name: string): Record<string, unknown> {
  const hosts = inventory.select(name);
  if (hosts.length !== 1) throw new OptionError('You must pass a single valid host to --host parameter');
  return sortKeysDeep(withoutInternal(inventory.hostVars(hosts[0]!))) as Record<string, unknown>;
}

/** ansible-inventory --graph [GROUP] [--vars]. */
export function inventoryGraph(inventory: Inventory, group = 'all', withVars = false): string {
  if (!inventory.group(group)) throw new OptionError('Pattern must be valid group name when using --graph');
  const graphName = (name: string, depth: number): string => (depth ? '  |'.repeat(depth) + '--' + name : name);
  const showVars = (vars: Vars, depth: number): string[] =>
    Object.keys(vars)
      .sort()
      .map((key) => graphName(`{${key} = ${pyStr(vars[key])}}`, depth));

  const graphGroup = (name: string, depth: number): string[] => {
    const record = inventory.group(name)!;
    const lines = [graphName(`@${name}:`, depth)];
    const inner = depth + 1;
    for (const child of record.children) lines.push(...graphGroup(child, inner));
    if (name !== 'all') {
      for (const host of record.hosts) {
        lines.push(graphName(host, inner));
        if (withVars) lines.push(...showVars(withoutInternal(inventory.hostVars(host)), inner + 1));
      }
    }
    if (withVars) lines.push(...showVars(groupVariables(inventory, name), inner));
    return lines;
  };
  return graphGroup(group, 0).join('\n');
}

/** Python's str(), which ansible-inventory uses for `{name = value}`. */
function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return pyRepr(value);
}

function pyRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([k, v]) => `${pyRepr(k)}: ${pyRepr(v)}`)
      .join(', ')}}`;
  }
  return pyStr(value);
}
