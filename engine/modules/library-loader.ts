// Custom modules: TypeScript or JavaScript files whose default export is a defineModule()
// result, found in `library/` folders (next to the playbook, in the cwd, in roles, in the
// configured module_paths and $TSPLAY_LIBRARY) and in npm packages that declare
// `"tsplay": { "modules": ... }`. They are registered before the playbook is validated, so
// an unknown module is still an error at load and their argument schemas are checked there.
// The file's name is the module's name (library/my_mod.ts → my_mod), as in Ansible.
import path from 'node:path';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ParseError, type SourcePos } from '../errors.js';
import { lookupModule, registerModule } from './registry.js';
import type { ModuleDef } from './types.js';
import { checkSchema, validateAgainstSchema } from '../load/schema.js';

const TS_EXTENSIONS = ['.ts', '.mts', '.cts'];
const JS_EXTENSIONS = ['.js', '.mjs', '.cjs'];
const MODULE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Custom modules registered so far: name → the file it came from (the process-wide registry is shared). */
const loadedFrom = new Map<string, string>();
/** Definitions by absolute file, so a file imported twice registers one definition. */
const byFile = new Map<string, ModuleDef>();

export interface LibrarySearch {
  /** The playbook being run: its `library/` folder is searched first. */
  playbookFile: string;
  /** The working directory: its `library/` folder and its npm packages. Default process.cwd(). */
  cwd?: string;
  /** Extra folders (the project config's module_paths), searched after library/ and $TSPLAY_LIBRARY. */
  modulePaths?: readonly string[];
  /** Environment to read TSPLAY_LIBRARY from. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

/** The folders searched for module files, in order (missing ones included; they are skipped). */
export function libraryDirs(search: LibrarySearch): string[] {
  const cwd = search.cwd ?? process.cwd();
  const env = search.env ?? process.env;
  const fromEnv = (env.TSPLAY_LIBRARY ?? '').split(path.delimiter).filter(Boolean);
  const dirs = [
    path.join(path.dirname(path.resolve(cwd, search.playbookFile)), 'library'),
    path.join(cwd, 'library'),
    ...fromEnv.map((d) => path.resolve(cwd, d)),
    ...(search.modulePaths ?? []).map((d) => path.resolve(cwd, d)),
  ];
  return [...new Set(dirs)];
}

/**
 * Load every custom module a run of `search.playbookFile` can use: library folders first,
 * then npm packages of the project. Throws ParseError naming the file for a broken module.
 */
export async function loadLibraryModules(search: LibrarySearch): Promise<void> {
  await loadModuleDirs(libraryDirs(search));
  const cwd = search.cwd ?? process.cwd();
  const playbookDir = path.dirname(path.resolve(cwd, search.playbookFile));
  await loadModuleFiles(packageModuleFiles([playbookDir, cwd]));
}

/** Load the module files of these folders, in order; a missing folder is skipped. For roles' library/ folders too. */
export async function loadModuleDirs(dirs: readonly string[]): Promise<void> {
  const files: string[] = [];
  for (const dir of dirs) files.push(...moduleFilesIn(path.resolve(dir)));
  await loadModuleFiles(files);
}

/** Import one module file and register it under its file name; returns the definition. */
export async function loadModuleFile(file: string): Promise<ModuleDef> {
  const abs = path.resolve(file);
  const known = byFile.get(abs);
  if (known) return known;
  const name = moduleNameOf(abs);
  if (!MODULE_NAME.test(name)) throw moduleError(abs, `'${name}' is not a valid module name (letters, digits and _; the file name is the module name)`);
  let exported: unknown;
  try {
    exported = await importFile(abs);
  } catch (err) {
    throw moduleError(abs, `could not be loaded: ${importProblem(err)}`, positionIn(abs, err), err);
  }
  const def = asModuleDef(exported);
  if (!def) throw moduleError(abs, 'its default export is not a module definition (export default defineModule({ name, schema, run }))');
  if (def.name !== name) throw moduleError(abs, `defines module '${def.name}', but a module's name is its file name: '${name}'`);
  try {
    checkSchema(def.schema);
    validateAgainstSchema(def.schema, {}, {}, name); // compiles the schema: a broken one fails here, not mid-run
  } catch (err) {
    throw moduleError(abs, `its argument schema is not valid JSON Schema: ${firstLine(err)}`);
  }
  byFile.set(abs, def);
  return def;
}

async function loadModuleFiles(files: readonly string[]): Promise<void> {
  const seen = new Set<string>();
  for (const file of files) {
    const name = moduleNameOf(file);
    if (seen.has(name)) continue; // the first one found on the search path wins, as in Ansible
    seen.add(name);
    const def = await loadModuleFile(file);
    register(def, path.resolve(file));
  }
}

function register(def: ModuleDef, file: string): void {
  const existing = lookupModule(def.name);
  if (existing === def) return;
  const previous = loadedFrom.get(def.name);
  if (previous) throw moduleError(file, `module '${def.name}' is already loaded from ${previous} (one definition a name per process)`);
  if (existing) throw moduleError(file, `module '${def.name}' has the name of a built-in module; rename the file`);
  try {
    registerModule(def);
  } catch (err) {
    throw moduleError(file, firstLine(err));
  }
  loadedFrom.set(def.name, file);
}

/** Module files directly inside `dir` (no recursion), sorted; `x.d.ts` and dotfiles are not modules. */
function moduleFilesIn(dir: string): string[] {
  if (!isDirectory(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && !/\.d\.[cm]?ts$/.test(f) && [...TS_EXTENSIONS, ...JS_EXTENSIONS].includes(path.extname(f)))
    .sort()
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile());
}

function moduleNameOf(file: string): string {
  return path.basename(file, path.extname(file));
}

/**
 * Module files of the npm packages the project depends on: the nearest package.json above
 * each start folder lists them, and a package opts in with `"tsplay": { "modules": "dir" }`
 * (a folder of module files) or `"modules": ["a.js", "b.js"]` (files).
 */
export function packageModuleFiles(startDirs: readonly string[]): string[] {
  const files: string[] = [];
  const seenPackages = new Set<string>();
  for (const start of startDirs) {
    const project = nearestPackageJson(path.resolve(start));
    if (!project) continue;
    const manifest = readJson(project);
    const deps = Object.keys({ ...(manifest.optionalDependencies as object), ...(manifest.devDependencies as object), ...(manifest.dependencies as object) }).sort();
    for (const dep of deps) {
      const dir = findInstalledPackage(path.dirname(project), dep);
      if (!dir || seenPackages.has(dir)) continue;
      seenPackages.add(dir);
      files.push(...declaredModuleFiles(dir));
    }
  }
  return files;
}

function declaredModuleFiles(packageDir: string): string[] {
  const manifestFile = path.join(packageDir, 'package.json');
  const manifest = readJson(manifestFile);
  const decl = (manifest.tsplay as { modules?: unknown } | undefined)?.modules;
  if (decl === undefined) return [];
  const pos: SourcePos = { file: manifestFile, line: 1, col: 1 };
  if (typeof decl === 'string') {
    const dir = path.resolve(packageDir, decl);
    if (!isDirectory(dir)) throw new ParseError('UNKNOWN_MODULE', `package ${String(manifest.name)}: tsplay.modules folder '${decl}' does not exist`, pos);
    return moduleFilesIn(dir);
  }
  if (Array.isArray(decl) && decl.every((f) => typeof f === 'string')) {
    return decl.map((f: string) => {
      const file = path.resolve(packageDir, f);
      if (!existsSync(file)) throw new ParseError('UNKNOWN_MODULE', `package ${String(manifest.name)}: tsplay.modules file '${f}' does not exist`, pos);
      return file;
    });
  }
  throw new ParseError('UNKNOWN_MODULE', `package ${String(manifest.name)}: tsplay.modules must be a folder or a list of files`, pos);
}

function nearestPackageJson(dir: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    const candidate = path.join(d, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

/** node_modules/NAME in the project folder or a parent, as Node resolves packages. */
function findInstalledPackage(projectDir: string, name: string): string | undefined {
  for (let d = projectDir; ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

function readJson(file: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  } catch {
    return {}; // a package.json we cannot read declares no modules
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/**
 * .js/.mjs/.cjs: Node's own import. .ts/.mts/.cts: tsx's tsImport, which compiles on the fly
 * without registering a loader for the whole process (so an embedding program is unaffected).
 */
async function importFile(file: string): Promise<unknown> {
  if (TS_EXTENSIONS.includes(path.extname(file))) {
    const { tsImport } = await import('tsx/esm/api');
    return tsImport(pathToFileURL(file).href, import.meta.url);
  }
  return import(pathToFileURL(file).href);
}

/** The default export, also when a .ts file was compiled as CommonJS (no "type": "module" nearby). */
function asModuleDef(namespace: unknown): ModuleDef | undefined {
  let value = (namespace as { default?: unknown } | null)?.default;
  for (let i = 0; i < 2 && !isModuleDef(value) && value && typeof value === 'object' && 'default' in value; i++) {
    value = (value as { default: unknown }).default;
  }
  return isModuleDef(value) ? value : undefined;
}

function isModuleDef(value: unknown): value is ModuleDef {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === 'string' && typeof v.run === 'function' && !!v.schema && typeof v.schema === 'object';
}

function moduleError(file: string, message: string, pos?: SourcePos, cause?: unknown): ParseError {
  return new ParseError('UNKNOWN_MODULE', `custom module ${file}: ${message}`, pos, cause);
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n').find((l) => l.trim() !== '')?.trim() ?? 'unknown error';
}

/** The useful line of an import failure: esbuild's "file:4:1: ERROR: Expected ..." rather than its "Transform failed" header. */
function importProblem(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const compileError = /ERROR: (.+)/.exec(text);
  return compileError ? compileError[1]!.trim() : firstLine(err);
}

/** file:line:col of a syntax error inside the module file, when the error names one. */
function positionIn(file: string, err: unknown): SourcePos | undefined {
  const text = err instanceof Error ? `${err.message}\n${err.stack ?? ''}` : String(err);
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}:(\\d+):(\\d+)`).exec(text);
  return m ? { file, line: Number(m[1]), col: Number(m[2]) } : undefined;
}
