// `tsplay role init|doc|run` as a user meets them: a scaffolded role documents itself, an
// existing folder is never overwritten, and a role runs without a playbook on the local
// connection, its argument specs checked first.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, tempDir, snapshotTree, repoRoot } from '../helpers/cli.js';

const EXTRA_OPTIONS = `      demo_port:
        type: int
        default: 8080
        description: Port the demo listens on.
      demo_mode:
        type: str
        choices: [fast, safe]
        required: true
        description: How careful to be.
      demo_users:
        type: list
        elements: dict
        description: Accounts to create.
        options:
          name:
            type: str
            required: true
            description: Login name.
          shell:
            type: path
            default: /bin/sh
      demo_token:
        type: str
        no_log: true
        description: API token.
`;

describe('tsplay role init and role doc', () => {
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-role-init-');
  });
  after(() => tmp.cleanup());

  test('init makes the Ansible layout, each YAML file pointing at tsplay\'s schemas', () => {
    const r = tsplay(['role', 'init', 'demo', '--path', 'roles'], { cwd: tmp.dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Role demo was created successfully/);
    const role = path.join(tmp.dir, 'roles/demo');
    for (const file of ['tasks/main.yml', 'handlers/main.yml', 'defaults/main.yml', 'vars/main.yml', 'meta/main.yml', 'meta/argument_specs.yml', 'README.md', 'tests/test.yml', 'tests/inventory']) {
      assert.ok(existsSync(path.join(role, file)), file);
    }
    assert.deepEqual(readdirSync(path.join(role, 'templates')), []);
    assert.deepEqual(readdirSync(path.join(role, 'files')), []);
    const header = (file: string) => readFileSync(path.join(role, file), 'utf8').split('\n')[0]!;
    for (const [file, schema] of [['tasks/main.yml', 'tasks.schema.json'], ['handlers/main.yml', 'tasks.schema.json'], ['tests/test.yml', 'playbook.schema.json']] as const) {
      const m = /^# yaml-language-server: \$schema=(\S+)$/.exec(header(file));
      assert.ok(m, `${file}: ${header(file)}`);
      // a relative path that lands on the schemas/ folder shipped with tsplay
      assert.equal(path.resolve(path.dirname(path.join(role, file)), m[1]!), path.join(repoRoot, 'schemas', schema));
    }
    assert.match(readFileSync(path.join(role, 'tests/test.yml'), 'utf8'), /- hosts: all\n  roles:\n    - demo\n/);
    assert.match(readFileSync(path.join(role, 'defaults/main.yml'), 'utf8'), /^demo_greeting: Hello from demo$/m);
    const readme = readFileSync(path.join(role, 'README.md'), 'utf8');
    assert.match(readme, /`demo_greeting` \(type: str; optional; default: `Hello from demo`\): The message the role prints\./);
  });

  test('init refuses an existing folder and leaves it untouched', () => {
    const before = snapshotTree(path.join(tmp.dir, 'roles'));
    const r = tsplay(['role', 'init', 'demo', '--path', 'roles'], { cwd: tmp.dir });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stderr, /the directory .*roles\/demo already exists/);
    assert.equal(snapshotTree(path.join(tmp.dir, 'roles')), before);
    const bad = tsplay(['role', 'init', '../evil', '--path', 'roles'], { cwd: tmp.dir });
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /invalid role name/);
  });

  test('doc prints every option of every entry point, by name or by path', () => {
    appendFileSync(path.join(tmp.dir, 'roles/demo/meta/argument_specs.yml'), EXTRA_OPTIONS);
    const byName = tsplay(['role', 'doc', 'demo'], { cwd: tmp.dir });
    assert.equal(byName.code, 0, byName.stderr);
    const out = byName.stdout;
    assert.match(out, /^> ROLE: demo {4}\(.*roles\/demo\)$/m);
    assert.match(out, /^ENTRY POINT: main - Main entry point of the demo role$/m);
    assert.match(out, /^OPTIONS \(= is mandatory\):$/m);
    assert.match(out, /^- demo_greeting\n {8}The message the role prints\.\n {8}default: Hello from demo\n {8}type: str$/m);
    assert.match(out, /^- demo_port\n {8}Port the demo listens on\.\n {8}default: 8080\n {8}type: int$/m);
    assert.match(out, /^= demo_mode\n {8}How careful to be\.\n {8}choices: \[fast, safe\]\n {8}type: str$/m);
    assert.match(out, /^- demo_users\n {8}Accounts to create\.\n {8}elements: dict\n {8}type: list\n\n {8}OPTIONS:\n\n {8}= name\n {16}Login name\.\n {16}type: str\n\n {8}- shell\n {16}default: \/bin\/sh\n {16}type: path$/m);
    assert.match(out, /^- demo_token\n {8}API token\.\n {8}no_log: true\n {8}type: str$/m);
    const byPath = tsplay(['role', 'doc', './roles/demo'], { cwd: tmp.dir });
    assert.equal(byPath.code, 0, byPath.stderr);
    assert.equal(byPath.stdout, out);
  });

  test('doc --json has ansible-doc\'s shape', () => {
    const r = tsplay(['role', 'doc', 'demo', '--json'], { cwd: tmp.dir });
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    const main = doc.demo.entry_points.main;
    assert.equal(doc.demo.path, path.join(tmp.dir, 'roles/demo'));
    assert.deepEqual(Object.keys(main.options), ['demo_greeting', 'demo_port', 'demo_mode', 'demo_users', 'demo_token']);
    assert.deepEqual(main.options.demo_mode, { type: 'str', required: true, description: ['How careful to be.'], choices: ['fast', 'safe'] });
    assert.deepEqual(main.options.demo_users.options.shell, { type: 'path', required: false, default: '/bin/sh' });
  });

  test('doc of an unknown role, of a role without specs, of a broken spec', () => {
    const missing = tsplay(['role', 'doc', 'nope'], { cwd: tmp.dir });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /the role 'nope' was not found/);
    tsplay(['role', 'init', 'bare', '--path', 'roles'], { cwd: tmp.dir });
    writeFileSync(path.join(tmp.dir, 'roles/bare/meta/argument_specs.yml'), 'argument_specs:\n  main:\n    options:\n      x:\n        type: integer\n');
    const broken = tsplay(['role', 'doc', 'bare'], { cwd: tmp.dir });
    assert.equal(broken.code, 4);
    assert.match(broken.stderr, /argument_specs\.yml:5:15: .*unknown type 'integer'/);
  });
});

describe('tsplay role run on the local connection', () => {
  let tmp: { dir: string; cleanup: () => void };
  let out: string;
  before(() => {
    tmp = tempDir('tsplay-role-run-');
    out = path.join(tmp.dir, 'out');
    const init = tsplay(['role', 'init', 'web', '--path', 'roles'], { cwd: tmp.dir });
    assert.equal(init.code, 0, init.stderr);
    appendFileSync(path.join(tmp.dir, 'roles/web/meta/argument_specs.yml'), `      web_port:\n        type: int\n        default: 80\n        description: Port.\n      web_dest:\n        type: path\n        required: true\n`);
    appendFileSync(path.join(tmp.dir, 'roles/web/defaults/main.yml'), 'web_port: 80\n');
    appendFileSync(
      path.join(tmp.dir, 'roles/web/tasks/main.yml'),
      `- name: Write the config\n  copy:\n    content: "port={{ web_port }}\\n"\n    dest: "{{ web_dest }}"\n`,
    );
  });
  after(() => tmp.cleanup());

  const run = (...args: string[]) => tsplay(['role', 'run', 'web', '-i', 'localhost,', '-c', 'local', ...args], { cwd: tmp.dir });

  test('a missing required variable stops the run before any task of the role runs', () => {
    const r = run();
    assert.notEqual(r.code, 0, r.stdout + r.stderr);
    // the load-time check of undefined variables may see it before the argument spec does
    assert.match(r.stdout + r.stderr, /missing required argument 'web_dest'|undefined variable 'web_dest'/);
    assert.doesNotMatch(r.stdout, /TASK \[web : Say hello\]/);
  });

  test('--check reports the change and writes nothing; a real run writes; a second run changes nothing', () => {
    const check = run('-e', `web_dest=${out}`, '--check', '--diff');
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /changed: \[localhost\]/);
    assert.equal(existsSync(out), false, '--check wrote the file');
    const first = run('-e', `web_dest=${out}`, '-e', 'web_port=8080');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.match(first.stdout, /TASK \[web : Say hello\]/);
    assert.match(first.stdout, /"msg": "Hello from web"/);
    assert.equal(readFileSync(out, 'utf8'), 'port=8080\n');
    const again = run('-e', `web_dest=${out}`, '-e', 'web_port=8080');
    assert.match(again.stdout, /localhost +: ok=\d+ +changed=0 /);
  });

  test('a value its spec rejects fails with the variable and the expected type', () => {
    const r = run('-e', `web_dest=${out}`, '-e', 'web_port=eighty');
    assert.equal(r.code, 2, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /web_port: expected int, got 'eighty' \(str\)/);
  });

  test('--hosts picks the play\'s hosts; a host outside the pattern is left alone', () => {
    const r = run('-e', `web_dest=${out}`, '--hosts', 'nomatch*');
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.doesNotMatch(r.stdout, /TASK \[web : Say hello\]/);
  });

  test('an unknown role is an error before anything runs', () => {
    const r = tsplay(['role', 'run', 'nope', '-i', 'localhost,', '-c', 'local'], { cwd: tmp.dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the role 'nope' was not found/);
  });
});
