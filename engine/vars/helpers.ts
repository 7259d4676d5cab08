// Template helpers, named like the Ansible filters users already know. Handlebars calls a
// helper with its positional params followed by an `options` object (hash arguments in
// options.hash), so `{{ join servers "," }}` is `servers | join(',')` and
// `{{ indent text 4 first=true }}` is `text | indent(4, first=True)`.
import * as fn from './functions.js';
import { isFalseWord, pyCompare, pyEquals, pyStr, readProperty, toBool, toFloat, toInt, truthy } from './values.js';

/** The `options` argument handlebars (and the typed evaluator) passes last. */
export interface HelperOptions {
  name: string;
  hash: Record<string, unknown>;
  fn?: (context: unknown) => string;
  inverse?: (context: unknown) => string;
  lookupProperty?: (parent: unknown, name: string) => unknown;
  data?: unknown;
}

export type Helper = (...args: unknown[]) => unknown;

/** Thrown by a helper; carries the helper's name so the error can point at its call. */
export class HelperFailure extends Error {
  constructor(
    readonly helper: string,
    message: string,
    /** True when the helper's name was used as a variable that does not exist. */
    readonly undefinedVariable = false,
  ) {
    super(message);
    this.name = 'HelperFailure';
  }
}

/** Split handlebars' arguments into positional params and the options object. */
function split(args: unknown[]): { params: unknown[]; options: HelperOptions } {
  const options = args[args.length - 1] as HelperOptions;
  return { params: args.slice(0, -1), options };
}

function str(value: unknown): string {
  return value === undefined || value === null ? '' : typeof value === 'string' ? value : pyStr(value);
}

/** Helper table: name → implementation taking (params, hash). */
const table: Record<string, (p: unknown[], hash: Record<string, unknown>) => unknown> = {
  /**
   * default value fallback [treatFalsyAsMissing]: Jinja's default. The fallback is used when
   * value is undefined or null; with a third argument `true` also when value is falsy ('' , 0, []).
   */
  default: ([value, fallback, boolean]) =>
    value === undefined || value === null || (boolean === true && !truthy(value)) ? fallback : value,
  /** join list sep: items as strings joined by sep (default ''). */
  join: ([list, sep]) => fn.join(list, sep === undefined ? '' : String(sep)),
  /** to_json value: compact JSON with Python's ", " / ": " separators. */
  to_json: ([value]) => fn.toJson(value),
  /** to_nice_json value [indent]: sorted keys, indented 4. */
  to_nice_json: ([value, indent], hash) => fn.toNiceJson(value, Number(indent ?? hash.indent ?? 4)),
  /** to_yaml value. */
  to_yaml: ([value]) => fn.toYaml(value),
  /** to_nice_yaml value [indent]: block style, indented 4. */
  to_nice_yaml: ([value, indent], hash) => fn.toNiceYaml(value, Number(indent ?? hash.indent ?? 4)),
  /** indent text [width=4] [first=false]: indent all lines but the first (blank lines untouched). */
  indent: ([text, width, first], hash) =>
    fn.indent(text, width ?? hash.width ?? 4, toBool(first ?? hash.first ?? false)),
  /** b64encode text / b64decode text (UTF-8). */
  b64encode: ([text]) => fn.b64encode(text),
  b64decode: ([text]) => fn.b64decode(text),
  /** lower text / upper text / trim text. */
  lower: ([text]) => str(text).toLowerCase(),
  upper: ([text]) => str(text).toUpperCase(),
  trim: ([text]) => str(text).trim(),
  /** replace text old new [count]: literal replacement. */
  replace: ([text, from, to, count]) => fn.replace(text, from, to, count === undefined ? -1 : Number(count)),
  /** regex_replace text pattern replacement [ignorecase=true]: backrefs \1 or $1. */
  regex_replace: ([text, pattern, replacement], hash) =>
    fn.regexReplace(text, pattern, replacement, toBool(hash.ignorecase ?? false)),
  /** regex_search text pattern [group...]: first match, its groups, or null. */
  regex_search: ([text, pattern, ...groups], hash) =>
    fn.regexSearch(text, pattern, groups, toBool(hash.ignorecase ?? false)),
  /** quote text: POSIX shell single-quoted word. */
  quote: ([text]) => fn.shellQuote(text),
  /** eq/ne/lt/le/gt/ge a b: Python comparisons, for `{{#if (eq a b)}}`. */
  eq: ([a, b]) => pyEquals(a, b),
  ne: ([a, b]) => !pyEquals(a, b),
  lt: ([a, b]) => pyCompare(a, b) < 0,
  le: ([a, b]) => pyCompare(a, b) <= 0,
  gt: ([a, b]) => pyCompare(a, b) > 0,
  ge: ([a, b]) => pyCompare(a, b) >= 0,
  /** and a b ...: the first falsy argument, else the last (like Python's `and`). */
  and: (p) => p.find((v) => !truthy(v)) ?? p[p.length - 1],
  /** or a b ...: the first truthy argument, else the last. */
  or: (p) => p.find((v) => truthy(v)) ?? p[p.length - 1],
  /** not a: Jinja truthiness negated. */
  not: ([a]) => !truthy(a),
  /** contains list_or_string item: `item in list`. */
  contains: ([container, item]) =>
    typeof container === 'string' ? container.includes(str(item)) : Array.isArray(container) ? container.some((v) => pyEquals(v, item)) : false,
  /** length value: of a string, list or mapping. */
  length: ([value]) => fn.length(value),
  /** first list / last list. */
  first: ([value]) => fn.first(value),
  last: ([value]) => fn.last(value),
  /** int value [default]: integer conversion like Jinja's |int. */
  int: ([value, fallback]) => toInt(value, fallback === undefined ? 0 : Number(fallback)),
  /** float value. */
  float: ([value]) => toFloat(value),
  /** bool value: Ansible's |bool (yes/on/true/1 are true). */
  bool: ([value]) => toBool(value),
  /** string value: Python's str() (None → '', True → 'True'). */
  string: ([value]) => str(value),
  /** basename path / dirname path: Python's posixpath. */
  basename: ([value]) => fn.basename(value),
  dirname: ([value]) => fn.dirname(value),
  /** dict2items dict [key_name] [value_name]; items2dict list [key_name] [value_name]. */
  dict2items: ([value], hash) => fn.dict2items(value, str(hash.key_name ?? 'key'), str(hash.value_name ?? 'value')),
  items2dict: ([value], hash) => fn.items2dict(value, str(hash.key_name ?? 'key'), str(hash.value_name ?? 'value')),
  /** combine dict dict... [recursive=true]: later keys win. */
  combine: (p, hash) => fn.combine(p, toBool(hash.recursive ?? false)),
  /** split text [sep]: Python's str.split. */
  split: ([text, sep]) => fn.split(text, sep),
  /** ternary cond a b: a when cond is truthy, else b. */
  ternary: ([cond, a, b]) => (truthy(cond) ? a : b),
  /** range stop | range start stop [step]: a list of numbers. */
  range: ([a, b, step]) => fn.range(Number(a), b === undefined ? undefined : Number(b), step === undefined ? 1 : Number(step)),
  /** unique list / sort list [reverse=true] / flatten list. */
  unique: ([value]) => fn.unique(value),
  sort: ([value], hash) => fn.sort(value, toBool(hash.reverse ?? false)),
  flatten: ([value, levels]) => fn.flatten(value, levels === undefined ? Infinity : Number(levels)),
  /** concat a b ...: the arguments as strings, concatenated (Jinja's `~`). */
  concat: (p) => p.map(str).join(''),
  /** is_false value: true for false-words ('no', 'off', 'false', '0', ''), false, 0, null. */
  is_false: ([value]) => (typeof value === 'string' ? isFalseWord(value) : !truthy(value)),
};

/** The helper functions in handlebars' calling convention, each failing as a HelperFailure. */
export const HELPERS: Readonly<Record<string, Helper>> = Object.freeze(
  Object.fromEntries(
    Object.entries(table).map(([name, impl]) => [
      name,
      function helper(this: unknown, ...args: unknown[]) {
        const { params, options } = split(args);
        // `{{ first }}` with no arguments means the variable `first`, not a call of the helper:
        // users' variables must not be shadowed by helper names.
        if (params.length === 0 && Object.keys(options?.hash ?? {}).length === 0) {
          const own = readProperty(this, name);
          if (own.found) return own.value;
          throw new HelperFailure(name, `undefined variable '${name}'`, true);
        }
        try {
          return impl(params, options?.hash ?? {});
        } catch (err) {
          throw new HelperFailure(name, (err as Error).message);
        }
      },
    ]),
  ),
);
