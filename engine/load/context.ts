// State shared while one playbook (and everything it imports) is loaded.
import { relative, resolve } from 'node:path';
import type { SourcePos } from '../errors.js';
import type { ModuleDef } from '../modules/types.js';
import { ErrorList } from './collect.js';

export interface LoadOptions {
  /** Resolve a module by name or alias (ansible.builtin.copy → copy). */
  lookupModule: (name: string) => ModuleDef | undefined;
  /** Every module name, for "did you mean …?" on a misspelt module. */
  moduleNames?: string[];
}

/** The file being read and the chain of files that led to it (resolved paths), for loop detection. */
export interface FileScope {
  /** The path as the user's files name it (relative paths stay relative). */
  file: string;
  chain: string[];
}

export class LoadContext {
  readonly errors = new ErrorList();
  private readonly idCounts = new Map<string, number>();

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
  return { file, chain: [...(parent?.chain ?? []), resolve(file)] };
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
