// Roles at load time: where a role name is looked for (and in which order), how a role and
// its meta dependencies become blocks, and the errors a user gets, with file:line:col.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { resolveRole, roleSearchDirs } from '../../engine/load/role-path.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import type { BlockNode, PlayNode, TaskItem } from '../../engine/load/model.js';
import { lookupModule, moduleNames } from '../../engine/modules/registry.js';
import { ParseError } from '../../engine/errors.js';
import { ParseErrors } from '../../engine/load/collect.js';
import { preflight } from '../../engine/run/preflight.js';
import { loadInventory } from '../../engine/inventory/load.js';

let root: string;

function write(rel: string, text: string): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

function role(dir: string): void {
  write(`${dir}/tasks/main.yml`, `- debug: msg=${path.basename(dir)}\n`);
}

const load = (file: string, rolesPath: string[] = [], cwd = root) =>
  loadPlaybook(file, { lookupModule, moduleNames: moduleNames(), roles: { playbookDir: path.dirname(file), rolesPath, cwd } });

function loadError(file: string): ParseError {
  try {
    load(file);
  } catch (err) {
    assert.ok(err instanceof ParseError, String(err));
    return err instanceof ParseErrors ? err.errors[0]! : err;
  }
  assert.fail('expected a ParseError');
}

/** Role names of a role block tree, in run order (dependencies first). */
function runOrder(items: TaskItem[]): string[] {
  const out: string[] = [];
  for (const item of items) {
    if (item.type === 'block') {
      if (item.role) out.push(`${item.role.name}(`);
      out.push(...runOrder(item.block));
      if (item.role) out.push(')');
    } else if (item.type === 'task') out.push(item.name);
  }
  return out;
}

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'tsplay-roles-unit-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('role search path', () => {
  test('PLAYBOOK_DIR/roles, PLAYBOOK_DIR, roles path, the project roles/, then npm packages, in that order', () => {
    const base = path.join(root, 'search');
    const pb = path.join(base, 'pb');
    const rp = path.join(base, 'rp');
    const project = path.join(base, 'project');
    for (const dir of [`search/pb/roles/a`, `search/pb/a`, `search/pb/b`, `search/rp/a`, `search/rp/b`, `search/rp/c`, `search/project/roles/c`, `search/project/roles/d`]) role(dir);
    const opts = { playbookDir: pb, rolesPath: [rp], cwd: project };
    assert.deepEqual(roleSearchDirs(opts), [path.join(pb, 'roles'), pb, rp, path.join(project, 'roles')]);
    assert.equal(resolveRole('a', opts)?.dir, path.join(pb, 'roles', 'a'));
    assert.equal(resolveRole('b', opts)?.dir, path.join(pb, 'b'));
    assert.equal(resolveRole('c', opts)?.dir, path.join(rp, 'c'));
    assert.equal(resolveRole('d', opts)?.dir, path.join(project, 'roles', 'd'));
    assert.equal(resolveRole('nope', opts), undefined);
    // a path is a path: its last component is the role's name
    assert.deepEqual(resolveRole(path.join(rp, 'a'), opts), { name: 'a', dir: path.join(rp, 'a') });
    assert.deepEqual(resolveRole('rp/b', { playbookDir: base, cwd: project }), { name: 'b', dir: path.join(rp, 'b') });
  });

  test('the roles path comes from TSPLAY_ROLES_PATH when not given', () => {
    const dir = path.join(root, 'envpath');
    role('envpath/e');
    const saved = process.env.TSPLAY_ROLES_PATH;
    process.env.TSPLAY_ROLES_PATH = `/nonexistent:${dir}`;
    try {
      assert.deepEqual(resolveRole('e', { cwd: root }), { name: 'e', dir: path.join(dir, 'e') });
    } finally {
      if (saved === undefined) delete process.env.TSPLAY_ROLES_PATH;
      else process.env.TSPLAY_ROLES_PATH = saved;
    }
  });

  test('npm packages declare roles in package.json (tsplay.roles or tsplay.role), found walking up node_modules', () => {
    const project = path.join(root, 'npmproj');
    write('npmproj/node_modules/multi/package.json', JSON.stringify({ name: 'multi', version: '1.0.0', tsplay: { roles: { alpha: 'roles/alpha', beta: 'lib/beta' } } }));
    role('npmproj/node_modules/multi/roles/alpha');
    role('npmproj/node_modules/multi/lib/beta');
    write('npmproj/node_modules/@acme/gamma/package.json', JSON.stringify({ name: '@acme/gamma', version: '1.0.0', tsplay: { role: '.' } }));
    role('npmproj/node_modules/@acme/gamma');
    write('npmproj/node_modules/plain/package.json', JSON.stringify({ name: 'plain', version: '1.0.0' }));
    role('npmproj/node_modules/plain'); // a package that declares no role is not one
    const opts = { playbookDir: path.join(project, 'playbooks', 'deep'), cwd: path.join(root, 'elsewhere') };
    assert.equal(resolveRole('alpha', opts)?.dir, path.join(project, 'node_modules/multi/roles/alpha'));
    assert.equal(resolveRole('beta', opts)?.dir, path.join(project, 'node_modules/multi/lib/beta'));
    assert.deepEqual(resolveRole('gamma', opts), { name: 'gamma', dir: path.join(project, 'node_modules/@acme/gamma') });
    assert.equal(resolveRole('plain', opts), undefined);
    // a folder in the search path wins over a package
    role('npmproj/playbooks/deep/roles/alpha');
    assert.equal(resolveRole('alpha', opts)?.dir, path.join(project, 'playbooks/deep/roles/alpha'));
  });
});

describe('loading roles', () => {
  test('play roles become blocks after pre_tasks; meta dependencies come first, in order; handlers of roles first', () => {
    write('deps/roles/common/tasks/main.yml', '- name: common task\n  debug: msg=common\n');
    write('deps/roles/db/tasks/main.yml', '- name: db task\n  debug: msg=db\n');
    write('deps/roles/db/meta/main.yml', 'dependencies:\n  - common\n');
    write('deps/roles/web/meta/main.yml', 'allow_duplicates: false\ndependencies:\n  - role: common\n  - { role: db, db_port: 5432, tags: [dbtag], when: true }\n');
    write('deps/roles/web/tasks/main.yml', '- name: web task\n  debug: msg=web\n  notify: reload web\n');
    write('deps/roles/web/handlers/main.yml', '- name: reload web\n  debug: msg=reload\n');
    write('deps/roles/web/defaults/main.yml', 'web_port: 80\n');
    write('deps/roles/web/vars/main/a.yml', 'web_user: a\n');
    write('deps/roles/web/vars/main/b.yaml', 'web_group: b\n');
    const file = write('deps/site.yml', '- hosts: all\n  roles:\n    - role: web\n      vars: { web_port: 8080 }\n      listen_on: any\n      become: true\n  handlers:\n    - name: play handler\n      debug: msg=x\n');
    const play = load(file).plays[0]!;
    assert.deepEqual(runOrder(play.roles), ['web(', 'common(', 'common : common task', ')', 'db(', 'common(', 'common : common task', ')', 'db : db task', ')', 'web : web task', ')']);
    const web = play.roles[0]!;
    assert.equal(web.role!.name, 'web');
    assert.deepEqual(web.role!.params, { listen_on: 'any', web_port: 8080 }, 'vars: and unknown keys are role parameters');
    assert.equal(web.kw.become, true, 'keywords of the entry apply to the role');
    assert.deepEqual(web.role!.defaults, { web_port: 80 });
    assert.deepEqual(web.role!.vars, { web_user: 'a', web_group: 'b' }, 'vars/main/ is a folder of files');
    const deps = web.block.filter((i): i is BlockNode => i.type === 'block');
    const common1 = deps[0]!;
    const common2 = (deps[1]!.block[0] as BlockNode);
    assert.equal(common1.role!.dedupKey, common2.role!.dedupKey, 'the same role with the same parameters runs once');
    assert.deepEqual(deps[1]!.kw.tags, ['dbtag']);
    assert.deepEqual(deps[1]!.role!.params, { db_port: 5432 });
    assert.deepEqual(deps[1]!.role!.parents, ['web']);
    // role handlers, then the play's
    const handlerNames = play.handlers.flatMap((h) => (h.type === 'block' ? h.block.map((t) => t.name) : [h.name]));
    assert.deepEqual(handlerNames, ['web : reload web', 'play handler']);
    assert.deepEqual(play.publicRoles.map((r) => r.name).sort(), ['common', 'common', 'db', 'web']);
  });

  test('import_role is inlined with its keywords; include_role is loaded now when its name is plain', () => {
    write('imp/roles/r/tasks/main.yml', '- name: main\n  debug: msg=main\n');
    write('imp/roles/r/tasks/second.yaml', '- name: second\n  debug: msg=second\n');
    const file = write('imp/site.yml', [
      '- hosts: all',
      '  tasks:',
      '    - import_role: { name: r, tasks_from: second }',
      '      tags: [t1]',
      '      when: x is defined',
      '    - include_role: name=r',
      '      loop: [1, 2]',
      '    - include_role: { name: "{{ which }}" }',
      '',
    ].join('\n'));
    const play: PlayNode = load(file).plays[0]!;
    const imported = play.tasks[0] as BlockNode;
    assert.equal(imported.type, 'block');
    assert.equal(imported.role!.entryPoint, 'second');
    assert.deepEqual(runOrder([imported]), ['r(', 'r : second', ')']);
    assert.deepEqual(imported.kw.tags, ['t1']);
    assert.equal(imported.kw.when, 'x is defined');
    const included = play.tasks[1]!;
    assert.equal(included.type, 'include_role');
    assert.ok(included.type === 'include_role' && included.loaded && included.role === 'r' && !included.public);
    const dynamic = play.tasks[2]!;
    assert.ok(dynamic.type === 'include_role' && dynamic.loaded === undefined, 'a templated name is resolved per host');
  });
});

describe('role errors, with positions', () => {
  test('a role that is not found: named, at its reference, with the folders searched', () => {
    const file = write('nf/site.yml', '- hosts: all\n  roles:\n    - common\n    - role: missing_role\n');
    role('nf/roles/common');
    const err = loadError(file);
    assert.equal(err.code, 'FILE_NOT_FOUND');
    assert.match(err.message, /^the role 'missing_role' was not found in /);
    assert.ok(err.message.includes(path.join(root, 'nf', 'roles')), err.message);
    assert.deepEqual([err.pos?.file, err.pos?.line, err.pos?.col], [file, 4, 13]);
  });

  test('a bad task in a role file is reported at the role file line', () => {
    const taskFile = write('bad/roles/broken/tasks/main.yml', '- name: ok\n  debug: msg=x\n- name: typo\n  debugg: msg=x\n');
    const file = write('bad/site.yml', '- hosts: all\n  roles: [broken]\n');
    const err = loadError(file);
    assert.equal(err.code, 'UNKNOWN_MODULE');
    assert.deepEqual([err.pos?.file, err.pos?.line, err.pos?.col], [taskFile, 4, 3]);
  });

  test('a dependency loop, a missing tasks_from and a missing dependency', () => {
    write('loop/roles/a/meta/main.yml', 'dependencies: [b]\n');
    const bMeta = write('loop/roles/b/meta/main.yml', 'dependencies:\n  - a\n');
    const loopFile = write('loop/site.yml', '- hosts: all\n  roles: [a]\n');
    const loop = loadError(loopFile);
    assert.equal(loop.code, 'INCLUDE_LOOP');
    assert.match(loop.message, /role dependency loop: a → b → a/);
    assert.deepEqual([loop.pos?.file, loop.pos?.line], [bMeta, 2]);

    role('from/roles/r');
    const fromFile = write('from/site.yml', '- hosts: all\n  tasks:\n    - import_role:\n        name: r\n        tasks_from: nope\n');
    const from = loadError(fromFile);
    assert.equal(from.code, 'FILE_NOT_FOUND');
    assert.match(from.message, /tasks\/nope/);
    assert.deepEqual([from.pos?.file, from.pos?.line], [fromFile, 4]);

    const depMeta = write('dep/roles/top/meta/main.yml', 'dependencies:\n  - { role: ghost }\n');
    const depFile = write('dep/site.yml', '- hosts: all\n  roles: [top]\n');
    const dep = loadError(depFile);
    assert.match(dep.message, /the role 'ghost' was not found/);
    assert.deepEqual([dep.pos?.file, dep.pos?.line, dep.pos?.col], [depMeta, 2, 13]);
  });

  test('include_role refuses task keywords it cannot carry, import_role refuses loops', () => {
    role('kw/roles/r');
    const file = write('kw/site.yml', '- hosts: all\n  tasks:\n    - include_role: { name: r }\n      become: true\n');
    const err = loadError(file);
    assert.match(err.message, /keyword 'become' cannot be used on include_role \(use 'apply:'/);
    assert.deepEqual([err.pos?.line, err.pos?.col], [4, 7]);
    const loopFile = write('kw/loop.yml', '- hosts: all\n  tasks:\n    - import_role: { name: r }\n      loop: [1]\n');
    assert.match(loadError(loopFile).message, /You cannot use loops on 'import_role'/);
  });
});

describe('preflight knows roles', () => {
  const inventoryFile = () => write('pf/inventory.ini', 'h1 ansible_connection=local\n');

  test('role defaults, vars and params count as defined; a role handler answers to "ROLE : name"', () => {
    write('pf/roles/r/defaults/main.yml', 'r_port: 1\n');
    write('pf/roles/r/vars/main.yml', 'r_user: u\n');
    write('pf/roles/r/tasks/main.yml', '- debug: msg="{{ r_port }} {{ r_user }} {{ r_param }} {{ role_path }}"\n  notify: \"r : restart\"\n');
    write('pf/roles/r/handlers/main.yml', '- name: restart\n  debug: msg=x\n');
    const file = write('pf/site.yml', '- hosts: all\n  roles:\n    - { role: r, r_param: 2 }\n  tasks:\n    - debug: msg="{{ r_port }}"\n      notify: restart\n');
    const playbook = load(file);
    const inventory = loadInventory([inventoryFile()], { playbookDir: path.dirname(file) });
    assert.deepEqual(preflight(playbook, inventory, {}, { checkVariables: true }), [false]);
  });

  test('a notify nobody answers, inside a role, is an error at the role task', () => {
    const tasks = write('pf2/roles/r/tasks/main.yml', '- debug: msg=x\n  notify: nobody\n');
    const file = write('pf2/site.yml', '- hosts: all\n  roles: [r]\n');
    const playbook = load(file);
    const inventory = loadInventory([inventoryFile()], { playbookDir: path.dirname(file) });
    assert.throws(() => preflight(playbook, inventory, {}, { checkVariables: true }), (err: ParseError) => {
      assert.match(err.message, /no handler named or listening for 'nobody'/);
      assert.equal(err.pos?.file, tasks);
      return true;
    });
  });
});
