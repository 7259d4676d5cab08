// JSON Schemas for editors (yaml-language-server in VS Code, JetBrains, Neovim): a playbook
// file and a task list file (roles' tasks/main.yml, handlers), built from the loader's own
// keyword schemas (schemas/play|block|task|keywords.schema.json) and every built-in module's
// argument schema, so completion and checking in the editor match what `tsplay run` accepts.
// Draft-07, self-contained (no cross-file $ref): the draft every YAML editor supports.
// Where the loader waits for templating ("{{ port }}" where a number is wanted), so do these.
import { loadSchemaFile, type JsonSchemaObject } from '../load/schema.js';
import { lookupModule, moduleNames } from '../modules/registry.js';
import type { ModuleDef } from '../modules/types.js';
import { moduleDescription } from './module-docs.js';

type Schema = JsonSchemaObject;

const DRAFT = 'http://json-schema.org/draft-07/schema#';
/** The prefixes the registry adds to every undotted module name. */
const FQCN_PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];
const TEMPLATE_REF = { $ref: '#/definitions/template' };

const isObject = (v: unknown): v is Schema => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every name a playbook may use for a module, canonical first (as registry.ts registers them). */
export function moduleKeys(def: ModuleDef): string[] {
  const names = [def.name, ...(def.aliases ?? [])];
  const all = new Set(names);
  for (const n of names) if (!n.includes('.')) for (const p of FQCN_PREFIXES) all.add(p + n);
  return [...all];
}

/** Rewrite the loader schemas' cross-file refs (keywords.json#/$defs/x) to this file's definitions. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!isObject(value)) return value;
  const out: Schema = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === '$ref' && typeof v === 'string') out.$ref = v.replace(/^(keywords\.json)?#\/\$defs\//, '#/definitions/kw.');
    else if (k === '$schema' || k === '$id') continue;
    else out[k] = rewriteRefs(v);
  }
  return out;
}

/** Whether every string passes this schema, so a template needs no extra branch. */
function acceptsAnyString(s: Schema): boolean {
  const keys = Object.keys(s).filter((k) => !['description', 'title', 'default', 'examples', 'deprecated', 'items'].includes(k));
  if (keys.length === 0) return true;
  const t = s.type;
  const stringTyped = t === 'string' || (Array.isArray(t) && t.includes('string'));
  return stringTyped && keys.every((k) => k === 'type');
}

/** A value schema that also accepts a template string ("{{ x }}"), checked after templating. */
function allowTemplate(s: Schema): Schema {
  if (typeof s.$ref === 'string' || acceptsAnyString(s)) return s;
  const { description, ...rest } = s;
  return { ...(typeof description === 'string' ? { description } : {}), anyOf: [rest, TEMPLATE_REF] };
}

/** Make every property and list item of a schema template-tolerant, recursively. */
function relax(s: unknown): unknown {
  if (!isObject(s)) return s;
  const out: Schema = { ...s };
  if (isObject(s.properties)) {
    out.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, isObject(v) ? allowTemplate(relax(v) as Schema) : v]));
  }
  if (isObject(s.items)) out.items = allowTemplate(relax(s.items) as Schema);
  if (isObject(s.additionalProperties)) out.additionalProperties = relax(s.additionalProperties);
  for (const k of ['anyOf', 'oneOf', 'allOf']) if (Array.isArray(s[k])) out[k] = (s[k] as unknown[]).map(relax);
  if (isObject(s.then)) out.then = relax(s.then);
  if (isObject(s.else)) out.else = relax(s.else);
  return out;
}

/** The value a module key takes: its arguments, a free-form string, or nothing (args: may hold them). */
function moduleValueSchema(def: ModuleDef): Schema {
  const description = moduleDescription(def.name);
  const stringForm =
    def.freeForm === 'raw'
      ? { type: 'string', description: 'The command line (key=value options the module knows are peeled off).' }
      : { type: 'string', description: 'key=value arguments on one line.' };
  return {
    ...(description ? { description } : {}),
    anyOf: [relax(rewriteRefs(def.schema)), stringForm, { type: 'null' }],
  };
}

/** Loader directives that are not modules: includes, imports and role directives. */
function directiveDefinitions(): Record<string, Schema> {
  const fileArg = (what: string): Schema => ({
    description: `${what}: a task file, relative to the including file (or the role's tasks/).`,
    anyOf: [
      { type: 'string', minLength: 1 },
      { type: 'object', additionalProperties: false, required: ['file'], properties: { file: { type: 'string', minLength: 1 } } },
    ],
  });
  const roleArgs = (include: boolean): Schema => ({
    description: include ? 'Run a role here, at run time (dynamic).' : 'Put a role\'s tasks here when the playbook is loaded (static).',
    anyOf: [
      {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: { type: 'string', description: 'The role: a name on the roles path, or a path.' },
          tasks_from: { type: 'string', description: "File of the role's tasks/ to run instead of main." },
          vars_from: { type: 'string' },
          defaults_from: { type: 'string' },
          handlers_from: { type: 'string' },
          allow_duplicates: { anyOf: [{ type: 'boolean' }, TEMPLATE_REF] },
          public: { anyOf: [{ type: 'boolean' }, TEMPLATE_REF], description: "Make the role's defaults and vars visible to later tasks." },
          rolespec_validate: { anyOf: [{ type: 'boolean' }, TEMPLATE_REF] },
          ...(include ? { apply: { type: 'object', description: 'Keywords applied to every task of the role.' } } : {}),
        },
      },
      { type: 'string', description: 'name=ROLE tasks_from=FILE ...' },
    ],
  });
  return {
    'directive.include_tasks': { ...fileArg('Include tasks at run time'), description: 'Include a task file at run time (dynamic; may loop).' },
    'directive.import_tasks': { ...fileArg('Import tasks at load time'), description: "Import a task file's tasks here when the playbook is loaded (static)." },
    'directive.include_role': roleArgs(true),
    'directive.import_role': roleArgs(false),
  };
}

const DIRECTIVE_KEYS: Record<string, string[]> = {
  'directive.include_tasks': ['include_tasks', 'ansible.builtin.include_tasks'],
  'directive.import_tasks': ['import_tasks', 'ansible.builtin.import_tasks'],
  'directive.include_role': ['include_role', 'ansible.builtin.include_role'],
  'directive.import_role': ['import_role', 'ansible.builtin.import_role'],
};

/** Properties of a loader schema with task lists pointed at this file's task list. */
function keywordProperties(schema: Schema): Record<string, unknown> {
  const props = (relax(rewriteRefs(schema)) as Schema).properties as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) out[k] = JSON.stringify(v).includes('"#/definitions/kw.taskList"') ? { $ref: '#/definitions/taskList' } : v;
  return out;
}

interface Definitions {
  [name: string]: unknown;
}

/** The definitions both files share: keywords, modules, tasks, blocks, plays. */
function definitions(): Definitions {
  const keywords = rewriteRefs(loadSchemaFile('keywords')) as Schema;
  const defs: Definitions = {
    template: { type: 'string', pattern: '\\{\\{|\\{%', description: 'A template, checked once its value is known at run time.' },
  };
  for (const [name, s] of Object.entries((keywords.$defs ?? {}) as Record<string, unknown>)) defs[`kw.${name}`] = isObject(s) ? allowTemplate(relax(s) as Schema) : s;
  defs['kw.taskList'] = { $ref: '#/definitions/taskList' };

  const taskProps: Record<string, unknown> = keywordProperties(loadSchemaFile('task'));
  const moduleRequired: Schema[] = [];
  for (const name of moduleNames()) {
    const def = lookupModule(name)!;
    defs[`module.${name}`] = moduleValueSchema(def);
    for (const key of moduleKeys(def)) {
      taskProps[key] = { $ref: `#/definitions/module.${name}` };
      moduleRequired.push({ required: [key] });
    }
  }
  for (const [defName, s] of Object.entries(directiveDefinitions())) {
    defs[defName] = s;
    for (const key of DIRECTIVE_KEYS[defName]!) {
      taskProps[key] = { $ref: `#/definitions/${defName}` };
      moduleRequired.push({ required: [key] });
    }
  }
  moduleRequired.push({ required: ['action'] }, { required: ['local_action'] });

  defs.task = {
    title: 'Task',
    description: 'A task: keywords and exactly one module (or action/local_action, include_tasks, import_tasks, include_role, import_role).',
    type: 'object',
    additionalProperties: false,
    properties: taskProps,
    oneOf: moduleRequired,
  };
  defs.block = {
    title: 'Block',
    type: 'object',
    additionalProperties: false,
    required: ['block'],
    properties: keywordProperties(loadSchemaFile('block')),
  };
  defs.taskItem = {
    description: 'A task, or a block of tasks (block/rescue/always).',
    if: { type: 'object', required: ['block'] },
    then: { $ref: '#/definitions/block' },
    else: { $ref: '#/definitions/task' },
  };
  defs.taskList = { type: ['array', 'null'], items: { $ref: '#/definitions/taskItem' } };

  const playProps = keywordProperties(loadSchemaFile('play'));
  playProps.roles = {
    description: 'Roles applied before tasks: a name, or a mapping with role (or name) and role variables/keywords.',
    type: ['array', 'null'],
    items: {
      anyOf: [
        { type: 'string', minLength: 1 },
        { type: 'object', properties: { role: { type: 'string' }, name: { type: 'string' } }, anyOf: [{ required: ['role'] }, { required: ['name'] }] },
      ],
    },
  };
  defs.play = { title: 'Play', type: 'object', additionalProperties: false, required: ['hosts'], properties: playProps };
  const importKeywords = ['name', 'vars', 'tags', 'when'];
  defs.importPlaybook = {
    title: 'import_playbook',
    type: 'object',
    additionalProperties: false,
    properties: {
      import_playbook: { type: 'string', minLength: 1, description: 'A playbook file to run here, relative to this one.' },
      'ansible.builtin.import_playbook': { type: 'string', minLength: 1 },
      ...Object.fromEntries(importKeywords.map((k) => [k, taskProps[k]])),
    },
    oneOf: [{ required: ['import_playbook'] }, { required: ['ansible.builtin.import_playbook'] }],
  };
  defs.playbookEntry = {
    if: { type: 'object', anyOf: [{ required: ['import_playbook'] }, { required: ['ansible.builtin.import_playbook'] }] },
    then: { $ref: '#/definitions/importPlaybook' },
    else: { $ref: '#/definitions/play' },
  };
  return defs;
}

export interface EditorSchemas {
  /** schemas/playbook.schema.json: a list of plays and import_playbook entries. */
  playbook: Schema;
  /** schemas/tasks.schema.json: a task list (roles' tasks/*.yml, handlers/*.yml, included task files). */
  tasks: Schema;
}

export function buildEditorSchemas(): EditorSchemas {
  const defs = definitions();
  return {
    playbook: {
      $schema: DRAFT,
      $id: 'https://tsplay.dev/schemas/playbook.schema.json',
      title: 'tsplay playbook',
      description: 'Generated by `npm run schemas` (engine/schema-gen) from the loader schemas and the module registry. Do not edit.',
      type: 'array',
      items: { $ref: '#/definitions/playbookEntry' },
      definitions: defs,
    },
    tasks: {
      $schema: DRAFT,
      $id: 'https://tsplay.dev/schemas/tasks.schema.json',
      title: 'tsplay task list',
      description: 'Generated by `npm run schemas` (engine/schema-gen) from the loader schemas and the module registry. Do not edit.',
      type: ['array', 'null'],
      items: { $ref: '#/definitions/taskItem' },
      definitions: defs,
    },
  };
}

/** The text written to disk: stable key order from the sources, two-space JSON, final newline. */
export function schemaText(schema: Schema): string {
  return JSON.stringify(schema, null, 2) + '\n';
}
