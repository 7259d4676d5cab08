import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lookupModule, moduleNames, registerModule } from '../../engine/modules/registry.js';
import { formatMode, resolveMode } from '../../engine/modules/mode.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { assertConverges as converges, localModuleContext, runModule } from '../helpers/module-context.js';
import { snapshotTree as snapshot } from '../helpers/cli.js';

const NASTY = "sp ace 'q' \"dq\" $(touch pwned) `touch pwned` new\nline ünï ✓";

function tempDir(): string {
  return makeTempDir('tsplay-mod-');
}

const context = localModuleContext;
const run = runModule;
const assertConverges = (name: string, setup: (dir: string) => Record<string, unknown>) => converges(name, setup, 'tsplay-mod-');

describe('registry', () => {
  test('names, aliases and ansible.builtin./ansible.legacy. forms', () => {
    for (const name of ['command', 'shell', 'stat', 'copy', 'file', 'template', 'debug', 'assert', 'fail', 'set_fact', 'meta']) {
      assert.equal(lookupModule(name)?.name, name);
      assert.equal(lookupModule(`ansible.builtin.${name}`)?.name, name);
      assert.equal(lookupModule(`ansible.legacy.${name}`)?.name, name);
    }
    assert.equal(lookupModule('nope'), undefined);
    assert.ok(moduleNames().includes('copy'));
  });
  test('a duplicate name is an error', () => {
    assert.throws(() => registerModule({ name: 'copy', schema: {}, run: async () => ({ changed: false }) }), /already registered/);
    registerModule({ name: 'my_custom_mod', schema: {}, run: async () => ({ changed: false }) });
    assert.equal(lookupModule('my_custom_mod')?.name, 'my_custom_mod');
  });
});

describe('modes', () => {
  test('octal numbers, strings and symbolic forms like Ansible', () => {
    assert.equal(resolveMode(420, 0, false), 0o644);
    assert.equal(resolveMode('0644', 0, false), 0o644);
    assert.equal(resolveMode('1777', 0, true), 0o1777);
    assert.equal(resolveMode('u=rw,g=r,o=r', 0o777, false), 0o644);
    assert.equal(resolveMode('u+x', 0o644, false), 0o744);
    assert.equal(resolveMode('a-w', 0o664, false), 0o444);
    assert.equal(resolveMode('go-rwx', 0o755, true), 0o700);
    assert.equal(resolveMode('u=rwX,g=rX,o=', 0o600, false), 0o640, 'X only for folders or already executable');
    assert.equal(resolveMode('u=rwX,g=rX,o=', 0o600, true), 0o750);
    assert.equal(resolveMode('g=u', 0o700, false), 0o770);
    assert.equal(resolveMode('u+s,+t', 0o755, true), 0o5755);
    assert.equal(resolveMode('=rw', 0o777, false, 0o022), 0o644, 'no users: the umask applies');
    assert.equal(formatMode(0o644), '0644');
    assert.throws(() => resolveMode('u=rwz', 0, false), /octal or symbolic/);
    assert.throws(() => resolveMode(0o17777, 0, false), /only permission info/);
  });
});

describe('copy', () => {
  test('content: converge, check mode exact, diff of the content', async () => {
    const { dir, real } = await assertConverges('copy', (d) => ({ content: 'hello\n', dest: join(d, 'greeting') }));
    assert.equal(readFileSync(join(dir, 'greeting'), 'utf8'), 'hello\n');
    assert.deepEqual(real.diff, [{ before: '', after: 'hello\n', beforeHeader: join(dir, 'greeting'), afterHeader: 'dynamically generated' }]);
    assert.equal(real.mode, formatMode(0o666 & ~process.umask()));
    assert.equal(real.checksum, 'f572d396fae9206628714fb2ce00f72e94f2258f');
  });

  test('changed content shows before and after; mode change shows a small state diff', async () => {
    const { real } = await assertConverges('copy', (d) => {
      writeFileSync(join(d, 'f'), 'old\n');
      chmodSync(join(d, 'f'), 0o600);
      return { content: 'new\n', dest: join(d, 'f'), mode: 'u=rw,g=r,o=r' };
    });
    assert.equal(real.diff![0]!.before, 'old\n');
    assert.equal(real.diff![0]!.after, 'new\n');
    assert.match(real.diff![1]!.before, /mode: '0600'/);
    assert.match(real.diff![1]!.after, /mode: '0644'/);
    assert.equal(real.mode, '0644');
  });

  test('only the mode differs: no write, just chmod', async () => {
    const { dir, real } = await assertConverges('copy', (d) => {
      writeFileSync(join(d, 'f'), 'same\n');
      chmodSync(join(d, 'f'), 0o644);
      return { content: 'same\n', dest: join(d, 'f'), mode: '0600' };
    });
    assert.equal(real.diff!.length, 1);
    assert.equal(statSync(join(dir, 'f')).mode & 0o777, 0o600);
  });

  test('src from files/, into an existing folder, backup, force=false', async () => {
    const { dir, real } = await assertConverges('copy', (d) => {
      mkdirSync(join(d, 'files'), { recursive: true });
      mkdirSync(join(d, 'etc'), { recursive: true });
      writeFileSync(join(d, 'files', 'app.conf'), 'v2\n');
      return { src: 'app.conf', dest: join(d, 'etc') };
    });
    assert.equal(real.dest, join(dir, 'etc', 'app.conf'));
    assert.equal(readFileSync(join(dir, 'etc', 'app.conf'), 'utf8'), 'v2\n');

    writeFileSync(join(dir, 'files', 'app.conf'), 'v3\n');
    const backed = await run('copy', { src: 'app.conf', dest: join(dir, 'etc', 'app.conf'), backup: true }, context({ base: dir }));
    assert.equal(readFileSync(backed.backup_file as string, 'utf8'), 'v2\n');

    writeFileSync(join(dir, 'files', 'app.conf'), 'v4\n');
    const kept = await run('copy', { src: 'app.conf', dest: join(dir, 'etc', 'app.conf'), force: false }, context({ base: dir }));
    assert.equal(kept.changed, false);
    assert.equal(readFileSync(join(dir, 'etc', 'app.conf'), 'utf8'), 'v3\n');
  });

  test('a missing src says where it looked', async () => {
    const dir = tempDir();
    const res = await run('copy', { src: 'nope.txt', dest: join(dir, 'x') }, context({ base: dir }));
    assert.equal(res.failed, true);
    assert.match(res.msg as string, /Could not find or access 'nope.txt'\nSearched in:\n\t.*files\/nope.txt/);
  });

  test('a missing destination folder fails like Ansible', async () => {
    const dir = tempDir();
    const res = await run('copy', { content: 'x', dest: join(dir, 'no', 'f') }, context({ base: dir }));
    assert.equal(res.failed, true);
    assert.equal(res.msg, `Destination directory ${join(dir, 'no')} does not exist`);
  });

  test('folder src: "dir" copies the folder, "dir/" its contents', async () => {
    const setup = (d: string, src: string) => {
      mkdirSync(join(d, 'files', 'site', 'sub'), { recursive: true });
      writeFileSync(join(d, 'files', 'site', 'index.html'), '<h1>hi</h1>\n');
      writeFileSync(join(d, 'files', 'site', 'sub', 'a.txt'), 'a\n');
      mkdirSync(join(d, 'www'), { recursive: true });
      return { src, dest: join(d, 'www'), directory_mode: '0750' };
    };
    const whole = await assertConverges('copy', (d) => setup(d, 'site'));
    assert.equal(readFileSync(join(whole.dir, 'www', 'site', 'sub', 'a.txt'), 'utf8'), 'a\n');
    assert.equal(statSync(join(whole.dir, 'www', 'site', 'sub')).mode & 0o7777, 0o750);
    const contents = await assertConverges('copy', (d) => setup(d, 'site/'));
    assert.equal(readFileSync(join(contents.dir, 'www', 'index.html'), 'utf8'), '<h1>hi</h1>\n');
    assert.equal(existsSync(join(contents.dir, 'www', 'site')), false);
  });

  test('binary content: the diff says so instead of dumping bytes', async () => {
    const { real } = await assertConverges('copy', (d) => {
      mkdirSync(join(d, 'files'), { recursive: true });
      writeFileSync(join(d, 'files', 'blob'), Buffer.from([0, 1, 2, 3]));
      return { src: 'blob', dest: join(d, 'blob') };
    });
    assert.match(real.diff![0]!.after, /appears to be binary/);
  });

  test('remote_src copies a file already on the host', async () => {
    const { dir } = await assertConverges('copy', (d) => {
      writeFileSync(join(d, 'on-host'), 'remote\n');
      return { src: join(d, 'on-host'), dest: join(d, 'copied'), remote_src: true, mode: '0640' };
    });
    assert.equal(readFileSync(join(dir, 'copied'), 'utf8'), 'remote\n');
    assert.equal(statSync(join(dir, 'copied')).mode & 0o777, 0o640);
  });

  test('validate failure: old file kept, Ansible keys returned, no temp left', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'old\n');
    const res = await run('copy', { content: 'new\n', dest: join(dir, 'f'), validate: 'false %s' }, context({ base: dir }));
    assert.equal(res.failed, true);
    assert.equal(res.msg, 'failed to validate');
    assert.equal(res.exit_status, 1);
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'old\n');
    assert.deepEqual(readdirSync(dir), ['f']);
  });

  test('nasty names: copied, stat-ed and nothing executes', async () => {
    const { dir } = await assertConverges('copy', (d) => ({ content: 'x', dest: join(d, NASTY) }));
    assert.equal(readFileSync(join(dir, NASTY), 'utf8'), 'x');
    const s = await run('stat', { path: join(dir, NASTY) }, context({ base: dir }));
    assert.equal((s.stat as { exists: boolean }).exists, true);
    assert.equal(existsSync(join(dir, 'pwned')), false);
    assert.equal(existsSync('pwned'), false);
  });
});

describe('template', () => {
  test('renders with the task variables and converges', async () => {
    const setup = (d: string) => {
      mkdirSync(join(d, 'templates'), { recursive: true });
      writeFileSync(join(d, 'templates', 'nginx.conf.j2'), 'worker_processes {{ workers }};\n');
      return { src: 'nginx.conf.j2', dest: join(d, 'nginx.conf'), mode: '0644' };
    };
    const vars = { workers: 4 };
    const checkDir = tempDir();
    const checkArgs = setup(checkDir);
    const snap = snapshot(checkDir);
    const checked = await run('template', checkArgs, context({ check: true, base: checkDir, vars }));
    assert.equal(snapshot(checkDir), snap);
    const dir = tempDir();
    const real = await run('template', setup(dir), context({ base: dir, vars }));
    assert.equal(real.changed, true);
    assert.equal(checked.changed, true);
    assert.equal(checked.diff![0]!.after, real.diff![0]!.after);
    assert.equal(readFileSync(join(dir, 'nginx.conf'), 'utf8'), 'worker_processes 4;\n');
    const again = await run('template', setup(dir), context({ base: dir, vars }));
    assert.equal(again.changed, false);
    const changedVars = await run('template', setup(dir), context({ base: dir, vars: { workers: 8 } }));
    assert.equal(changedVars.changed, true);
    assert.equal(changedVars.diff![0]!.before, 'worker_processes 4;\n');
  });
});

describe('file', () => {
  test('state=directory creates parents with the mode and reports an Ansible-style diff', async () => {
    const { dir, real } = await assertConverges('file', (d) => ({ path: join(d, 'a', 'b'), state: 'directory', mode: '0755' }));
    assert.equal(statSync(join(dir, 'a')).mode & 0o7777, 0o755);
    assert.deepEqual(real.diff, [
      {
        before: `path: ${join(dir, 'a', 'b')}\nstate: absent\n`,
        after: `path: ${join(dir, 'a', 'b')}\nstate: directory\nmode: '0755'\n`,
        beforeHeader: join(dir, 'a', 'b'),
        afterHeader: join(dir, 'a', 'b'),
      },
    ]);
  });

  test('state=absent removes a tree', async () => {
    const { dir } = await assertConverges('file', (d) => {
      mkdirSync(join(d, 'gone', 'deep'), { recursive: true });
      writeFileSync(join(d, 'gone', 'deep', 'f'), 'x');
      return { path: join(d, 'gone'), state: 'absent' };
    });
    assert.equal(existsSync(join(dir, 'gone')), false);
  });

  test('state=link, relink, and refusal to replace a file without force', async () => {
    const { dir } = await assertConverges('file', (d) => {
      writeFileSync(join(d, 'target'), 't');
      return { path: join(d, 'link'), src: 'target', state: 'link' };
    });
    assert.equal(readlinkSync(join(dir, 'link')), 'target');
    writeFileSync(join(dir, 'other'), 'o');
    const relinked = await run('file', { path: join(dir, 'link'), src: 'other', state: 'link' }, context({ base: dir }));
    assert.equal(relinked.changed, true);
    assert.match(relinked.diff![0]!.before, /src: target/);
    const refused = await run('file', { path: join(dir, 'other'), src: 'target', state: 'link' }, context({ base: dir }));
    assert.equal(refused.failed, true);
    assert.match(refused.msg as string, /refusing to convert from file to symlink/);
    const missing = await run('file', { path: join(dir, 'l2'), src: 'nope', state: 'link' }, context({ base: dir }));
    assert.match(missing.msg as string, /src file does not exist, use "force=yes"/);
  });

  test('state=hard', async () => {
    const { dir } = await assertConverges('file', (d) => {
      writeFileSync(join(d, 'target'), 't');
      return { path: join(d, 'hard'), src: join(d, 'target'), state: 'hard' };
    });
    assert.equal(statSync(join(dir, 'hard')).ino, statSync(join(dir, 'target')).ino);
  });

  test('state=file on a missing path fails like Ansible; on a file it fixes attributes', async () => {
    const dir = tempDir();
    const res = await run('file', { path: join(dir, 'x'), state: 'file' }, context({ base: dir }));
    assert.equal(res.failed, true);
    assert.equal(res.msg, `file (${join(dir, 'x')}) is absent, cannot continue`);
    const { dir: d2 } = await assertConverges('file', (d) => {
      writeFileSync(join(d, 'f'), 'x');
      chmodSync(join(d, 'f'), 0o600);
      return { path: join(d, 'f'), mode: 'g+r' };
    });
    assert.equal(statSync(join(d2, 'f')).mode & 0o777, 0o640);
  });

  test('state=touch: always changed; with preserved times only attributes count', async () => {
    const dir = tempDir();
    const ctx = context({ base: dir });
    const first = await run('file', { path: join(dir, 't'), state: 'touch', mode: '0600' }, ctx);
    assert.equal(first.changed, true);
    assert.equal(statSync(join(dir, 't')).mode & 0o777, 0o600);
    const second = await run('file', { path: join(dir, 't'), state: 'touch' }, ctx);
    assert.equal(second.changed, true);
    const preserved = await run('file', { path: join(dir, 't'), state: 'touch', modification_time: 'preserve', access_time: 'preserve' }, ctx);
    assert.equal(preserved.changed, false);
  });

  test('explicit modification_time converges and check mode does not touch', async () => {
    const { dir } = await assertConverges('file', (d) => {
      writeFileSync(join(d, 'f'), 'x');
      return { path: join(d, 'f'), state: 'file', modification_time: '202001020304.05' };
    });
    assert.equal(statSync(join(dir, 'f')).mtimeMs, new Date(2020, 0, 2, 3, 4, 5).getTime());
  });

  test('recurse sets the mode below a folder, symbolic X per entry', async () => {
    const { dir } = await assertConverges('file', (d) => {
      mkdirSync(join(d, 'tree', 'sub'), { recursive: true, mode: 0o700 });
      chmodSync(join(d, 'tree'), 0o700);
      chmodSync(join(d, 'tree', 'sub'), 0o700);
      writeFileSync(join(d, 'tree', 'sub', 'f'), 'x', { mode: 0o600 });
      return { path: join(d, 'tree'), state: 'directory', recurse: true, mode: 'u=rwX,g=rX,o=rX' };
    });
    assert.equal(statSync(join(dir, 'tree')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir, 'tree', 'sub')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir, 'tree', 'sub', 'f')).mode & 0o777, 0o644);
  });

  test('nasty names work as directories and links', async () => {
    const { dir } = await assertConverges('file', (d) => ({ path: join(d, NASTY), state: 'directory' }));
    assert.equal(statSync(join(dir, NASTY)).isDirectory(), true);
    symlinkSync(NASTY, join(dir, 'ln'));
    const st = await run('stat', { path: join(dir, 'ln') }, context({ base: dir }));
    assert.equal((st.stat as { lnk_target: string }).lnk_target, NASTY);
    assert.equal(existsSync(join(dir, 'pwned')), false);
  });
});

describe('stat', () => {
  test('Ansible keys: mode as a string, checksum sha1 by default, link info', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'f'), 'hello\n');
    chmodSync(join(dir, 'f'), 0o640);
    symlinkSync('f', join(dir, 'l'));
    const ctx = context({ base: dir });
    const f = (await run('stat', { path: join(dir, 'f') }, ctx)).stat as Record<string, unknown>;
    assert.equal(f.exists, true);
    assert.equal(f.mode, '0640');
    assert.equal(f.isreg, true);
    assert.equal(f.isdir, false);
    assert.equal(f.rgrp, true);
    assert.equal(f.roth, false);
    assert.equal(f.checksum, 'f572d396fae9206628714fb2ce00f72e94f2258f');
    const l = (await run('stat', { path: join(dir, 'l') }, ctx)).stat as Record<string, unknown>;
    assert.equal(l.islnk, true);
    assert.equal(l.lnk_source, join(dir, 'f'));
    const lf = (await run('stat', { path: join(dir, 'l'), follow: true, checksum_algorithm: 'sha256' }, ctx)).stat as Record<string, unknown>;
    assert.equal(lf.isreg, true);
    assert.equal((lf.checksum as string).length, 64);
    const none = await run('stat', { path: join(dir, 'none') }, ctx);
    assert.deepEqual(none, { changed: false, stat: { exists: false } });
  });
});

describe('command and shell', () => {
  test('command runs without a shell: arguments are literal', async () => {
    const dir = tempDir();
    const res = await run('command', { _raw_params: `printf '%s|' "a b" '$(touch pwned)' $HOME`, chdir: dir }, context({ base: dir }));
    assert.equal(res.rc, 0);
    assert.equal(res.changed, true);
    assert.equal(res.stdout, `a b|$(touch pwned)|$HOME|`);
    assert.deepEqual(res.cmd, ['printf', '%s|', 'a b', '$(touch pwned)', '$HOME']);
    assert.equal(existsSync(join(dir, 'pwned')), false);
    assert.match(res.start as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    assert.match(res.delta as string, /^0:00:0\d\.\d{6}$/);
  });

  test('argv, stdin, strip_empty_ends and lines', async () => {
    const res = await run('command', { argv: ['cat'], stdin: 'one\ntwo' }, context());
    assert.equal(res.stdout, 'one\ntwo');
    assert.deepEqual(res.stdout_lines, ['one', 'two']);
    const raw = await run('command', { argv: ['printf', 'x\n\n'], strip_empty_ends: false }, context());
    assert.equal(raw.stdout, 'x\n\n');
  });

  test('a non-zero rc fails with Ansible\'s message', async () => {
    const res = await run('command', { cmd: 'sh -c "echo boom >&2; exit 3"' }, context());
    assert.equal(res.failed, true);
    assert.equal(res.rc, 3);
    assert.equal(res.msg, 'non-zero return code');
    assert.equal(res.stderr, 'boom');
  });

  test('creates/removes skip, also with globs and in check mode', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'done.flag'), '');
    const ctx = context({ base: dir });
    const skipped = await run('command', { _raw_params: `touch ${join(dir, 'ran')}`, creates: join(dir, '*.flag') }, ctx);
    assert.equal(skipped.changed, false);
    assert.equal(skipped.msg, `Did not run command since '${join(dir, '*.flag')}' exists`);
    assert.equal(existsSync(join(dir, 'ran')), false);
    const notRemoved = await run('command', { _raw_params: 'true', removes: join(dir, 'nothing*') }, ctx);
    assert.equal(notRemoved.changed, false);
    const checkRun = await run('command', { _raw_params: `touch ${join(dir, 'ran')}`, creates: join(dir, 'nope') }, context({ check: true, base: dir }));
    assert.equal(checkRun.changed, true);
    assert.equal(existsSync(join(dir, 'ran')), false);
    const checkSkip = await run('command', { _raw_params: `touch ${join(dir, 'ran')}` }, context({ check: true, base: dir }));
    assert.equal(checkSkip.skipped, true);
    assert.equal(checkSkip.changed, false);
    assert.equal(existsSync(join(dir, 'ran')), false);
  });

  test('shell runs through sh (pipes, variables) or the executable given', async () => {
    const res = await run('shell', { _raw_params: 'echo "$GREETING" | tr a-z A-Z' }, { ...context(), environment: { GREETING: 'hi there' } });
    assert.equal(res.stdout, 'HI THERE');
    assert.equal(res.cmd, 'echo "$GREETING" | tr a-z A-Z');
    const bash = await run('shell', { cmd: 'echo $0', executable: '/bin/bash' }, context());
    assert.equal(bash.stdout, '/bin/bash');
  });

  test('the task timeout fails the command', async () => {
    const started = Date.now();
    await assert.rejects(run('shell', { cmd: 'sleep 10' }, { ...context(), timeoutMs: 300 }), /timed out/);
    assert.ok(Date.now() - started < 1500);
  });
});
