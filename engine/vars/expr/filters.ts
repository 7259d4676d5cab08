// Jinja/Ansible filters: `value | name(args)`. Each gets the (defined) input and its
// arguments. select/reject/map apply other filters and tests through `ctx`.
import * as fn from '../functions.js';
import { isMapping, pyCompare, pyEquals, pyStr, readProperty, toBool, toFloat, toInt, truthy } from '../values.js';

export interface FilterContext {
  test(name: string, value: unknown, args: unknown[]): boolean;
  filter(name: string, value: unknown, args: unknown[]): unknown;
}

export type FilterFn = (input: unknown, args: unknown[], kwargs: Record<string, unknown>, ctx: FilterContext) => unknown;

function list(input: unknown, filter: string): unknown[] {
  if (Array.isArray(input)) return input;
  if (typeof input === 'string' || isMapping(input)) return fn.toList(input);
  throw new TypeError(`the '${filter}' filter expects a list`);
}

function numbers(input: unknown, filter: string): number[] {
  return list(input, filter).map((v) => {
    if (typeof v !== 'number' && typeof v !== 'boolean') throw new TypeError(`the '${filter}' filter expects numbers`);
    return Number(v);
  });
}

function attribute(item: unknown, path: unknown): unknown {
  let current = item;
  for (const part of String(path).split('.')) current = readProperty(current, part).value;
  return current;
}

function selectBy(keep: boolean, byAttribute: boolean): FilterFn {
  return (input, args, _kw, ctx) => {
    const items = list(input, 'select');
    const [first, ...rest] = args;
    const [attr, testName, testArgs] = byAttribute ? [first, rest[0], rest.slice(1)] : [undefined, first, rest];
    return items.filter((item) => {
      const value = byAttribute ? attribute(item, attr) : item;
      const verdict = testName === undefined ? truthy(value) : ctx.test(String(testName), value, testArgs);
      return verdict === keep;
    });
  };
}

export const FILTERS: Readonly<Record<string, FilterFn>> = Object.freeze({
  bool: (v) => toBool(v),
  int: (v, [fallback]) => toInt(v, fallback === undefined ? 0 : Number(fallback)),
  float: (v, [fallback]) => toFloat(v, fallback === undefined ? 0 : Number(fallback)),
  string: (v) => pyStr(v),
  length: (v) => fn.length(v),
  count: (v) => fn.length(v),
  lower: (v) => pyStr(v).toLowerCase(),
  upper: (v) => pyStr(v).toUpperCase(),
  capitalize: (v) => {
    const s = pyStr(v);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  trim: (v) => pyStr(v).trim(),
  first: (v) => fn.first(v),
  last: (v) => fn.last(v),
  join: (v, [sep]) => fn.join(v, sep === undefined ? '' : pyStr(sep)),
  list: (v) => fn.toList(v),
  unique: (v) => fn.unique(v),
  sort: (v, [reverse], kw) => fn.sort(v, toBool(reverse ?? kw.reverse ?? false)),
  reverse: (v) => (typeof v === 'string' ? v.split('').reverse().join('') : [...list(v, 'reverse')].reverse()),
  flatten: (v, [levels]) => fn.flatten(v, levels === undefined ? Infinity : Number(levels)),
  abs: (v) => {
    if (typeof v !== 'number') throw new TypeError(`bad operand type for abs(): '${typeof v}'`);
    return Math.abs(v);
  },
  round: (v, [precision]) => {
    const p = Math.pow(10, Number(precision ?? 0));
    return Math.round(toFloat(v) * p) / p;
  },
  min: (v) => list(v, 'min').reduce((a, b) => (pyCompare(a, b) <= 0 ? a : b)),
  max: (v) => list(v, 'max').reduce((a, b) => (pyCompare(a, b) >= 0 ? a : b)),
  sum: (v, [start]) => numbers(v, 'sum').reduce((a, b) => a + b, Number(start ?? 0)),
  regex_search: (v, [pattern, ...groups], kw) => fn.regexSearch(v, pattern, groups, toBool(kw.ignorecase ?? false)),
  regex_replace: (v, [pattern, replacement], kw) => fn.regexReplace(v, pattern, replacement, toBool(kw.ignorecase ?? false)),
  regex_findall: (v, [pattern], kw) => {
    const re = fn.compileRegex(pattern, toBool(kw.ignorecase ?? false) ? 'gi' : 'g');
    return [...pyStr(v).matchAll(re)].map((m) => (m.length > 2 ? m.slice(1) : m.length === 2 ? m[1] : m[0]));
  },
  replace: (v, [from, to, count]) => fn.replace(v, from, to, count === undefined ? -1 : Number(count)),
  split: (v, [sep, maxsplit]) => fn.split(v, sep, maxsplit === undefined ? -1 : Number(maxsplit)),
  select: selectBy(true, false),
  reject: selectBy(false, false),
  selectattr: selectBy(true, true),
  rejectattr: selectBy(false, true),
  /** map('filter', args...) or map(attribute='a.b', default=x). */
  map: (v, [name, ...args], kw, ctx) =>
    list(v, 'map').map((item) => {
      if (kw.attribute !== undefined) {
        const value = attribute(item, kw.attribute);
        return value === undefined && 'default' in kw ? kw.default : value;
      }
      return ctx.filter(String(name), item, args);
    }),
  dict2items: (v, [keyName, valueName]) => fn.dict2items(v, String(keyName ?? 'key'), String(valueName ?? 'value')),
  items2dict: (v, [keyName, valueName]) => fn.items2dict(v, String(keyName ?? 'key'), String(valueName ?? 'value')),
  combine: (v, args, kw) => fn.combine([v, ...args], toBool(kw.recursive ?? false)),
  difference: (v, [other]) => list(v, 'difference').filter((x) => !list(other, 'difference').some((y) => pyEquals(x, y))),
  intersect: (v, [other]) => fn.unique(list(v, 'intersect').filter((x) => list(other, 'intersect').some((y) => pyEquals(x, y)))),
  union: (v, [other]) => fn.unique([...list(v, 'union'), ...list(other, 'union')]),
  to_json: (v) => fn.toJson(v),
  to_nice_json: (v, [indent], kw) => fn.toNiceJson(v, Number(indent ?? kw.indent ?? 4)),
  to_yaml: (v) => fn.toYaml(v),
  to_nice_yaml: (v, [indent], kw) => fn.toNiceYaml(v, Number(indent ?? kw.indent ?? 4)),
  b64encode: (v) => fn.b64encode(v),
  b64decode: (v) => fn.b64decode(v),
  basename: (v) => fn.basename(v),
  dirname: (v) => fn.dirname(v),
  quote: (v) => fn.shellQuote(v),
  indent: (v, [width, first], kw) => fn.indent(v, width ?? kw.width ?? 4, toBool(first ?? kw.first ?? false)),
  ternary: (v, [yes, no]) => (truthy(v) ? yes : no),
  version_compare: (v, [other, op]) => fn.versionCompare(v, other, String(op ?? '==')),
});
