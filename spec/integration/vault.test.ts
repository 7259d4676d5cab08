// tsplay vault's commands as a user runs them, and a play using vault data on the local
// connection: the secret reaches the rendered file and no output (--diff -vvv, --json, a
// failing task's error); a wrong password exits 4 with nothing run and nothing changed.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir, repoRoot, snapshotTree } from '../helpers/cli.js';

const MASK = '********';
const fixtures = path.join(repoRoot, 'spec/fixtures/vault');
const hasAnsibleVault = spawnSync('ansible-vault', ['--version'], { stdio: 'ignore' }).status === 0;

function ok(r: { code: number; stderr: string; stdout: string }, what: string): void {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stderr}\n${r.stdout}`);
}

describe('tsplay vault commands', () => {
  let dir: string;
  let pw: string;
  before(() => {
    dir = tempDir('tsplay-vault-cli-').dir;
    pw = path.join(dir, 'pw.txt');
    writeFileSync(pw, 'cli-pass-1\n');
  });

  test('a file made by ansible-vault decrypts (view)', () => {
    const r = tsplay(['vault', 'view', '--vault-password-file', path.join(fixtures, 'password.txt'), path.join(fixtures, 'secrets.yml')]);
    ok(r, 'view');
    assert.match(r.stdout, /^db_password: "S3cret-from-ansible-vault"$/m);
    // --ask-vault-pass reads one line of standard input when it is not a terminal
    const asked = tsplay(['vault', 'view', '--ask-vault-pass', path.join(fixtures, 'inline.yml')], { input: 'fixture-vault-pass\n' });
    assert.equal(asked.code, 4, 'inline.yml is YAML holding a !vault value, not vault data');
    const prompted = tsplay(['vault', 'view', '--ask-vault-pass', path.join(fixtures, 'secrets-prod.yml')], { input: 'prod-fixture-pass\n' });
    ok(prompted, 'view --ask-vault-pass');
    assert.equal(prompted.stdout, 'deploy_key: "prod-only-secret-value"\n');
  });

  for (const format of ['tsplay', 'ansible'] as const) {
    test(`encrypt then decrypt round-trips in place, keeping the mode (${format} format)`, () => {
      const file = path.join(dir, `rt-${format}.yml`);
      const plain = 'secret_key: "round-trip-value"\nother: 1\n';
      writeFileSync(file, plain);
      chmodSync(file, 0o640);
      ok(tsplay(['vault', 'encrypt', '--vault-password-file', pw, '--format', format, file]), 'encrypt');
      const encrypted = readFileSync(file, 'utf8');
      assert.match(encrypted, format === 'tsplay' ? /^\$TSPLAY_VAULT;1\.0;AES256GCM;SCRYPT\n/ : /^\$ANSIBLE_VAULT;1\.1;AES256\n/);
      assert.doesNotMatch(encrypted, /round-trip-value/);
      assert.equal(statSync(file).mode & 0o777, 0o640);
      const again = tsplay(['vault', 'encrypt', '--vault-password-file', pw, file]);
      assert.notEqual(again.code, 0);
      assert.match(again.stderr, /input is already encrypted/);
      ok(tsplay(['vault', 'decrypt', '--vault-password-file', pw, file]), 'decrypt');
      assert.equal(readFileSync(file, 'utf8'), plain);
      assert.equal(statSync(file).mode & 0o777, 0o640);
    });
  }

  test('a wrong password fails cleanly (exit 4, file named) and changes nothing', () => {
    const file = path.join(dir, 'wrong.yml');
    writeFileSync(file, 'k: wrong-password-test\n');
    ok(tsplay(['vault', 'encrypt', '--vault-id', `dev@${pw}`, file]), 'encrypt');
    const bad = path.join(dir, 'bad.txt');
    writeFileSync(bad, 'not-it\n');
    const before = snapshotTree(dir);
    for (const cmd of ['decrypt', 'rekey']) {
      const r = tsplay(['vault', cmd, '--vault-password-file', bad, '--new-vault-password-file', pw, file].filter((a, i, all) => cmd === 'rekey' || (a !== '--new-vault-password-file' && all[i - 1] !== '--new-vault-password-file')));
      assert.equal(r.code, 4, `${cmd}: ${r.stderr}`);
      assert.match(r.stderr, /Decryption failed \(no vault secrets were found that could decrypt\) on .*wrong\.yml/);
      assert.doesNotMatch(r.stderr + r.stdout, /wrong-password-test|at Object|node:internal/);
    }
    assert.equal(snapshotTree(dir), before);
  });

  test('decrypting a file that is not vault data is an error and leaves it alone', () => {
    const file = path.join(dir, 'plain.yml');
    writeFileSync(file, 'a: 1\n');
    const r = tsplay(['vault', 'decrypt', '--vault-password-file', pw, file]);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /input is not vault encrypted data\. .*plain\.yml is not a vault encrypted file/);
    assert.equal(readFileSync(file, 'utf8'), 'a: 1\n');
  });

  test('standard input to standard output, and --output', () => {
    const enc = tsplay(['vault', 'encrypt', '--vault-password-file', pw], { input: 'from-stdin-1234\n' });
    ok(enc, 'encrypt stdin');
    assert.match(enc.stdout, /^\$TSPLAY_VAULT;/);
    const out = path.join(dir, 'out.txt');
    ok(tsplay(['vault', 'decrypt', '--vault-password-file', pw, '--output', out], { input: enc.stdout }), 'decrypt stdin');
    assert.equal(readFileSync(out, 'utf8'), 'from-stdin-1234\n');
  });

  test('rekey: the new password opens the file, the old one no longer does', () => {
    const file = path.join(dir, 'rekey.yml');
    writeFileSync(file, 'r: rekeyed-value\n');
    const newPw = path.join(dir, 'new-pw.txt');
    writeFileSync(newPw, 'cli-pass-2\n');
    ok(tsplay(['vault', 'encrypt', '--vault-password-file', pw, '--format', 'ansible', file]), 'encrypt');
    const r = tsplay(['vault', 'rekey', '--vault-password-file', pw, '--new-vault-password-file', newPw, file]);
    ok(r, 'rekey');
    assert.match(r.stderr, /Rekey successful/);
    assert.match(readFileSync(file, 'utf8'), /^\$ANSIBLE_VAULT;1\.1;AES256\n/, 'rekey keeps the format');
    assert.equal(tsplay(['vault', 'view', '--vault-password-file', pw, file]).code, 4);
    assert.equal(tsplay(['vault', 'view', '--vault-password-file', newPw, file]).stdout, 'r: rekeyed-value\n');
  });

  test('edit runs $EDITOR on a 0600 copy in a private dir, removed afterwards, and re-encrypts', () => {
    const file = path.join(dir, 'edit.yml');
    writeFileSync(file, 'e: before-edit\n');
    ok(tsplay(['vault', 'encrypt', '--vault-id', `ops@${pw}`, file]), 'encrypt');
    const log = path.join(dir, 'editor.log');
    const editor = path.join(dir, 'editor.sh');
    writeFileSync(editor, `#!/bin/sh\nstat -c '%a' "$1" "$(dirname "$1")" > '${log}'\necho "$1" >> '${log}'\necho 'added: after-edit' >> "$1"\n`);
    chmodSync(editor, 0o755);
    ok(tsplay(['vault', 'edit', '--vault-id', `ops@${pw}`, file], { env: { EDITOR: editor } }), 'edit');
    const [fileMode, dirMode, copy] = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(fileMode, '600');
    assert.equal(dirMode, '700');
    assert.ok(!existsSync(copy!) && !existsSync(path.dirname(copy!)), 'the plaintext copy was removed');
    const text = readFileSync(file, 'utf8');
    assert.match(text, /^\$TSPLAY_VAULT;1\.0;AES256GCM;SCRYPT;ops\n/, 'same vault id after edit');
    assert.equal(tsplay(['vault', 'view', '--vault-id', `ops@${pw}`, file]).stdout, 'e: before-edit\nadded: after-edit\n');
  });

  test('create writes a new encrypted file from $EDITOR and refuses an existing one', () => {
    const file = path.join(dir, 'created.yml');
    const editor = path.join(dir, 'create-editor.sh');
    writeFileSync(editor, `#!/bin/sh\necho 'made: in-editor' > "$1"\n`);
    chmodSync(editor, 0o755);
    ok(tsplay(['vault', 'create', '--vault-password-file', pw, file], { env: { EDITOR: editor } }), 'create');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(tsplay(['vault', 'view', '--vault-password-file', pw, file]).stdout, 'made: in-editor\n');
    const again = tsplay(['vault', 'create', '--vault-password-file', pw, file], { env: { EDITOR: editor } });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /exists, please use 'edit' instead/);
  });

  test('encrypt_string: --name and --stdin-name give YAML that loads back', () => {
    const r = tsplay(['vault', 'encrypt_string', '--vault-password-file', pw, '--stdin-name', 'from_stdin', '--name', 'from_arg', 'arg-value-5678'], { input: 'stdin-value-1234' });
    ok(r, 'encrypt_string');
    assert.match(r.stdout, /^from_stdin: !vault \|\n {10}\$TSPLAY_VAULT;/);
    assert.match(r.stdout, /\nfrom_arg: !vault \|\n {10}\$TSPLAY_VAULT;/);
    const vars = path.join(dir, 'strings.yml');
    writeFileSync(vars, r.stdout);
    const pb = path.join(dir, 'strings-play.yml');
    writeFileSync(pb, `- hosts: localhost\n  gather_facts: false\n  vars_files: [strings.yml]\n  tasks:\n    - copy:\n        content: "{{ from_stdin }} {{ from_arg }}"\n        dest: ${path.join(dir, 'strings.out')}\n`);
    ok(tsplay(['run', pb, '-i', 'localhost,', '-e', 'ansible_connection=local', '--vault-password-file', pw, '--no-retry-files'], { cwd: dir }), 'play');
    assert.equal(readFileSync(path.join(dir, 'strings.out'), 'utf8'), 'stdin-value-1234 arg-value-5678');
  });

  test('ansible-vault decrypts tsplay --format ansible output', { skip: !hasAnsibleVault && 'ansible-vault not on PATH' }, () => {
    const file = path.join(dir, 'for-ansible.yml');
    writeFileSync(file, 'interop: value-for-ansible\n');
    ok(tsplay(['vault', 'encrypt', '--format', 'ansible', '--vault-id', `prod@${pw}`, file]), 'encrypt');
    assert.match(readFileSync(file, 'utf8'), /^\$ANSIBLE_VAULT;1\.2;AES256;prod\n/);
    const r = spawnSync('ansible-vault', ['view', '--vault-id', `prod@${pw}`, file], { encoding: 'utf8', env: { ...process.env, PAGER: 'cat' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'interop: value-for-ansible\n');
  });
});

describe('a play with vault data', () => {
  const DB_SECRET = 'Db-Secret-4af9c2e1';
  const API_SECRET = 'Api-Token-77e1b0d3';
  let dir: string;
  let out: string;
  let pw: string;

  before(() => {
    dir = tempDir('tsplay-vault-play-').dir;
    out = path.join(dir, 'target');
    mkdirSync(out);
    mkdirSync(path.join(dir, 'vars'));
    mkdirSync(path.join(dir, 'templates'));
    pw = path.join(dir, 'pw.txt');
    writeFileSync(pw, 'play-pass-1\n');
    writeFileSync(path.join(dir, 'inventory.ini'), 'local1 ansible_connection=local\n');
    // a whole encrypted vars file (tsplay format)...
    writeFileSync(path.join(dir, 'vars/secrets.yml'), `db_password: "${DB_SECRET}"\n`);
    ok(tsplay(['vault', 'encrypt', '--vault-password-file', pw, 'vars/secrets.yml'], { cwd: dir }), 'encrypt vars file');
    // ...and an inline value in Ansible's format
    const inline = tsplay(['vault', 'encrypt_string', '--format', 'ansible', '--vault-password-file', pw, '--name', 'api_token', API_SECRET]);
    ok(inline, 'encrypt_string');
    writeFileSync(path.join(dir, 'templates/app.conf.j2'), 'url=postgres://app:{{ db_password }}@db/app\ntoken={{ api_token }}\n');
    writeFileSync(
      path.join(dir, 'site.yml'),
      [
        '- hosts: all',
        '  gather_facts: false',
        '  vars_files:',
        '    - vars/secrets.yml',
        '  vars:',
        ...inline.stdout.trimEnd().split('\n').map((l) => '    ' + l),
        '  tasks:',
        '    - name: render the config',
        '      template:',
        '        src: templates/app.conf.j2',
        `        dest: ${out}/app.conf`,
        '    - name: show a derived value',
        '      debug:',
        '        msg: "connecting with postgres://app:{{ db_password }}@db"',
        '    - name: a task that fails with the secret in its arguments',
        '      command: "false --password={{ db_password }} --token={{ api_token }}"',
        '',
      ].join('\n'),
    );
  });

  const run = (...args: string[]) => tsplay(['run', 'site.yml', '-i', 'inventory.ini', '--no-retry-files', ...args], { cwd: dir });

  function assertNoSecret(text: string, what: string): void {
    assert.ok(!text.includes(DB_SECRET), `${what} shows the vars-file secret`);
    assert.ok(!text.includes(API_SECRET), `${what} shows the inline secret`);
  }

  test('--diff -vvv: the secret is in the rendered file and in no output', () => {
    const r = run('--vault-password-file', pw, '--diff', '-vvv');
    assert.equal(r.code, 2, r.stderr + r.stdout); // the last task fails
    const rendered = readFileSync(path.join(out, 'app.conf'), 'utf8');
    assert.equal(rendered, `url=postgres://app:${DB_SECRET}@db/app\ntoken=${API_SECRET}\n`);
    assertNoSecret(r.stdout + r.stderr, '--diff -vvv');
    assert.match(r.stdout, /^\+url=postgres:\/\/app:\*{8}@db\/app$/m, 'the diff shows the masked line');
    assert.match(r.stdout, /connecting with postgres:\/\/app:\*{8}@db/);
    assert.match(r.stdout, /fatal: \[local1\]: FAILED!.*\n(?:.*\n)*.*--password=\*{8}/);
  });

  test('--json: no event carries the secret; the failing task is reported masked', () => {
    writeFileSync(path.join(out, 'app.conf'), 'old\n'); // so the template changes again, with a diff
    const r = run('--vault-password-file', pw, '--diff', '--json');
    assert.equal(r.code, 2, r.stderr);
    assertNoSecret(r.stdout + r.stderr, '--json');
    const evs = events(r.stdout);
    const failed = evs.find((e) => e.kind === 'host-result' && e.status === 'failed');
    assert.ok(failed, 'a failed host-result event');
    assert.ok(JSON.stringify(failed).includes(`--password=${MASK}`));
    const rendered = evs.find((e) => e.kind === 'host-result' && e.task === 'render the config');
    assert.ok(JSON.stringify(rendered?.diff).includes(MASK));
  });

  test('a template error naming the secret is masked too', () => {
    const pb = path.join(dir, 'error.yml');
    writeFileSync(pb, `- hosts: all\n  gather_facts: false\n  vars_files: [vars/secrets.yml]\n  tasks:\n    - assert:\n        that: db_password == 'other'\n        fail_msg: "bad password {{ db_password }}"\n`);
    const r = tsplay(['run', pb, '-i', 'inventory.ini', '--no-retry-files', '--vault-password-file', pw, '-vvv'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr + r.stdout);
    assertNoSecret(r.stdout + r.stderr, 'assert failure');
    assert.match(r.stdout, /bad password \*{8}/);
  });

  test('a wrong password exits 4 naming the file; nothing runs, nothing changes', () => {
    writeFileSync(path.join(out, 'app.conf'), 'untouched\n');
    const bad = path.join(dir, 'bad.txt');
    writeFileSync(bad, 'wrong-pass\n');
    const before = snapshotTree(out);
    const r = run('--vault-password-file', bad, '--diff', '-vvv');
    assert.equal(r.code, 4, r.stderr + r.stdout);
    assert.match(r.stderr, /Decryption failed \(no vault secrets were found that could decrypt\) on .*(site|secrets)\.yml/);
    assert.doesNotMatch(r.stdout, /TASK \[/, 'no task ran');
    assert.equal(snapshotTree(out), before);
    const none = run();
    assert.equal(none.code, 4);
    assert.match(none.stderr, /Attempting to decrypt but no vault secrets found/);
  });

  test('TSPLAY_VAULT_PASSWORD_FILE supplies the password', () => {
    const r = tsplay(['run', 'site.yml', '-i', 'inventory.ini', '--no-retry-files', '--syntax-check'], { cwd: dir, env: { TSPLAY_VAULT_PASSWORD_FILE: pw } });
    ok(r, 'syntax-check');
  });
});
