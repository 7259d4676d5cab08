// Jinja/Ansible tests: `x is <test>(args)`. Each gets the (defined) value, the positional and
// keyword arguments, and answers true or false. `defined`/`undefined` are handled by the
// evaluator, since they are the only tests that see undefined values.
import { compileRegex, versionCompare } from '../functions.js';
import { isMapping, pyCompare, pyEquals, toBool, truthy, type Mapping } from '../values.js';

export type TestFn = (value: unknown, args: unknown[], kwargs: Record<string, unknown>) => boolean;

/** The `failed` state of a registered result, as Ansible reads it. */
function resultMapping(value: unknown, test: string): Mapping {
  if (!isMapping(value)) throw new TypeError(`the '${test}' test expects a registered task result (a dictionary)`);
  return value;
}

function regexTest(mode: 'match' | 'search' | 'fullmatch'): TestFn {
  return (value, [pattern], kw) => {
    let flags = toBool(kw.ignorecase ?? false) ? 'i' : '';
    if (toBool(kw.multiline ?? false)) flags += 'm';
    const source = String(pattern ?? '');
    const re = compileRegex(mode === 'fullmatch' ? `(?:${source})$` : source, flags + (mode === 'search' ? '' : 'y'));
    return re.test(String(value ?? ''));
  };
}

function contains(container: unknown, item: unknown): boolean {
  if (typeof container === 'string') return typeof item === 'string' && container.includes(item);
  if (Array.isArray(container)) return container.some((v) => pyEquals(v, item));
  if (isMapping(container)) return typeof item === 'string' && Object.prototype.hasOwnProperty.call(container, item);
  throw new TypeError(`argument of type '${typeof container}' is not iterable`);
}

export const TESTS: Readonly<Record<string, TestFn>> = Object.freeze({
  none: (v) => v === null,
  true: (v) => v === true,
  false: (v) => v === false,
  boolean: (v) => typeof v === 'boolean',
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number',
  integer: (v) => typeof v === 'number' && Number.isInteger(v),
  float: (v) => typeof v === 'number' && !Number.isInteger(v),
  mapping: (v) => isMapping(v),
  iterable: (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v),
  sequence: (v) => typeof v === 'string' || Array.isArray(v) || isMapping(v),
  list: (v) => Array.isArray(v),
  truthy: (v) => truthy(v),
  falsy: (v) => !truthy(v),
  lower: (v) => typeof v === 'string' && v === v.toLowerCase(),
  upper: (v) => typeof v === 'string' && v === v.toUpperCase(),
  odd: (v) => Number(v) % 2 === 1 || Number(v) % 2 === -1,
  even: (v) => Number(v) % 2 === 0,
  divisibleby: (v, [n]) => Number(v) % Number(n) === 0,
  equalto: (v, [other]) => pyEquals(v, other),
  eq: (v, [other]) => pyEquals(v, other),
  '==': (v, [other]) => pyEquals(v, other),
  sameas: (v, [other]) => v === other,
  ne: (v, [other]) => !pyEquals(v, other),
  '!=': (v, [other]) => !pyEquals(v, other),
  lt: (v, [other]) => pyCompare(v, other) < 0,
  le: (v, [other]) => pyCompare(v, other) <= 0,
  gt: (v, [other]) => pyCompare(v, other) > 0,
  ge: (v, [other]) => pyCompare(v, other) >= 0,
  in: (v, [container]) => contains(container, v),
  contains: (v, [item]) => contains(v, item),
  subset: (v, [other]) => Array.isArray(v) && Array.isArray(other) && v.every((x) => contains(other, x)),
  superset: (v, [other]) => Array.isArray(v) && Array.isArray(other) && other.every((x) => contains(v, x)),
  /** Ansible: `rc is succeeded` — the registered result did not fail. */
  succeeded: (v) => !truthy(resultMapping(v, 'succeeded').failed),
  success: (v) => !truthy(resultMapping(v, 'success').failed),
  failed: (v) => truthy(resultMapping(v, 'failed').failed),
  failure: (v) => truthy(resultMapping(v, 'failure').failed),
  changed: (v) => truthy(resultMapping(v, 'changed').changed),
  change: (v) => truthy(resultMapping(v, 'change').changed),
  skipped: (v) => truthy(resultMapping(v, 'skipped').skipped),
  skip: (v) => truthy(resultMapping(v, 'skip').skipped),
  /** `x is match('re')`: the pattern matches at the start (Python's re.match). */
  match: regexTest('match'),
  /** `x is search('re')`: the pattern matches anywhere. */
  search: regexTest('search'),
  regex: (v, args, kw) => regexTest(kw.match_type === 'match' ? 'match' : kw.match_type === 'fullmatch' ? 'fullmatch' : 'search')(v, args, kw),
  /** `v is version('1.20', '>=')`: dotted version comparison. */
  version: (v, [other, op], kw) => versionCompare(v, other, String(op ?? kw.operator ?? '==')),
  version_compare: (v, [other, op], kw) => versionCompare(v, other, String(op ?? kw.operator ?? '==')),
});
