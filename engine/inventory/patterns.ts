// Host patterns exactly as Ansible's InventoryManager evaluates them (`hosts:`, --limit):
// terms split on `,` (or on `:` and spaces when there is no comma, unless the whole pattern
// is one address such as an IPv6 address or `web[1:3]`); plain terms are unions in the order
// written, then `&term` intersections, then `!term` exclusions. A term is a host name, a
// group name, a shell glob (fnmatch, matched against group names and host names) or `~regex`
// (matched from the start, like Python's re.match), optionally followed by a subscript:
// `[0]`, `[-1]`, `[1:3]` (inclusive end: hosts 1, 2 and 3), `[2:]`.
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ParseError } from '../errors.js';
import { parseAddress } from './ranges.js';
import type { Inventory } from './types.js';

/** What pattern evaluation needs from an inventory. */
export interface PatternTarget {
  hostNames(): string[];
  groupNames(): string[];
  hostsOf(group: string): string[];
  hasHost(name: string): boolean;
  /** The implicit localhost's name for `localhost`/`127.0.0.1`/`::1`, else undefined. */
  localhost(name: string): string | undefined;
}

const LOCALHOST_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const SUBSCRIPT = /^(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]$/s;
const LOOKS_LIKE_SUBSCRIPT = /\[[-0-9:]*\]$/;

function patternError(pattern: string, reason: string): ParseError {
  return new ParseError('HOST_PATTERN', `Invalid host pattern '${pattern}': ${reason}`);
}

/**
 * Ansible's split_host_pattern: 'a,b[1], c[2:3] , d' → ['a', 'b[1]', 'c[2:3]', 'd'];
 * 'web:&prod:!db' → ['web', '&prod', '!db']; 'fe80::1' and 'web[1:3]' stay whole.
 * Unbalanced brackets are an error (Ansible would silently drop the bracket).
 */
export function splitHostPattern(pattern: string | string[]): string[] {
  if (Array.isArray(pattern)) return pattern.flatMap((p) => splitHostPattern(p));
  let terms: string[];
  if (pattern.includes(',')) {
    terms = pattern.split(',');
  } else if (parseAddress(pattern.trim())) {
    terms = [pattern];
  } else {
    terms = [];
    let current = '';
    for (let i = 0; i < pattern.length; i++) {
      const c = pattern[i]!;
      if (c === '[') {
        const close = pattern.indexOf(']', i);
        if (close < 0) throw patternError(pattern, `unbalanced '[' at column ${i + 1}`);
        current += pattern.slice(i, close + 1);
        i = close;
      } else if (c === ']') {
        throw patternError(pattern, `unbalanced ']' at column ${i + 1}`);
      } else if (c === ':' || /\s/.test(c)) {
        if (current) terms.push(current);
        current = '';
      } else {
        current += c;
      }
    }
    if (current) terms.push(current);
  }
  return terms.map((t) => t.trim()).filter((t) => t.length > 0);
}

/** Plain terms first, then `&` intersections, then `!` exclusions; only modifiers means `all` plus them. */
export function orderPatterns(terms: string[]): string[] {
  const regular = terms.filter((t) => t[0] !== '!' && t[0] !== '&');
  const intersections = terms.filter((t) => t[0] === '&');
  const exclusions = terms.filter((t) => t[0] === '!');
  return [...(regular.length > 0 ? regular : ['all']), ...intersections, ...exclusions];
}

interface Subscript {
  start: number;
  /** undefined: a single index; -1: to the end. */
  end?: number;
}

interface ParsedTerm {
  expr: string;
  subscript?: Subscript;
  matcher: (name: string) => boolean;
}

/** Check one term and compile its matcher; a malformed term is a HOST_PATTERN error. */
function parseTerm(term: string, whole: string): ParsedTerm {
  const body = term[0] === '!' || term[0] === '&' ? term.slice(1) : term;
  if (!body) throw patternError(whole, `'${term}' names nothing after '${term[0]}'`);
  if (body[0] === '~') {
    // a regex term has no subscript: `~web[1]` is a character class
    return { expr: body, matcher: regexMatcher(body.slice(1), whole) };
  }
  checkBrackets(body, whole);
  let expr = body;
  let subscript: Subscript | undefined;
  const m = SUBSCRIPT.exec(body);
  if (m) {
    expr = m[1]!;
    if (m[2] !== undefined) subscript = { start: Number(m[2]) };
    else subscript = { start: Number(m[3]), end: m[5] ? Number(m[5]) : -1 };
  } else if (LOOKS_LIKE_SUBSCRIPT.test(body)) {
    throw patternError(whole, `bad subscript in '${body}': use [N], [-N], [N:M] (N to M inclusive) or [N:]`);
  }
  return subscript ? { expr, subscript, matcher: globMatcher(expr, whole) } : { expr, matcher: globMatcher(expr, whole) };
}

function checkBrackets(body: string, whole: string): void {
  let open = -1;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '[') {
      if (open >= 0) throw patternError(whole, `unbalanced '[' in '${body}'`);
      open = i;
    } else if (body[i] === ']') {
      // `[]...]` and `[!]...]`: a ']' first in a class is a literal, as in fnmatch
      if (open < 0) throw patternError(whole, `unbalanced ']' in '${body}'`);
      if (i === open + 1 || (i === open + 2 && body[open + 1] === '!')) continue;
      open = -1;
    }
  }
  if (open >= 0) throw patternError(whole, `unbalanced '[' in '${body}'`);
}

/** Python's fnmatch.translate: `*`, `?`, `[seq]`, `[!seq]`; case-sensitive, whole-name match. */
export function fnmatchToRegExp(glob: string): RegExp {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i++]!;
    if (c === '*') {
      if (!out.endsWith('.*')) out += '.*';
    } else if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i;
      if (glob[j] === '!') j++;
      if (glob[j] === ']') j++;
      while (j < glob.length && glob[j] !== ']') j++;
      if (j >= glob.length) {
        out += '\\[';
      } else {
        let stuff = glob.slice(i, j).replace(/\\/g, '\\\\');
        i = j + 1;
        if (stuff === '!') out += '.';
        else {
          if (stuff[0] === '!') stuff = '^' + stuff.slice(1);
          else if (stuff[0] === '^' || stuff[0] === '[') stuff = '\\' + stuff;
          out += `[${stuff.replace(/\]/g, '\\]')}]`;
        }
      }
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
  }
  return new RegExp(`^(?:${out})$`, 's');
}

function globMatcher(glob: string, whole: string): (name: string) => boolean {
  let re: RegExp;
  try {
    re = fnmatchToRegExp(glob);
  } catch (err) {
    throw patternError(whole, `'${glob}' is not a valid glob (${(err as Error).message})`);
  }
  return (name) => re.test(name);
}

/** A Python regex as a JS one, anchored at the start only (re.match). */
function regexMatcher(source: string, whole: string): (name: string) => boolean {
  let flags = '';
  let src = source;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(src);
  if (inline) {
    if (inline[1]!.includes('i')) flags += 'i';
    if (inline[1]!.includes('s')) flags += 's';
    if (inline[1]!.includes('m')) flags += 'm';
    src = src.slice(inline[0].length);
  }
  src = src.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>').replace(/\\Z/g, '$').replace(/\\A/g, '^');
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${src})`, flags);
  } catch (err) {
    throw patternError(whole, `bad regular expression '~${source}': ${(err as Error).message.replace(/^Invalid regular expression: /, '')}`);
  }
  return (name) => re.test(name);
}

/** Validate a whole pattern without an inventory (for load-time checks of `hosts:`). */
export function checkHostPattern(pattern: string | string[]): void {
  const whole = Array.isArray(pattern) ? pattern.join(',') : pattern;
  for (const term of splitHostPattern(pattern)) parseTerm(term, whole);
}

/** Ansible's _evaluate_patterns over an inventory. */
export function evaluateHostPattern(pattern: string | string[], target: PatternTarget): string[] {
  const whole = Array.isArray(pattern) ? pattern.join(',') : pattern;
  const terms = orderPatterns(splitHostPattern(pattern));
  let hosts: string[] = [];
  for (const term of terms) {
    if (target.hasHost(term)) {
      hosts.push(term);
      continue;
    }
    const matched = matchOneTerm(term, whole, target);
    if (term[0] === '!') {
      const drop = new Set(matched);
      hosts = hosts.filter((h) => !drop.has(h));
    } else if (term[0] === '&') {
      const keep = new Set(matched);
      hosts = hosts.filter((h) => keep.has(h));
    } else {
      const existing = new Set(hosts);
      hosts.push(...matched.filter((h) => !existing.has(h)));
    }
  }
  return [...new Set(hosts)];
}

function matchOneTerm(term: string, whole: string, target: PatternTarget): string[] {
  const parsed = parseTerm(term, whole);
  const hosts = enumerateMatches(parsed, target);
  if (!parsed.subscript || hosts.length === 0) return hosts;
  const { start, end } = parsed.subscript;
  // Python semantics, including `[2:0]` meaning just index 2 (end 0 is "no end").
  if (end) {
    const last = end === -1 ? hosts.length - 1 : end;
    return hosts.slice(start, last + 1);
  }
  const index = start < 0 ? hosts.length + start : start;
  if (index < 0 || index >= hosts.length) {
    const body = term[0] === '!' || term[0] === '&' ? term.slice(1) : term;
    throw new ParseError('HOST_PATTERN', `No hosts matched the subscripted pattern '${body}' (it matches ${hosts.length} host${hosts.length === 1 ? '' : 's'})`);
  }
  return [hosts[index]!];
}

function enumerateMatches(term: ParsedTerm, target: PatternTarget): string[] {
  const { expr, matcher } = term;
  const results: string[] = [];
  const groups = target.groupNames().filter(matcher);
  for (const group of groups) results.push(...target.hostsOf(group));
  if (groups.length === 0 || expr[0] === '~' || /[.?*[]/.test(expr)) {
    for (const host of target.hostNames()) if (matcher(host)) results.push(host);
  }
  if (results.length === 0 && LOCALHOST_NAMES.has(expr)) {
    const local = target.localhost(expr);
    if (local !== undefined) results.push(local);
  }
  return results;
}

/**
 * Expand `@file` terms of a --limit value into the host names listed in the file (one a
 * line, e.g. a .retry file); a relative path is taken from `cwd`. Other terms are kept.
 */
export function parseLimit(value: string, cwd: string): string {
  if (!value.includes('@')) return value;
  const terms: string[] = [];
  for (const term of splitHostPattern(value)) {
    if (term[0] !== '@') {
      terms.push(term);
      continue;
    }
    const file = resolve(cwd, term.slice(1));
    let isFile: boolean;
    try {
      isFile = statSync(file).isFile();
    } catch {
      throw new ParseError('HOST_PATTERN', `Unable to find limit file ${file}`);
    }
    if (!isFile) throw new ParseError('HOST_PATTERN', `Limit starting with "@" must be a file, not a directory: ${file}`);
    const names = readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
    terms.push(...names);
  }
  // Ansible turns an empty limit into `all`; an empty retry file means nothing failed, so
  // it selects no host here rather than every host.
  return terms.length > 0 ? terms.join(',') : '!all';
}

/** Hosts of `pattern` that also match `limit` (--limit), in the pattern's order. */
export function selectWithLimit(inventory: Inventory, pattern: string | string[], limit?: string): string[] {
  const hosts = inventory.select(pattern as string);
  if (limit === undefined || limit === '') return hosts;
  const allowed = new Set(inventory.select(limit));
  return hosts.filter((h) => allowed.has(h));
}
