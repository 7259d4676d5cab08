// A template file that reads an undefined variable fails at render time naming the
// template's file and line; a failed `validate:` leaves the old file as it was.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir } from '../helpers/cli.js';

describe('template render errors and validate', () => {
  let dir: string;
  before(() => {
    dir = tempDir('tsplay-tplerr-').dir;
    mkdirSync(path.join(dir, 'templates'));
    mkdirSync(path.join(dir, 'out'));
    writeFileSync(path.join(dir, 'hosts.ini'), 'local ansible_connection=local\n');
    writeFileSync(path.join(dir, 'templates', 'app.conf.hbs'), '# app\nport {{ port }}\nname {{ missing_name }}\n');
    writeFileSync(path.join(dir, 'templates', 'good.conf.hbs'), 'port {{ port }}\n');
  });

  test('an undefined variable in a template file names the file and its line', () => {
    const dest = path.join(dir, 'out', 'app.conf');
    writeFileSync(dest, 'old content\n');
    writeFileSync(path.join(dir, 'site.yml'), `- hosts: all\n  gather_facts: false\n  vars:\n    port: 80\n  tasks:\n    - template:\n        src: app.conf.hbs\n        dest: ${dest}\n`);
    const r = tsplay(['run', 'site.yml', '-i', 'hosts.ini', '--json', '--no-retry-files'], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    const failed = events(r.stdout).find((e) => e.kind === 'host-result' && e.status === 'failed')!;
    assert.match(String(failed.msg), /templates\/app\.conf\.hbs:3:\d+/);
    assert.match(String(failed.msg), /missing_name/);
    assert.equal(readFileSync(dest, 'utf8'), 'old content\n', 'the old file was touched');
  });

  test('a failed validate leaves the old file untouched and no temporary file behind', () => {
    const dest = path.join(dir, 'out', 'good.conf');
    writeFileSync(dest, 'port 1\n');
    writeFileSync(path.join(dir, 'validate.yml'), `- hosts: all\n  gather_facts: false\n  vars:\n    port: 80\n  tasks:\n    - template:\n        src: good.conf.hbs\n        dest: ${dest}\n        validate: grep -q "^port 443$" %s\n`);
    const r = tsplay(['run', 'validate.yml', '-i', 'hosts.ini', '--json', '--no-retry-files'], { cwd: dir });
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const failed = events(r.stdout).find((e) => e.kind === 'host-result' && e.status === 'failed')!;
    assert.match(String(failed.msg), /validat/i);
    assert.equal(readFileSync(dest, 'utf8'), 'port 1\n');
    assert.deepEqual(readdirSync(path.join(dir, 'out')).sort(), ['app.conf', 'good.conf']);
  });
});
