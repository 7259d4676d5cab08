// `tsplay role init NAME`: a new role in Ansible's layout (what `ansible-galaxy role init`
// makes), plus meta/argument_specs.yml with one example option, a README generated from it,
// and a `# yaml-language-server: $schema=…` line on the YAML files so editors check them.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode, TsplayError } from '../errors.js';
import { parseYaml } from '../load/yaml.js';
import { parseArgumentSpecs } from './argument-specs.js';
import { renderRoleReadme } from './role-doc.js';

/**
 * Which of tsplay's editor schemas (schemas/NAME) each scaffolded file points at. The task-list
 * and playbook schemas are always referenced; the others only when tsplay ships them.
 */
export const SCAFFOLD_SCHEMAS = {
  tasks: { file: 'tasks.schema.json', always: true },
  playbook: { file: 'playbook.schema.json', always: true },
  vars: { file: 'vars.schema.json', always: false },
  roleMeta: { file: 'role-meta.schema.json', always: false },
  argumentSpecs: { file: 'argument-specs.schema.json', always: false },
} as const;
type SchemaKind = keyof typeof SCAFFOLD_SCHEMAS;

export interface ScaffoldOptions {
  /** Folder the role folder is made in (default: the current directory). */
  path?: string;
  cwd?: string;
  /** tsplay's schemas/ folder (default: the one shipped beside the engine). */
  schemasDir?: string;
}

export interface ScaffoldResult {
  roleDir: string;
  /** Files written, relative to roleDir. */
  files: string[];
}

const ROLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** tsplay's schemas/ folder, from the source tree (engine/roles) or the build (dist/engine/roles). */
export function defaultSchemasDir(): string {
  for (const up of ['../../schemas', '../../../schemas']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  return fileURLToPath(new URL('../../schemas', import.meta.url));
}

/** Create a role skeleton; refuses to touch an existing folder. */
export function scaffoldRole(name: string, opts: ScaffoldOptions = {}): ScaffoldResult {
  if (!ROLE_NAME.test(name)) {
    throw new TsplayError('CLI_OPTION', `invalid role name '${name}': use letters, digits, '_', '-' and '.' (e.g. nginx_lb)`, { exitCode: ExitCode.options });
  }
  const cwd = opts.cwd ?? process.cwd();
  const roleDir = resolve(cwd, opts.path ?? '.', name);
  if (existsSync(roleDir)) {
    throw new TsplayError('CLI_OPTION', `the directory ${roleDir} already exists; choose another name or --path, or remove it first`);
  }
  const schemasDir = opts.schemasDir ?? defaultSchemasDir();
  const files = roleFiles(name);
  const written: string[] = [];
  for (const [rel, file] of Object.entries(files)) {
    const full = join(roleDir, rel);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, schemaLine(full, file.schema, schemasDir) + file.text);
    written.push(rel);
  }
  for (const empty of ['templates', 'files']) {
    mkdirSync(join(roleDir, empty), { recursive: true });
    written.push(`${empty}/`);
  }
  return { roleDir, files: written };
}

function schemaLine(file: string, kind: SchemaKind | undefined, schemasDir: string): string {
  if (!kind) return '';
  const schema = SCAFFOLD_SCHEMAS[kind];
  const target = join(schemasDir, schema.file);
  if (!schema.always && !existsSync(target)) return '';
  const rel = relative(dirname(file), target).split(sep).join('/');
  return `# yaml-language-server: $schema=${rel}\n`;
}

interface ScaffoldFile {
  text: string;
  schema?: SchemaKind;
}

/** Every file of a new role, by path inside the role. */
function roleFiles(name: string): Record<string, ScaffoldFile> {
  const prefix = name.replace(/[^A-Za-z0-9_]/g, '_');
  const greeting = `${prefix}_greeting`;
  const argumentSpecs = `---
# The role's variables: checked before the role runs (tsplay role doc ${name} shows them).
argument_specs:
  main:
    short_description: Main entry point of the ${name} role
    description:
      - Describe what the role does here.
    options:
      ${greeting}:
        type: str
        default: Hello from ${name}
        description: The message the role prints.
`;
  const usage = `- hosts: all
  roles:
    - role: ${name}
      ${greeting}: Hello
`;
  const readme = renderRoleReadme({
    name,
    dir: name,
    entryPoints: parseArgumentSpecs(parseYaml(argumentSpecs, `${name}/meta/argument_specs.yml`), `${name}/meta/argument_specs.yml`),
  }, { usage });
  return {
    'tasks/main.yml': {
      schema: 'tasks',
      text: `---
# tasks file for ${name}
- name: Say hello
  debug:
    msg: "{{ ${greeting} }}"
`,
    },
    'handlers/main.yml': { schema: 'tasks', text: `---\n# handlers file for ${name}\n` },
    'defaults/main.yml': {
      schema: 'vars',
      text: `---
# defaults file for ${name}: the lowest-precedence values of the role's variables
${greeting}: Hello from ${name}
`,
    },
    'vars/main.yml': { schema: 'vars', text: `---\n# vars file for ${name}: values that override inventory and play vars\n` },
    'meta/main.yml': {
      schema: 'roleMeta',
      text: `---
galaxy_info:
  role_name: ${name}
  author: your name
  description: your role description
  license: MIT
  min_ansible_version: "2.11"
  platforms: []
  galaxy_tags: []
dependencies: []
`,
    },
    'meta/argument_specs.yml': { schema: 'argumentSpecs', text: argumentSpecs },
    'README.md': { text: readme },
    'tests/inventory': { text: 'localhost ansible_connection=local\n' },
    'tests/test.yml': {
      schema: 'playbook',
      text: `---
# From the folder that holds roles/${name}: tsplay run roles/${name}/tests/test.yml -i roles/${name}/tests/inventory
- hosts: all
  roles:
    - ${name}
`,
    },
  };
}
