// Task lists: tasks, blocks, import_tasks (inlined now) and include_tasks (loaded now when
// the file name is plain, else at run time), each validated before anything runs.
import { dirname, join, isAbsolute } from 'node:path';
import { ParseError, type SourcePos } from '../errors.js';
import type { ModuleDef } from '../modules/types.js';
import type { BlockNode, IncludeNode, TaskItem, TaskNode } from './model.js';
import { locate, locateKey } from './positions.js';
import { loadYamlFile } from './yaml.js';
import { validateAgainstSchema, isTemplated } from './schema.js';
import { closest, didYouMean } from './suggest.js';
import { LoadContext, scopeFor, includeLoop, type FileScope, type LoadOptions } from './context.js';
import {
  keywordSets,
  unsupportedKeyword,
  INCLUDE_TASKS,
  IMPORT_TASKS,
  IMPORT_PLAYBOOK,
  ROLE_DIRECTIVES,
  OLD_INCLUDE,
} from './keywords.js';
import { buildKeywords, pick, unknownKeyErrors } from './keyword-values.js';
import { buildModuleArgs, resolveActionKeyword, META_MODULE } from './module-args.js';
import { normaliseImportRole, normaliseIncludeRole } from './roles-directive.js';

export type Section = 'tasks' | 'handlers';

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Ansible shows a role's tasks as "ROLE : task". */
function roleTaskName(scope: FileScope, name: string): string {
  return scope.role !== undefined ? `${scope.role} : ${name}` : name;
}

export function describeType(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `a ${typeof v}`;
}

/** Normalise a list of tasks; each bad item is recorded in ctx.errors and skipped. */
export function normaliseTaskList(list: unknown, scope: FileScope, ctx: LoadContext, section: Section): TaskItem[] {
  if (list === null || list === undefined) return [];
  if (!Array.isArray(list)) {
    ctx.errors.add(new ParseError('SCHEMA', `a task list must be a list, got ${describeType(list)}`, locate(list)));
    return [];
  }
  const items: TaskItem[] = [];
  list.forEach((item, index) => {
    const node = ctx.errors.attempt(() => normaliseItem(item, list, index, scope, ctx, section), undefined);
    if (node) items.push(node);
  });
  return items;
}

function normaliseItem(item: unknown, list: unknown[], index: number, scope: FileScope, ctx: LoadContext, section: Section): TaskItem | undefined {
  const label = section === 'handlers' ? 'handler' : 'task';
  if (!isMapping(item)) {
    throw new ParseError('SCHEMA', `a ${label} must be a mapping, got ${describeType(item)}`, locate(list, index));
  }
  const keys = Object.keys(item);
  if (keys.includes('block') || keys.includes('rescue') || keys.includes('always')) return normaliseBlock(item, scope, ctx, section);
  const directive = (set: Set<string>) => keys.find((k) => set.has(k));
  const include = directive(INCLUDE_TASKS);
  if (include) return normaliseInclude(item, include, scope, ctx, section);
  const imported = directive(IMPORT_TASKS);
  if (imported) return normaliseImport(item, imported, scope, ctx, section);
  const playbook = directive(IMPORT_PLAYBOOK);
  if (playbook) throw new ParseError('SCHEMA', `${playbook} is only allowed at the top level of a playbook, as an entry of its own`, locateKey(item, playbook));
  const role = directive(ROLE_DIRECTIVES);
  if (role) return normaliseRoleDirective(item, role, scope, ctx);
  const old = directive(OLD_INCLUDE);
  if (old) {
    throw new ParseError('UNKNOWN_MODULE', `'${old}' was removed in Ansible 2.16: use include_tasks (dynamic) or import_tasks (static)`, locateKey(item, old));
  }
  return normaliseTask(item, scope, ctx, section);
}

/** import_role is inlined now (its variables are the play's); include_role runs per host. */
function normaliseRoleDirective(raw: Mapping, key: string, scope: FileScope, ctx: LoadContext): TaskItem {
  if (key.endsWith('import_role')) {
    return normaliseImportRole(raw, key, scope, ctx, (loaded) => ctx.rolesInPlay.push({ loaded, exposed: loaded.block.role?.public ?? true }));
  }
  const node = normaliseIncludeRole(raw, key, scope, ctx);
  if (node.loaded && node.handlers) ctx.rolesInPlay.push({ loaded: { block: node.loaded, handlers: node.handlers.block as BlockNode[], bindings: [] }, exposed: false });
  return node;
}

function posOf(raw: Mapping): SourcePos {
  return locate(raw) ?? { file: 'unknown', line: 0, col: 0 };
}

/** Validate the keyword values of `known` (a pick of raw) and record the errors. */
function checkKeywords(known: Mapping, raw: Mapping, schema: Record<string, unknown>, label: string, ctx: LoadContext): void {
  for (const err of validateAgainstSchema(schema, known, raw, label, { noun: 'keyword', coerce: true })) ctx.errors.add(err);
  const loops = Object.keys(known).filter((k) => k === 'loop' || k.startsWith('with_'));
  if (loops.length > 1) {
    const list = loops.map((k) => `'${k}'`).join(' and ');
    ctx.errors.add(new ParseError('SCHEMA', `${label}: only one loop per task: ${list} are both given`, locateKey(raw, loops[1]!)));
  }
}

function normaliseBlock(raw: Mapping, scope: FileScope, ctx: LoadContext, section: Section): BlockNode {
  const sets = keywordSets();
  for (const err of unknownKeyErrors(raw, sets.block, 'block', 'block', (k) => !!ctx.opts.lookupModule(k))) ctx.errors.add(err);
  const known = pick(raw, sets.block);
  checkKeywords(known, raw, sets.blockSchema, 'block', ctx);
  const pos = posOf(raw);
  const node: BlockNode = {
    type: 'block',
    id: ctx.idFor(pos),
    block: normaliseTaskList(known.block, scope, ctx, section),
    rescue: normaliseTaskList(known.rescue, scope, ctx, section),
    always: normaliseTaskList(known.always, scope, ctx, section),
    kw: buildKeywords(known),
    pos,
    raw,
  };
  if (typeof known.name === 'string') node.name = known.name;
  return node;
}

/** The file an include/import names: `import_tasks: x.yml` or `include_tasks: {file: x.yml}`. */
function directiveFile(raw: Mapping, key: string): { file: string; pos: SourcePos | undefined } {
  const value = raw[key];
  if (typeof value === 'string' && value.trim() !== '') return { file: value.trim(), pos: locate(raw, key) };
  if (isMapping(value)) {
    for (const extra of Object.keys(value)) {
      if (extra === 'file') continue;
      const why = extra === 'apply' ? `'apply' is not supported yet` : `unknown argument '${extra}'${didYouMean(extra, ['file'])}`;
      throw new ParseError('MODULE_ARGS', `${key}: ${why}`, locateKey(value, extra));
    }
    if (typeof value.file === 'string' && value.file.trim() !== '') return { file: value.file.trim(), pos: locate(value, 'file') };
    throw new ParseError('MODULE_ARGS', `${key}: missing required argument 'file'`, locate(raw, key));
  }
  throw new ParseError('MODULE_ARGS', `${key}: expected a file name, got ${describeType(value)}`, locate(raw, key));
}

/** Load a task file reached from `scope`; INCLUDE_LOOP / FILE_NOT_FOUND at `refPos`. */
function loadTasksFrom(file: string, refPos: SourcePos | undefined, scope: FileScope, ctx: LoadContext, section: Section): TaskItem[] {
  const path = isAbsolute(file) ? file : join(dirname(scope.file), file);
  const loop = includeLoop(path, scope);
  if (loop) throw new ParseError('INCLUDE_LOOP', `include loop: ${loop}`, refPos);
  const data = loadYamlFile(path, refPos);
  if (data === null) return [];
  if (!Array.isArray(data)) {
    throw new ParseError('SCHEMA', `a task file must be a list of tasks, got ${describeType(data)}`, locate(data) ?? { file: path, line: 1, col: 1 });
  }
  return normaliseTaskList(data, scopeFor(path, scope), ctx, section);
}

function normaliseInclude(raw: Mapping, key: string, scope: FileScope, ctx: LoadContext, section: Section): IncludeNode {
  const sets = keywordSets();
  const allowed = new Set([...sets.include, key]);
  // a task keyword Ansible also refuses on include_tasks: say so, and what to do instead
  const taskOnly = Object.keys(raw).filter((k) => !allowed.has(k) && sets.task.has(k));
  for (const word of taskOnly) {
    const message = `${key}: keyword '${word}' cannot be used on include_tasks (put it on the included tasks, or use import_tasks)`;
    ctx.errors.add(new ParseError('UNKNOWN_KEYWORD', message, locateKey(raw, word)));
  }
  for (const err of unknownKeyErrors(raw, new Set([...allowed, ...taskOnly]), key, 'task')) ctx.errors.add(err);
  const known = pick(raw, sets.include);
  checkKeywords(known, raw, sets.taskSchema, key, ctx);
  const { file, pos: filePos } = directiveFile(raw, key);
  const pos = posOf(raw);
  const node: IncludeNode = {
    type: 'include_tasks',
    id: ctx.idFor(pos),
    name: typeof known.name === 'string' ? known.name : 'include_tasks',
    file,
    baseDir: dirname(scope.file),
    kw: buildKeywords(known),
    pos,
    raw,
  };
  if (!isTemplated(file)) node.tasks = loadTasksFrom(file, filePos, scope, ctx, section);
  return node;
}

function normaliseImport(raw: Mapping, key: string, scope: FileScope, ctx: LoadContext, section: Section): BlockNode {
  const sets = keywordSets();
  const allowed = new Set([...sets.import, key]);
  const loopKey = Object.keys(raw).find((k) => k === 'loop' || k.startsWith('with_'));
  if (loopKey) {
    throw new ParseError('SCHEMA', `You cannot use loops on 'import_tasks' statements. You should use 'include_tasks' instead.`, locateKey(raw, loopKey));
  }
  for (const err of unknownKeyErrors(raw, allowed, key, 'block')) ctx.errors.add(err);
  const known = pick(raw, sets.import);
  checkKeywords(known, raw, sets.taskSchema, key, ctx); // the block schema would want `block:`
  const { file, pos: filePos } = directiveFile(raw, key);
  if (isTemplated(file)) {
    throw new ParseError('SCHEMA', `${key}: the file name cannot be a template (it is read before any variable exists); use include_tasks`, filePos);
  }
  const path = isAbsolute(file) ? file : join(dirname(scope.file), file);
  const pos = posOf(raw);
  const node: BlockNode = {
    type: 'block',
    id: ctx.idFor(pos),
    block: loadTasksFrom(file, filePos, scope, ctx, section),
    rescue: [],
    always: [],
    kw: buildKeywords(known),
    pos,
    raw,
    importedFrom: path,
  };
  if (typeof known.name === 'string') node.name = known.name;
  return node;
}

/** Module names to suggest from, without the ansible.builtin. prefix a user may have typed. */
function suggestModule(name: string, ctx: LoadContext): string {
  const bare = name.replace(/^ansible\.(builtin|legacy)\./, '');
  return didYouMean(bare, ctx.opts.moduleNames ?? []);
}

interface ModuleStatement {
  key: string;
  def: ModuleDef | undefined;
}

function normaliseTask(raw: Mapping, scope: FileScope, ctx: LoadContext, section: Section): TaskNode | undefined {
  const sets = keywordSets();
  const label = section === 'handlers' ? 'handler' : 'task';
  const taskKeywords = [...sets.task].filter((k) => section === 'handlers' || k !== 'listen');
  const keywordSet = new Set(taskKeywords);
  const known = pick(raw, keywordSet);
  const moduleKeys: ModuleStatement[] = [];
  const unknownModules: string[] = [];
  let rejected = 0;
  const reject = (message: string, key: string) => {
    rejected++;
    ctx.errors.add(new ParseError('UNKNOWN_KEYWORD', message, locateKey(raw, key)));
  };

  for (const key of Object.keys(raw)) {
    if (keywordSet.has(key)) continue;
    if (key === 'listen') {
      reject(`${label}: keyword 'listen' is only valid on handlers`, key);
    } else if (unsupportedKeyword('task', key) || key.startsWith('with_') || (sets.play.has(key) && !ctx.opts.lookupModule(key))) {
      for (const err of unknownKeyErrors({ [key]: raw[key] }, keywordSet, label, 'task')) reject(err.message, key);
    } else {
      // null: not a module; undefined: meta with no registered definition (still an action)
      const def = ctx.opts.lookupModule(key) ?? (META_MODULE.has(key) ? undefined : null);
      if (def !== null) {
        moduleKeys.push({ key, def });
        continue;
      }
      // a misspelt keyword reads better as one than as an unknown module
      const nearKeyword = closest(key, taskKeywords);
      const nearModule = closest(key.replace(/^ansible\.(builtin|legacy)\./, ''), ctx.opts.moduleNames ?? []);
      if (nearKeyword && (!nearModule || nearKeyword.distance < nearModule.distance)) {
        reject(`${label}: unknown keyword '${key}' (did you mean '${nearKeyword.name}'?)`, key);
      } else {
        unknownModules.push(key);
      }
    }
  }
  const actionKeys = (['action', 'local_action'] as const).filter((k) => k in raw);
  const statements = [...moduleKeys.map((m) => m.key), ...actionKeys];
  if (statements.length === 1 && unknownModules.length > 0) {
    // one module is clear; the other keys can only be keywords nobody knows
    for (const key of unknownModules) reject(`${label}: unknown keyword '${key}'${didYouMean(key, taskKeywords)}`, key);
  } else if (statements.length + unknownModules.length > 1) {
    const all = [...statements, ...unknownModules];
    throw new ParseError('SCHEMA', `conflicting action statements: ${all.join(', ')} (a task runs exactly one module)`, locateKey(raw, all[1]!));
  } else if (unknownModules.length === 1) {
    const name = unknownModules[0]!;
    throw new ParseError('UNKNOWN_MODULE', `couldn't resolve module/action '${name}'${suggestModule(name, ctx)}`, locateKey(raw, name));
  } else if (statements.length === 0) {
    if (rejected > 0) return undefined;
    throw new ParseError('SCHEMA', `no module/action detected in ${label} (expected a key naming a module, e.g. 'command:')`, posOf(raw));
  }

  checkKeywords(known, raw, sets.taskSchema, label, ctx);
  const pos = posOf(raw);
  const argsKeyword = isMapping(known.args) ? known.args : undefined;
  let action: string;
  let args: Record<string, unknown>;
  let local = false;
  if (actionKeys.length === 1) {
    const key = actionKeys[0]!;
    const resolved = resolveActionKeyword(raw, key, ctx.opts, (n) => suggestModule(n, ctx));
    ({ action, args } = buildModuleArgs(resolved.def, resolved.name, resolved.value, resolved.valuePos, resolved.keyPos, argsKeyword, ctx, resolved.skipKeys, resolved.scalar));
    local = key === 'local_action';
    if (local && 'delegate_to' in raw) {
      ctx.errors.add(new ParseError('SCHEMA', `${label}: local_action and delegate_to cannot be used together`, locateKey(raw, 'delegate_to')));
    }
  } else {
    const { key, def } = moduleKeys[0]!;
    ({ action, args } = buildModuleArgs(def, key, raw[key], locate(raw, key) ?? pos, locateKey(raw, key) ?? pos, argsKeyword, ctx));
  }
  const kw: TaskNode['kw'] = buildKeywords(known);
  if (local) kw.delegate_to = 'localhost';
  return {
    type: 'task',
    id: ctx.idFor(pos),
    name: roleTaskName(scope, typeof known.name === 'string' && known.name !== '' ? known.name : action),
    action,
    args,
    kw,
    pos,
    raw,
  };
}

/**
 * Load a task file on its own (include_tasks whose file name was templated, resolved at run
 * time). `includedFrom` is where the include was written (for FILE_NOT_FOUND); `section`
 * 'handlers' allows `listen`. Throws ParseErrors listing every problem.
 */
export function loadTaskFile(
  file: string,
  opts: LoadOptions,
  where: { includedFrom?: SourcePos; section?: Section; role?: string } = {},
): TaskItem[] {
  const ctx = new LoadContext(opts);
  const section = where.section ?? 'tasks';
  const items = ctx.errors.attempt(() => {
    const data = loadYamlFile(file, where.includedFrom);
    if (data === null) return [];
    if (!Array.isArray(data)) {
      throw new ParseError('SCHEMA', `a task file must be a list of tasks, got ${describeType(data)}`, locate(data) ?? { file, line: 1, col: 1 });
    }
    const scope = scopeFor(file);
    if (where.role !== undefined) scope.role = where.role;
    return normaliseTaskList(data, scope, ctx, section);
  }, [] as TaskItem[]);
  ctx.errors.throwIfAny();
  return items;
}
