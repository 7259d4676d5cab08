// State shared while one playbook (and everything it imports) is loaded.
import { relative, resolve } from 'node:path';
import type { SourcePos } from '../errors.js';
import type { ModuleDef } from '../modules/types.js';
import { ErrorList } from './collect.js';
import type { RoleSearchOptions } from './role-path.js';
import type { LoadedRole } from './roles.js';

export interface LoadOptions {
  /** Resolve a module by name or alias (ansible.builtin.copy → copy). */
  lookupModule: (name: string) => ModuleDef | undefined;
  /** Every module name, for "did you mean …?" on a misspelt module. */
  moduleNames?: string[];
  /** Where role names are looked up (engine/load/role-path.ts); the playbook's folder is added by the loader. */
  roles?: RoleSearchOptions;
}

/** The file being read and the chain of files that led to it (resolved paths), for loop detection. */
export interface FileScope {
  /** The path as the user's files name it (relative paths stay relative). */
  file: string;
  chain: string[];
  /** The role whose files these are: its tasks are shown as "ROLE : task". */
  role?: string;
}

export class LoadContext {
  readonly errors = new ErrorList();
  private readonly idCounts = new Map<string, number>();
  /** Roles import_role/include_role loaded in the play being read: their handlers join the play's. */
  rolesInPlay: Array<{ loaded: LoadedRole; exposed: boolean }> = [];

  constructor(readonly opts: LoadOptions) {}

  /** "file:line:col"; a file imported twice gets "#2", "#3"… so ids stay unique in the run. */
  idFor(pos: SourcePos): string {
    const base = `${pos.file}:${pos.line}:${pos.col}`;
    const seen = this.idCounts.get(base) ?? 0;
    this.idCounts.set(base, seen + 1);
    return seen === 0 ? base : `${base}#${seen + 1}`;
  }
}

/** Scope for a file reached from `parent` (or a top-level file). */
export function scopeFor(file: string, parent?: FileScope): FileScope {
  const scope: FileScope = { file, chain: [...(parent?.chain ?? []), resolve(file)] };
  if (parent?.role !== undefined) scope.role = parent.role;
  return scope;
}

/** The chain "a.yml → b.yml → a.yml" when `file` is already being read, else undefined. */
export function includeLoop(file: string, parent: FileScope): string | undefined {
  const target = resolve(file);
  const at = parent.chain.indexOf(target);
  if (at < 0) return undefined;
  return [...parent.chain.slice(at), target].map(displayPath).join(' → ');
}

export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel && !rel.startsWith('..') ? rel : path;
}
