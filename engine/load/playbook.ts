// Loading a playbook: a list of plays and import_playbook entries, every play, task and
// module argument validated before any host is contacted. All problems found are thrown
// together as one ParseErrors (its code/pos are the first problem's).
import { dirname, isAbsolute, join } from 'node:path';
import { ParseError, type SourcePos } from '../errors.js';
import type { Conditional, PlayNode, PlayOrder, Playbook, VarsFileRef } from './model.js';
import { locate } from './positions.js';
import { loadYamlFile } from './yaml.js';
import { validateAgainstSchema, isTemplated } from './schema.js';
import { LoadContext, scopeFor, includeLoop, type FileScope, type LoadOptions } from './context.js';
import { keywordSets, IMPORT_PLAYBOOK } from './keywords.js';
import { buildKeywords, pick, toTags, unknownKeyErrors } from './keyword-values.js';
import { normaliseTaskList, describeType } from './tasks.js';
import { loadPlayRoles } from './roles.js';

export type { LoadOptions } from './context.js';
export { loadTaskFile } from './tasks.js';

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Load, normalise and validate a playbook file (and everything it imports). Throws ParseErrors. */
export function loadPlaybook(file: string, opts: LoadOptions): Playbook {
  // roles are looked for beside the playbook first (PLAYBOOK_DIR/roles, PLAYBOOK_DIR)
  const roles = { ...opts.roles, playbookDir: opts.roles?.playbookDir ?? dirname(file) };
  const ctx = new LoadContext({ ...opts, roles });
  const plays = ctx.errors.attempt(() => loadPlays(file, scopeFor(file), undefined, ctx), [] as PlayNode[]);
  ctx.errors.throwIfAny();
  return { file, plays };
}

function loadPlays(file: string, scope: FileScope, refPos: SourcePos | undefined, ctx: LoadContext): PlayNode[] {
  const data = loadYamlFile(file, refPos);
  const where = locate(data) ?? { file, line: 1, col: 1 };
  if (data === null) throw new ParseError('SCHEMA', 'empty playbook, nothing to do', refPos ?? where);
  if (!Array.isArray(data)) throw new ParseError('SCHEMA', `a playbook must be a list of plays, got ${describeType(data)}`, where);
  const plays: PlayNode[] = [];
  data.forEach((entry, index) => {
    ctx.errors.attempt(() => {
      if (!isMapping(entry)) throw new ParseError('SCHEMA', `a play must be a mapping, got ${describeType(entry)}`, locate(data, index));
      const importKey = Object.keys(entry).find((k) => IMPORT_PLAYBOOK.has(k));
      if (importKey) plays.push(...importPlaybook(entry, importKey, scope, ctx));
      else {
        const play = normalisePlay(entry, scope, ctx);
        if (play) plays.push(play);
      }
    }, undefined);
  });
  return plays;
}

/** Keywords an import_playbook entry may carry; they apply to every imported play. */
const IMPORT_PLAYBOOK_KEYWORDS = new Set(['name', 'vars', 'tags', 'when']);

function importPlaybook(entry: Mapping, key: string, scope: FileScope, ctx: LoadContext): PlayNode[] {
  for (const err of unknownKeyErrors(entry, new Set([...IMPORT_PLAYBOOK_KEYWORDS, key]), key, 'play')) ctx.errors.add(err);
  const known = pick(entry, IMPORT_PLAYBOOK_KEYWORDS);
  const schema = keywordSets().taskSchema; // name/vars/tags/when have the same shapes as on a task
  for (const err of validateAgainstSchema(schema, known, entry, key, { noun: 'keyword', coerce: true })) ctx.errors.add(err);
  const target = entry[key];
  const targetPos = locate(entry, key);
  if (typeof target !== 'string' || target.trim() === '') {
    throw new ParseError('SCHEMA', `${key}: expected a playbook file name, got ${describeType(target)}`, targetPos);
  }
  if (isTemplated(target)) throw new ParseError('SCHEMA', `${key}: the file name cannot be a template (it is read before any variable exists)`, targetPos);
  const path = isAbsolute(target) ? target : join(dirname(scope.file), target.trim());
  const loop = includeLoop(path, scope);
  if (loop) throw new ParseError('INCLUDE_LOOP', `include loop: ${loop}`, targetPos);
  const plays = loadPlays(path, scopeFor(path, scope), targetPos, ctx);
  // Ansible: the import's vars override the plays' own, its tags and condition are added to theirs
  for (const play of plays) {
    if (isMapping(known.vars)) play.vars = { ...play.vars, ...known.vars };
    if (known.tags !== undefined && known.tags !== null) play.kw.tags = [...new Set([...(play.kw.tags ?? []), ...toTags(known.tags)])];
    if (known.when !== undefined && known.when !== null) play.kw.when = combineConditions(known.when as Conditional, play.kw.when);
  }
  return plays;
}

function combineConditions(outer: Conditional, inner: Conditional | undefined): Conditional {
  if (inner === undefined) return outer;
  return [...(Array.isArray(outer) ? outer : [outer]), ...(Array.isArray(inner) ? inner : [inner])];
}

/** Fields the model wants strictly typed: a template cannot stand here. */
const STRICT_BOOLEANS = ['gather_facts', 'any_errors_fatal'] as const;

function normalisePlay(raw: Mapping, playbook: FileScope, ctx: LoadContext): PlayNode | undefined {
  const sets = keywordSets();
  const before = ctx.errors.count;
  for (const err of unknownKeyErrors(raw, sets.play, 'play', 'play', (k) => !!ctx.opts.lookupModule(k))) ctx.errors.add(err);
  const known = pick(raw, sets.play);
  for (const err of validateAgainstSchema(sets.playSchema, known, raw, 'play', { noun: 'keyword', coerce: true })) ctx.errors.add(err);
  for (const key of STRICT_BOOLEANS) {
    if (known[key] !== undefined && typeof known[key] !== 'boolean') {
      ctx.errors.add(new ParseError('SCHEMA', `play: keyword '${key}' must be a boolean (a template cannot be used here)`, locate(raw, key)));
    }
  }
  if (known.max_fail_percentage !== undefined && typeof known.max_fail_percentage !== 'number') {
    ctx.errors.add(new ParseError('SCHEMA', `play: keyword 'max_fail_percentage' must be a number (a template cannot be used here)`, locate(raw, 'max_fail_percentage')));
  }
  const hosts = Array.isArray(known.hosts) ? known.hosts.map(String).join(',') : typeof known.hosts === 'string' ? known.hosts.trim() : '';
  if ('hosts' in known && hosts === '') ctx.errors.add(new ParseError('SCHEMA', 'play: hosts list cannot be empty', locate(raw, 'hosts')));

  const scope = playbook;
  ctx.rolesInPlay = [];
  const tasksOf = (key: string, section: 'tasks' | 'handlers' = 'tasks') => normaliseTaskList(known[key], scope, ctx, section);
  const roles = loadPlayRoles(known.roles, raw, scope, ctx);
  const pre_tasks = tasksOf('pre_tasks');
  const tasks = tasksOf('tasks');
  const post_tasks = tasksOf('post_tasks');
  const handlers = tasksOf('handlers', 'handlers');
  if (ctx.errors.count > before) return undefined;
  // Ansible: roles' handlers first (play roles, then imported/included roles), then the play's;
  // play roles' and import_role's defaults and vars are the whole play's
  const others = ctx.rolesInPlay;
  // a role reached twice (another entry point, other parameters) has its handlers once, as in Ansible
  const seenHandlerFiles = new Set<string>();
  const roleHandlers = [...roles.flatMap((r) => r.handlers), ...others.flatMap((r) => r.loaded.handlers)].filter((h) => {
    if (seenHandlerFiles.has(h.pos.file)) return false;
    seenHandlerFiles.add(h.pos.file);
    return true;
  });
  const publicRoles = [...roles.flatMap((r) => r.bindings), ...others.filter((r) => r.exposed).flatMap((r) => r.loaded.bindings)].filter((b) => b.public);

  const pos = locate(raw) ?? { file: playbook.file, line: 1, col: 1 };
  const play: PlayNode = {
    name: typeof known.name === 'string' && known.name !== '' ? known.name : hosts,
    hosts,
    vars: isMapping(known.vars) ? known.vars : {},
    vars_files: varsFiles(known.vars_files, raw, playbook.file),
    pre_tasks,
    tasks,
    post_tasks,
    roles: roles.map((r) => r.block),
    handlers: [...roleHandlers, ...handlers],
    publicRoles,
    strategy: (known.strategy as 'linear' | 'free' | undefined) ?? 'linear',
    order: (known.order as PlayOrder | undefined) ?? 'inventory',
    kw: buildKeywords(known, new Set(['vars'])),
    pos,
    baseDir: dirname(playbook.file),
    raw,
  };
  if (typeof known.gather_facts === 'boolean') play.gather_facts = known.gather_facts;
  if (typeof known.max_fail_percentage === 'number') play.max_fail_percentage = known.max_fail_percentage;
  if (known.serial !== undefined && known.serial !== null) play.serial = serialSizes(known.serial);
  return play;
}

function varsFiles(value: unknown, raw: Mapping, file: string): VarsFileRef[] {
  if (value === undefined || value === null) return [];
  const baseDir = dirname(file);
  if (typeof value === 'string') return [{ path: value, baseDir, pos: locate(raw, 'vars_files')! }];
  if (!Array.isArray(value)) return [];
  return value.map((entry, index) => ({
    path: Array.isArray(entry) ? entry.map(String) : String(entry),
    baseDir,
    pos: locate(value, index) ?? locate(raw, 'vars_files')!,
  }));
}

/** serial: 2 / "30%" / [1, "50%", "100%"] → a list; "3" → 3. */
function serialSizes(value: unknown): Array<number | string> {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (typeof v === 'string' && /^[0-9]+$/.test(v.trim()) ? Number(v.trim()) : (v as number | string)));
}
