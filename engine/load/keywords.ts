// Which keywords may stand where. The play, block and task schemas are the source of truth
// for the keywords tsplay knows; this file adds the subsets for includes/imports and the
// Ansible keywords tsplay recognises but does not support, so those get a precise message.
import { loadSchemaFile, type JsonSchemaObject } from './schema.js';

/** with_<lookup> forms that are normalised into kw.with. */
export const WITH_LOOKUPS = ['items', 'list', 'dict', 'fileglob', 'sequence', 'together', 'nested', 'cartesian', 'flattened', 'indexed_items'] as const;

/** Module names that are really loader directives, with and without the ansible.builtin prefix. */
export const INCLUDE_TASKS = new Set(['include_tasks', 'ansible.builtin.include_tasks']);
export const IMPORT_TASKS = new Set(['import_tasks', 'ansible.builtin.import_tasks']);
export const IMPORT_PLAYBOOK = new Set(['import_playbook', 'ansible.builtin.import_playbook']);
export const ROLE_DIRECTIVES = new Set(['include_role', 'import_role', 'ansible.builtin.include_role', 'ansible.builtin.import_role']);
export const OLD_INCLUDE = new Set(['include', 'ansible.builtin.include']);

/** Ansible keywords tsplay does not implement: named as such rather than "unknown". */
const UNSUPPORTED: Record<'play' | 'block' | 'task', string[]> = {
  play: ['collections', 'debugger', 'fact_path', 'force_handlers', 'gather_subset', 'gather_timeout', 'module_defaults', 'port', 'vars_prompt', 'become_exe'],
  block: ['collections', 'debugger', 'module_defaults', 'port', 'become_exe'],
  task: ['async', 'poll', 'collections', 'debugger', 'module_defaults', 'port', 'become_exe'],
};

export function unsupportedKeyword(level: 'play' | 'block' | 'task', key: string): boolean {
  return UNSUPPORTED[level].includes(key);
}

function propertiesOf(schema: JsonSchemaObject): string[] {
  return Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
}

export interface KeywordSets {
  playSchema: JsonSchemaObject;
  blockSchema: JsonSchemaObject;
  taskSchema: JsonSchemaObject;
  play: Set<string>;
  block: Set<string>;
  task: Set<string>;
  /** Keywords an include_tasks may carry (Ansible's VALID_INCLUDE_KEYWORDS, less what tsplay lacks). */
  include: Set<string>;
  /** Keywords an import_tasks may carry: they apply to every imported task, like a block's. */
  import: Set<string>;
}

let sets: KeywordSets | undefined;

export function keywordSets(): KeywordSets {
  if (sets) return sets;
  loadSchemaFile('keywords');
  const playSchema = loadSchemaFile('play');
  const blockSchema = loadSchemaFile('block');
  const taskSchema = loadSchemaFile('task');
  const block = new Set(propertiesOf(blockSchema));
  const withKeys = WITH_LOOKUPS.map((l) => `with_${l}`);
  sets = {
    playSchema,
    blockSchema,
    taskSchema,
    play: new Set(propertiesOf(playSchema)),
    block,
    task: new Set(propertiesOf(taskSchema)),
    include: new Set(['name', 'when', 'loop', 'loop_control', ...withKeys, 'vars', 'tags', 'ignore_errors', 'no_log', 'run_once', 'timeout']),
    import: new Set([...block].filter((k) => k !== 'block' && k !== 'rescue' && k !== 'always')),
  };
  return sets;
}
