// Loading inventory sources (-i): files (INI or YAML), directories of them, and Ansible's
// comma-separated host lists (`-i web01,web02,`). Several sources merge in order. After
// parsing, group_vars/ and host_vars/ next to each source (a directory source: inside it;
// a file: beside it) and next to the playbook apply, the playbook's winning.
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, extname, resolve } from 'node:path';
import { ParseError } from '../errors.js';
import { parseYaml } from '../load/yaml.js';
import { inventoryFilesIn } from './directory.js';
import { parseIniInventory } from './ini.js';
import { InventoryModel } from './inventory.js';
import { parseAddress } from './ranges.js';
import { parseYamlInventory } from './yaml-source.js';

export interface LoadInventoryOptions {
  /** The playbook's directory: its group_vars/ and host_vars/ override the inventory's. */
  playbookDir?: string;
  /** Relative sources are taken from here (default: the process's working directory). */
  cwd?: string;
}

const YAML_EXTENSIONS = ['.yml', '.yaml', '.json'];

export function loadInventory(sources: string[], opts: LoadInventoryOptions = {}): InventoryModel {
  const inventory = new InventoryModel();
  const varsDirs: string[] = [];
  const cwd = opts.cwd ?? process.cwd();
  for (const source of sources) {
    if (!source) continue;
    const path = resolve(cwd, source.startsWith('~/') ? homedir() + source.slice(1) : source);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) {
      if (source.includes(',')) {
        parseHostList(source, inventory);
        continue;
      }
      throw new ParseError('INVENTORY', `inventory source not found: ${source}`);
    }
    if (stat.isDirectory()) {
      for (const file of inventoryFilesIn(path)) parseInventoryFile(file, inventory);
      varsDirs.push(path);
    } else {
      parseInventoryFile(path, inventory);
      varsDirs.push(dirname(path));
    }
  }
  inventory.reconcile();
  inventory.setAdjacentVarsDirs(varsDirs, opts.playbookDir ? [resolve(cwd, opts.playbookDir)] : []);
  inventory.preloadAdjacentVars();
  return inventory;
}

/** Ansible's host_list source: `a,b:2222,c` (no ranges); every host is ungrouped. */
function parseHostList(list: string, inventory: InventoryModel): void {
  for (const item of list.split(',')) {
    const entry = item.trim();
    if (!entry) continue;
    const address = parseAddress(entry);
    const host = address && !address.host.includes('[') ? address.host : entry;
    if (inventory.hasHost(host)) continue;
    inventory.declareHost(host, 'ungrouped', address?.port === undefined || address.host.includes('[') ? {} : { port: address.port });
  }
}

/** One inventory file: YAML by extension (or by content when it has none), INI otherwise. */
export function parseInventoryFile(file: string, inventory: InventoryModel): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ParseError('INVENTORY', `cannot read inventory file ${file}: ${(err as Error).message}`);
  }
  const ext = extname(file).toLowerCase();
  if (text.startsWith('#!')) {
    throw new ParseError('INVENTORY', `${file} is an inventory script; scripts are not supported: write its output (ansible-inventory --list --yaml) to a .yml file`, {
      file,
      line: 1,
      col: 1,
    });
  }
  if (ext === '.toml') throw new ParseError('INVENTORY', `TOML inventories are not supported: ${file} (convert it to YAML or INI)`);
  if (YAML_EXTENSIONS.includes(ext) || (ext === '' && looksLikeYaml(text))) {
    parseYamlInventory(parseYaml(text, file), file, inventory);
  } else {
    parseIniInventory(text, file, inventory);
  }
}

/**
 * A file without an extension is YAML when its first meaningful line opens a document,
 * a flow mapping, or a mapping key (`all:`, `web:` …). INI host lines never end in a bare
 * colon (`web:22` is a port), so this cannot steal an INI inventory.
 */
export function looksLikeYaml(text: string): boolean {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line.trim() || /^\s*[#;]/.test(line)) continue;
    return /^(?:---|\{|[^\s#;[=]\S*:(?:\s.*)?)$/.test(line);
  }
  return false;
}
