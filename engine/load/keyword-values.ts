// Turning validated keyword values into the model's shapes (tags "a,b" → ['a','b'],
// notify: x → ['x'], with_items → {lookup, value}), and rejecting keys that are not
// keywords at this level, with a suggestion or the reason Ansible users need.
import { ParseError } from '../errors.js';
import type { Keywords } from './model.js';
import { locateKey } from './positions.js';
import { didYouMean } from './suggest.js';
import { keywordSets, unsupportedKeyword, WITH_LOOKUPS } from './keywords.js';

type Level = 'play' | 'block' | 'task';

/** A comma-separated string or a list → a list of tag names. */
export function toTags(value: unknown): string[] {
  if (Array.isArray(value)) return value.map((t) => String(t).trim()).filter((t) => t !== '');
  if (typeof value === 'string') return value.split(',').map((t) => t.trim()).filter((t) => t !== '');
  return [];
}

/** One name or a list of names. */
export function toNames(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  if (typeof value === 'string') return [value];
  return [];
}

export function pick(raw: Record<string, unknown>, keys: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) if (keys.has(key)) out[key] = raw[key];
  return out;
}

/** Keys that are structure or play fields, not inheritable keywords. */
const NOT_KEYWORDS = new Set([
  'name', 'args', 'action', 'local_action', 'block', 'rescue', 'always',
  'hosts', 'gather_facts', 'vars_files', 'roles', 'pre_tasks', 'tasks', 'post_tasks', 'handlers',
  'serial', 'strategy', 'order', 'max_fail_percentage',
]);

/** Keywords record from validated values; `skip` names further keys handled by the caller. */
export function buildKeywords(known: Record<string, unknown>, skip: ReadonlySet<string> = new Set()): Keywords & Record<string, unknown> {
  const kw: Keywords & Record<string, unknown> = {};
  for (const [key, value] of Object.entries(known)) {
    if (NOT_KEYWORDS.has(key) || skip.has(key)) continue;
    if (value === null || value === undefined) continue; // `when:` left empty means not set, as in Ansible
    if (key === 'tags') kw.tags = toTags(value);
    else if (key === 'notify' || key === 'listen') kw[key] = toNames(value);
    else if (key.startsWith('with_')) kw.with = { lookup: key.slice('with_'.length), value };
    else kw[key] = value;
  }
  return kw;
}

/**
 * Errors for every key of `raw` not in `allowed`. `label` starts the message ("task",
 * "block", "include_tasks"); `level` picks the unsupported-keyword list.
 */
export function unknownKeyErrors(
  raw: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  label: string,
  level: Level,
  isModule: (key: string) => boolean = () => false,
): ParseError[] {
  const sets = keywordSets();
  const errors: ParseError[] = [];
  for (const key of Object.keys(raw)) {
    if (allowed.has(key)) continue;
    const pos = locateKey(raw, key);
    let message: string;
    if (unsupportedKeyword(level, key)) {
      message = `${label}: keyword '${key}' is not supported by tsplay`;
    } else if (key.startsWith('with_') && !sets.task.has(key)) {
      message = `${label}: '${key}' uses the lookup '${key.slice(5)}', which tsplay does not support (supported: ${WITH_LOOKUPS.map((l) => `with_${l}`).join(', ')}, loop)`;
    } else if (sets.task.has(key) || sets.block.has(key) || sets.play.has(key)) {
      message = `${label}: keyword '${key}' is not valid here${where(key)}`;
    } else if (isModule(key)) {
      message =
        level === 'play'
          ? `${label}: '${key}' is a module: put it in a task under 'tasks:'`
          : `${label}: '${key}' is a module: a block cannot also run one (put it in a task inside the block)`;
    } else {
      message = `${label}: unknown keyword '${key}'${didYouMean(key, allowed)}`;
    }
    errors.push(new ParseError('UNKNOWN_KEYWORD', message, pos));
  }
  return errors;
}

function where(key: string): string {
  const sets = keywordSets();
  const levels = [sets.play.has(key) && 'plays', sets.block.has(key) && 'blocks', sets.task.has(key) && 'tasks'].filter(Boolean);
  return levels.length ? ` (it belongs on ${levels.join(' and ')})` : '';
}
