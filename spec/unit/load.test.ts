import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPlaybook, loadTaskFile, type LoadOptions } from '../../engine/load/playbook.js';
import { validateAgainstSchema } from '../../engine/load/schema.js';
import { ParseErrors } from '../../engine/load/collect.js';
import { parseYaml } from '../../engine/load/yaml.js';
import { locate, locateKey } from '../../engine/load/positions.js';
import { ParseError } from '../../engine/errors.js';
import { defineModule, type ModuleDef } from '../../engine/modules/types.js';
import type { BlockNode, IncludeNode, PlayNode, TaskItem, TaskNode } from '../../engine/load/model.js';
import { makeTempDir } from '../helpers/temp-dir.js';

// Small module definitions with schemas like the real ones.
const run = async () => ({ changed: false });
const modules = [
  defineModule({
    name: 'command',
    aliases: ['ansible.builtin.command'],
    freeForm: 'raw',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: {
        _raw_params: { type: 'string' },
        cmd: { type: 'string' },
        chdir: { type: 'string' },
        creates: { type: 'string' },
        removes: { type: 'string' },
      },
    },
    run,
  }),
  defineModule({
    name: 'shell',
    aliases: ['ansible.builtin.shell'],
    freeForm: 'raw',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { _raw_params: { type: 'string' }, cmd: { type: 'string' }, chdir: { type: 'string' }, creates: { type: 'string' } },
    },
    run,
  }),
  defineModule({
    name: 'copy',
    aliases: ['ansible.builtin.copy'],
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['dest'],
      properties: {
        src: { type: 'string' },
        content: { type: 'string' },
        dest: { type: 'string' },
        mode: { type: ['string', 'integer'] },
        owner: { type: 'string' },
        backup: { type: 'boolean' },
      },
    },
    run,
  }),
  defineModule({
    name: 'debug',
    aliases: ['ansible.builtin.debug'],
    freeForm: 'kv',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { msg: {}, var: { type: 'string' }, verbosity: { type: 'integer', minimum: 0 } },
      not: { required: ['msg', 'var'] },
    },
    run,
  }),
  defineModule({
    name: 'file',
    aliases: ['ansible.builtin.file'],
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      properties: { path: { type: 'string' }, state: { enum: ['file', 'directory', 'touch', 'absent'] } },
    },
    run,
  }),
] as unknown as ModuleDef[];

const byName = new Map<string, ModuleDef>();
for (const m of modules) for (const n of [m.name, ...(m.aliases ?? [])]) byName.set(n, m);
const opts: LoadOptions = { lookupModule: (n) => byName.get(n), moduleNames: modules.map((m) => m.name) };

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '../fixtures/load');

/** Write files into a fresh temp dir; returns the dir. */
function tree(files: Record<string, string>): string {
  const dir = makeTempDir('tsplay-load-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function loadText(text: string, extra: Record<string, string> = {}) {
  const dir = tree({ 'play.yml': text, ...extra });
  return { dir, file: join(dir, 'play.yml'), load: () => loadPlaybook(join(dir, 'play.yml'), opts) };
}

/** The errors a load throws (the aggregate's list, or the single error). */
function loadErrors(load: () => unknown): ParseError[] {
  try {
    load();
  } catch (err) {
    assert.ok(err instanceof ParseError, `expected a ParseError, got ${String(err)}`);
    return err instanceof ParseErrors ? err.errors : [err];
  }
  assert.fail('expected the load to fail');
}

/** Exactly one error, with this code, message and line:col (in play.yml, or in `inFile` of `extra`). */
function expectOne(
  text: string,
  code: string,
  message: RegExp,
  line: number,
  col: number,
  extra: Record<string, string> = {},
  inFile = 'play.yml',
): ParseError {
  const { dir, load } = loadText(text, extra);
  const errors = loadErrors(load);
  assert.equal(errors.length, 1, errors.map((e) => e.message).join('\n'));
  const err = errors[0]!;
  assert.equal(err.code, code);
  assert.match(err.message, message);
  assert.deepEqual(err.pos, { file: join(dir, inFile), line, col });
  return err;
}

const play = (tasks: string) => `- hosts: all\n  tasks:\n${tasks}`;

function task(items: TaskItem[], index: number): TaskNode {
  const item = items[index];
  assert.equal(item?.type, 'task');
  return item as TaskNode;
}

describe('loading a valid playbook', () => {
  const book = loadPlaybook(join(fixtures, 'site.yml'), opts);
  const [base, web] = book.plays as [PlayNode, PlayNode];

  test('import_playbook inlines the imported plays first, with the import tags', () => {
    assert.equal(book.plays.length, 2);
    assert.equal(base.hosts, 'all');
    assert.equal(base.name, 'all'); // no name: the host pattern, as Ansible shows it
    assert.deepEqual(base.kw.tags, ['base']);
    assert.equal(base.gather_facts, true);
    assert.deepEqual(task(base.tasks, 0).args, { var: 'inventory_hostname' });
    assert.match(task(base.tasks, 0).pos.file, /base\.yml$/);
  });

  test('play keywords: hosts list joined, YAML 1.1 booleans, serial list, tags string split', () => {
    assert.equal(web.name, 'Web servers');
    assert.equal(web.hosts, 'web,db');
    assert.equal(web.gather_facts, false);
    assert.deepEqual(web.serial, [1, '30%', '100%']);
    assert.equal(web.kw.become, true);
    assert.deepEqual(web.kw.tags, ['deploy', 'web']);
    assert.equal(web.strategy, 'linear');
    assert.equal(web.order, 'inventory');
    assert.equal(web.baseDir, fixtures);
    assert.deepEqual(web.pos, { file: join(fixtures, 'site.yml'), line: 5, col: 3 });
  });

  test('vars keep YAML 1.1 types: 0644 is 420, merge keys apply with explicit keys winning', () => {
    assert.deepEqual(web.vars.defaults, { mode: 420, owner: 'root' });
    assert.deepEqual(web.vars.file_settings, { owner: 'www', mode: 420 });
  });

  test('vars_files: plain entries and lists of alternatives, with positions', () => {
    assert.equal(web.vars_files.length, 2);
    assert.equal(web.vars_files[0]!.path, 'vars/common.yml');
    assert.deepEqual(web.vars_files[1]!.path, ['vars/{{ env }}.yml', 'vars/default.yml']);
    assert.equal(web.vars_files[1]!.baseDir, fixtures);
    assert.equal(web.vars_files[1]!.pos.line, 22);
  });

  test('free-form command: options the module knows are peeled off, the rest is _raw_params', () => {
    const t = task(web.pre_tasks, 0);
    assert.equal(t.action, 'command');
    assert.equal(t.name, 'command');
    assert.deepEqual(t.args, { chdir: '/tmp', creates: '/x', _raw_params: 'ls -l' });
    assert.equal(t.id, `${join(fixtures, 'site.yml')}:24:7`);
    // positions of peeled options point into the free-form text
    assert.deepEqual(locateKey(t.args, 'chdir'), { file: join(fixtures, 'site.yml'), line: 24, col: 22 });
    assert.deepEqual(locate(t.args, 'chdir'), { file: join(fixtures, 'site.yml'), line: 24, col: 28 });
  });

  test('key=value free-form with quotes; values converted to the schema type', () => {
    const t = task(web.tasks, 0);
    assert.equal(t.name, 'Say hello');
    assert.deepEqual(t.args, { msg: 'hello there', verbosity: 1 });
  });

  test('mapping args with args: merged underneath, with_items, notify, loop_control', () => {
    const t = task(web.tasks, 1);
    assert.equal(t.action, 'copy');
    assert.deepEqual(t.args, { backup: true, src: 'app.conf', dest: '/etc/app.conf', mode: 420 });
    assert.deepEqual(t.kw.with, { lookup: 'items', value: ['a', 'b'] });
    assert.deepEqual(t.kw.notify, ['restart app']);
    assert.deepEqual(t.kw.loop_control, { label: '{{ item }}' });
    assert.equal(locate(t.args, 'dest')?.line, 31);
    assert.equal(locateKey(t.args, 'backup')?.line, 34);
  });

  test('shell keeps the command text as written; "3" retries becomes 3; templated when kept', () => {
    const t = task(web.tasks, 2);
    assert.deepEqual(t.args, { chdir: '/srv', _raw_params: 'echo hi  >/tmp/out' });
    assert.equal(t.kw.register, 'out');
    assert.equal(t.kw.retries, 3);
    assert.equal(t.kw.until, 'out.rc == 0');
    assert.equal(t.kw.when, '{{ do_it }}');
  });

  test('action: and local_action: forms', () => {
    const a = task(web.tasks, 3);
    assert.equal(a.action, 'file');
    assert.deepEqual(a.args, { path: '/x', state: 'touch' });
    const l = task(web.tasks, 4);
    assert.equal(l.action, 'command');
    assert.deepEqual(l.args, { _raw_params: 'whoami' });
    assert.equal(l.kw.delegate_to, 'localhost');
  });

  test('block/rescue/always with import_tasks inlined as a block carrying the import keywords', () => {
    const block = web.tasks[5] as BlockNode;
    assert.equal(block.type, 'block');
    assert.deepEqual(block.kw, { become_user: 'app' });
    const imported = block.block[0] as BlockNode;
    assert.equal(imported.type, 'block');
    assert.equal(imported.importedFrom, join(fixtures, 'tasks/common.yml'));
    assert.deepEqual(imported.kw, { when: 'ansible_os_family == "Debian"', tags: ['common'] });
    assert.deepEqual(
      imported.block.map((t) => (t as TaskNode).name),
      ['Common one', 'Common two'],
    );
    assert.deepEqual((imported.block[1] as TaskNode).args, { content: 'x', dest: '/etc/two' });
    assert.equal((imported.block[0] as TaskNode).id, `${join(fixtures, 'tasks/common.yml')}:1:3`);
    assert.deepEqual(task(block.rescue, 0).args, { msg: 'failed' });
    const meta = task(block.always, 0);
    assert.equal(meta.action, 'meta');
    assert.deepEqual(meta.args, { _raw_params: 'flush_handlers' });
  });

  test('include_tasks: a plain file is loaded now, a templated one is left for run time', () => {
    const plain = web.tasks[6] as IncludeNode;
    assert.equal(plain.type, 'include_tasks');
    assert.equal(plain.file, 'tasks/extra.yml');
    assert.equal(plain.baseDir, fixtures);
    assert.equal(plain.tasks?.length, 1);
    assert.deepEqual(task(plain.tasks!, 0).args, { cmd: 'uptime' });
    const templated = web.tasks[7] as IncludeNode;
    assert.equal(templated.file, 'tasks/{{ ansible_os_family }}.yml');
    assert.equal(templated.tasks, undefined);
    assert.equal(templated.kw.loop, "{{ groups['web'] }}");
  });

  test('handlers with listen', () => {
    const h = task(web.handlers, 0);
    assert.equal(h.name, 'restart app');
    assert.deepEqual(h.kw.listen, ['web changed']);
  });
});

describe('loading: more valid forms', () => {
  test('template strings are accepted where numbers, booleans and lists are expected', () => {
    const { load } = loadText(
      `- hosts: all\n  serial: "{{ batch }}"\n  tasks:\n    - copy: {dest: /x, backup: "{{ keep }}", mode: "{{ m }}"}\n      retries: "{{ n }}"\n      ignore_errors: "{{ lax }}"\n      loop: "{{ things }}"\n`,
    );
    const p = load().plays[0]!;
    assert.deepEqual(p.serial, ['{{ batch }}']);
    const t = task(p.tasks, 0);
    assert.equal(t.args.backup, '{{ keep }}');
    assert.equal(t.kw.retries, '{{ n }}');
    assert.equal(t.kw.ignore_errors, '{{ lax }}');
  });

  test('aliases resolve to the canonical module; tags lists and strings normalised', () => {
    const { load } = loadText(play(`    - ansible.builtin.copy: dest=/x content="a b"\n      tags: "one, two"\n    - debug: msg=x\n      tags: [a, 3]\n`));
    const [t0, t1] = load().plays[0]!.tasks as [TaskNode, TaskNode];
    assert.equal(t0.action, 'copy');
    assert.deepEqual(t0.args, { dest: '/x', content: 'a b' });
    assert.deepEqual(t0.kw.tags, ['one', 'two']);
    assert.deepEqual(t1.kw.tags, ['a', '3']);
  });

  test('key=value values: quotes removed, backslash escapes decoded, Jinja spaces kept together', () => {
    const { load } = loadText(play(`    - debug: msg="say \\"hi\\"" verbosity=2\n    - debug: msg={{ a | default('x y') }}\n`));
    const [t0, t1] = load().plays[0]!.tasks as [TaskNode, TaskNode];
    assert.deepEqual(t0.args, { msg: 'say "hi"', verbosity: 2 });
    assert.deepEqual(t1.args, { msg: "{{ a | default('x y') }}" });
  });

  test('import_playbook vars override the play vars; its when applies to every imported play', () => {
    const { load } = loadText(`- import_playbook: sub/other.yml\n  vars: {a: 2}\n  when: stage == "x"\n`, {
      'sub/other.yml': '- hosts: db\n  vars: {a: 1, b: 1}\n  tasks:\n    - import_tasks: t.yml\n',
      'sub/t.yml': '- debug: msg=x\n',
    });
    const p = load().plays[0]!;
    assert.deepEqual(p.vars, { a: 2, b: 1 });
    assert.equal(p.kw.when, 'stage == "x"');
    assert.match(p.baseDir, /sub$/);
    // import_tasks inside the imported playbook resolves next to that playbook
    assert.equal(((p.tasks[0] as BlockNode).block[0] as TaskNode).action, 'debug');
  });

  test('the same file imported twice gives each task its own id', () => {
    const { load } = loadText(play(`    - import_tasks: t.yml\n    - import_tasks: t.yml\n`), { 't.yml': '- debug: msg=x\n' });
    const [a, b] = load().plays[0]!.tasks as [BlockNode, BlockNode];
    const idA = (a.block[0] as TaskNode).id;
    const idB = (b.block[0] as TaskNode).id;
    assert.notEqual(idA, idB);
    assert.match(idA, /t\.yml:1:3$/);
    assert.match(idB, /t\.yml:1:3#2$/);
  });

  test('loadTaskFile loads a task file on its own (run-time include)', () => {
    const dir = tree({ 'inc.yml': '- name: later\n  command: echo later\n' });
    const items = loadTaskFile(join(dir, 'inc.yml'), opts);
    assert.deepEqual(task(items, 0).args, { _raw_params: 'echo later' });
  });

  test('an empty tasks: and a meta task without a registered meta module', () => {
    const { load } = loadText(`- hosts: all\n  tasks:\n  handlers:\n    - meta: noop\n`);
    const p = load().plays[0]!;
    assert.deepEqual(p.tasks, []);
    assert.equal(task(p.handlers, 0).action, 'meta');
  });
});

describe('loading: bad input is reported with code and file:line:col', () => {
  test('unknown play keyword, with a suggestion', () => {
    expectOne(`- hosts: all\n  gather_fact: no\n`, 'UNKNOWN_KEYWORD', /^play: unknown keyword 'gather_fact' \(did you mean 'gather_facts'\?\)$/, 2, 3);
  });

  test('unknown task keyword next to a module, with a suggestion', () => {
    expectOne(play(`    - debug: msg=hi\n      whne: x\n`), 'UNKNOWN_KEYWORD', /^task: unknown keyword 'whne' \(did you mean 'when'\?\)$/, 4, 7);
  });

  test('unknown keyword in a block', () => {
    expectOne(play(`    - block:\n        - debug: msg=x\n      rescu: []\n`), 'UNKNOWN_KEYWORD', /block: unknown keyword 'rescu' \(did you mean 'rescue'\?\)/, 5, 7);
  });

  test('misspelt module, with a suggestion, at the key', () => {
    expectOne(play(`    - name: x\n      copyy: src=a dest=b\n`), 'UNKNOWN_MODULE', /couldn't resolve module\/action 'copyy' \(did you mean 'copy'\?\)/, 4, 7);
  });

  test('misspelt module inside action: points at the module name', () => {
    expectOne(play(`    - action: fiel path=/x\n`), 'UNKNOWN_MODULE', /'fiel' \(did you mean 'file'\?\)/, 3, 15);
  });

  test('wrong argument type', () => {
    expectOne(play(`    - copy:\n        dest: /x\n        mode: [1]\n`), 'MODULE_ARGS', /^copy: argument 'mode' must be string or integer, got list$/, 5, 15);
  });

  test('unknown argument, with a suggestion', () => {
    expectOne(play(`    - copy:\n        dest: /x\n        bakup: yes\n`), 'MODULE_ARGS', /^copy: unknown argument 'bakup' \(did you mean 'backup'\?\)$/, 5, 9);
  });

  test('missing required argument, at the module key (free-form)', () => {
    expectOne(play(`    - name: touch\n      file: state=touch\n`), 'MODULE_ARGS', /^file: missing required argument 'path'$/, 4, 7);
  });

  test('bad enum value in free-form points inside the text', () => {
    expectOne(play(`    - file: path=/x state=touchy\n`), 'MODULE_ARGS', /^file: argument 'state' must be one of: file, directory, touch, absent; got 'touchy'$/, 3, 27);
  });

  test('wrong keyword type', () => {
    expectOne(play(`    - debug: msg=x\n      retries: [1]\n`), 'SCHEMA', /^task: keyword 'retries' must be integer, got list$/, 4, 16);
  });

  test('two module keys', () => {
    expectOne(play(`    - copy: dest=/x\n      file: path=/y\n`), 'SCHEMA', /^conflicting action statements: copy, file/, 4, 7);
  });

  test('no module at all', () => {
    expectOne(play(`    - name: lonely\n`), 'SCHEMA', /no module\/action detected in task/, 3, 7);
  });

  test('free-form words a key=value module cannot take', () => {
    expectOne(play(`    - debug: hello world\n`), 'MODULE_ARGS', /^debug: unexpected free-form text 'hello world'/, 3, 14);
  });

  test('unbalanced quote in free-form', () => {
    expectOne(play(`    - command: echo "oops\n`), 'MODULE_ARGS', /^command: unbalanced double quote/, 3, 21);
  });

  test('listen on a task that is not a handler', () => {
    expectOne(play(`    - debug: msg=x\n      listen: y\n`), 'UNKNOWN_KEYWORD', /'listen' is only valid on handlers/, 4, 7);
  });

  test('loop and with_items together', () => {
    expectOne(play(`    - debug: msg=x\n      loop: [1]\n      with_items: [2]\n`), 'SCHEMA', /only one loop per task: 'loop' and 'with_items'/, 5, 7);
  });

  test('a play keyword inside a task says where it belongs', () => {
    expectOne(play(`    - debug: msg=x\n      hosts: web\n`), 'UNKNOWN_KEYWORD', /^task: keyword 'hosts' is not valid here \(it belongs on plays\)$/, 4, 7);
  });

  test('a module written on the play itself', () => {
    expectOne(`- hosts: all\n  debug: msg=x\n`, 'UNKNOWN_KEYWORD', /^play: 'debug' is a module: put it in a task under 'tasks:'$/, 2, 3);
  });

  test('a task keyword Ansible refuses on include_tasks', () => {
    expectOne(play(`    - include_tasks: t.yml\n      become: yes\n`), 'UNKNOWN_KEYWORD', /^include_tasks: keyword 'become' cannot be used on include_tasks/, 4, 7, {
      't.yml': '- debug: msg=x\n',
    });
  });

  test('invalid variable names in vars', () => {
    expectOne(play(`    - debug: msg=x\n      vars:\n        my-var: 1\n`), 'SCHEMA', /^task: invalid key 'my-var' in keyword 'vars'/, 5, 9);
  });

  test('Ansible keywords and lookups tsplay lacks are named as such', () => {
    expectOne(play(`    - debug: msg=x\n      async: 10\n`), 'UNKNOWN_KEYWORD', /^task: keyword 'async' is not supported by tsplay$/, 4, 7);
    expectOne(play(`    - debug: msg=x\n      with_subelements: [a, b]\n`), 'UNKNOWN_KEYWORD', /'with_subelements' uses the lookup 'subelements', which tsplay does not support/, 4, 7);
  });

  test('a role that is nowhere is named, at its reference (spec/unit/roles.test.ts has the rest)', () => {
    expectOne(`- hosts: all\n  roles:\n    - web\n`, 'FILE_NOT_FOUND', /^the role 'web' was not found in /, 3, 7);
  });

  test('missing hosts', () => {
    expectOne(`- name: x\n  tasks: []\n`, 'SCHEMA', /^play: missing required keyword 'hosts'$/, 1, 3);
  });

  test('missing import_tasks file, at the include', () => {
    expectOne(play(`    - import_tasks: tasks/nope.yml\n`), 'FILE_NOT_FOUND', /file not found: .*tasks\/nope\.yml$/, 3, 21);
  });

  test('missing include_tasks file, at the file name', () => {
    expectOne(play(`    - include_tasks:\n        file: gone.yml\n`), 'FILE_NOT_FOUND', /gone\.yml/, 4, 15);
  });

  test('import_tasks loop, naming the chain', () => {
    expectOne(
      play(`    - import_tasks: a.yml\n`),
      'INCLUDE_LOOP',
      /include loop: .*a\.yml → .*b\.yml → .*a\.yml$/,
      1,
      18,
      { 'a.yml': '- debug: msg=a\n- import_tasks: b.yml\n', 'b.yml': '- include_tasks: a.yml\n' },
      'b.yml',
    );
  });

  test('import_playbook loop', () => {
    const { load } = loadText(`- import_playbook: other.yml\n`, { 'other.yml': '- import_playbook: play.yml\n' });
    const errors = loadErrors(load);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'INCLUDE_LOOP');
    assert.match(errors[0]!.message, /play\.yml → .*other\.yml → .*play\.yml/);
    assert.equal(errors[0]!.pos?.line, 1);
    assert.equal(errors[0]!.pos?.col, 20);
  });

  test('a playbook that is not a list', () => {
    expectOne(`hosts: all\n`, 'SCHEMA', /a playbook must be a list of plays, got a mapping/, 1, 1);
  });

  test('YAML errors from an imported file keep their code and position', () => {
    expectOne(play(`    - import_tasks: t.yml\n`), 'YAML_DUPLICATE_KEY', /duplicate key/, 2, 3, { 't.yml': '- debug: msg=x\n  debug: msg=y\n' }, 't.yml');
  });

  test('every problem is collected; the aggregate carries the first one and formats each', () => {
    const { load } = loadText(play(`    - copyy: dest=/x\n    - debug: msg=x\n      whne: y\n    - file: state=touch\n`));
    let thrown: unknown;
    try {
      load();
    } catch (err) {
      thrown = err;
    }
    assert.ok(thrown instanceof ParseErrors);
    assert.deepEqual(
      thrown.errors.map((e) => [e.code, e.pos?.line, e.pos?.col]),
      [
        ['UNKNOWN_MODULE', 3, 7],
        ['UNKNOWN_KEYWORD', 5, 7],
        ['MODULE_ARGS', 6, 7],
      ],
    );
    assert.equal(thrown.code, 'UNKNOWN_MODULE');
    assert.equal(thrown.pos?.line, 3);
    assert.equal(thrown.exitCode, 4);
    assert.match(thrown.message, /\(and 2 more errors\)$/);
    const text = thrown.format();
    assert.match(text, /play\.yml:3:7: couldn't resolve/);
    assert.match(text, /play\.yml:5:7: task: unknown keyword 'whne'/);
    assert.match(text, /play\.yml:6:7: file: missing required argument 'path'/);
    assert.match(text, /3 errors found while loading/);
  });
});

describe('validateAgainstSchema', () => {
  const schema = {
    type: 'object',
    additionalProperties: false,
    required: ['port'],
    properties: { port: { type: 'integer' }, hosts: { type: 'array', items: { type: 'string' } } },
  };

  test('maps errors back to YAML positions, skipping templated values', () => {
    const data = parseYaml('hosts:\n  - a\n  - [b]\nprot: 1\n', 'inv.yml');
    const errors = validateAgainstSchema(schema, data, data, 'inventory');
    assert.deepEqual(
      errors.map((e) => [e.message, e.pos?.line, e.pos?.col]),
      [
        ["inventory: missing required argument 'port'", 1, 1],
        ["inventory: argument 'hosts[1]' must be string, got list", 3, 5],
        ["inventory: unknown argument 'prot' (did you mean 'port'?)", 4, 1],
      ],
    );
    const templated = parseYaml('port: "{{ p }}"\nhosts: "{{ hs }}"\n', 'inv2.yml');
    assert.deepEqual(validateAgainstSchema(schema, templated, templated, 'inventory'), []);
  });

  test('coerce converts Ansible-style scalars in place; without it they are errors', () => {
    const data = parseYaml('port: "22"\n', 'inv3.yml') as Record<string, unknown>;
    assert.equal(validateAgainstSchema(schema, data, data, 'x').length, 1);
    assert.deepEqual(validateAgainstSchema(schema, data, data, 'x', { coerce: true }), []);
    assert.equal(data.port, 22);
  });
});
