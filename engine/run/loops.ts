// loop: and the with_* lookups, turned into the list of items a task runs over; and which
// consecutive items may share one module call (runMany: loopBatchable, itemGroups).
import { readdirSync } from 'node:fs';
import { minimatch } from 'minimatch';
import path from 'node:path';
import { TsplayError, type SourcePos } from '../errors.js';

function loopError(message: string, pos: SourcePos): TsplayError {
  return new TsplayError('TEMPLATE', message, { pos });
}

/**
 * Items for a loop. `value` is already templated. `lookup` is undefined for `loop:`
 * and the with_* suffix otherwise (items, list, dict, ...).
 */
export function expandLoop(value: unknown, lookup: string | undefined, pos: SourcePos, baseDir: string): unknown[] {
  switch (lookup) {
    case undefined:
    case 'list':
      if (!Array.isArray(value)) throw loopError(`loop requires a list, got ${describe(value)}`, pos);
      return value;
    case 'items':
      // with_items flattens one level, as Ansible does
      return asList(value, pos).flatMap((v) => (Array.isArray(v) ? v : [v]));
    case 'flattened':
      return flattenDeep(asList(value, pos));
    case 'indexed_items':
      return asList(value, pos).map((v, i) => [i, v]);
    case 'dict': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw loopError(`with_dict requires a mapping, got ${describe(value)}`, pos);
      }
      return Object.entries(value).map(([key, v]) => ({ key, value: v }));
    }
    case 'together': {
      const lists = asList(value, pos).map((l) => asList(l, pos));
      const longest = Math.max(0, ...lists.map((l) => l.length));
      return Array.from({ length: longest }, (_, i) => lists.map((l) => l[i] ?? null));
    }
    case 'nested':
    case 'cartesian': {
      const lists = asList(value, pos).map((l) => asList(l, pos));
      return lists.reduce<unknown[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
    }
    case 'sequence':
      return sequence(value, pos);
    case 'fileglob':
      return asList(value, pos).flatMap((pattern) => {
        const p = String(pattern);
        const abs = path.isAbsolute(p) ? p : path.join(baseDir, 'files', p);
        const found = globFiles(abs);
        return found.length > 0 || path.isAbsolute(p) ? found : globFiles(path.join(baseDir, p));
      });
    default:
      throw loopError(`unknown lookup with_${lookup}`, pos);
  }
}

function asList(value: unknown, pos: SourcePos): unknown[] {
  if (Array.isArray(value)) return value;
  if (typeof value === 'string') return value.split(',').map((s) => s.trim());
  if (value === null || value === undefined) throw loopError('loop over an undefined or null value', pos);
  return [value];
}

/** with_fileglob matches file names in one folder (like Ansible's fileglob: no recursion). */
function globFiles(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  let names: string[];
  try {
    names = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
  } catch {
    return [];
  }
  return names.filter((n) => minimatch(n, base)).sort().map((n) => path.join(dir, n));
}

function flattenDeep(list: unknown[]): unknown[] {
  return list.flatMap((v) => (Array.isArray(v) ? flattenDeep(v) : [v]));
}

/** with_sequence: "start=1 end=5 stride=1 format=web%02d" or "1-5" / "count=3". */
function sequence(value: unknown, pos: SourcePos): string[] {
  const spec = String(Array.isArray(value) ? value[0] : value).trim();
  let start = 1;
  let end: number | undefined;
  let stride = 1;
  let format = '%d';
  const shortcut = /^(\d+)-(\d+)(?:\/(\d+))?(?::(.+))?$/.exec(spec);
  if (shortcut) {
    start = Number(shortcut[1]);
    end = Number(shortcut[2]);
    if (shortcut[3]) stride = Number(shortcut[3]);
    if (shortcut[4]) format = shortcut[4];
  } else {
    for (const part of spec.split(/\s+/)) {
      const [k, v = ''] = part.split('=', 2);
      if (k === 'start') start = Number(v);
      else if (k === 'end') end = Number(v);
      else if (k === 'count') end = start + Number(v) - 1;
      else if (k === 'stride') stride = Number(v);
      else if (k === 'format') format = v;
      else throw loopError(`with_sequence: unknown option '${k}'`, pos);
    }
  }
  if (end === undefined || !Number.isFinite(start) || !Number.isFinite(end) || !Number.isFinite(stride) || stride === 0) {
    throw loopError(`with_sequence: cannot read '${spec}'`, pos);
  }
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) {
    out.push(format.replace(/%(0?)(\d*)d/, (_m, zero: string, width: string) => String(i).padStart(Number(width || 0), zero ? '0' : ' ')));
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'a mapping' : `${typeof value} ${JSON.stringify(value)}`;
}

/** The label shown for an item: loop_control.label (templated by the caller) or the item itself. */
export function itemLabel(item: unknown): string {
  if (typeof item === 'string') return item;
  return JSON.stringify(item) ?? String(item);
}

/**
 * Whether a loop's items may go to the module's runMany in groups (one round trip for many
 * items) instead of one call each. Not when something must happen between two items: a pause,
 * until/retries, or a condition or argument that reads this task's own register. Items are
 * grouped later only while they share host, become, check, diff, environment and timeout.
 * TSPLAY_LOOP_BATCH=0 turns it off (one call per item, as before).
 */
export function loopBatchable(
  task: { args: Record<string, unknown>; kw: { when?: unknown; until?: unknown; register?: string; loop_control?: { pause?: unknown; label?: unknown } } },
  hasRunMany: boolean,
  itemCount: number,
): boolean {
  if (!hasRunMany || itemCount < 2 || process.env.TSPLAY_LOOP_BATCH === '0') return false;
  if (task.kw.loop_control?.pause || task.kw.until !== undefined) return false;
  const register = task.kw.register;
  if (register) {
    const word = new RegExp(`(^|[^A-Za-z0-9_])${register.replace(/[^A-Za-z0-9_]/g, '\\$&')}([^A-Za-z0-9_]|$)`);
    if ([task.kw.when, task.args, task.kw.loop_control?.label].some((v) => v !== undefined && word.test(JSON.stringify(v)))) return false;
  }
  return true;
}

/**
 * Consecutive runs of the items that call the module, split where the key (host, become,
 * ...) changes. Items without a key (skipped by `when`, or failed before the call) do not
 * split a run: they do nothing on the host.
 */
export function itemGroups(keys: ReadonlyArray<string | undefined>): number[][] {
  const groups: number[][] = [];
  let current: number[] = [];
  let currentKey: string | undefined;
  keys.forEach((key, i) => {
    if (key === undefined) return;
    if (current.length > 0 && key !== currentKey) {
      groups.push(current);
      current = [];
    }
    current.push(i);
    currentKey = key;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}
