// The inventory model: hosts, groups and their variables, built by the source parsers
// (ini.ts, yaml-source.ts, host lists) and queried by the runner. It follows Ansible's
// InventoryData: `all` and `ungrouped` always exist, parentless groups become children of
// `all`, hosts in no other group are `ungrouped`, and a host's inventory variables merge in
// VariableManager's order (see hostVars()).
import { ParseError, type SourcePos } from '../errors.js';
import { AdjacentVarsReader } from './vars-dirs.js';
import { evaluateHostPattern } from './patterns.js';
import { mergeVarsAt, setVarAt } from './var-positions.js';
import type { Inventory, InventoryGroup, InventoryHost } from './types.js';

/** Names Ansible treats as the controller itself (C.LOCALHOST). */
export const LOCALHOST_NAMES: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '::1']);

type Vars = Record<string, unknown>;

interface GroupRecord {
  name: string;
  /** Variables from the inventory source itself (INI :vars, YAML vars:). */
  vars: Vars;
  hosts: string[];
  children: string[];
  parents: string[];
  /** ansible_group_priority: breaks ties between groups of the same depth (default 1). */
  priority: number;
}

interface HostRecord {
  name: string;
  /** Variables from the inventory source itself (INI host line, YAML host mapping). */
  vars: Vars;
  /** Groups the host was put in directly, in the order it was added to them. */
  groups: string[];
  /** The inventory file the host was first seen in (Ansible's inventory_file). */
  source?: string;
  /** The implicit localhost: not in `all`, not in any group. */
  implicit?: boolean;
}

function setVar(target: Vars, key: string, value: unknown, pos?: SourcePos): void {
  // define, not assign: a variable named __proto__ stays an ordinary key
  setVarAt(target, key, value, pos);
}

/** Merge with the values' positions, so a merged host's variable still names its file:line. */
function mergeInto(target: Vars, source: Vars | undefined): void {
  mergeVarsAt(target, source);
}

export class InventoryModel implements Inventory {
  private readonly hosts = new Map<string, HostRecord>();
  private readonly groups = new Map<string, GroupRecord>();
  /** Ansible keeps one implicit localhost, named after the first pattern that needed it. */
  private implicitLocalhost: HostRecord | undefined;
  private readonly adjacent = new AdjacentVarsReader();
  private inventoryVarsDirs: string[] = [];
  private playbookVarsDirs: string[] = [];
  // The runner asks for these per host per task; they change only when the inventory does.
  private readonly patternCache = new Map<string, string[]>();
  private depthCache = new Map<string, number>();
  private readonly hostsOfCache = new Map<string, string[]>();
  private readonly hostVarsCache = new Map<string, Vars>();
  private groupsMapCache: Readonly<Record<string, readonly string[]>> | undefined;

  constructor() {
    this.addGroup('all');
    this.addGroup('ungrouped');
    this.addChild('all', 'ungrouped');
  }

  // ---- building (used by the source parsers) ----

  addGroup(name: string): void {
    if (this.groups.has(name)) return;
    this.groups.set(name, { name, vars: {}, hosts: [], children: [], parents: [], priority: 1 });
    this.changed();
  }

  /** Add a host (once) and, when given, put it in `group`. A port sets ansible_port. */
  declareHost(name: string, group?: string, opts: { port?: number; source?: string } = {}): void {
    let host = this.hosts.get(name);
    if (!host) {
      host = { name, vars: {}, groups: [] };
      if (opts.source !== undefined) host.source = opts.source;
      this.hosts.set(name, host);
    }
    if (opts.port !== undefined) setVar(host.vars, 'ansible_port', opts.port);
    if (group !== undefined) {
      this.addGroup(group);
      const record = this.groups.get(group)!;
      if (!record.hosts.includes(name)) record.hosts.push(name);
      if (!host.groups.includes(group)) host.groups.push(group);
    }
    this.changed();
  }

  /** `pos`: where the value was written (INI line, YAML value), for messages about it. */
  setHostVar(host: string, key: string, value: unknown, pos?: SourcePos): void {
    const record = this.hosts.get(host);
    if (!record) throw new Error(`internal: setHostVar on unknown host ${host}`);
    setVar(record.vars, key, value, pos);
    this.changed();
  }

  /** Like Ansible's Group.set_variable: ansible_group_priority sets the priority, not a var. */
  setGroupVar(group: string, key: string, value: unknown, pos?: SourcePos): void {
    this.addGroup(group);
    const record = this.groups.get(group)!;
    if (key === 'ansible_group_priority') {
      const priority = typeof value === 'number' ? value : Number(String(value).trim());
      if (!Number.isInteger(priority)) {
        throw new ParseError('INVENTORY', `ansible_group_priority of group '${group}' must be an integer, got: ${String(value)}`, pos);
      }
      record.priority = priority;
    } else {
      setVar(record.vars, key, value, pos);
    }
    this.changed();
  }

  /** Make `child` a child of `parent`; a loop (a group its own ancestor) is an error. */
  addChild(parent: string, child: string, pos?: SourcePos): void {
    this.addGroup(parent);
    this.addGroup(child);
    const parentRecord = this.groups.get(parent)!;
    if (parentRecord.children.includes(child)) return;
    if (parent === child) throw new ParseError('INVENTORY', `group '${child}' cannot be a child of itself`, pos);
    if (parent === 'all' ? false : this.ancestorsOf(parent).has(child) || child === 'all') {
      throw new ParseError('INVENTORY', `Adding group '${child}' as child to '${parent}' creates a recursive dependency loop.`, pos);
    }
    parentRecord.children.push(child);
    this.groups.get(child)!.parents.push(parent);
    this.changed();
  }

  /** Ansible's reconcile_inventory: run after the sources are parsed and after add_host. */
  reconcile(): void {
    for (const group of this.groups.values()) {
      if (group.name !== 'all' && group.parents.length === 0) this.addChild('all', group.name);
    }
    const ungrouped = this.groups.get('ungrouped')!;
    for (const host of this.hosts.values()) {
      const inOther = host.groups.some((g) => g !== 'all' && g !== 'ungrouped');
      const inUngrouped = host.groups.includes('ungrouped');
      if (inOther && inUngrouped) {
        host.groups = host.groups.filter((g) => g !== 'ungrouped');
        ungrouped.hosts = ungrouped.hosts.filter((h) => h !== host.name);
      } else if (!inOther && !inUngrouped) {
        host.groups.push('ungrouped');
        ungrouped.hosts.push(host.name);
      }
    }
    this.changed();
  }

  /** group_vars/ and host_vars/ next to the inventory sources, and next to the playbook. */
  setAdjacentVarsDirs(inventoryDirs: string[], playbookDirs: string[]): void {
    this.inventoryVarsDirs = [...inventoryDirs];
    this.playbookVarsDirs = [...playbookDirs];
    this.changed();
  }

  /** Read every group_vars/host_vars file that applies now, so bad files fail at load time. */
  preloadAdjacentVars(): void {
    for (const dir of [...this.inventoryVarsDirs, ...this.playbookVarsDirs]) {
      for (const group of this.groups.keys()) this.adjacent.read(dir, 'group_vars', group);
      for (const host of [...this.hosts.keys(), ...LOCALHOST_NAMES]) this.adjacent.read(dir, 'host_vars', host);
    }
  }

  // ---- the Inventory interface ----

  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** True for hosts in the inventory; the implicit localhost is not one. */
  hasHost(name: string): boolean {
    return this.hosts.has(name);
  }

  /**
   * A host's own variables (inventory source, then host_vars/ files). For `localhost`,
   * `127.0.0.1` and `::1` not in the inventory this is Ansible's implicit localhost.
   */
  host(name: string): InventoryHost | undefined {
    const record = this.hostRecord(name);
    if (!record) return undefined;
    const vars: Vars = {};
    mergeInto(vars, record.vars);
    for (const dir of this.inventoryVarsDirs) mergeInto(vars, this.adjacent.read(dir, 'host_vars', record.name));
    for (const dir of this.playbookVarsDirs) mergeInto(vars, this.adjacent.read(dir, 'host_vars', record.name));
    return { name: record.name, vars };
  }

  groupNames(): string[] {
    return [...this.groups.keys()];
  }

  hasGroup(name: string): boolean {
    return this.groups.has(name);
  }

  /** A group with its variables merged: inventory source < group_vars/ next to it < next to the playbook. */
  group(name: string): InventoryGroup | undefined {
    const record = this.groups.get(name);
    if (!record) return undefined;
    const vars: Vars = {};
    mergeInto(vars, record.vars);
    for (const dir of this.inventoryVarsDirs) mergeInto(vars, this.adjacent.read(dir, 'group_vars', name));
    for (const dir of this.playbookVarsDirs) mergeInto(vars, this.adjacent.read(dir, 'group_vars', name));
    return { name, vars, hosts: [...record.hosts], children: [...record.children] };
  }

  /** Ansible's ansible_group_priority of a group (1 unless set). */
  groupPriority(name: string): number {
    return this.groups.get(name)?.priority ?? 1;
  }

  /** Longest path from `all` (which is 0): Ansible's Group.depth. */
  groupDepth(name: string): number {
    const cached = this.depthCache.get(name);
    if (cached !== undefined) return cached;
    const record = this.groups.get(name);
    const depth = !record || record.parents.length === 0 ? 0 : Math.max(...record.parents.map((p) => this.groupDepth(p) + 1));
    this.depthCache.set(name, depth);
    return depth;
  }

  groupsOf(host: string): string[] {
    const record = this.hostRecord(host);
    if (!record) return [];
    const names = new Set<string>();
    for (const group of record.groups) {
      names.add(group);
      for (const ancestor of this.ancestorsOf(group)) names.add(ancestor);
    }
    names.delete('all');
    return [...names].sort(compareText);
  }

  /**
   * Hosts of a group and its descendants in Ansible's order: the group's own hosts, then
   * those of its children, then grandchildren (breadth first), each host once.
   */
  hostsOf(group: string): string[] {
    return [...this.cachedHostsOf(group)];
  }

  private cachedHostsOf(group: string): string[] {
    const cached = this.hostsOfCache.get(group);
    if (cached) return cached;
    if (!this.groups.has(group)) return [];
    const out: string[] = [];
    const seen = new Set<string>();
    for (const name of this.descendantsInOrder(group)) {
      for (const host of this.groups.get(name)!.hosts) {
        if (seen.has(host)) continue;
        seen.add(host);
        out.push(host);
      }
    }
    this.hostsOfCache.set(group, out);
    return out;
  }

  /** The `groups` magic variable. Shared between calls and frozen: copy it to change it. */
  groupsMap(): Record<string, string[]> {
    if (!this.groupsMapCache) {
      const out: Record<string, readonly string[]> = {};
      for (const name of this.groups.keys()) setVar(out, name, Object.freeze([...this.cachedHostsOf(name)]));
      this.groupsMapCache = Object.freeze(out);
    }
    return this.groupsMapCache as Record<string, string[]>;
  }

  /**
   * A host's variables from the inventory alone, merged in Ansible's VariableManager order:
   * `all` (source) < groups (source; by depth, ansible_group_priority, name) < group_vars/all
   * next to the inventory < next to the playbook < group_vars/GROUP next to the inventory <
   * next to the playbook < the host (source) < host_vars/ next to the inventory < next to
   * the playbook. So group_vars/all.yml beats an INI [web:vars], as in Ansible.
   */
  hostVars(host: string): Record<string, unknown> {
    const record = this.hostRecord(host);
    if (!record) return {};
    let cached = this.hostVarsCache.get(record.name);
    if (!cached) {
      cached = this.mergeHostVars(record);
      this.hostVarsCache.set(record.name, cached);
    }
    const copy: Vars = {};
    mergeInto(copy, cached);
    return copy;
  }

  private mergeHostVars(record: HostRecord): Vars {
    const groups = this.groupsOf(record.name).sort((a, b) => this.compareGroups(a, b));
    const out: Vars = {};
    mergeInto(out, this.groups.get('all')!.vars);
    for (const group of groups) mergeInto(out, this.groups.get(group)!.vars);
    for (const dir of this.inventoryVarsDirs) mergeInto(out, this.adjacent.read(dir, 'group_vars', 'all'));
    for (const dir of this.playbookVarsDirs) mergeInto(out, this.adjacent.read(dir, 'group_vars', 'all'));
    // Ansible merges per source directory, each over all of the host's groups in turn.
    for (const dir of this.inventoryVarsDirs) for (const group of groups) mergeInto(out, this.adjacent.read(dir, 'group_vars', group));
    for (const dir of this.playbookVarsDirs) for (const group of groups) mergeInto(out, this.adjacent.read(dir, 'group_vars', group));
    if (record.source !== undefined) {
      setVar(out, 'inventory_file', record.source);
      setVar(out, 'inventory_dir', dirnameOf(record.source));
    }
    mergeInto(out, record.vars);
    for (const dir of this.inventoryVarsDirs) mergeInto(out, this.adjacent.read(dir, 'host_vars', record.name));
    for (const dir of this.playbookVarsDirs) mergeInto(out, this.adjacent.read(dir, 'host_vars', record.name));
    return out;
  }

  /**
   * Hosts matching an Ansible host pattern, in Ansible's order: terms in the order written
   * (so `db:web` lists db's hosts first), each group's hosts as hostsOf() gives them.
   * A list of patterns is the same as the patterns joined by commas.
   */
  select(pattern: string | string[]): string[] {
    const key = Array.isArray(pattern) ? JSON.stringify(pattern) : pattern;
    let hosts = this.patternCache.get(key);
    if (!hosts) {
      hosts = evaluateHostPattern(pattern, {
        hostNames: () => this.hostNames(),
        groupNames: () => this.groupNames(),
        hostsOf: (group) => this.hostsOf(group),
        hasHost: (name) => this.hasHost(name),
        localhost: (name) => this.implicitLocalhostFor(name),
      });
      this.patternCache.set(key, hosts);
    }
    return [...hosts];
  }

  /** add_host at run time: the host joins `all` and each group (created under `all` when new). */
  addHost(name: string, groups: string[], vars: Record<string, unknown>): void {
    this.declareHost(name, 'all');
    for (const group of groups) this.declareHost(name, group);
    for (const [key, value] of Object.entries(vars)) this.setHostVar(name, key, value);
    this.reconcile();
  }

  // ---- helpers ----

  private changed(): void {
    this.patternCache.clear();
    this.depthCache = new Map();
    this.hostsOfCache.clear();
    this.hostVarsCache.clear();
    this.groupsMapCache = undefined;
  }

  private hostRecord(name: string): HostRecord | undefined {
    return this.hosts.get(name) ?? (LOCALHOST_NAMES.has(name) ? this.implicitLocalhostRecord(name) : undefined);
  }

  /** The name the implicit localhost answers to for `name`, or undefined if `name` is not local. */
  private implicitLocalhostFor(name: string): string | undefined {
    if (!LOCALHOST_NAMES.has(name)) return undefined;
    return this.implicitLocalhostRecord(name).name;
  }

  /** An inventory host named like localhost stands in for all three names, as in Ansible. */
  private implicitLocalhostRecord(name: string): HostRecord {
    for (const local of LOCALHOST_NAMES) {
      const record = this.hosts.get(local);
      if (record) return record;
    }
    if (!this.implicitLocalhost) {
      this.implicitLocalhost = { name, vars: { ansible_connection: 'local' }, groups: [], implicit: true };
    }
    return this.implicitLocalhost;
  }

  private ancestorsOf(group: string): Set<string> {
    const out = new Set<string>();
    const queue = [...(this.groups.get(group)?.parents ?? [])];
    while (queue.length > 0) {
      const next = queue.shift()!;
      if (out.has(next)) continue;
      out.add(next);
      queue.push(...(this.groups.get(next)?.parents ?? []));
    }
    return out;
  }

  private descendantsInOrder(group: string): string[] {
    const ordered = [group];
    const seen = new Set([group]);
    let level = [group];
    while (level.length > 0) {
      const next: string[] = [];
      for (const name of level) {
        for (const child of this.groups.get(name)!.children) {
          if (seen.has(child)) continue;
          seen.add(child);
          ordered.push(child);
          next.push(child);
        }
      }
      level = next;
    }
    return ordered;
  }

  /** Ansible's sort_groups: depth, then ansible_group_priority, then name. */
  private compareGroups(a: string, b: string): number {
    return this.groupDepth(a) - this.groupDepth(b) || this.groupPriority(a) - this.groupPriority(b) || compareText(a, b);
  }
}

/** Python's string order (code points), not the locale's. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function dirnameOf(file: string): string {
  const slash = file.lastIndexOf('/');
  return slash <= 0 ? (slash === 0 ? '/' : '.') : file.slice(0, slash);
}
