// Engine fixes found by the role authors, as a user meets them through the CLI: set_fact
// accumulating over a loop, role argument errors naming where the bad value was set,
// meta: reset_connection, `tsplay inventory` with vaulted group_vars, booleans in
// environment values, and the recap after a rescue (checked against ansible-playbook 2.14).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir, recap } from '../helpers/cli.js';

type Event = Record<string, any>;

describe('engine fixes', () => {
  let tmp: { dir: string; cleanup: () => void };
  const write = (rel: string, text: string): string => {
    const file = path.join(tmp.dir, rel);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  const run = (args: string[], input?: string) => tsplay(['run', ...args, '--json', '--no-retry-files'], { cwd: tmp.dir, ...(input !== undefined ? { input } : {}) });
  const results = (evs: Event[], task: string) => evs.filter((e) => e.kind === 'host-result' && e.task === task && !e.loopSummary);

  before(() => {
    tmp = tempDir('tsplay-fixes-');
    write('local.ini', 'h1 ansible_connection=local\n');
  });
  after(() => tmp?.cleanup());

  test('set_fact in a loop sees the previous item\'s value; register is set only after the loop', () => {
    write(
      'loop.yml',
      `- hosts: all
  gather_facts: false
  tasks:
    - set_fact: {acc: []}
    - set_fact:
        acc: "{{ acc + [item] }}"
      loop: [a, b, c]
    - name: accumulated
      debug: {msg: "{{ acc | join(',') }}"}
    - set_fact: {r: before}
    - name: looped register
      debug: {msg: "sees {{ r }}"}
      register: r
      loop: [x, y]
    - name: after the loop
      debug: {msg: "{{ r.results | map(attribute='msg') | join(';') }}"}
`,
    );
    const out = run(['loop.yml', '-i', 'local.ini']);
    assert.equal(out.code, 0, out.stderr + out.stdout.slice(-2000));
    const evs = events(out.stdout);
    assert.equal(results(evs, 'accumulated')[0]?.result.msg, 'a,b,c');
    // as in Ansible: the register of a looped task is not visible to its next item
    assert.equal(results(evs, 'after the loop')[0]?.result.msg, 'sees before;sees before');
  });

  describe('role argument errors name where the bad value was set', () => {
    before(() => {
      write('roles/fw/meta/argument_specs.yml', 'argument_specs:\n  main:\n    options:\n      fw_port:\n        type: int\n        required: true\n');
      write('roles/fw/tasks/main.yml', '- debug: {msg: "{{ fw_port }}"}\n');
      write('inv/hosts', 'h1 ansible_connection=local\n');
      write('inv/group_vars/all.yml', '# from the group\nfw_port: gv\n');
      write('hv/hosts', 'h1 ansible_connection=local\n');
      write('hv/host_vars/h1.yml', 'fw_port: hostvar\n');
      write('ini-hosts', 'h1 ansible_connection=local fw_port=inihost\n');
      write('play-roles.yml', '- hosts: all\n  gather_facts: false\n  roles: [fw]\n');
      write('play-param.yml', '- hosts: all\n  gather_facts: false\n  roles:\n    - role: fw\n      fw_port: http\n');
      write('play-include.yml', '- hosts: all\n  gather_facts: false\n  tasks:\n    - include_role:\n        name: fw\n      vars:\n        fw_port: inc\n');
      write('extra.yml', 'fw_port: extra\n');
    });
    const failure = (args: string[]) => {
      const out = run(args);
      assert.equal(out.code, 2, out.stderr + out.stdout.slice(-2000));
      const failed = events(out.stdout).find((e) => e.kind === 'host-result' && e.status === 'failed');
      assert.ok(failed, out.stdout.slice(-2000));
      assert.doesNotMatch(failed.msg, /cannot tell/);
      return String(failed.msg);
    };

    test('inventory group_vars and host_vars files', () => {
      assert.match(failure(['play-roles.yml', '-i', 'inv']), /inv\/group_vars\/all\.yml:2:10: role 'fw': .*fw_port: expected int, got 'gv'/);
      assert.match(failure(['play-roles.yml', '-i', 'hv']), /hv\/host_vars\/h1\.yml:1:10: role 'fw': .*got 'hostvar'/);
    });

    test('an INI inventory host line: file:line', () => {
      assert.match(failure(['play-roles.yml', '-i', 'ini-hosts']), /ini-hosts:1:29: role 'fw': .*got 'inihost'/);
    });

    test('role parameters and include_role vars', () => {
      assert.match(failure(['play-param.yml', '-i', 'local.ini']), /play-param\.yml:5:16: role 'fw': .*got 'http'/);
      assert.match(failure(['play-include.yml', '-i', 'local.ini']), /play-include\.yml:7:18: role 'fw': .*got 'inc'/);
    });

    test('-e @file names the file', () => {
      assert.match(failure(['play-roles.yml', '-i', 'local.ini', '-e', '@extra.yml']), /extra\.yml:1:10: role 'fw': .*got 'extra'/);
    });
  });

  test('meta: reset_connection is accepted and the play goes on', () => {
    write('reset.yml', '- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "true"\n    - meta: reset_connection\n    - name: after\n      command: "true"\n');
    const out = run(['reset.yml', '-i', 'local.ini']);
    assert.equal(out.code, 0, out.stderr + out.stdout.slice(-2000));
    assert.equal(results(events(out.stdout), 'after')[0]?.status, 'changed');
  });

  test('tsplay inventory reads vaulted group_vars with the vault flags and masks the secrets', () => {
    write('vinv/hosts', 'h1 ansible_connection=local\n');
    const secretFile = write('vinv/group_vars/all.yml', 'db_password: "Sup3r-s3cret"\n');
    const password = write('vault-pass.txt', 'inventory-pass\n');
    const encrypt = tsplay(['vault', 'encrypt', secretFile, '--vault-password-file', password], { cwd: tmp.dir });
    assert.equal(encrypt.code, 0, encrypt.stderr);
    const without = tsplay(['inventory', '-i', 'vinv', '--host', 'h1'], { cwd: tmp.dir });
    assert.equal(without.code, 4, without.stderr);
    assert.match(without.stderr, /no vault secrets found/);
    for (const flags of [['--vault-password-file', password], ['--vault-id', `prod@${password}`]]) {
      const host = tsplay(['inventory', '-i', 'vinv', '--host', 'h1', ...flags], { cwd: tmp.dir });
      assert.equal(host.code, 0, host.stderr);
      assert.deepEqual(JSON.parse(host.stdout), { ansible_connection: 'local', db_password: '********' });
    }
    const asked = tsplay(['inventory', '-i', 'vinv', '--list', '-J'], { cwd: tmp.dir, input: 'inventory-pass\n' });
    assert.equal(asked.code, 0, asked.stderr);
    assert.equal(JSON.parse(asked.stdout)._meta.hostvars.h1.db_password, '********');
    const graph = tsplay(['inventory', '-i', 'vinv', '--graph', '--vars', '--ask-vault-pass'], { cwd: tmp.dir, input: 'inventory-pass\n' });
    assert.equal(graph.code, 0, graph.stderr);
    assert.match(graph.stdout, /db_password = \*{8}/);
    for (const out of [asked, graph]) assert.doesNotMatch(out.stdout + out.stderr, /Sup3r/);
  });

  test('booleans in environment values and inside text print as Ansible prints them (True/False)', () => {
    write(
      'env.yml',
      `- hosts: all
  gather_facts: false
  vars: {flag: true}
  tasks:
    - name: env
      shell: 'echo "F=$F G=$G"'
      environment: {F: "{{ flag }}", G: "x{{ flag }}"}
    - name: text
      debug: {msg: "a {{ flag }} b {{ not flag }}"}
`,
    );
    const out = run(['env.yml', '-i', 'local.ini']);
    assert.equal(out.code, 0, out.stderr + out.stdout.slice(-2000));
    const evs = events(out.stdout);
    assert.equal(results(evs, 'env')[0]?.result.stdout, 'F=True G=xTrue');
    assert.equal(results(evs, 'text')[0]?.result.msg, 'a True b False');
  });

  test('the recap after a rescue counts as ansible-playbook does', () => {
    const play = (tasks: string) => `- hosts: all\n  gather_facts: false\n  tasks:\n${tasks}`;
    const cases: Array<{ name: string; tasks: string; code: number; stats: Record<string, number> }> = [
      {
        name: 'rescue succeeds',
        tasks: '    - block:\n        - fail: {msg: one}\n      rescue:\n        - debug: {msg: rescued}\n',
        code: 0,
        stats: { ok: 1, failed: 0, rescued: 1 },
      },
      {
        name: 'rescue fails',
        tasks: '    - block:\n        - fail: {msg: two}\n      rescue:\n        - fail: {msg: rescue fails}\n      always:\n        - debug: {msg: always}\n',
        code: 2,
        stats: { ok: 1, failed: 1, rescued: 1 },
      },
      {
        name: 'nested',
        tasks:
          '    - block:\n        - block:\n            - fail: {msg: inner}\n          rescue:\n            - fail: {msg: inner rescue fails}\n      rescue:\n        - debug: {msg: outer}\n' +
          '    - block:\n        - block:\n            - fail: {msg: inner2}\n      rescue:\n        - fail: {msg: outer rescue fails}\n',
        code: 2,
        stats: { ok: 1, failed: 1, rescued: 3 },
      },
    ];
    for (const c of cases) {
      write('rescue.yml', play(c.tasks));
      const out = run(['rescue.yml', '-i', 'local.ini']);
      assert.equal(out.code, c.code, `${c.name}: ${out.stderr}`);
      const stats = recap(events(out.stdout)).h1!;
      assert.deepEqual({ ok: stats.ok, failed: stats.failed, rescued: stats.rescued }, c.stats, c.name);
    }
  });
});
