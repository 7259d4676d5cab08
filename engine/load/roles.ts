// Loading a role as Ansible lays it out: tasks/, handlers/, defaults/, vars/, meta/ (its
// dependencies, allow_duplicates, argument specs). A role becomes a block (dependencies
// first, then its tasks) carrying a RoleBinding the runner turns into variable layers,
// search paths and "ROLE : task" names. Everything is validated now, before any host.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { ParseError, type SourcePos } from '../errors.js';
import type { BlockNode, RoleBinding, TaskItem } from './model.js';
import { locate, recordPosition } from './positions.js';
import { loadYamlFile } from './yaml.js';
import { validateAgainstSchema, isTemplated } from './schema.js';
import { LoadContext, displayPath, includeLoop, scopeFor, type FileScope, type LoadOptions } from './context.js';
import { keywordSets } from './keywords.js';
import { buildKeywords, pick } from './keyword-values.js';
import { normaliseTaskList, describeType, type Section } from './tasks.js';
import { loadArgumentSpecs } from '../roles/argument-specs.js';
import { resolveRole, roleNodeModulesDirs, roleSearchDirs, type RoleSearchOptions } from './role-path.js';

type Mapping = Record<string, unknown>;

function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** One reference to a role, from a play's roles:, a meta dependency or import/include_role. */
export interface RoleEntry {
  /** The role name or path as written. */
  name: string;
  namePos: SourcePos;
  /** Keywords of the entry (when, tags, become…): they apply to every task of the role. */
  keywords: Mapping;
  params: Mapping;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
  public: boolean;
  /** include_role's allow_duplicates (true by default there); undefined: the role's meta decides. */
  allowDuplicates?: boolean;
  pos: SourcePos;
  raw: Mapping;
}

export interface LoadedRole {
  /** The role's block: its dependencies' blocks, then its own tasks. */
  block: BlockNode;
  /** Handler blocks of the role and its dependencies (dependencies first). */
  handlers: BlockNode[];
  /** Bindings of the role and its dependencies, for play-wide visibility of public roles. */
  bindings: RoleBinding[];
}

/** Role names (and their folders) that led to this one: for dependency loops. */
export interface RoleChain {
  names: string[];
  dirs: string[];
}

const EXTENSIONS = ['', '.yml', '.yaml', '.json'];

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** ROLE/SUB/BASE with Ansible's extensions: BASE, BASE.yml, BASE.yaml, BASE.json. */
export function roleFile(dir: string, sub: string, base: string): string | undefined {
  for (const ext of EXTENSIONS) {
    const candidate = join(dir, sub, base + ext);
    if (isFile(candidate)) return candidate;
  }
  return undefined;
}

/** Every YAML/JSON file of a main/ folder (vars and defaults may be split that way), sorted, recursively. */
function filesOfDir(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    if (isDir(full)) out.push(...filesOfDir(full));
    else if (/\.(ya?ml|json)$/.test(name) || !name.includes('.')) out.push(full);
  }
  return out;
}

/** Variables of defaults/ or vars/: BASE(.yml|.yaml|.json), or every file of a BASE/ folder. */
function loadRoleVars(dir: string, sub: 'defaults' | 'vars', base: string, required: SourcePos | undefined): Mapping {
  const file = roleFile(dir, sub, base);
  const folder = join(dir, sub, base);
  const files = file ? [file] : isDir(folder) ? filesOfDir(folder) : [];
  if (files.length === 0) {
    if (required) throw new ParseError('FILE_NOT_FOUND', `Could not find specified file in role: ${sub}/${base} (looked in ${displayPath(join(dir, sub))})`, required);
    return {};
  }
  const vars: Mapping = {};
  for (const f of files) {
    const data = loadYamlFile(f, required);
    if (data === null) continue;
    if (!isMapping(data)) throw new ParseError('SCHEMA', `a role's ${sub} file must be a mapping of variable names to values, got ${describeType(data)}`, locate(data) ?? { file: f, line: 1, col: 1 });
    Object.assign(vars, data);
  }
  return vars;
}

interface RoleMeta {
  dependencies: unknown[];
  dependenciesHolder?: unknown;
  allowDuplicates: boolean;
  argumentSpecs?: { file: string; specs: unknown };
}

function loadMeta(dir: string): RoleMeta {
  const meta: RoleMeta = { dependencies: [], allowDuplicates: false };
  const file = roleFile(dir, 'meta', 'main');
  if (file) {
    const data = loadYamlFile(file);
    if (data !== null && !isMapping(data)) throw new ParseError('SCHEMA', `meta/main.yml must be a mapping, got ${describeType(data)}`, locate(data) ?? { file, line: 1, col: 1 });
    if (isMapping(data)) {
      const deps = data.dependencies;
      if (Array.isArray(deps)) {
        meta.dependencies = deps;
        meta.dependenciesHolder = deps;
      } else if (deps !== undefined && deps !== null) {
        throw new ParseError('SCHEMA', `meta: 'dependencies' must be a list of roles, got ${describeType(deps)}`, locate(data, 'dependencies'));
      }
      const dup = data.allow_duplicates;
      if (dup !== undefined && dup !== null && typeof dup !== 'boolean') {
        throw new ParseError('SCHEMA', `meta: 'allow_duplicates' must be a boolean`, locate(data, 'allow_duplicates'));
      }
      meta.allowDuplicates = dup === true;
    }
  }
  // checked now: a malformed spec is a load error at its line
  const specs = loadArgumentSpecs(dir);
  if (specs) meta.argumentSpecs = { file: specs.specFile, specs: specs.specs };
  return meta;
}

/** The searched places for a "role not found" message. */
function searchedPlaces(opts: RoleSearchOptions): string {
  const dirs = roleSearchDirs(opts).map(displayPath);
  const npm = roleNodeModulesDirs(opts).filter((d) => existsSync(d)).map((d) => `${displayPath(d)} (npm packages declaring "tsplay" roles)`);
  return [...dirs, ...npm].join(':');
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (isMapping(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${stableJson(value[k])}`).join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

/** Keywords a role entry (play roles:, a dependency) may carry: a block's, less its sections. */
function roleEntryKeywords(): Set<string> {
  const sets = keywordSets();
  return new Set([...sets.block].filter((k) => k !== 'block' && k !== 'rescue' && k !== 'always' && k !== 'name'));
}

/**
 * A play `roles:` entry or a meta dependency: a name, or a mapping with role (or name),
 * keywords, `vars:`, and any other key as a role parameter (Ansible's rule).
 */
export function roleEntryFrom(value: unknown, holder: unknown, index: number, what: string, ctx: LoadContext): RoleEntry | undefined {
  const at = locate(holder, index) ?? locate(holder) ?? { file: 'unknown', line: 0, col: 0 };
  if (typeof value === 'string' && value.trim() !== '') {
    return { name: value.trim(), namePos: at, keywords: {}, params: {}, public: true, pos: at, raw: {} };
  }
  if (!isMapping(value)) {
    ctx.errors.add(new ParseError('SCHEMA', `${what}: a role must be a name or a mapping with 'role', got ${describeType(value)}`, at));
    return undefined;
  }
  const nameKey = 'role' in value ? 'role' : 'name' in value ? 'name' : undefined;
  const name = nameKey ? value[nameKey] : undefined;
  if (typeof name !== 'string' || name.trim() === '') {
    ctx.errors.add(new ParseError('SCHEMA', `${what}: role definitions must contain a role name ('role: NAME')`, nameKey ? locate(value, nameKey) : at));
    return undefined;
  }
  const keywordSet = roleEntryKeywords();
  const keywords = pick(value, keywordSet);
  const label = `role '${name}'`;
  for (const err of validateAgainstSchema(keywordSets().taskSchema, keywords, value, label, { noun: 'keyword', coerce: true })) ctx.errors.add(err);
  const params: Mapping = {};
  // each parameter keeps where it was written, for messages about its value (argument specs)
  const paramPositions = recordPosition(params, locate(value) ?? at).values;
  const take = (from: Mapping, key: string) => {
    params[key] = from[key];
    const pos = locate(from, key);
    if (pos) paramPositions.set(key, pos);
  };
  for (const key of Object.keys(value)) {
    if (key === nameKey || keywordSet.has(key) || (key === 'name' && nameKey === 'role')) continue;
    take(value, key);
  }
  if (isMapping(keywords.vars)) for (const key of Object.keys(keywords.vars)) take(keywords.vars, key);
  delete keywords.vars;
  return { name: name.trim(), namePos: locate(value, nameKey!) ?? at, keywords, params, public: true, pos: locate(value) ?? at, raw: value };
}

/** Normalise a play's `roles:` list into role blocks; errors are recorded in ctx. */
export function loadPlayRoles(list: unknown, playRaw: Mapping, scope: FileScope, ctx: LoadContext): LoadedRole[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) {
    ctx.errors.add(new ParseError('SCHEMA', `play: 'roles' must be a list, got ${describeType(list)}`, locate(playRaw, 'roles')));
    return [];
  }
  const out: LoadedRole[] = [];
  list.forEach((value, index) => {
    const entry = roleEntryFrom(value, list, index, 'roles', ctx);
    if (!entry) return;
    const loaded = ctx.errors.attempt(() => loadRole(entry, scope, ctx, { names: [], dirs: [] }), undefined);
    if (loaded) out.push(loaded);
  });
  return out;
}

/** Search options for this load: the caller's, with the playbook's folder as Ansible has it. */
function searchOptions(scope: FileScope, ctx: LoadContext): RoleSearchOptions {
  const opts = ctx.opts.roles ?? {};
  if (opts.playbookDir !== undefined) return opts;
  const top = scope.chain[0] ?? resolvePath(scope.file);
  return { ...opts, playbookDir: resolvePath(top, '..') };
}

/**
 * Load a role at run time (include_role with a templated name): the same checks as at load
 * time, all problems thrown together as ParseErrors.
 */
export function loadRoleAtRunTime(entry: RoleEntry, fromFile: string, opts: LoadOptions): LoadedRole {
  const ctx = new LoadContext(opts);
  const loaded = ctx.errors.attempt(() => loadRole(entry, scopeFor(fromFile), ctx, { names: [], dirs: [] }), undefined);
  ctx.errors.throwIfAny();
  return loaded!;
}

/** Load a role's task file (tasks/ or handlers/) in the role's scope. */
function loadRoleTasks(file: string, roleName: string, scope: FileScope, ctx: LoadContext, section: Section, refPos: SourcePos): TaskItem[] {
  // a role whose tasks import or statically include the role itself would never end
  const loop = includeLoop(file, scope);
  if (loop) throw new ParseError('INCLUDE_LOOP', `include loop: ${loop}`, refPos);
  const data = loadYamlFile(file, refPos);
  if (data === null) return [];
  if (!Array.isArray(data)) {
    throw new ParseError('SCHEMA', `a task file must be a list of tasks, got ${describeType(data)}`, locate(data) ?? { file, line: 1, col: 1 });
  }
  const fileScope: FileScope = { file, chain: [...scope.chain, resolvePath(file)], role: roleName };
  return normaliseTaskList(data, fileScope, ctx, section);
}

/** Resolve, load and validate one role with its dependencies. Throws ParseError. */
export function loadRole(entry: RoleEntry, scope: FileScope, ctx: LoadContext, chain: RoleChain): LoadedRole {
  if (isTemplated(entry.name)) {
    throw new ParseError('SCHEMA', `role name '${entry.name}' cannot be a template here (it is read before any variable exists); use include_role`, entry.namePos);
  }
  const opts = searchOptions(scope, ctx);
  const found = resolveRole(entry.name, opts);
  if (!found) {
    throw new ParseError('FILE_NOT_FOUND', `the role '${entry.name}' was not found in ${searchedPlaces(opts)}`, entry.namePos);
  }
  const { name, dir } = found;
  const dirKey = resolvePath(dir);
  if (chain.dirs.includes(dirKey)) {
    throw new ParseError('INCLUDE_LOOP', `role dependency loop: ${[...chain.names, name].join(' → ')}`, entry.namePos);
  }
  const meta = loadMeta(dir);
  const entryPoint = (entry.tasksFrom ?? 'main').replace(/\.(ya?ml|json)$/, '');
  const defaults = loadRoleVars(dir, 'defaults', entry.defaultsFrom ?? 'main', entry.defaultsFrom !== undefined ? entry.namePos : undefined);
  const vars = loadRoleVars(dir, 'vars', entry.varsFrom ?? 'main', entry.varsFrom !== undefined ? entry.namePos : undefined);

  const inner: RoleChain = { names: [...chain.names, name], dirs: [...chain.dirs, dirKey] };
  const depBlocks: BlockNode[] = [];
  const handlers: BlockNode[] = [];
  const bindings: RoleBinding[] = [];
  meta.dependencies.forEach((value, index) => {
    const dep = roleEntryFrom(value, meta.dependenciesHolder, index, `meta dependencies of role '${name}'`, ctx);
    if (!dep) return;
    // a dependency's variables are the play's as well, like its parent's (Ansible's role vars)
    dep.public = entry.public;
    const loaded = ctx.errors.attempt(() => loadRole(dep, scope, ctx, inner), undefined);
    if (!loaded) return;
    depBlocks.push(loaded.block);
    handlers.push(...loaded.handlers);
    bindings.push(...loaded.bindings);
  });

  const tasksFile = roleFile(dir, 'tasks', entry.tasksFrom ?? 'main');
  if (!tasksFile && entry.tasksFrom !== undefined) {
    throw new ParseError('FILE_NOT_FOUND', `Could not find specified file in role: tasks/${entry.tasksFrom} (role '${name}' at ${displayPath(dir)})`, entry.namePos);
  }
  const tasks = tasksFile ? loadRoleTasks(tasksFile, name, scope, ctx, 'tasks', entry.namePos) : [];
  const handlersFile = roleFile(dir, 'handlers', entry.handlersFrom ?? 'main');
  if (!handlersFile && entry.handlersFrom !== undefined) {
    throw new ParseError('FILE_NOT_FOUND', `Could not find specified file in role: handlers/${entry.handlersFrom} (role '${name}' at ${displayPath(dir)})`, entry.namePos);
  }

  const binding: RoleBinding = {
    name,
    dir: dirKey,
    entryPoint,
    defaults,
    vars,
    params: entry.params,
    public: entry.public,
    parents: chain.names,
    pos: entry.namePos,
  };
  if (meta.argumentSpecs) binding.argumentSpecs = meta.argumentSpecs;
  const allowDuplicates = entry.allowDuplicates ?? meta.allowDuplicates;
  if (!allowDuplicates) {
    binding.dedupKey = [dirKey, entryPoint, stableJson(entry.params), stableJson(entry.keywords.when ?? null), stableJson(entry.keywords.tags ?? null)].join('\u0000');
  }
  if (handlersFile) {
    const items = loadRoleTasks(handlersFile, name, scope, ctx, 'handlers', entry.namePos);
    handlers.push({ type: 'block', id: ctx.idFor({ file: handlersFile, line: 1, col: 1 }), block: items, rescue: [], always: [], kw: {}, pos: { file: handlersFile, line: 1, col: 1 }, raw: {}, role: binding });
  }
  bindings.push(binding);
  const block: BlockNode = {
    type: 'block',
    id: ctx.idFor(entry.pos),
    name,
    block: [...depBlocks, ...tasks],
    rescue: [],
    always: [],
    kw: buildKeywords(entry.keywords, new Set(['vars'])),
    pos: entry.pos,
    raw: entry.raw,
    role: binding,
  };
  return { block, handlers, bindings };
}
