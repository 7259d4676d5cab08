// include_vars: load variables from a YAML/JSON file, or every matching file of a folder,
// on the controller. They become host facts above play vars (like set_fact), optionally
// under one name. Relative paths are searched like Ansible: vars/ and the folder itself,
// beside the task file, then beside the playbook.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { TsplayError } from '../errors.js';
import { loadYamlFile } from '../load/yaml.js';
import { defineModule, type ModuleContext } from './types.js';

export interface IncludeVarsArgs {
  _raw_params?: string;
  file?: string;
  dir?: string;
  name?: string;
  files_matching?: string;
  ignore_files?: string | string[];
  extensions?: string[];
  depth?: number;
  ignore_unknown_extensions?: boolean;
  hash_behaviour?: 'replace' | 'merge';
}

/** Folders a relative path is looked up in, in order. */
export function varsSearchDirs(ctx: ModuleContext): string[] {
  const dirs: string[] = [];
  for (const dir of ctx.searchPaths.files) {
    // searchPaths name files/ for copy; include_vars looks in vars/ instead
    if (path.basename(dir) === 'files') dirs.push(path.join(path.dirname(dir), 'vars'));
    else dirs.push(dir);
  }
  dirs.push(path.dirname(ctx.taskPos.file));
  return [...new Set(dirs)];
}

function findPath(given: string, ctx: ModuleContext, kind: 'file' | 'dir'): { found?: string; searched: string[] } {
  const candidates = path.isAbsolute(given) ? [given] : varsSearchDirs(ctx).map((d) => path.join(d, given));
  for (const candidate of candidates) {
    try {
      const st = statSync(candidate);
      if (kind === 'dir' ? st.isDirectory() : st.isFile()) return { found: candidate, searched: candidates };
    } catch {
      // not there: try the next place
    }
  }
  return { searched: candidates };
}

/** Python's re.search written as a JS RegExp: named groups use (?<name>) here. */
function pyRegExp(pattern: string): RegExp {
  return new RegExp(pattern.replace(/\(\?P</g, '(?<').replace(/\(\?P=(\w+)\)/g, '\\k<$1>'));
}

/** Files of `dir` in Ansible's order (sorted, walking down to `depth`, 0 = no limit). */
function filesOf(dir: string, depth: number, level = 1): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth === 0 || level < depth) out.push(...filesOf(full, depth, level + 1));
    } else {
      out.push(full);
    }
  }
  return out;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const prev = out[key];
    const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
    out[key] = isMap(prev) && isMap(value) ? deepMerge(prev, value) : value;
  }
  return out;
}

class IncludeVarsFailure extends Error {}

function loadVarsFile(file: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = loadYamlFile(file);
  } catch (err) {
    if (err instanceof TsplayError && err.pos) throw new IncludeVarsFailure(`${err.message} (${err.pos.file}:${err.pos.line}:${err.pos.col})`);
    throw new IncludeVarsFailure(err instanceof Error ? err.message : String(err));
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new IncludeVarsFailure(`${file} must be stored as a dictionary/hash`);
  return data as Record<string, unknown>;
}

const STRINGS = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

export default defineModule<IncludeVarsArgs>({
  name: 'include_vars',
  aliases: ['ansible.builtin.include_vars'],
  freeForm: 'raw',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      _raw_params: { type: 'string', minLength: 1 },
      file: { type: 'string', minLength: 1 },
      dir: { type: 'string', minLength: 1 },
      name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      files_matching: { type: 'string' },
      ignore_files: STRINGS,
      extensions: { type: 'array', items: { type: 'string' } },
      depth: { type: 'integer', minimum: 0 },
      ignore_unknown_extensions: { type: 'boolean' },
      hash_behaviour: { enum: ['replace', 'merge'] },
    },
    oneOf: [{ required: ['_raw_params'] }, { required: ['file'] }, { required: ['dir'] }],
  },
  async run(args, ctx) {
    try {
      const files: string[] = [];
      if (args.dir !== undefined) {
        const { found, searched } = findPath(args.dir, ctx, 'dir');
        if (!found) return { changed: false, failed: true, msg: `${args.dir} directory does not exist\nSearched in:\n${searched.map((s) => `\t${s}`).join('\n')}` };
        const extensions = (args.extensions ?? ['yaml', 'yml', 'json']).map((e) => e.replace(/^\./, ''));
        const matching = args.files_matching !== undefined ? pyRegExp(args.files_matching) : undefined;
        const ignore = (Array.isArray(args.ignore_files) ? args.ignore_files : args.ignore_files !== undefined ? [args.ignore_files] : []).map(pyRegExp);
        for (const file of filesOf(found, args.depth ?? 0)) {
          const base = path.basename(file);
          if (matching && !matching.test(base)) continue;
          if (ignore.some((re) => re.test(base))) continue;
          const ext = path.extname(base).replace(/^\./, '');
          if (!extensions.includes(ext)) {
            if (args.ignore_unknown_extensions) continue;
            return { changed: false, failed: true, msg: `${file} does not have a valid extension: ${extensions.join(', ')}` };
          }
          files.push(file);
        }
      } else {
        const given = (args.file ?? args._raw_params)!.trim();
        const { found, searched } = findPath(given, ctx, 'file');
        if (!found) {
          return { changed: false, failed: true, msg: `Could not find or access '${given}' on the Ansible Controller.\nSearched in:\n${searched.map((s) => `\t${s}`).join('\n')}` };
        }
        files.push(found);
      }
      let vars: Record<string, unknown> = {};
      for (const file of files) {
        const data = loadVarsFile(file);
        vars = args.hash_behaviour === 'merge' ? deepMerge(vars, data) : { ...vars, ...data };
      }
      const facts = args.name !== undefined ? { [args.name]: vars } : vars;
      return { changed: false, ansible_included_var_files: files, ansible_facts: facts, facts };
    } catch (err) {
      if (err instanceof IncludeVarsFailure) return { changed: false, failed: true, msg: err.message };
      throw err;
    }
  },
});
