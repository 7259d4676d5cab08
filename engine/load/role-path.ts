// Where a role name is looked for, in Ansible's order plus npm packages: a path, the
// playbook's roles/ folder, the playbook's folder, each roles path (TSPLAY_ROLES_PATH /
// ANSIBLE_ROLES_PATH / the project config), the project's roles/, then node_modules packages
// that declare roles in package.json ("tsplay": {"roles": {NAME: DIR}} or {"role": DIR}).
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';

export interface RoleSearchOptions {
  playbookDir?: string;
  rolesPath?: readonly string[];
  cwd?: string;
}

/** Roles paths from the environment: TSPLAY_ROLES_PATH, else ANSIBLE_ROLES_PATH (colon-separated). */
export function envRolesPath(env: NodeJS.ProcessEnv = process.env): string[] {
  const raw = env.TSPLAY_ROLES_PATH ?? env.ANSIBLE_ROLES_PATH ?? '';
  return raw.split(':').map((p) => p.trim()).filter((p) => p !== '');
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function expandHome(path: string): string {
  if (path === '~' || path.startsWith('~/')) return join(process.env.HOME ?? '', path.slice(1));
  return path;
}

/** The plain directories searched for a role name, in order (npm packages come after these). */
export function roleSearchDirs(opts: RoleSearchOptions): string[] {
  const cwd = opts.cwd ?? process.cwd();
  const dirs: string[] = [];
  if (opts.playbookDir !== undefined) {
    const pb = resolve(cwd, opts.playbookDir);
    dirs.push(join(pb, 'roles'), pb);
  }
  const rolesPath = opts.rolesPath ?? envRolesPath();
  for (const dir of rolesPath) dirs.push(resolve(cwd, expandHome(dir)));
  dirs.push(join(resolve(cwd), 'roles'));
  return [...new Set(dirs)];
}

/** node_modules folders from `start` up to the root. */
function nodeModulesChain(start: string): string[] {
  const out: string[] = [];
  let dir = resolve(start);
  for (;;) {
    out.push(join(dir, 'node_modules'));
    const parent = dirname(dir);
    if (parent === dir) return out;
    dir = parent;
  }
}

/** Every node_modules folder searched for role packages, in order, without duplicates. */
export function roleNodeModulesDirs(opts: RoleSearchOptions): string[] {
  const cwd = opts.cwd ?? process.cwd();
  const starts = [...(opts.playbookDir !== undefined ? [resolve(cwd, opts.playbookDir)] : []), resolve(cwd)];
  return [...new Set(starts.flatMap(nodeModulesChain))];
}

interface PackageRoles {
  /** role name → absolute dir */
  roles: Map<string, string>;
}

function readPackageRoles(pkgDir: string): PackageRoles | undefined {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  } catch {
    return undefined;
  }
  if (manifest === null || typeof manifest !== 'object') return undefined;
  const m = manifest as { name?: unknown; tsplay?: unknown };
  if (m.tsplay === null || typeof m.tsplay !== 'object') return undefined;
  const t = m.tsplay as { roles?: unknown; role?: unknown };
  const roles = new Map<string, string>();
  if (t.roles !== null && typeof t.roles === 'object' && !Array.isArray(t.roles)) {
    for (const [name, rel] of Object.entries(t.roles as Record<string, unknown>)) {
      if (typeof rel === 'string') roles.set(name, resolve(pkgDir, rel));
    }
  }
  if (typeof t.role === 'string') {
    const pkgName = typeof m.name === 'string' ? m.name : basename(pkgDir);
    const bare = pkgName.includes('/') ? pkgName.slice(pkgName.lastIndexOf('/') + 1) : pkgName;
    if (!roles.has(bare)) roles.set(bare, resolve(pkgDir, t.role));
  }
  return roles.size > 0 ? { roles } : undefined;
}

/** Package folders directly in a node_modules folder (scoped ones one level deeper). */
function packagesIn(nodeModules: string): string[] {
  let entries: string[];
  try {
    entries = readdirSync(nodeModules);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const entry of entries.sort()) {
    if (entry.startsWith('.')) continue;
    const full = join(nodeModules, entry);
    if (entry.startsWith('@')) {
      let scoped: string[] = [];
      try {
        scoped = readdirSync(full);
      } catch {
        continue;
      }
      for (const s of scoped.sort()) out.push(join(full, s));
    } else out.push(full);
  }
  return out;
}

/** Every role that npm packages in reach declare: name → dir (the nearest node_modules wins). */
export function npmRoles(opts: RoleSearchOptions): Map<string, string> {
  const found = new Map<string, string>();
  for (const nm of roleNodeModulesDirs(opts)) {
    for (const pkg of packagesIn(nm)) {
      const declared = readPackageRoles(pkg);
      if (!declared) continue;
      for (const [name, dir] of declared.roles) if (!found.has(name)) found.set(name, dir);
    }
  }
  return found;
}

/**
 * Find a role by name (or path). The name returned is the role's name as Ansible shows it:
 * the last path component for a path, else the name itself.
 */
export function resolveRole(name: string, opts: RoleSearchOptions): { name: string; dir: string } | undefined {
  const cwd = opts.cwd ?? process.cwd();
  const trimmed = name.trim();
  if (trimmed === '') return undefined;
  if (trimmed.includes('/')) {
    const expanded = expandHome(trimmed);
    const candidates = isAbsolute(expanded)
      ? [expanded]
      : [...(opts.playbookDir !== undefined ? [resolve(cwd, opts.playbookDir, 'roles', expanded), resolve(cwd, opts.playbookDir, expanded)] : []), resolve(cwd, expanded)];
    for (const dir of candidates) if (isDir(dir)) return { name: basename(dir), dir };
  }
  for (const base of roleSearchDirs(opts)) {
    const dir = join(base, trimmed);
    if (isDir(dir)) return { name: trimmed, dir };
  }
  const fromNpm = npmRoles(opts).get(trimmed);
  if (fromNpm && existsSync(fromNpm)) return { name: trimmed, dir: fromNpm };
  return undefined;
}

/**
 * The library/ folders of every role the search can find (Ansible adds a role's library/ to
 * the module path). They are loaded before the playbook is read, because its module names
 * and arguments are checked at load: a role's module is known even to roles that do not
 * use it, which only matters if two roles ship modules of the same name (an error then).
 */
export function roleLibraryDirs(opts: RoleSearchOptions): string[] {
  const roleDirs = new Set<string>();
  const playbookDir = opts.playbookDir === undefined ? undefined : resolve(opts.cwd ?? process.cwd(), opts.playbookDir);
  for (const dir of roleSearchDirs(opts)) {
    if (dir === playbookDir || !isDir(dir)) continue; // the playbook's own library/ is loaded as the project's
    for (const entry of readdirSync(dir)) roleDirs.add(join(dir, entry));
  }
  for (const dir of npmRoles(opts).values()) roleDirs.add(dir);
  // the same role may be reached twice (playbooks/roles linking to the project's roles/)
  return [...new Set([...roleDirs].map((dir) => join(dir, 'library')).filter(isDir).map((dir) => realpathSync(dir)))];
}
