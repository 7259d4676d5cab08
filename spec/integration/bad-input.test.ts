// Bad input fails loudly and precisely, before any host is touched: exit 4 (5 for bad
// command-line options), a message naming file:line:col, a code frame, and no task run.
// Every playbook here starts with a task that would create a marker file: if the marker
// exists after the run, a task ran and the test fails.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, tempDir } from '../helpers/cli.js';

interface Case {
  name: string;
  /** Files to write, relative to the case folder; `{{MARK}}` is replaced by the marker path. */
  files: Record<string, string>;
  args: string[];
  code: number;
  /** The error code printed, e.g. YAML_TAB. */
  error: string;
  /** "file:line:col" expected in the message (file relative to the case folder), or undefined for option errors. */
  at?: string;
  message: RegExp;
}

const INVENTORY = '[web]\nweb1 ansible_connection=local\n';
const MARKER_TASK = `    - name: marker
      copy:
        content: ran
        dest: "{{MARK}}"
`;
const play = (tasks: string, head = '') => `- hosts: web\n${head}  tasks:\n${MARKER_TASK}${tasks}`;

const cases: Case[] = [
  {
    name: 'malformed YAML',
    files: { 'site.yml': play('    - debug: {msg: [1, 2}\n') },
    args: ['site.yml'], code: 4, error: 'YAML_SYNTAX', at: 'site.yml:7:', message: /YAML syntax error/,
  },
  {
    name: 'tab used for indentation',
    files: { 'site.yml': play('    - debug:\n\t\tmsg: hi\n') },
    args: ['site.yml'], code: 4, error: 'YAML_TAB', at: 'site.yml:8:1', message: /tab character/,
  },
  {
    name: 'duplicate key',
    files: { 'site.yml': play('    - debug:\n        msg: a\n        msg: b\n') },
    args: ['site.yml'], code: 4, error: 'YAML_DUPLICATE_KEY', at: 'site.yml:9:9', message: /duplicate key/,
  },
  {
    name: 'unknown play keyword',
    files: { 'site.yml': play('', '  gather_factz: false\n') },
    args: ['site.yml'], code: 4, error: 'UNKNOWN_KEYWORD', at: 'site.yml:2:3', message: /gather_factz.*gather_facts/s,
  },
  {
    name: 'misspelt module',
    files: { 'site.yml': play('    - name: typo\n      copyy:\n        content: x\n        dest: /tmp/x\n') },
    args: ['site.yml'], code: 4, error: 'UNKNOWN_MODULE', at: 'site.yml:8:7', message: /copyy.*copy/s,
  },
  {
    name: 'unknown module argument',
    files: { 'site.yml': play('    - copy:\n        content: x\n        dset: /tmp/x\n') },
    args: ['site.yml'], code: 4, error: 'MODULE_ARGS', at: 'site.yml:9:9', message: /dset.*dest/s,
  },
  {
    name: 'wrong argument type',
    files: { 'site.yml': play('    - file:\n        path: /tmp/x\n        mode: [1, 2]\n') },
    args: ['site.yml'], code: 4, error: 'MODULE_ARGS', at: 'site.yml:9:15', message: /mode/,
  },
  {
    name: 'missing required argument',
    files: { 'site.yml': play('    - copy:\n        content: x\n') },
    args: ['site.yml'], code: 4, error: 'MODULE_ARGS', at: 'site.yml:7:7', message: /dest/,
  },
  {
    name: 'undefined variable in a template',
    files: { 'site.yml': play('    - debug:\n        msg: "hello {{ no_such_var }}"\n') },
    args: ['site.yml'], code: 4, error: 'UNDEFINED_VARIABLE', at: 'site.yml:8:14', message: /no_such_var/,
  },
  {
    name: 'undefined variable in when',
    files: { 'site.yml': play('    - debug: msg=hi\n      when: missing_flag | bool\n') },
    args: ['site.yml'], code: 4, error: 'UNDEFINED_VARIABLE', at: 'site.yml:8:13', message: /missing_flag/,
  },
  {
    name: 'template syntax error',
    files: { 'site.yml': play('    - debug:\n        msg: "{{ broken "\n') },
    args: ['site.yml'], code: 4, error: 'TEMPLATE', at: 'site.yml:8:', message: /./,
  },
  {
    name: 'expression syntax error',
    files: { 'site.yml': play('    - debug: msg=hi\n      when: "1 =="\n') },
    args: ['site.yml'], code: 4, error: 'EXPRESSION', at: 'site.yml:8:', message: /./,
  },
  {
    name: 'bad host pattern',
    files: { 'site.yml': play('').replace('- hosts: web', '- hosts: "web[1"') },
    args: ['site.yml'], code: 4, error: 'HOST_PATTERN', at: 'site.yml:1:', message: /web\[1/,
  },
  {
    name: 'missing inventory',
    files: { 'site.yml': play('') },
    args: ['site.yml', '-i', 'no-such-inventory.ini'], code: 4, error: 'INVENTORY', message: /no-such-inventory/,
  },
  {
    name: 'inventory syntax error',
    files: { 'site.yml': play(''), 'bad.ini': '[web\nweb1\n' },
    args: ['site.yml', '-i', 'bad.ini'], code: 4, error: 'INVENTORY', at: 'bad.ini:1:', message: /./,
  },
  {
    name: 'missing vars file',
    files: { 'site.yml': play('', '  vars_files:\n    - vars/nope.yml\n') },
    args: ['site.yml'], code: 4, error: 'FILE_NOT_FOUND', at: 'site.yml:3:', message: /nope\.yml/,
  },
  {
    name: 'missing imported task file',
    files: { 'site.yml': play('    - import_tasks: tasks/nope.yml\n') },
    args: ['site.yml'], code: 4, error: 'FILE_NOT_FOUND', at: 'site.yml:7:', message: /nope\.yml/,
  },
  {
    name: 'include loop',
    files: {
      'site.yml': play('    - import_tasks: a.yml\n'),
      'a.yml': '- import_tasks: b.yml\n',
      'b.yml': '- import_tasks: a.yml\n',
    },
    args: ['site.yml'], code: 4, error: 'INCLUDE_LOOP', at: 'b.yml:1:', message: /a\.yml.*b\.yml.*a\.yml/s,
  },
  {
    name: 'notify names no handler',
    files: { 'site.yml': play('    - debug: msg=hi\n      notify: restart nginx\n') },
    args: ['site.yml'], code: 4, error: 'SCHEMA', at: 'site.yml:8:', message: /restart nginx/,
  },
  {
    name: 'keyword of the wrong type',
    files: { 'site.yml': play('', '  serial: {a: 1}\n') },
    args: ['site.yml'], code: 4, error: 'SCHEMA', at: 'site.yml:2:', message: /serial/,
  },
  {
    name: 'playbook that is not a list of plays',
    files: { 'site.yml': 'hosts: web\ntasks: []\n' },
    args: ['site.yml'], code: 4, error: 'SCHEMA', at: 'site.yml:1:1', message: /list of plays/,
  },
  {
    name: 'bad free-form arguments',
    files: { 'site.yml': play('    - debug: msg=hi stray\n') },
    args: ['site.yml'], code: 4, error: 'MODULE_ARGS', at: 'site.yml:7:', message: /stray/,
  },
  {
    name: 'two modules in one task',
    files: { 'site.yml': play('    - debug: msg=hi\n      command: "true"\n') },
    args: ['site.yml'], code: 4, error: 'SCHEMA', at: 'site.yml:8:7', message: /debug.*command|command.*debug/s,
  },
  {
    name: 'a condition reaching for code through constructor',
    files: { 'site.yml': play('    - debug: msg=hi\n      when: "constructor.constructor(\'return process\')()"\n') },
    args: ['site.yml'], code: 4, error: 'EXPRESSION', at: 'site.yml:8:', message: /./,
  },
  {
    name: 'a condition reaching for globals and prototypes',
    files: { 'site.yml': play('    - debug: msg=hi\n      when: "globalThis.process or \'\'.__proto__"\n') },
    args: ['site.yml'], code: 4, error: 'UNDEFINED_VARIABLE', at: 'site.yml:8:', message: /globalThis/,
  },
  {
    name: 'unknown CLI option',
    files: { 'site.yml': play('') },
    args: ['site.yml', '--chekc'], code: 5, error: '', message: /unknown option '--chekc'/,
  },
  {
    name: 'bad --forks value',
    files: { 'site.yml': play('') },
    args: ['site.yml', '--forks', '0'], code: 5, error: 'CLI_OPTION', message: /--forks/,
  },
];

describe('bad input: exit 4/5, file:line:col, code frame, no task ran', () => {
  let root: { dir: string; cleanup: () => void };
  before(() => {
    root = tempDir('tsplay-bad-');
  });
  after(() => root.cleanup());

  for (const [index, c] of cases.entries()) {
    test(c.name, () => {
      const dir = path.join(root.dir, `case${index}`);
      mkdirSync(dir, { recursive: true });
      const marker = path.join(dir, 'MARKER');
      writeFileSync(path.join(dir, 'inventory.ini'), INVENTORY);
      for (const [file, text] of Object.entries(c.files)) {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text.replaceAll('{{MARK}}', marker));
      }
      const args = ['run', ...c.args];
      if (!args.includes('-i')) args.push('-i', 'inventory.ini');
      const result = tsplay(args, { cwd: dir });
      const output = result.stderr + result.stdout;
      assert.equal(result.code, c.code, `exit code\n${output}`);
      if (c.error) assert.match(result.stderr, new RegExp(`\\[${c.error}\\]`), output);
      assert.match(result.stderr, c.message, output);
      if (c.at) {
        assert.ok(result.stderr.includes(c.at), `expected location ${c.at} in:\n${result.stderr}`);
        assert.match(result.stderr, /^> +\d+ \| /m, `expected a code frame in:\n${result.stderr}`);
      }
      assert.equal(existsSync(marker), false, 'a task ran despite the bad input');
    });
  }
});
