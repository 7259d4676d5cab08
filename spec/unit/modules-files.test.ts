// The file and command modules of issue 4's files group, run locally on temp dirs: raw,
// script, lineinfile, blockinfile, replace, fetch, slurp, get_url (from a 127.0.0.1 server),
// unarchive, tempfile. Each one converges, predicts itself exactly in check mode, and is ok
// on a second run; bad arguments fail when the playbook is loaded.
import { assertConverges as converges, localModuleContext, runModule } from '../helpers/module-context.js';
import { lookupModule } from '../../engine/modules/registry.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { ModuleDef } from '../../engine/modules/types.js';
import { FILE_MODULES } from '../../engine/modules/builtin-files.js';
import { editBlockInFile, editLineInFile, editReplace } from '../../engine/modules/text-edit.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import { ParseError } from '../../engine/errors.js';

// the group's own list (the full registry also pulls in other groups still being written)
const moduleNames = (): string[] => (FILE_MODULES as ModuleDef[]).map((m) => m.name);

const tempDir = (): string => makeTempDir('tsplay-mf-');
const context = localModuleContext;
const run = runModule;
const assertConverges = (name: string, setup: (dir: string) => Record<string, unknown>) => converges(name, setup, 'tsplay-mf-');

describe('registry', () => {
  test('every module of the group under its names', () => {
    for (const name of ['raw', 'script', 'lineinfile', 'blockinfile', 'replace', 'fetch', 'slurp', 'get_url', 'unarchive', 'tempfile']) {
      assert.equal(lookupModule(name)?.name, name);
      assert.equal(lookupModule(`ansible.builtin.${name}`)?.name, name);
      assert.ok(moduleNames().includes(name));
    }
  });
});

describe('lineinfile edits (Ansible algorithm)', () => {
  const li = (text: string, e: Parameters<typeof editLineInFile>[1]) => editLineInFile(text, e);
  test('regexp replaces the last match; firstmatch the first', () => {
    assert.deepEqual(li('a=1\nb=2\na=3\n', { state: 'present', regexp: '^a=', line: 'a=9' }), { text: 'a=1\nb=2\na=9\n', changed: true, msg: 'line replaced' });
    assert.equal(li('a=1\nb=2\na=3\n', { state: 'present', regexp: '^a=', line: 'a=9', firstmatch: true }).text, 'a=9\nb=2\na=3\n');
  });
  test('no match: insertafter/insertbefore regex, BOF, EOF; a present line is left alone', () => {
    assert.equal(li('x\n[s]\ny\n', { state: 'present', line: 'k=v', insertafter: '^\\[s\\]' }).text, 'x\n[s]\nk=v\ny\n');
    assert.equal(li('x\n[s]\ny\n', { state: 'present', line: 'k=v', insertbefore: '^\\[s\\]' }).text, 'x\nk=v\n[s]\ny\n');
    assert.equal(li('x\ny\n', { state: 'present', line: 'top', insertbefore: 'BOF' }).text, 'top\nx\ny\n');
    assert.equal(li('x\ny', { state: 'present', line: 'end' }).text, 'x\ny\nend\n', 'a missing final newline is added first');
    assert.equal(li('x\ny\n', { state: 'present', line: 'k', insertafter: 'nomatch' }).text, 'x\ny\nk\n', 'insertafter without a match: EOF');
    assert.deepEqual(li('x\nk=v\n', { state: 'present', line: 'k=v', insertafter: '^x' }), { text: 'x\nk=v\n', changed: false, msg: '' });
    assert.equal(li('', { state: 'present', line: 'first' }).text, 'first\n');
  });
  test('backrefs fill groups, and do nothing without a match', () => {
    assert.equal(li('port = 80\n', { state: 'present', regexp: '^port = (\\d+)$', line: 'port = \\1\\1', backrefs: true }).text, 'port = 8080\n');
    assert.equal(li('port = 80\n', { state: 'present', regexp: '^(?P<k>port) = .*$', line: '\\g<k> = 1', backrefs: true }).text, 'port = 1\n');
    assert.deepEqual(li('x\n', { state: 'present', regexp: '^nope', line: 'y', backrefs: true }), { text: 'x\n', changed: false, msg: '' });
  });
  test('search_string matches literally; absent counts removed lines', () => {
    assert.equal(li('a.b=1\naxb=2\n', { state: 'present', search_string: 'a.b', line: 'a.b=3' }).text, 'a.b=3\naxb=2\n');
    assert.deepEqual(li('k=1\nj=2\nk=3\n', { state: 'absent', regexp: '^k=' }), { text: 'j=2\n', changed: true, msg: '2 line(s) removed', found: 2 });
    assert.equal(li('k=1\nj=2\n', { state: 'absent', line: 'j=2' }).text, 'k=1\n');
  });
});

describe('blockinfile and replace edits', () => {
  const base = { state: 'present' as const, marker: '# {mark} ANSIBLE MANAGED BLOCK', marker_begin: 'BEGIN', marker_end: 'END' };
  test('insert at EOF, replace between markers, remove; insertafter regex; create', () => {
    const first = editBlockInFile('a\n', { ...base, block: 'x\ny' });
    assert.deepEqual(first, { text: 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nx\ny\n# END ANSIBLE MANAGED BLOCK\n', changed: true, msg: 'Block inserted' });
    assert.equal(editBlockInFile(first.text, { ...base, block: 'x\ny' }).changed, false);
    assert.equal(editBlockInFile(first.text, { ...base, block: 'z' }).text, 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nz\n# END ANSIBLE MANAGED BLOCK\n');
    assert.deepEqual(editBlockInFile(first.text, { ...base, block: 'x', state: 'absent' }), { text: 'a\n', changed: true, msg: 'Block removed' });
    assert.equal(editBlockInFile('a\nb\n', { ...base, block: 'x', insertafter: '^a' }).text, 'a\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\nb\n');
    assert.equal(editBlockInFile('a\nb\n', { ...base, block: 'x', insertbefore: 'BOF', marker: '<!-- {mark} -->' }).text, '<!-- BEGIN -->\nx\n<!-- END -->\na\nb\n');
    assert.equal(editBlockInFile(null, { ...base, block: 'x' }).msg, 'File created');
  });
  test('replace: Python groups, MULTILINE, after/before sections', () => {
    assert.deepEqual(editReplace('a=1\nb=1\n', { regexp: '^(\\w)=1$', replace: '\\1=2' }), { text: 'a=2\nb=2\n', changed: true, msg: '2 replacements made' });
    assert.equal(editReplace('x=1\n[s]\nx=1\n[t]\nx=1\n', { regexp: 'x=1', replace: 'x=2', after: '\\[s\\]', before: '\\[t\\]' }).text, 'x=1\n[s]\nx=2\n[t]\nx=1\n');
    assert.equal(editReplace('a\n', { regexp: 'zzz', replace: 'y' }).changed, false);
    assert.match(editReplace('a\n', { regexp: 'a', replace: 'b', after: 'nope' }).msg, /did not match/);
  });
});

describe('lineinfile, blockinfile, replace on files', () => {
  test('lineinfile converges with an exact check-mode diff of the whole file', async () => {
    const { dir, real } = await assertConverges('lineinfile', (d) => {
      writeFileSync(join(d, 'sshd_config'), 'Port 22\nPermitRootLogin yes\n');
      return { path: join(d, 'sshd_config'), regexp: '^PermitRootLogin', line: 'PermitRootLogin no' };
    });
    assert.equal(readFileSync(join(dir, 'sshd_config'), 'utf8'), 'Port 22\nPermitRootLogin no\n');
    assert.equal(real.msg, 'line replaced');
    assert.deepEqual(real.diff, [{ before: 'Port 22\nPermitRootLogin yes\n', after: 'Port 22\nPermitRootLogin no\n', beforeHeader: `${join(dir, 'sshd_config')} (content)`, afterHeader: `${join(dir, 'sshd_config')} (content)` }]);
  });
  test('lineinfile create with mode makes folders; missing file without create fails like Ansible', async () => {
    const { dir, real } = await assertConverges('lineinfile', (d) => ({ path: join(d, 'new dir', 'f.conf'), line: 'k=v', create: true, mode: '0600' }));
    assert.equal(readFileSync(join(dir, 'new dir', 'f.conf'), 'utf8'), 'k=v\n');
    assert.equal(statSync(join(dir, 'new dir', 'f.conf')).mode & 0o777, 0o600);
    assert.equal(real.msg, 'line added');
    const d = tempDir();
    const missing = await run('lineinfile', { path: join(d, 'nope'), line: 'x' }, context());
    assert.equal(missing.failed, true);
    assert.equal(missing.msg, `Destination ${join(d, 'nope')} does not exist !`);
    const absent = await run('lineinfile', { path: join(d, 'nope'), line: 'x', state: 'absent' }, context());
    assert.equal(absent.failed, undefined);
    assert.equal(absent.changed, false);
  });
  test('lineinfile: mode only → "ownership, perms or SE linux context changed"; backup keeps the old file; validate failure keeps it', async () => {
    const d = tempDir();
    const f = join(d, 'f');
    writeFileSync(f, 'a\n', { mode: 0o644 });
    const r = await run('lineinfile', { path: f, line: 'a', mode: '0640' }, context());
    assert.equal(r.changed, true);
    assert.equal(r.msg, 'ownership, perms or SE linux context changed');
    assert.equal(statSync(f).mode & 0o777, 0o640);
    const b = await run('lineinfile', { path: f, line: 'b', backup: true }, context());
    assert.ok(typeof b.backup === 'string' && readFileSync(b.backup, 'utf8') === 'a\n', 'backup holds the old content');
    const v = await run('lineinfile', { path: f, line: 'c', validate: 'grep -q zzz %s' }, context());
    assert.equal(v.failed, true);
    assert.equal(readFileSync(f, 'utf8'), 'a\nb\n', 'a failed validation leaves the file');
  });
  test('lineinfile follows a symlink and writes its target', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'real'), 'x\n');
    execFileSync('ln', ['-s', 'real', join(d, 'link')]);
    await run('lineinfile', { path: join(d, 'link'), line: 'y' }, context());
    assert.equal(readFileSync(join(d, 'real'), 'utf8'), 'x\ny\n');
    assert.ok(lstatSync(join(d, 'link')).isSymbolicLink());
  });
  test('blockinfile converges, and state absent removes the block', async () => {
    const { dir } = await assertConverges('blockinfile', (d) => {
      writeFileSync(join(d, 'hosts'), '127.0.0.1 localhost\n');
      return { path: join(d, 'hosts'), block: '10.0.0.1 a\n10.0.0.2 b', marker: '# {mark} tsplay' };
    });
    assert.equal(readFileSync(join(dir, 'hosts'), 'utf8'), '127.0.0.1 localhost\n# BEGIN tsplay\n10.0.0.1 a\n10.0.0.2 b\n# END tsplay\n');
    const r = await run('blockinfile', { path: join(dir, 'hosts'), marker: '# {mark} tsplay', state: 'absent' }, context());
    assert.equal(r.msg, 'Block removed');
    assert.equal(readFileSync(join(dir, 'hosts'), 'utf8'), '127.0.0.1 localhost\n');
  });
  test('replace converges; a bad regexp fails with its message', async () => {
    const { dir, real } = await assertConverges('replace', (d) => {
      writeFileSync(join(d, 'c'), 'listen 80;\nlisten 8080;\n');
      return { path: join(d, 'c'), regexp: '^listen (\\d+);$', replace: 'listen 127.0.0.1:\\1;' };
    });
    assert.equal(readFileSync(join(dir, 'c'), 'utf8'), 'listen 127.0.0.1:80;\nlisten 127.0.0.1:8080;\n');
    assert.equal(real.msg, '2 replacements made');
    const bad = await run('replace', { path: join(dir, 'c'), regexp: '(' }, context());
    assert.equal(bad.failed, true);
    assert.match(String(bad.msg), /invalid regular expression/);
  });
});

describe('raw, script, slurp, tempfile', () => {
  test('raw runs the line as written; check mode skips; a failure shows rc and stderr', async () => {
    const d = tempDir();
    const r = await run('raw', { _raw_params: `echo hi > ${d}/out; echo $((1+2))` }, context());
    assert.equal(r.changed, true);
    assert.equal(r.stdout, '3\n');
    assert.equal(readFileSync(join(d, 'out'), 'utf8'), 'hi\n');
    const c = await run('raw', { _raw_params: `touch ${d}/nope` }, context({ check: true }));
    assert.equal(c.skipped, true);
    assert.equal(existsSync(join(d, 'nope')), false);
    const f = await run('raw', { _raw_params: 'echo bad >&2; exit 3', executable: '/bin/bash' }, context());
    assert.equal(f.failed, true);
    assert.equal(f.rc, 3);
    assert.equal(f.stderr, 'bad\n');
  });
  test('script: copied, run with quoted args, removed; creates guards it (also in check mode)', async () => {
    const d = tempDir();
    mkdirSync(join(d, 'files'));
    writeFileSync(join(d, 'files', 'setup.sh'), '#!/bin/sh\nprintf "%s|" "$@" > "$OUT_DIR/args"\necho "$0"\n');
    const args = { _raw_params: `setup.sh 'a b' "$(touch pwned)"`, creates: join(d, 'args') };
    const checked = await run('script', args, context({ check: true, base: d }));
    assert.equal(checked.changed, true);
    assert.equal(existsSync(join(d, 'args')), false);
    const ctx = { ...context({ base: d }), environment: { OUT_DIR: d } };
    const r = await run('script', args, ctx);
    assert.equal(r.changed, true, String(r.msg) + String(r.stderr));
    assert.equal(readFileSync(join(d, 'args'), 'utf8'), 'a b|$(touch pwned)|');
    const where = String(r.stdout).trim();
    assert.equal(existsSync(where), false, 'the copied script is removed');
    const again = await run('script', args, ctx);
    assert.equal(again.changed, false);
    const missing = await run('script', { _raw_params: 'nope.sh' }, context({ base: d }));
    assert.match(String(missing.msg), /Could not find or access 'nope.sh'/);
  });
  test('slurp returns base64; a missing file fails', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'b'), Buffer.from([0, 1, 2, 255]));
    const r = await run('slurp', { src: join(d, 'b') }, context());
    assert.deepEqual(r, { changed: false, content: 'AAEC/w==', encoding: 'base64', source: join(d, 'b') });
    const m = await run('slurp', { path: join(d, 'nope') }, context());
    assert.equal(m.msg, `file not found: ${join(d, 'nope')}`);
  });
  test('tempfile makes a 0600 file or 0700 folder with prefix/suffix; check mode makes nothing', async () => {
    const d = tempDir();
    const f = await run('tempfile', { path: d, prefix: 'pre.', suffix: '.conf' }, context());
    assert.match(String(f.path), new RegExp(`^${d}/pre\\.\\w{10}\\.conf$`));
    assert.equal(statSync(String(f.path)).mode & 0o777, 0o600);
    const dd = await run('tempfile', { path: d, state: 'directory' }, context());
    assert.ok(statSync(String(dd.path)).isDirectory());
    assert.equal(dd.mode, '0700');
    const before = readdirSync(d).length;
    const c = await run('tempfile', { path: d }, context({ check: true }));
    assert.equal(c.changed, true);
    assert.equal(readdirSync(d).length, before);
  });
});

describe('fetch', () => {
  test('dest/<host>/<path> and flat; check mode exact; second run ok; missing file fails unless fail_on_missing: false', async () => {
    const remote = tempDir();
    writeFileSync(join(remote, 'app.log'), 'line 1\n');
    const local = tempDir();
    const checked = await run('fetch', { src: join(remote, 'app.log'), dest: join(local, 'out') }, context({ check: true }));
    assert.equal(checked.changed, true);
    assert.equal(existsSync(join(local, 'out')), false);
    const r = await run('fetch', { src: join(remote, 'app.log'), dest: join(local, 'out') }, context());
    const dest = join(local, 'out', 'localhost', remote, 'app.log');
    assert.equal(r.dest, dest);
    assert.equal(readFileSync(dest, 'utf8'), 'line 1\n');
    assert.deepEqual(r.diff, checked.diff);
    assert.equal(r.checksum, createHash('sha1').update('line 1\n').digest('hex'));
    assert.equal((await run('fetch', { src: join(remote, 'app.log'), dest: join(local, 'out') }, context())).changed, false);
    const flat = await run('fetch', { src: join(remote, 'app.log'), dest: `${local}/flat/`, flat: true }, context());
    assert.equal(flat.dest, join(local, 'flat', 'app.log'));
    const miss = await run('fetch', { src: join(remote, 'nope'), dest: local }, context());
    assert.equal(miss.failed, true);
    assert.equal(miss.msg, 'the remote file does not exist');
    const ign = await run('fetch', { src: join(remote, 'nope'), dest: local, fail_on_missing: false }, context());
    assert.equal(ign.failed, undefined);
    assert.equal(ign.msg, 'the remote file does not exist, not transferring, ignored');
  });
});

describe('get_url from a 127.0.0.1 server', () => {
  let server: Server;
  let base: string;
  const body = 'payload v1\n';
  const seen: Array<Record<string, unknown>> = [];
  before(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, headers: req.headers });
      if (req.url === '/file.txt') res.end(body);
      else {
        res.statusCode = 404;
        res.end('no');
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  test('downloads once, with mode; check mode exact; headers sent; a matching checksum skips the download', async () => {
    const sum = createHash('sha256').update(body).digest('hex');
    const { dir } = await assertConverges('get_url', (d) => ({ url: `${base}/file.txt`, dest: join(d, 'f.txt'), mode: '0640', headers: { 'X-Token': 'abc' }, checksum: `sha256:${sum}` }));
    assert.equal(readFileSync(join(dir, 'f.txt'), 'utf8'), body);
    assert.equal(statSync(join(dir, 'f.txt')).mode & 0o777, 0o640);
    assert.ok(seen.some((s) => (s.headers as Record<string, string>)['x-token'] === 'abc'));
    assert.deepEqual(readdirSync(dir), ['f.txt'], 'no temp files left');
  });
  test('a wrong checksum fails and leaves dest; a 404 fails with the request', async () => {
    const d = tempDir();
    const bad = await run('get_url', { url: `${base}/file.txt`, dest: join(d, 'f'), checksum: 'sha256:' + '0'.repeat(64) }, context());
    assert.equal(bad.failed, true);
    assert.match(String(bad.msg), /did not match/);
    assert.equal(existsSync(join(d, 'f')), false);
    const nf = await run('get_url', { url: `${base}/missing`, dest: join(d, 'f') }, context());
    assert.equal(nf.failed, true);
    assert.match(String(nf.msg), /^Request failed/);
    assert.equal(nf.status_code, 404);
    assert.deepEqual(readdirSync(d), []);
  });
  test('force re-downloads and reports changed only when the content differs', async () => {
    const d = tempDir();
    writeFileSync(join(d, 'f'), body);
    const same = await run('get_url', { url: `${base}/file.txt`, dest: join(d, 'f'), force: true }, context());
    assert.equal(same.changed, false);
    writeFileSync(join(d, 'f'), 'old\n');
    const kept = await run('get_url', { url: `${base}/file.txt`, dest: join(d, 'f') }, context());
    assert.equal(kept.changed, false, 'without force a present file is kept');
    const forced = await run('get_url', { url: `${base}/file.txt`, dest: join(d, 'f'), force: true }, context());
    assert.equal(forced.changed, true);
    assert.equal(readFileSync(join(d, 'f'), 'utf8'), body);
  });
});

describe('unarchive', () => {
  const makeTree = (d: string) => {
    mkdirSync(join(d, 'src', 'sub dir'), { recursive: true });
    writeFileSync(join(d, 'src', 'a.txt'), 'alpha\n');
    writeFileSync(join(d, 'src', 'sub dir', 'b.txt'), 'beta\n');
  };
  for (const [ext, make] of [
    ['tar.gz', (d: string, out: string) => execFileSync('tar', ['-czf', out, '-C', join(d, 'src'), '.'])],
    ['tar.xz', (d: string, out: string) => execFileSync('tar', ['-cJf', out, '-C', join(d, 'src'), '.'])],
    ['tar.zst', (d: string, out: string) => execFileSync('tar', ['--zstd', '-cf', out, '-C', join(d, 'src'), '.'])],
    ['zip', (d: string, out: string) => execFileSync('zip', ['-qr', out, '.'], { cwd: join(d, 'src') })],
  ] as const) {
    test(`${ext} from the controller: converges, exact check mode, list_files, changed again when a file differs`, async () => {
      const { dir, real } = await assertConverges('unarchive', (d) => {
        makeTree(d);
        mkdirSync(join(d, 'files'));
        make(d, join(d, 'files', `a.${ext}`));
        mkdirSync(join(d, 'dest'));
        return { src: `a.${ext}`, dest: join(d, 'dest'), list_files: true };
      });
      assert.equal(readFileSync(join(dir, 'dest', 'sub dir', 'b.txt'), 'utf8'), 'beta\n');
      assert.ok((real.files as string[]).some((f) => f.endsWith('a.txt')));
      writeFileSync(join(dir, 'dest', 'a.txt'), 'ALPHA\n');
      const again = await run('unarchive', { src: `a.${ext}`, dest: join(dir, 'dest') }, context({ base: dir }));
      assert.equal(again.changed, true);
      assert.equal(readFileSync(join(dir, 'dest', 'a.txt'), 'utf8'), 'alpha\n');
    });
  }
  test('remote_src, creates, mode on every entry, a missing dest fails', async () => {
    const d = tempDir();
    makeTree(d);
    execFileSync('tar', ['-czf', join(d, 'a.tgz'), '-C', join(d, 'src'), '.']);
    mkdirSync(join(d, 'dest'));
    const r = await run('unarchive', { src: join(d, 'a.tgz'), dest: join(d, 'dest'), remote_src: true, mode: 'u=rwX,g=rX,o=' }, context());
    assert.equal(r.changed, true, String(r.msg));
    assert.equal(statSync(join(d, 'dest', 'a.txt')).mode & 0o777, 0o640);
    assert.equal(statSync(join(d, 'dest', 'sub dir')).mode & 0o777, 0o750);
    const again = await run('unarchive', { src: join(d, 'a.tgz'), dest: join(d, 'dest'), remote_src: true, mode: 'u=rwX,g=rX,o=' }, context());
    assert.equal(again.changed, false);
    const cr = await run('unarchive', { src: join(d, 'a.tgz'), dest: join(d, 'x'), remote_src: true, creates: join(d, 'dest') }, context());
    assert.equal(cr.skipped, true);
    const nd = await run('unarchive', { src: join(d, 'a.tgz'), dest: join(d, 'x'), remote_src: true }, context());
    assert.equal(nd.msg, `dest '${join(d, 'x')}' must be an existing dir`);
  });
});

describe('bad arguments fail at load with file:line', () => {
  const cases: Array<[string, RegExp]> = [
    ['lineinfile: {path: /x, line: a, insertafter: a, insertbefore: b}', /lineinfile/],
    ['lineinfile: {path: /x, line: a, bogus: 1}', /bogus/],
    ['blockinfile: {block: a}', /blockinfile/],
    ['replace: {path: /x}', /regexp/],
    ['fetch: {src: /x}', /dest/],
    ['get_url: {url: "http://x/", dest: /x, checksum: "sha999:ab"}', /checksum/],
    ['unarchive: {src: a.tgz}', /dest/],
    ['tempfile: {state: link}', /state/],
    ['slurp: {}', /slurp/],
  ];
  for (const [task, message] of cases) {
    test(task, () => {
      const d = tempDir();
      writeFileSync(join(d, 'play.yml'), `- hosts: all\n  tasks:\n    - ${task}\n`);
      try {
        loadPlaybook(join(d, 'play.yml'), { lookupModule, moduleNames: moduleNames() });
        assert.fail('expected a load error');
      } catch (err) {
        assert.ok(err instanceof ParseError, String(err));
        assert.match(err.message, message);
        assert.match(String((err as ParseError & { errors?: ParseError[] }).errors?.[0]?.pos?.line ?? (err as ParseError).pos?.line), /^3$/);
      }
    });
  }
});
