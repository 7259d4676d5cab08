// Positions of loaded YAML values. Plain objects and arrays come out of the YAML loader;
// this side table remembers where each one, and each of its keys and values, was written,
// so any later stage (schema validation, templating, the runner) can name file:line:col.
import type { SourcePos } from '../errors.js';

interface ContainerPositions {
  /** Where the mapping or sequence itself starts. */
  self: SourcePos;
  /** Where each key was written (mappings only). */
  keys: Map<string, SourcePos>;
  /** Where each value starts, by key or index. */
  values: Map<string | number, SourcePos>;
}

const table = new WeakMap<object, ContainerPositions>();

export function recordPosition(container: object, self: SourcePos): ContainerPositions {
  let entry = table.get(container);
  if (!entry) {
    entry = { self, keys: new Map(), values: new Map() };
    table.set(container, entry);
  }
  return entry;
}

/** Where a container was written, or where its key/value `key` was. */
export function locate(container: unknown, key?: string | number): SourcePos | undefined {
  if (container === null || typeof container !== 'object') return undefined;
  const entry = table.get(container);
  if (!entry) return undefined;
  if (key === undefined) return entry.self;
  return entry.values.get(key) ?? entry.self;
}

/** Where the key `key` of a mapping was written (for "unknown keyword" errors). */
export function locateKey(container: unknown, key: string): SourcePos | undefined {
  if (container === null || typeof container !== 'object') return undefined;
  const entry = table.get(container);
  return entry?.keys.get(key) ?? entry?.values.get(key) ?? entry?.self;
}

/** Follow a path of keys/indexes and return the deepest position known. */
export function locatePath(root: unknown, path: ReadonlyArray<string | number>): SourcePos | undefined {
  let node: unknown = root;
  let best = locate(root);
  for (const step of path) {
    if (node === null || typeof node !== 'object') break;
    best = locate(node, step) ?? best;
    node = (node as Record<string | number, unknown>)[step];
  }
  return best;
}

/** Copy positions from one container to another (e.g. after normalising a task). */
export function copyPositions(from: object, to: object): void {
  const entry = table.get(from);
  if (entry) table.set(to, entry);
}
