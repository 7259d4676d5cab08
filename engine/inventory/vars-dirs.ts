// group_vars/ and host_vars/ as Ansible's host_group_vars plugin reads them: for an entity
// NAME, the first of `NAME`, `NAME.yml`, `NAME.yaml`, `NAME.json` that exists; if that is a
// directory, every file in it (and its sub-directories) with one of those extensions or none,
// sorted by name, later files overriding earlier ones. Hidden files and `*~` are skipped.
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { ParseError } from '../errors.js';
import { loadYamlFile } from '../load/yaml.js';
import { locate } from '../load/positions.js';
import { mergeVarsAt } from './var-positions.js';

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

type Vars = Record<string, unknown>;

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

/** The files that hold `kind/NAME`'s variables, in merge order. */
export function adjacentVarsFiles(baseDir: string, kind: 'group_vars' | 'host_vars', name: string): string[] {
  const base = join(baseDir, kind, name);
  for (const ext of EXTENSIONS) {
    const path = base + ext;
    const stat = statOrUndefined(path);
    if (!stat) continue;
    return stat.isDirectory() ? filesInVarsDir(path) : [path];
  }
  return [];
}

function filesInVarsDir(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (entry.startsWith('.') || entry.endsWith('~')) continue;
    const path = join(dir, entry);
    const dot = entry.lastIndexOf('.');
    const ext = dot > 0 ? entry.slice(dot) : '';
    const stat = statOrUndefined(path);
    if (!stat) continue;
    if (stat.isDirectory() && !ext) found.push(...filesInVarsDir(path));
    else if (stat.isFile() && EXTENSIONS.includes(ext)) found.push(path);
  }
  return found;
}

/** Load one vars file: a mapping (or an empty file). Anything else is an error at its position. */
export function loadVarsFile(file: string): Vars {
  const data = loadYamlFile(file);
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    const got = Array.isArray(data) ? 'a list' : `a ${typeof data}`;
    throw new ParseError('INVENTORY', `variables file must contain a mapping of variable names to values, got ${got}: ${file}`, locate(data) ?? { file, line: 1, col: 1 });
  }
  return data as Vars;
}

/** Reads and caches group_vars/host_vars per directory and name. */
export class AdjacentVarsReader {
  private readonly cache = new Map<string, Vars | undefined>();

  /** The merged variables of `kind/NAME` under `baseDir`, or undefined when there are none. */
  read(baseDir: string, kind: 'group_vars' | 'host_vars', name: string): Vars | undefined {
    const key = `${baseDir}\0${kind}\0${name}`;
    if (this.cache.has(key)) return this.cache.get(key);
    // a host named like a path (a chroot) must not reach outside the vars directory
    if (name.includes('/') || name === '..' || name === '.') return undefined;
    const files = adjacentVarsFiles(baseDir, kind, name);
    let merged: Vars | undefined;
    for (const file of files) {
      const vars = loadVarsFile(file);
      merged ??= {};
      mergeVarsAt(merged, vars);
    }
    this.cache.set(key, merged);
    return merged;
  }
}
