// Ansible's YAML inventory format (plugins/inventory/yaml.py):
//   all:
//     hosts: {web01: {ansible_host: 10.0.0.1}, "db[1:2]":}
//     vars: {ntp: pool.ntp.org}
//     children: {web: {hosts: ..., vars: ..., children: ...}}
// Top-level keys other than `all` are groups too. A section given as a string names one
// entry (`hosts: web01`). The structure is checked as schemas/inventory.schema.json
// describes it, but here, so every error names the line and column of the bad key. Ansible
// only warns about unknown keys (`host:` for `hosts:`) and skips them; that silently loses
// hosts, so here it is an error with a suggestion.
import { ParseError, type SourcePos } from '../errors.js';
import { didYouMean } from '../load/suggest.js';
import { locate, locateKey } from '../load/positions.js';
import type { InventoryModel } from './inventory.js';
import { expandHostPattern, HostRangeError } from './ranges.js';

const SECTIONS = ['hosts', 'vars', 'children'] as const;

type Mapping = Record<string, unknown>;

function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Python's type names, as Ansible's messages use them. */
function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  return 'dict';
}

function fileStart(file: string): SourcePos {
  return { file, line: 1, col: 1 };
}

/** Add the groups and hosts of a loaded YAML inventory document to `inventory`. */
export function parseYamlInventory(data: unknown, file: string, inventory: InventoryModel): void {
  if (data === null || data === undefined) return; // an empty file: no hosts (Ansible's INI fallback agrees)
  if (!isMapping(data)) {
    throw new ParseError(
      'INVENTORY',
      `YAML inventory has invalid structure, it should be a dictionary, got: ${typeName(data)}`,
      locate(data) ?? fileStart(file),
    );
  }
  if ('plugin' in data) {
    throw new ParseError(
      'INVENTORY',
      'inventory plugin configuration files (plugin: ...) are not supported; list hosts and groups under all: instead',
      locateKey(data, 'plugin') ?? fileStart(file),
    );
  }
  for (const [name, groupData] of Object.entries(data)) parseGroup(name, groupData, data, file, inventory);
}

function parseGroup(name: string, data: unknown, container: Mapping, file: string, inventory: InventoryModel): void {
  if (data !== null && !isMapping(data)) {
    throw new ParseError(
      'INVENTORY',
      `group '${name}' must be a mapping with hosts, vars and/or children (or empty), got ${typeName(data)}`,
      locate(container, name) ?? fileStart(file),
    );
  }
  inventory.addGroup(name);
  if (data === null) return;

  for (const key of Object.keys(data)) {
    if ((SECTIONS as readonly string[]).includes(key)) continue;
    const suggestion = didYouMean(key, SECTIONS);
    const nesting = !suggestion && (isMapping(data[key]) || data[key] === null) ? ` (to make '${key}' a child group of '${name}', put it under children:)` : '';
    throw new ParseError(
      'INVENTORY',
      `unknown key '${key}' in group '${name}': a group may only have hosts, vars and children${suggestion}${nesting}`,
      locateKey(data, key) ?? fileStart(file),
    );
  }

  for (const [key, raw] of Object.entries(data)) {
    if (raw === null) continue;
    const section: Mapping | undefined = typeof raw === 'string' ? { [raw]: null } : isMapping(raw) ? raw : undefined;
    if (!section) {
      const hint = key === 'hosts' && Array.isArray(raw) ? '; write each host as a key, e.g. `hosts: {web01: }` or one `web01:` a line' : '';
      throw new ParseError(
        'INVENTORY',
        `Invalid "${key}" entry for "${name}" group, requires a dictionary, found "${typeName(raw)}" instead${hint}`,
        locate(data, key) ?? fileStart(file),
      );
    }
    const keyPos = (k: string) => (section === raw ? locateKey(raw, k) : locate(data, key)) ?? fileStart(file);
    const valuePos = (k: string) => (section === raw ? locate(raw, k) : locate(data, key)) ?? fileStart(file);

    if (key === 'vars') {
      for (const [varName, value] of Object.entries(section)) inventory.setGroupVar(name, varName, value, valuePos(varName));
    } else if (key === 'children') {
      for (const [child, childData] of Object.entries(section)) {
        parseGroup(child, childData, section, file, inventory);
        inventory.addChild(name, child, keyPos(child));
      }
    } else {
      for (const [pattern, hostVars] of Object.entries(section)) {
        let expanded: { hosts: string[]; port?: number };
        try {
          expanded = expandHostPattern(pattern);
        } catch (err) {
          if (err instanceof HostRangeError) throw new ParseError('INVENTORY', err.message, keyPos(pattern));
          throw err;
        }
        if (hostVars !== null && !isMapping(hostVars)) {
          throw new ParseError(
            'INVENTORY',
            `host '${pattern}' in group '${name}' must have a mapping of variables (or nothing), got ${typeName(hostVars)}`,
            valuePos(pattern),
          );
        }
        for (const host of expanded.hosts) {
          inventory.declareHost(host, name, expanded.port === undefined ? { source: file } : { source: file, port: expanded.port });
          for (const [varName, value] of Object.entries(hostVars ?? {})) inventory.setHostVar(host, varName, value, locate(hostVars, varName));
        }
      }
    }
  }
}
