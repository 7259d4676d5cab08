// The data functions behind template helpers and expression filters, written once so that
// `{{ join list "," }}` and `list | join(',')` behave the same. They follow Ansible's/Jinja's
// filters of the same names. Errors are plain Errors; callers add the position.
import YAML from 'yaml';
import { isMapping, pyCompare, pyStr, readProperty, setOwn, type Mapping } from './values.js';

/** Python's len(): strings, lists and mappings. */
export function length(value: unknown): number {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (isMapping(value)) return Object.keys(value).length;
  throw new TypeError(`object of type '${value === null || value === undefined ? 'NoneType' : typeof value}' has no len()`);
}

export function first(value: unknown): unknown {
  if (typeof value === 'string' || Array.isArray(value)) return value[0];
  throw new TypeError('first expects a list or a string');
}

export function last(value: unknown): unknown {
  if (typeof value === 'string' || Array.isArray(value)) return value[value.length - 1];
  throw new TypeError('last expects a list or a string');
}

/** Jinja's |join: str() of each item joined by `sep`. */
export function join(value: unknown, sep = ''): string {
  if (typeof value === 'string') return value.split('').join(sep);
  if (!Array.isArray(value)) throw new TypeError('join expects a list');
  return value.map((v) => pyStr(v)).join(sep);
}

/** Jinja's |list: a string becomes its characters, a mapping its keys. */
export function toList(value: unknown): unknown[] {
  if (Array.isArray(value)) return [...value];
  if (typeof value === 'string') return value.split('');
  if (isMapping(value)) return Object.keys(value);
  throw new TypeError('list expects a list, a string or a mapping');
}

export function unique(value: unknown): unknown[] {
  const out: unknown[] = [];
  for (const item of toList(value)) {
    if (!out.some((seen) => seen === item || JSON.stringify(seen) === JSON.stringify(item))) out.push(item);
  }
  return out;
}

/** Jinja's |sort (optionally reverse=true), Python ordering. */
export function sort(value: unknown, reverse = false): unknown[] {
  const out = toList(value).sort(pyCompare);
  return reverse ? out.reverse() : out;
}

/** Flatten nested lists (all levels, or `levels` deep), like Ansible's |flatten. */
export function flatten(value: unknown, levels = Infinity): unknown[] {
  if (!Array.isArray(value)) throw new TypeError('flatten expects a list');
  return value.flat(levels) as unknown[];
}

/**
 * Compile a user regular expression. Python's named groups `(?P<n>...)` and `(?P=n)` are
 * rewritten to JavaScript's; the syntax error is reported with the pattern.
 */
export function compileRegex(pattern: unknown, flags = ''): RegExp {
  if (typeof pattern !== 'string') throw new TypeError('a regular expression must be a string');
  const js = pattern.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try {
    return new RegExp(js, flags);
  } catch (err) {
    throw new SyntaxError(`invalid regular expression '${pattern}': ${(err as Error).message}`);
  }
}

/**
 * Ansible's regex_replace: replace every match. Backreferences may be written Python-style
 * (`\1`, `\g<1>`, `\g<name>`) or JavaScript-style (`$1`, `$<name>`).
 */
export function regexReplace(value: unknown, pattern: unknown, replacement: unknown = '', ignorecase = false): string {
  const re = compileRegex(pattern, ignorecase ? 'gi' : 'g');
  const repl = String(replacement ?? '')
    .replace(/\\g<(\d+)>/g, '$$$1')
    .replace(/\\g<(\w+)>/g, '$$<$1>')
    .replace(/\\(\d)/g, '$$$1');
  return String(value ?? '').replace(re, repl);
}

/**
 * Ansible's regex_search: the first match (or the named/numbered groups given as `\\1`,
 * `\\g<name>`), or null when nothing matches.
 */
export function regexSearch(value: unknown, pattern: unknown, groups: unknown[] = [], ignorecase = false): unknown {
  const re = compileRegex(pattern, ignorecase ? 'i' : '');
  const m = re.exec(String(value ?? ''));
  if (!m) return null;
  if (groups.length === 0) return m[0];
  return groups.map((g) => {
    const ref = String(g);
    const num = /^\\(\d+)$/.exec(ref) ?? /^\\g<(\d+)>$/.exec(ref);
    if (num) return m[Number(num[1])] ?? null;
    const named = /^\\g<(\w+)>$/.exec(ref);
    if (named) return m.groups?.[named[1] as string] ?? null;
    throw new TypeError(`unknown group reference '${ref}'`);
  });
}

/** POSIX shell single-quoting: the result is always one word, never code. */
export function shellQuote(value: unknown): string {
  return `'${pyStr(value ?? '').replace(/'/g, `'"'"'`)}'`;
}

export function b64encode(value: unknown): string {
  return Buffer.from(String(value ?? ''), 'utf8').toString('base64');
}

export function b64decode(value: unknown): string {
  return Buffer.from(String(value ?? ''), 'base64').toString('utf8');
}

/** Python's json.dumps default separators (", " and ": "), as Ansible's to_json prints. */
export function toJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(toJson).join(', ')}]`;
  if (isMapping(value)) return `{${Object.keys(value).map((k) => `${JSON.stringify(k)}: ${toJson(value[k])}`).join(', ')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** Ansible's to_nice_json: indent 4, keys sorted. */
export function toNiceJson(value: unknown, indent = 4): string {
  return JSON.stringify(sortKeys(value), null, indent) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isMapping(value)) return value;
  const out: Mapping = {};
  for (const k of Object.keys(value).sort()) setOwn(out, k, sortKeys(value[k]));
  return out;
}

/** Ansible's to_yaml: YAML text (flow style below the top level is not imitated). */
export function toYaml(value: unknown): string {
  return YAML.stringify(value ?? null, { indent: 2 });
}

/** Ansible's to_nice_yaml: block style, indent 4 by default. */
export function toNiceYaml(value: unknown, indent = 4): string {
  return YAML.stringify(value ?? null, { indent, lineWidth: 0 });
}

/** Jinja's |indent: indent every line but the first (unless `first`), blank lines untouched. */
export function indent(value: unknown, width: unknown = 4, firstLine = false): string {
  const pad = typeof width === 'string' ? width : ' '.repeat(Number(width) || 0);
  const lines = String(value ?? '').split('\n');
  return lines.map((line, i) => ((i > 0 || firstLine) && line !== '' ? pad + line : line)).join('\n');
}

/** Python's posixpath.basename: the part after the last slash ('' for a trailing slash). */
export function basename(value: unknown): string {
  const s = String(value ?? '');
  return s.slice(s.lastIndexOf('/') + 1);
}

/** Python's posixpath.dirname. */
export function dirname(value: unknown): string {
  const s = String(value ?? '');
  const head = s.slice(0, s.lastIndexOf('/') + 1);
  return /^\/+$/.test(head) ? head : head.replace(/\/+$/, '');
}

/** Python's str.split: on whitespace runs by default, else on the exact separator. */
export function split(value: unknown, sep?: unknown, maxsplit = -1): string[] {
  const s = String(value ?? '');
  if (sep === undefined || sep === null) {
    const parts = s.trim().split(/\s+/).filter((p) => p !== '');
    if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
    const head = parts.slice(0, maxsplit);
    let rest = s.trimStart();
    for (const h of head) rest = rest.slice(rest.indexOf(h) + h.length).trimStart();
    return [...head, rest];
  }
  const parts = s.split(String(sep));
  if (maxsplit < 0 || parts.length <= maxsplit + 1) return parts;
  return [...parts.slice(0, maxsplit), parts.slice(maxsplit).join(String(sep))];
}

/** Python's str.replace (all occurrences, or the first `count`). */
export function replace(value: unknown, from: unknown, to: unknown, count = -1): string {
  const s = String(value ?? '');
  const f = String(from ?? '');
  const t = String(to ?? '');
  if (count < 0) return s.split(f).join(t);
  let out = s;
  let at = 0;
  for (let n = 0; n < count; n++) {
    const i = out.indexOf(f, at);
    if (i < 0) break;
    out = out.slice(0, i) + t + out.slice(i + f.length);
    at = i + t.length;
  }
  return out;
}

/** Ansible's dict2items: [{key, value}, ...]. */
export function dict2items(value: unknown, keyName = 'key', valueName = 'value'): Mapping[] {
  if (!isMapping(value)) throw new TypeError('dict2items requires a dictionary');
  return Object.keys(value).map((k) => {
    const item: Mapping = {};
    setOwn(item, keyName, k);
    setOwn(item, valueName, value[k]);
    return item;
  });
}

/** Ansible's items2dict: the inverse of dict2items. */
export function items2dict(value: unknown, keyName = 'key', valueName = 'value'): Mapping {
  if (!Array.isArray(value)) throw new TypeError('items2dict requires a list');
  const out: Mapping = {};
  for (const item of value) {
    const k = readProperty(item, keyName);
    if (!k.found) throw new TypeError(`items2dict: an item has no '${keyName}'`);
    setOwn(out, String(k.value), readProperty(item, valueName).value);
  }
  return out;
}

/** Ansible's combine: later mappings win; `recursive` merges nested mappings too. */
export function combine(dicts: unknown[], recursive = false): Mapping {
  const out: Mapping = {};
  for (const d of dicts.flat()) {
    if (!isMapping(d)) throw new TypeError('combine expects dictionaries');
    for (const k of Object.keys(d)) {
      const prev = readProperty(out, k).value;
      const next = d[k];
      setOwn(out, k, recursive && isMapping(prev) && isMapping(next) ? combine([prev, next], true) : next);
    }
  }
  return out;
}

/** Python's range(stop) / range(start, stop[, step]). Capped so a typo cannot eat the memory. */
export function range(a: number, b?: number, step = 1): number[] {
  const [start, stop] = b === undefined ? [0, a] : [a, b];
  if (step === 0) throw new RangeError('range() step must not be zero');
  const out: number[] = [];
  for (let i = start; step > 0 ? i < stop : i > stop; i += step) {
    out.push(i);
    if (out.length > 100000) throw new RangeError('range() is limited to 100000 items');
  }
  return out;
}

/**
 * Compare dotted versions like Ansible's `version` test ("1.10" > "1.9"); numeric parts compare
 * as numbers, others as strings.
 */
export function versionCompare(a: unknown, b: unknown, operator = '=='): boolean {
  const parts = (v: unknown) => String(v ?? '').split(/[.\-+_]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
  const x = parts(a);
  const y = parts(b);
  let cmp = 0;
  for (let i = 0; i < Math.max(x.length, y.length) && cmp === 0; i++) {
    const p = x[i] ?? 0;
    const q = y[i] ?? 0;
    if (typeof p === 'number' && typeof q === 'number') cmp = Math.sign(p - q);
    else cmp = String(p) < String(q) ? -1 : String(p) > String(q) ? 1 : 0;
  }
  switch (operator) {
    case '==': case 'eq': case '=': return cmp === 0;
    case '!=': case 'ne': case '<>': return cmp !== 0;
    case '<': case 'lt': return cmp < 0;
    case '<=': case 'le': return cmp <= 0;
    case '>': case 'gt': return cmp > 0;
    case '>=': case 'ge': return cmp >= 0;
    default: throw new TypeError(`invalid version operator '${operator}'`);
  }
}
