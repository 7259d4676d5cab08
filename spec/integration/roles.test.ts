// Roles run through the CLI on local hosts: play roles with dependencies (once), import_role,
// include_role (loop, public, tasks_from), templates/ and files/ of the role, role handlers,
// variable precedence, argument specs, a role installed from a local npm tarball; a second
// run changes nothing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir, recap } from '../helpers/cli.js';

type Event = Record<string, any>;

function writeTree(root: string, files: Record<string, string>): void {
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(root, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
}

const INVENTORY = 'h1 ansible_connection=local\nh2 ansible_connection=local\n\n[all:vars]\ninv_over_default=inventory\n';

/** The site: a role `web` depending on `common` (twice reached), import/include_role, handlers. */
const SITE: Record<string, string> = {
  'inventory.ini': INVENTORY,
  'roles/common/tasks/main.yml': [
    '- name: common marker',
    '  lineinfile: { path: "{{ out }}/common.log", line: "common ran {{ common_flavour }}", create: true }',
    '',
  ].join('\n'),
  'roles/common/defaults/main.yml': 'common_flavour: plain\n',
  'roles/web/meta/main.yml': 'dependencies:\n  - common\n  - role: common\n',
  'roles/web/defaults/main.yml': [
    'web_port: 80',
    'inv_over_default: role default',
    'play_over_rolevar: role default',
    'web_banner: "port {{ web_port }}"',
    '',
  ].join('\n'),
  'roles/web/vars/main.yml': 'play_over_rolevar: role vars\nweb_user: www\n',
  'roles/web/templates/site.conf.j2': 'port={{ web_port }} user={{ web_user }} banner={{ web_banner }} inv={{ inv_over_default }} rv={{ play_over_rolevar }}\n',
  'roles/web/files/static.txt': 'static from the role\n',
  'roles/web/tasks/main.yml': [
    '- name: config from templates/',
    '  template: { src: site.conf.j2, dest: "{{ out }}/{{ inventory_hostname }}-site.conf" }',
    '  notify: restart web',
    '- name: file from files/',
    '  copy: { src: static.txt, dest: "{{ out }}/{{ inventory_hostname }}-static.txt" }',
    '  notify: "web : reload everything"',
    '- include_tasks: more.yml',
    '- name: include_vars from the role vars/',
    '  include_vars: extra_vars.yml',
    '- name: playbook templates/ as the fallback',
    '  template: { src: shared.j2, dest: "{{ out }}/{{ inventory_hostname }}-shared.txt" }',
    '',
  ].join('\n'),
  'roles/web/vars/extra_vars.yml': 'from_include_vars: role vars folder\n',
  'templates/shared.j2': 'shared {{ from_include_vars }}\n',
  'roles/web/tasks/more.yml': '- name: more\n  debug: { msg: "more {{ role_name }} {{ role_path | basename }}" }\n',
  'roles/web/tasks/extra.yml': '- name: extra entry\n  debug: { msg: "extra {{ item }} {{ extra_param | default(\'none\') }}" }\n',
  'roles/web/handlers/main.yml': [
    '- name: restart web',
    '  lineinfile: { path: "{{ out }}/{{ inventory_hostname }}-handlers.log", line: "restart {{ web_user }}", create: true }',
    '- name: reload',
    '  listen: reload everything',
    '  lineinfile: { path: "{{ out }}/{{ inventory_hostname }}-handlers.log", line: "reload", create: true }',
    '',
  ].join('\n'),
  'roles/pub/defaults/main.yml': 'pub_value: from pub\n',
  'roles/pub/tasks/main.yml': '- name: pub ran\n  debug: { msg: "pub" }\n',
  'roles/priv/defaults/main.yml': 'priv_value: from priv\n',
  'roles/priv/tasks/main.yml': '- name: priv ran\n  debug: { msg: "priv {{ priv_value }}" }\n',
  'roles/imported/tasks/main.yml': '- name: imported task\n  debug: { msg: "imported {{ imp_param }}" }\n',
  'site.yml': [
    '- hosts: all',
    '  gather_facts: false',
    '  vars:',
    '    play_over_rolevar: play vars',
    '  pre_tasks:',
    '    - name: pre sees play-role defaults',
    '      debug: { msg: "pre {{ web_port }}" }',
    '  roles:',
    '    - role: web',
    '      web_port: 8080',
    '    - common',
    '  tasks:',
    '    - name: after roles',
    '      debug: { msg: "after {{ web_user }} {{ web_port }}" }',
    '    - import_role: { name: imported }',
    '      vars: { imp_param: given }',
    '      tags: [imp]',
    '    - include_role: { name: web, tasks_from: extra }',
    '      loop: [a, b]',
    '      vars: { extra_param: p }',
    '    - include_role: { name: priv }',
    '    - name: private role defaults stay private',
    '      debug: { msg: "priv? {{ priv_value | default(\'hidden\') }}" }',
    '    - include_role: { name: "{{ which_role }}" }',
    '      vars: { which_role: imported, imp_param: dynamic }',
    '    - include_role: { name: pub, public: true }',
    '    - name: public role defaults are visible after',
    '      debug: { msg: "pub? {{ pub_value }}" }',
    '',
  ].join('\n'),
};

function run(cwd: string, out: string, args: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const result = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '-e', `out=${out}`, '--no-retry-files', '--json', ...args], { cwd, env });
  return { ...result, events: events(result.stdout) };
}

const results = (evs: Event[], task: string) => evs.filter((e) => e.kind === 'host-result' && e.task === task);
const msgs = (evs: Event[], task: string, host = 'h1') => results(evs, task).filter((e) => e.host === host).map((e) => e.result?.msg);
const taskNames = (evs: Event[]) => evs.filter((e) => e.kind === 'task-start').map((e) => e.name as string);

describe('roles on two local hosts', () => {
  let tmp: { dir: string; cleanup: () => void };
  let out: string;
  let first: ReturnType<typeof run>;
  let second: ReturnType<typeof run>;

  before(() => {
    tmp = tempDir('tsplay-roles-');
    out = path.join(tmp.dir, 'out');
    mkdirSync(out);
    writeTree(tmp.dir, SITE);
    first = run(tmp.dir, out);
    second = run(tmp.dir, out);
  });
  after(() => tmp.cleanup());

  test('the run succeeds, in Ansible order: pre_tasks, dependencies, the role, tasks, handlers', () => {
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
    const names = taskNames(first.events);
    const at = (n: string) => names.indexOf(n);
    assert.ok(at('pre sees play-role defaults') < at('common : common marker'));
    assert.ok(at('common : common marker') < at('web : config from templates/'));
    assert.ok(at('web : config from templates/') < at('after roles'));
    assert.ok(at('after roles') < at('imported : imported task'));
    assert.ok(names.indexOf('web : restart web') > at('public role defaults are visible after'), 'handlers run at the end of the section');
  });

  test('a dependency reached three times with the same parameters runs once per host', () => {
    assert.equal(taskNames(first.events).filter((n) => n === 'common : common marker').length, 1);
    assert.equal(results(first.events, 'common : common marker').length, 2, 'once on each host');
    assert.equal(readFileSync(path.join(out, 'common.log'), 'utf8'), 'common ran plain\n');
  });

  test('role templates/ and files/ are found; role params > role vars > play vars, inventory > role defaults', () => {
    assert.equal(
      readFileSync(path.join(out, 'h1-site.conf'), 'utf8'),
      'port=8080 user=www banner=port 8080 inv=inventory rv=role vars\n',
    );
    assert.equal(readFileSync(path.join(out, 'h2-static.txt'), 'utf8'), 'static from the role\n');
    assert.equal(readFileSync(path.join(out, 'h2-shared.txt'), 'utf8'), 'shared role vars folder\n');
  });

  test('variables: play roles are visible before and after; include_role only when public', () => {
    assert.deepEqual(msgs(first.events, 'pre sees play-role defaults'), ['pre 80']);
    assert.deepEqual(msgs(first.events, 'after roles'), ['after www 80'], 'role params stay inside the role');
    assert.deepEqual(msgs(first.events, 'web : more'), ['more web web'], 'include_tasks in a role is relative to its tasks/');
    assert.deepEqual(msgs(first.events, 'imported : imported task'), ['imported given', 'imported dynamic'], 'a templated include_role name is resolved at run time');
    assert.deepEqual(msgs(first.events, 'priv : priv ran'), ['priv from priv']);
    assert.deepEqual(msgs(first.events, 'private role defaults stay private'), ['priv? hidden']);
    assert.deepEqual(msgs(first.events, 'public role defaults are visible after'), ['pub? from pub']);
  });

  test('include_role with a loop and tasks_from runs the entry point once per item, with its vars', () => {
    assert.deepEqual(msgs(first.events, 'web : extra entry'), ['extra a p', 'extra b p']);
  });

  test('role handlers answer to their name, to "ROLE : topic" and listen, with the role variables', () => {
    assert.equal(readFileSync(path.join(out, 'h1-handlers.log'), 'utf8'), 'restart www\nreload\n');
    assert.equal(results(first.events, 'web : restart web').length, 2);
  });

  test('--tags selects the imported role through the import tags', () => {
    const tagged = run(tmp.dir, out, ['--tags', 'imp']);
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.deepEqual(taskNames(tagged.events), ['imported : imported task']);
  });

  test('the second run reports changed=0', () => {
    assert.equal(second.code, 0, second.stderr);
    for (const [host, s] of Object.entries(recap(second.events))) assert.equal(s.changed, 0, `${host} changed on the second run`);
  });
});

describe('a role installed from a local npm tarball', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-roles-npm-');
  });
  after(() => tmp.cleanup());

  test('npm pack, npm install --offline: the role is found by name and run', () => {
    const pkg = path.join(tmp.dir, 'pkg');
    writeTree(pkg, {
      'package.json': JSON.stringify({ name: '@acme/motd-role', version: '1.0.0', files: ['role'], tsplay: { role: 'role' } }),
      'role/tasks/main.yml': '- name: write motd\n  copy: { content: "{{ motd_text }}\\n", dest: "{{ out }}/motd" }\n',
      'role/defaults/main.yml': 'motd_text: hello from npm\n',
      'role/meta/main.yml': 'dependencies:\n  - local_dep\n',
    });
    const packed = spawnSync('npm', ['pack', '--pack-destination', tmp.dir], { cwd: pkg, encoding: 'utf8' });
    assert.equal(packed.status, 0, packed.stderr);
    const tgz = readdirSync(tmp.dir).find((f) => f.endsWith('.tgz'))!;
    const project = path.join(tmp.dir, 'project');
    writeTree(project, {
      'package.json': JSON.stringify({ name: 'site', version: '1.0.0', private: true }),
      'inventory.ini': 'h1 ansible_connection=local\n',
      'roles/local_dep/tasks/main.yml': '- name: dep first\n  debug: { msg: dep }\n',
      'playbooks/site.yml': '- hosts: all\n  gather_facts: false\n  roles: [motd-role]\n',
    });
    const installed = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--offline', path.join(tmp.dir, tgz)], { cwd: project, encoding: 'utf8' });
    assert.equal(installed.status, 0, installed.stderr);
    const out = path.join(tmp.dir, 'out');
    mkdirSync(out);
    const args = ['run', 'playbooks/site.yml', '-i', 'inventory.ini', '-e', `out=${out}`, '--no-retry-files', '--json'];
    const first = tsplay(args, { cwd: project });
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
    assert.deepEqual(taskNames(events(first.stdout)), ['local_dep : dep first', 'motd-role : write motd']);
    assert.equal(readFileSync(path.join(out, 'motd'), 'utf8'), 'hello from npm\n');
    const again = tsplay(args, { cwd: project });
    assert.equal(recap(events(again.stdout)).h1!.changed, 0);
  });
});

describe('role errors through the CLI', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-roles-err-');
  });
  after(() => tmp.cleanup());

  test('a role that is not found: exit 4 before any host, with file:line:col and the folders searched', () => {
    writeTree(tmp.dir, { 'nf/inventory.ini': 'h1 ansible_connection=local\n', 'nf/site.yml': '- hosts: all\n  roles:\n    - role: nowhere\n' });
    const result = tsplay(['run', 'site.yml', '-i', 'inventory.ini'], { cwd: path.join(tmp.dir, 'nf'), env: { TSPLAY_ROLES_PATH: '/opt/my-roles' } });
    assert.equal(result.code, 4);
    assert.match(result.stderr, /site\.yml:3:13: the role 'nowhere' was not found in .*roles.*\/opt\/my-roles/);
  });

  test('argument specs: a wrong type fails the host before the play runs anything on it', () => {
    writeTree(tmp.dir, {
      'spec/inventory.ini': 'good ansible_connection=local port=8080\nbad ansible_connection=local port=eighty\n',
      'spec/roles/svc/meta/argument_specs.yml': 'argument_specs:\n  main:\n    options:\n      svc_port:\n        type: int\n        required: true\n',
      'spec/roles/svc/tasks/main.yml': '- name: port\n  debug: { msg: "port {{ svc_port }}" }\n',
      'spec/site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - debug: { msg: first }\n  roles:\n    - role: svc\n      svc_port: "{{ port }}"\n',
    });
    const result = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '--json', '--no-retry-files'], { cwd: path.join(tmp.dir, 'spec') });
    assert.equal(result.code, 2, result.stderr);
    const evs = events(result.stdout);
    const stats = recap(evs);
    assert.equal(stats.bad!.failed, 1);
    assert.equal(stats.good!.failed, 0);
    const failed = evs.find((e) => e.kind === 'host-result' && e.host === 'bad' && e.status === 'failed')!;
    assert.match(failed.msg, /svc/);
    assert.match(failed.msg, /svc_port/);
    assert.equal(evs.filter((e) => e.kind === 'host-result' && e.host === 'bad' && e.status !== 'failed').length, 0, 'nothing ran on the bad host');
    assert.deepEqual(msgs(evs, 'svc : port', 'good'), ['port 8080']);
  });
});
