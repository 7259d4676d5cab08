// The editor schemas (schemas/playbook.schema.json, schemas/tasks.schema.json): committed files
// equal freshly generated ones, every built-in module is in them, and a JSON Schema validator
// used the way yaml-language-server uses it (draft-07, YAML parsed as the editor parses it)
// accepts real playbooks and task files and rejects the mistakes users make.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { buildEditorSchemas, moduleKeys, schemaText } from '../../engine/schema-gen/editor-schemas.js';
import { EDITOR_SCHEMA_FILES } from '../../engine/schema-gen/main.js';
import { lookupModule, moduleNames } from '../../engine/modules/registry.js';
import { repoRoot } from '../helpers/cli.js';

const committed = {
  playbook: JSON.parse(readFileSync(EDITOR_SCHEMA_FILES.playbook, 'utf8')) as Record<string, any>,
  tasks: JSON.parse(readFileSync(EDITOR_SCHEMA_FILES.tasks, 'utf8')) as Record<string, any>,
};

const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
const validatePlaybook = ajv.compile(committed.playbook);
const validateTasks = ajv.compile({ ...committed.tasks, $id: 'tasks-under-test' });

function check(validate: ValidateFunction, yamlText: string): string[] {
  const ok = validate(parse(yamlText));
  return ok ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`);
}

describe('editor schemas', () => {
  test('the committed files equal freshly generated ones (run `npm run schemas` after changing a module or keyword)', () => {
    const fresh = buildEditorSchemas();
    assert.equal(readFileSync(EDITOR_SCHEMA_FILES.playbook, 'utf8'), schemaText(fresh.playbook), 'schemas/playbook.schema.json is stale');
    assert.equal(readFileSync(EDITOR_SCHEMA_FILES.tasks, 'utf8'), schemaText(fresh.tasks), 'schemas/tasks.schema.json is stale');
  });

  test('every built-in module appears under each of its names, with its argument schema and a description', () => {
    const taskProps = committed.tasks.definitions.task.properties as Record<string, { $ref?: string }>;
    const names = moduleNames();
    assert.ok(names.length >= 40, `only ${names.length} modules registered`);
    for (const name of names) {
      const def = lookupModule(name)!;
      for (const key of moduleKeys(def)) assert.equal(taskProps[key]?.$ref, `#/definitions/module.${name}`, `task key ${key}`);
      const entry = committed.tasks.definitions[`module.${name}`];
      assert.ok(entry, `definition of ${name}`);
      assert.equal(typeof entry.description, 'string', `description of ${name}`);
      const args = entry.anyOf[0];
      assert.deepEqual(Object.keys(args.properties ?? {}).sort(), Object.keys((def.schema.properties as object) ?? {}).sort(), `arguments of ${name}`);
    }
    assert.equal(taskProps['ansible.builtin.copy']?.$ref, '#/definitions/module.copy');
    for (const kw of ['name', 'when', 'loop', 'register', 'notify', 'become', 'tags', 'delegate_to']) assert.ok(taskProps[kw], `task keyword ${kw}`);
    const playProps = committed.playbook.definitions.play.properties as Record<string, unknown>;
    for (const kw of ['hosts', 'roles', 'pre_tasks', 'tasks', 'post_tasks', 'handlers', 'serial', 'strategy']) assert.ok(playProps[kw], `play keyword ${kw}`);
    assert.ok(committed.playbook.definitions.block.properties.rescue, 'block keyword rescue');
  });

  test('playbooks/demo.yml is valid', () => {
    assert.deepEqual(check(validatePlaybook, readFileSync(path.join(repoRoot, 'playbooks/demo.yml'), 'utf8')), []);
  });

  test('valid task files: modules with FQCN, free-form strings, templates where numbers are wanted, blocks, includes', () => {
    const files = [
      `- name: config\n  ansible.builtin.template:\n    src: app.conf.hbs\n    dest: /etc/app.conf\n    mode: "0644"\n  notify: restart app\n`,
      `- command: /usr/bin/make install chdir=/src\n  args:\n    creates: /usr/local/bin/app\n- shell: echo hi | tee /tmp/x\n  register: out\n  changed_when: false\n`,
      `- wait_for:\n    port: "{{ app_port }}"\n    timeout: 30\n  retries: "{{ n }}"\n  delay: 2\n  until: out is succeeded\n`,
      `- block:\n    - debug: msg=hello\n    - include_tasks: other.yml\n  rescue:\n    - fail:\n        msg: failed\n  always:\n    - import_role:\n        name: common\n        tasks_from: cleanup\n  when: x is defined\n`,
      `- name: restart app\n  service:\n    name: app\n    state: restarted\n  listen: app changed\n- ping:\n`,
      `[]\n`,
    ];
    for (const text of files) assert.deepEqual(check(validateTasks, text), [], text);
  });

  test('a misspelt module argument is rejected, naming the argument', () => {
    const errors = check(validateTasks, `- copy:\n    dest: /etc/motd\n    conten: hello\n`);
    assert.ok(errors.some((e) => e.includes('/0/copy') && e.includes('"additionalProperty":"conten"')), errors.join('\n'));
  });

  test('an unknown module, a misspelt keyword and two modules in one task are rejected', () => {
    assert.notDeepEqual(check(validateTasks, `- copyy:\n    dest: /x\n`), []);
    const keyword = check(validateTasks, `- debug: msg=hi\n  whenn: x\n`);
    assert.ok(keyword.some((e) => e.includes('"additionalProperty":"whenn"')), keyword.join('\n'));
    assert.notDeepEqual(check(validateTasks, `- debug: msg=hi\n  ping:\n`), []);
    assert.notDeepEqual(check(validateTasks, `- file:\n    path: /x\n    state: gone\n`), [], 'a value outside the choices');
    assert.notDeepEqual(check(validatePlaybook, `- hosts: all\n  taks: []\n`), [], 'a misspelt play keyword');
    assert.notDeepEqual(check(validatePlaybook, `- name: no hosts\n  tasks: []\n`), [], 'a play without hosts');
  });

  test('import_playbook entries and roles lists are valid playbook entries', () => {
    assert.deepEqual(check(validatePlaybook, `- import_playbook: other.yml\n  tags: [x]\n- hosts: web\n  roles:\n    - common\n    - role: nginx\n      nginx_port: 80\n`), []);
  });
});
