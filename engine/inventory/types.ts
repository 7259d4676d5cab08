// The inventory model shared by every source format (INI, YAML, directories).

export interface InventoryHost {
  name: string;
  /** Variables set on the host itself (inventory line, host_vars/). */
  vars: Record<string, unknown>;
}

export interface InventoryGroup {
  name: string;
  vars: Record<string, unknown>;
  /** Hosts listed directly in this group, in inventory order. */
  hosts: string[];
  /** Child group names. */
  children: string[];
}

export interface Inventory {
  /** Every host, in inventory order (first appearance). */
  hostNames(): string[];
  hasHost(name: string): boolean;
  host(name: string): InventoryHost | undefined;
  groupNames(): string[];
  group(name: string): InventoryGroup | undefined;
  /** All groups a host belongs to, directly or through children, excluding `all` (Ansible's group_names), sorted. */
  groupsOf(host: string): string[];
  /** Every host of a group and its descendants, in inventory order. */
  hostsOf(group: string): string[];
  /** The `groups` magic variable: every group (incl. all and ungrouped) to its hosts. */
  groupsMap(): Record<string, string[]>;
  /**
   * Variables of a host from the inventory alone, merged Ansible's way:
   * all < parent groups < child groups (by depth, then name) < host.
   */
  hostVars(host: string): Record<string, unknown>;
  /** Hosts matching a pattern (`a:b`, `a,b`, `a:&b`, `a:!b`, globs, `~regex`, `g[0]`, `g[0:2]`), in inventory order. */
  select(pattern: string): string[];
  /** Add a host at run time (add_host, and the implicit localhost). */
  addHost(name: string, groups: string[], vars: Record<string, unknown>): void;
}
