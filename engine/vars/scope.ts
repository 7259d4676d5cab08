// The variables a task sees: layers merged by precedence (later layers win per top-level key,
// no deep merge: Ansible's hash_behaviour=replace), with templated values rendered lazily on
// first read against the whole scope, so `a: "{{ b }}"` sees the winning `b` wherever it was
// defined. A scope is a read-only Proxy whose keys look like own properties, because that is
// what handlebars (and readProperty) accept.
import type { SourcePos } from '../errors.js';
import { locate, locatePath } from '../load/positions.js';
import { TemplateError } from './errors.js';
import { containsTemplate, renderValue } from './template.js';

/** One source of variables (role defaults, group_vars/all, play vars, extra vars, ...). */
export interface VarLayer {
  name: string;
  vars: Record<string, unknown>;
  /** Data, never templated: register results, set_fact values (templated when set), facts. */
  raw?: boolean;
  /**
   * Where a role's layer sits among the others, whatever the nesting it comes from
   * (PRECEDENCE.md): defaults below the inventory, role vars above vars_files, role and
   * include params above set_fact/register. Untiered layers stay where they are given.
   */
  tier?: 'role defaults' | 'role vars' | 'role params';
}

/** Where a variable's winning value came from. */
export interface VariableOrigin {
  /** The layer's name, or "magic" / "scopeWith". */
  layer: string;
  /** Where the value was written, when the layer came from a file. */
  pos?: SourcePos;
}

interface Definition {
  value: unknown;
  /** Holds a template: rendered on first read. Found out on first read (facts can be big). */
  lazy?: boolean;
  layerName: string;
  /** The layer's vars object, to locate the value for error messages. */
  holder?: Record<string, unknown>;
}

interface ScopeState {
  define(key: string): Definition | undefined;
  keys(): string[];
  /** Rendered values of lazy definitions, per scope (a child scope renders against itself). */
  cache: Map<string, unknown>;
  /** Keys being rendered right now, outermost first: a repeat is a reference loop. */
  resolving: string[];
}

const states = new WeakMap<object, ScopeState>();

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

function resolve(state: ScopeState, proxy: object, key: string): unknown {
  const def = state.define(key);
  if (!def) return undefined;
  def.lazy ??= containsTemplate(def.value);
  if (!def.lazy) return def.value;
  if (state.cache.has(key)) return state.cache.get(key);
  const holder = def.holder;
  if (state.resolving.includes(key)) {
    const chain = [...state.resolving.slice(state.resolving.indexOf(key)), key];
    throw new TemplateError('TEMPLATE', `recursive loop detected in template: ${chain.join(' -> ')}`, {
      pos: holder ? locate(holder, key) : undefined,
      variable: key,
    });
  }
  state.resolving.push(key);
  try {
    const value = renderValue(def.value, proxy, (path) => (holder ? locatePath(holder, [key, ...path]) : undefined));
    state.cache.set(key, value);
    return value;
  } finally {
    state.resolving.pop();
  }
}

function makeProxy(state: ScopeState): Record<string, unknown> {
  const target = Object.create(null) as Record<string, unknown>;
  const proxy: Record<string, unknown> = new Proxy(target, {
    get(_t, key) {
      if (typeof key === 'symbol') {
        // Only for string conversion in error messages ("... not defined in [variables]").
        return key === Symbol.toPrimitive ? () => '[variables]' : undefined;
      }
      return resolve(state, proxy, key);
    },
    has(_t, key) {
      return typeof key === 'string' && state.define(key) !== undefined;
    },
    getOwnPropertyDescriptor(_t, key) {
      if (typeof key !== 'string' || !state.define(key)) return undefined;
      // An accessor, so asking whether a key exists does not render its value.
      return { get: () => resolve(state, proxy, key), set: undefined, enumerable: true, configurable: true };
    },
    ownKeys() {
      return state.keys();
    },
    set() {
      return false;
    },
    defineProperty() {
      return false;
    },
    deleteProperty() {
      return false;
    },
    setPrototypeOf() {
      return false;
    },
  });
  states.set(proxy, state);
  return proxy;
}

/**
 * Merge `layers` (lowest precedence first) into one read-only scope. Later layers win per
 * top-level key; `opts.magic` (inventory_hostname, groups, hostvars, ...) wins over all layers
 * and is never templated. Templated values render on first read, memoised; a reference loop
 * fails with "recursive loop detected in template: a -> b -> a" at the value's position.
 * The layers' objects are referenced, not copied: do not change them afterwards.
 */
export function buildScope(layers: VarLayer[], opts: { magic?: Record<string, unknown> } = {}): Record<string, unknown> {
  const defs = new Map<string, Definition>();
  for (const layer of layers) {
    for (const key of Object.keys(layer.vars)) {
      const value = layer.vars[key];
      defs.set(key, { value, layerName: layer.name, holder: layer.vars });
    }
  }
  for (const [key, value] of Object.entries(opts.magic ?? {})) {
    defs.set(key, { value, lazy: false, layerName: 'magic' });
  }
  const keys = [...defs.keys()];
  return makeProxy({
    define: (key) => defs.get(key),
    keys: () => keys,
    cache: new Map(),
    resolving: [],
  });
}

/**
 * A child scope: `extra` (loop `item`, `ansible_loop`, ...) added or overriding, everything
 * else read through from `scope` without copying. Templated values of the parent render again
 * in the child (memoised per child), so `vars: {x: "{{ item }}"}` follows the loop item.
 * `scope` may also be a plain object.
 */
export function scopeWith(scope: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const parent = states.get(scope);
  const extraKeys = Object.keys(extra);
  const parentDefine = parent
    ? parent.define
    : (key: string): Definition | undefined =>
        hasOwn(scope, key) ? { value: scope[key], lazy: false, layerName: 'scope' } : undefined;
  const parentKeys = parent ? parent.keys : () => Object.keys(scope);
  let keys: string[] | undefined;
  return makeProxy({
    define: (key) => (hasOwn(extra, key) ? { value: extra[key], lazy: false, layerName: 'scopeWith' } : parentDefine(key)),
    keys: () => (keys ??= [...new Set([...parentKeys(), ...extraKeys])]),
    cache: new Map(),
    resolving: [],
  });
}

/** True for objects made by buildScope/scopeWith. */
export function isScope(value: unknown): boolean {
  return value !== null && typeof value === 'object' && states.has(value);
}

/** Which layer a variable's value comes from, and where it was written (for debugging output). */
export function variableOrigin(scope: Record<string, unknown>, key: string): VariableOrigin | undefined {
  const def = states.get(scope)?.define(key);
  if (!def) return undefined;
  const pos = def.holder ? locate(def.holder, key) : undefined;
  return pos ? { layer: def.layerName, pos } : { layer: def.layerName };
}
