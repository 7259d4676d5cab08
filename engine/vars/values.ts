// Value semantics shared by templates and expressions, following Jinja/Python (which Ansible
// users know): truthiness, equality, ordering, str(), and the only way to read a property.
// Reading goes through readProperty alone, so prototypes and globals are never reachable.

/** Property names that are never read from any value, whatever the container. */
export const FORBIDDEN_PROPERTIES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

export type Mapping = Record<string, unknown>;

/** A mapping in the YAML/JSON sense: a non-null, non-array object. */
export function isMapping(value: unknown): value is Mapping {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * An own property of an object/array or a string index, or `found: false`. Inherited members
 * (methods, constructor, __proto__) are never returned.
 */
export function readProperty(container: unknown, key: string | number): { found: boolean; value?: unknown } {
  if (container === null || container === undefined) return { found: false };
  if (typeof key === 'string' && FORBIDDEN_PROPERTIES.has(key)) return { found: false };
  if (typeof container === 'string') {
    const index = typeof key === 'number' ? key : /^-?\d+$/.test(key) ? Number(key) : NaN;
    if (!Number.isInteger(index)) return { found: false };
    const i = index < 0 ? container.length + index : index;
    return i >= 0 && i < container.length ? { found: true, value: container[i] } : { found: false };
  }
  if (Array.isArray(container)) {
    const index = typeof key === 'number' ? key : /^-?\d+$/.test(key) ? Number(key) : NaN;
    if (!Number.isInteger(index)) return { found: false };
    const i = index < 0 ? container.length + index : index;
    return i >= 0 && i < container.length ? { found: true, value: container[i] } : { found: false };
  }
  if (typeof container !== 'object') return { found: false };
  const name = String(key);
  if (!Object.prototype.hasOwnProperty.call(container, name)) return { found: false };
  return { found: true, value: (container as Mapping)[name] };
}

/** Jinja truthiness: empty string/list/mapping, 0, none and false are false. */
export function truthy(value: unknown): boolean {
  if (value === null || value === undefined) return false;
  if (typeof value === 'string') return value.length > 0;
  if (typeof value === 'number') return value !== 0 && !Number.isNaN(value);
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

/** Python's type name, for error messages ("'<' not supported between 'str' and 'int'"). */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'NoneType';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (Array.isArray(value)) return 'list';
  return 'dict';
}

/** Python equality: deep for lists and mappings, True == 1, '1' != 1. */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (typeof a === 'boolean' && typeof b === 'number') return Number(a) === b;
  if (typeof a === 'number' && typeof b === 'boolean') return a === Number(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => pyEquals(item, b[i]));
  }
  const ka = Object.keys(a as Mapping);
  const kb = Object.keys(b as Mapping);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && pyEquals((a as Mapping)[k], (b as Mapping)[k]));
}

/** Python ordering (-1, 0, 1) for numbers/bools, strings and lists; anything else is a TypeError. */
export function pyCompare(a: unknown, b: unknown): number {
  const num = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
  if (num(a) && num(b)) {
    const x = Number(a);
    const y = Number(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = pyCompare(a[i], b[i]);
      if (c !== 0) return c;
    }
    return a.length - b.length < 0 ? -1 : a.length > b.length ? 1 : 0;
  }
  throw new TypeError(`comparison not supported between '${typeName(a)}' and '${typeName(b)}'`);
}

/** Python's repr(), used inside str() of containers: ['a', 1, None]. */
export function pyRepr(value: unknown): string {
  if (typeof value === 'string') return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map(pyRepr).join(', ')}]`;
  if (isMapping(value)) return `{${Object.keys(value).map((k) => `${pyRepr(k)}: ${pyRepr(value[k])}`).join(', ')}}`;
  return pyStr(value);
}

/** Python's str(): what `~` and `|string` produce (True, None, ['a']). */
export function pyStr(value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return pyRepr(value);
}

/** Ansible's |bool: true, 'yes', 'on', '1', 'true', 'y', 1 are true; everything else false. */
export function toBool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value === 1;
  if (typeof value === 'string') return ['yes', 'on', '1', 'true', 'y', 't'].includes(value.trim().toLowerCase());
  return false;
}

/** The words that |bool reads as false: used where a string must decide a condition. */
export function isFalseWord(value: string): boolean {
  return ['no', 'off', '0', 'false', 'n', 'f', ''].includes(value.trim().toLowerCase());
}

/** Jinja's |int: int(value), else int(float(value)), else the default. */
export function toInt(value: unknown, fallback = 0): number {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : fallback;
  if (typeof value === 'string') {
    const s = value.trim();
    if (/^[+-]?\d+$/.test(s)) return Number(s);
    const f = Number(s);
    if (s !== '' && Number.isFinite(f)) return Math.trunc(f);
  }
  return fallback;
}

/** Jinja's |float. */
export function toFloat(value: unknown, fallback = 0): number {
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const f = Number(value.trim());
    if (!Number.isNaN(f)) return f;
  }
  return fallback;
}

/** Set an own, enumerable property, even one named "__proto__" (never changes a prototype). */
export function setOwn(target: Mapping, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}
