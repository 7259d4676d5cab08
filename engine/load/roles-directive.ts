// import_role (static: the role is inlined now, its keywords apply to every task) and
// include_role (dynamic: resolved per host at run time, with loops, when and vars; loaded
// and validated now when its name is plain).
import { dirname } from 'node:path';
import { ParseError, type SourcePos } from '../errors.js';
import type { BlockNode, IncludeRoleNode, Keywords } from './model.js';
import { copyPositions, locate, locateKey } from './positions.js';
import { validateAgainstSchema, isTemplated } from './schema.js';
import { didYouMean } from './suggest.js';
import { LoadContext, type FileScope } from './context.js';
import { keywordSets } from './keywords.js';
import { buildKeywords, pick, unknownKeyErrors } from './keyword-values.js';
import { parseFreeForm } from './freeform.js';
import { describeType } from './tasks.js';
import { loadRole, type LoadedRole, type RoleEntry } from './roles.js';

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

const IMPORT_ARGS = ['name', 'tasks_from', 'vars_from', 'defaults_from', 'handlers_from', 'allow_duplicates', 'public', 'rolespec_validate'];
const INCLUDE_ARGS = [...IMPORT_ARGS, 'apply'];

interface RoleArgs {
  name: string;
  namePos: SourcePos;
  tasks_from?: string;
  vars_from?: string;
  defaults_from?: string;
  handlers_from?: string;
  allow_duplicates?: boolean;
  public?: boolean;
  apply?: Mapping;
  applyHolder?: Mapping;
}

function toBoolean(value: unknown): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const v = value.trim().toLowerCase();
    if (['yes', 'true', 'on', '1', 'y'].includes(v)) return true;
    if (['no', 'false', 'off', '0', 'n'].includes(v)) return false;
  }
  return undefined;
}

/** The directive's arguments: a mapping, or `name=x tasks_from=y` written as one string. */
function roleArgs(raw: Mapping, key: string, allowed: string[]): RoleArgs {
  const value = raw[key];
  const valuePos = locate(raw, key) ?? locate(raw)!;
  let args: Mapping;
  let holder: Mapping;
  if (typeof value === 'string') {
    const parsed = parseFreeForm(value, 'kv', allowed);
    args = parsed.args as Mapping;
    holder = raw;
    if (!('name' in args) && Object.keys(args).length === 0 && value.trim() !== '' && !value.includes('=')) args = { name: value.trim() };
  } else if (isMapping(value)) {
    args = value;
    holder = value;
  } else {
    throw new ParseError('MODULE_ARGS', `${key}: expected the role's arguments (name: ROLE), got ${describeType(value)}`, valuePos);
  }
  for (const extra of Object.keys(args)) {
    if (allowed.includes(extra) || extra === '_raw_params') continue;
    const why = extra === 'apply' ? `'apply' is only valid on include_role` : `unknown argument '${extra}'${didYouMean(extra, allowed)}`;
    throw new ParseError('MODULE_ARGS', `${key}: ${why}`, holder === value ? locateKey(value, extra) : valuePos);
  }
  const name = args.name;
  if (typeof name !== 'string' || name.trim() === '') throw new ParseError('MODULE_ARGS', `${key}: missing required argument 'name'`, valuePos);
  const at = (k: string) => (holder === value ? locate(value, k) : valuePos) ?? valuePos;
  const out: RoleArgs = { name: name.trim(), namePos: at('name') };
  for (const k of ['tasks_from', 'vars_from', 'defaults_from', 'handlers_from'] as const) {
    const v = args[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string' || v.trim() === '') throw new ParseError('MODULE_ARGS', `${key}: '${k}' must be a file name`, at(k));
    out[k] = v.trim();
  }
  for (const k of ['allow_duplicates', 'public', 'rolespec_validate'] as const) {
    if (args[k] === undefined) continue;
    const b = toBoolean(args[k]);
    if (b === undefined) throw new ParseError('MODULE_ARGS', `${key}: '${k}' must be a boolean`, at(k));
    if (k !== 'rolespec_validate') out[k] = b;
  }
  if (args.apply !== undefined) {
    if (!isMapping(args.apply)) throw new ParseError('MODULE_ARGS', `${key}: 'apply' must be a mapping of keywords`, at('apply'));
    out.apply = args.apply;
  }
  return out;
}

function entryFor(args: RoleArgs, keywords: Mapping, params: Mapping, pub: boolean, raw: Mapping, pos: SourcePos): RoleEntry {
  const entry: RoleEntry = { name: args.name, namePos: args.namePos, keywords, params, public: pub, pos, raw };
  if (args.tasks_from !== undefined) entry.tasksFrom = args.tasks_from;
  if (args.vars_from !== undefined) entry.varsFrom = args.vars_from;
  if (args.defaults_from !== undefined) entry.defaultsFrom = args.defaults_from;
  if (args.handlers_from !== undefined) entry.handlersFrom = args.handlers_from;
  return entry;
}

/** import_role: the role's block, with the directive's keywords (when, tags…) over it. */
export function normaliseImportRole(raw: Mapping, key: string, scope: FileScope, ctx: LoadContext, onRole: (loaded: LoadedRole) => void): BlockNode {
  const sets = keywordSets();
  const loopKey = Object.keys(raw).find((k) => k === 'loop' || k.startsWith('with_'));
  if (loopKey) throw new ParseError('SCHEMA', `You cannot use loops on 'import_role' statements. You should use 'include_role' instead.`, locateKey(raw, loopKey));
  for (const err of unknownKeyErrors(raw, new Set([...sets.import, key]), key, 'block')) ctx.errors.add(err);
  const known = pick(raw, sets.import);
  for (const err of validateAgainstSchema(sets.taskSchema, known, raw, key, { noun: 'keyword', coerce: true })) ctx.errors.add(err);
  const args = roleArgs(raw, key, IMPORT_ARGS);
  if (isTemplated(args.name)) throw new ParseError('SCHEMA', `${key}: the role name cannot be a template (it is read before any variable exists); use include_role`, args.namePos);
  const keywords: Mapping = { ...known };
  delete keywords.name;
  const params = isMapping(known.vars) ? { ...known.vars } : {};
  if (isMapping(known.vars)) copyPositions(known.vars, params); // where each parameter was written
  delete keywords.vars;
  const pos = locate(raw)!;
  const entry = entryFor(args, keywords, params, args.public ?? true, raw, pos);
  if (args.allow_duplicates !== undefined) entry.allowDuplicates = args.allow_duplicates;
  const loaded = loadRole(entry, scope, ctx, { names: [], dirs: [] });
  onRole(loaded);
  if (typeof known.name === 'string') loaded.block.name = known.name;
  return loaded.block;
}

/** include_role: a node the walker expands per host; the role is loaded now when its name is plain. */
export function normaliseIncludeRole(raw: Mapping, key: string, scope: FileScope, ctx: LoadContext): IncludeRoleNode {
  const sets = keywordSets();
  const allowed = new Set([...sets.include, key]);
  const taskOnly = Object.keys(raw).filter((k) => !allowed.has(k) && sets.task.has(k));
  for (const word of taskOnly) {
    ctx.errors.add(new ParseError('UNKNOWN_KEYWORD', `${key}: keyword '${word}' cannot be used on include_role (use 'apply:' to give it to the role's tasks, or use import_role)`, locateKey(raw, word)));
  }
  for (const err of unknownKeyErrors(raw, new Set([...allowed, ...taskOnly]), key, 'task')) ctx.errors.add(err);
  const known = pick(raw, sets.include);
  for (const err of validateAgainstSchema(sets.taskSchema, known, raw, key, { noun: 'keyword', coerce: true })) ctx.errors.add(err);
  const args = roleArgs(raw, key, INCLUDE_ARGS);
  let apply: Keywords | undefined;
  if (args.apply) {
    const applyKeys = new Set([...sets.block].filter((k) => k !== 'block' && k !== 'rescue' && k !== 'always' && k !== 'name'));
    for (const err of unknownKeyErrors(args.apply, applyKeys, `${key} apply`, 'block')) ctx.errors.add(err);
    const applyKnown = pick(args.apply, applyKeys);
    for (const err of validateAgainstSchema(sets.taskSchema, applyKnown, args.apply, `${key} apply`, { noun: 'keyword', coerce: true })) ctx.errors.add(err);
    apply = buildKeywords(applyKnown);
  }
  const pos = locate(raw)!;
  const node: IncludeRoleNode = {
    type: 'include_role',
    id: ctx.idFor(pos),
    name: typeof known.name === 'string' ? known.name : `include_role : ${args.name}`,
    role: args.name,
    public: args.public ?? false,
    // include_role runs the role every time it is reached, unless told otherwise
    allowDuplicates: args.allow_duplicates ?? true,
    kw: buildKeywords(known),
    baseDir: dirname(scope.file),
    pos,
    raw,
  };
  if (args.tasks_from !== undefined) node.tasksFrom = args.tasks_from;
  if (args.vars_from !== undefined) node.varsFrom = args.vars_from;
  if (args.defaults_from !== undefined) node.defaultsFrom = args.defaults_from;
  if (args.handlers_from !== undefined) node.handlersFrom = args.handlers_from;
  if (apply) node.apply = apply;
  const plain = [args.name, args.tasks_from, args.vars_from, args.defaults_from, args.handlers_from].every((v) => v === undefined || !isTemplated(v));
  if (plain) {
    const loaded = loadRole(includeEntry(node, args.name, args.namePos), scope, ctx, { names: [], dirs: [] });
    node.loaded = loaded.block;
    node.tasks = loaded.block.block;
    if (loaded.handlers.length > 0) node.handlers = { ...loaded.block, block: loaded.handlers, kw: {}, role: loaded.block.role! };
  }
  return node;
}

/** The role entry an include_role stands for (its vars are passed per host by the walker). */
export function includeEntry(node: IncludeRoleNode, name: string, namePos: SourcePos, files: Partial<Pick<IncludeRoleNode, 'tasksFrom' | 'varsFrom' | 'defaultsFrom' | 'handlersFrom'>> = node): RoleEntry {
  const entry: RoleEntry = { name, namePos, keywords: {}, params: {}, public: node.public, allowDuplicates: node.allowDuplicates, pos: node.pos, raw: node.raw };
  if (files.tasksFrom !== undefined) entry.tasksFrom = files.tasksFrom;
  if (files.varsFrom !== undefined) entry.varsFrom = files.varsFrom;
  if (files.defaultsFrom !== undefined) entry.defaultsFrom = files.defaultsFrom;
  if (files.handlersFrom !== undefined) entry.handlersFrom = files.handlersFrom;
  return entry;
}
