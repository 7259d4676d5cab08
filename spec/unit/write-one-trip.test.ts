// copy, template and lineinfile write a new or changed file in the probe's round trip (the
// write chained behind a guard, the content on stdin): one exec instead of two, with exactly
// the result, diff, backup, validate and end state of the two-step path.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HostOps } from '../../engine/connection/host-ops.js';
import { LocalConnection } from '../../engine/connection/local.js';
import type { ModuleContext, ModuleResult } from '../../engine/modules/types.js';
import { localModuleContext, runModule } from '../helpers/module-context.js';
import { makeTempDir } from '../helpers/temp-dir.js';

/** HostOps that never chains a write: the two-step path, for comparison. */
class TwoStepOps extends HostOps {
  override chainableWrite(): undefined {
    return undefined;
  }
}

/** A local module context that counts execs (and the bytes sent on stdin). */
function counting(opts: { check?: boolean; twoStep?: boolean; base?: string; diff?: boolean } = {}): { ctx: ModuleContext; execs: () => number; stdinBytes: () => number } {
  const ctx = localModuleContext({ diff: opts.diff ?? true, ...(opts.check ? { check: true } : {}), ...(opts.base ? { base: opts.base } : {}) });
  const local = new LocalConnection('localhost');
  let n = 0;
  let bytes = 0;
  const conn = Object.create(local) as LocalConnection;
  conn.exec = (script, o) => {
    n++;
    bytes += o?.stdin?.length ?? 0;
    return local.exec(script, o);
  };
  const ops = opts.twoStep ? new TwoStepOps(conn) : new HostOps(conn);
  return { ctx: { ...ctx, conn, ops }, execs: () => n, stdinBytes: () => bytes };
}

/** A result with one folder's name replaced by another's, and backup names' time stamps blanked. */
function normalized(r: ModuleResult, dir: string): unknown {
  const text = JSON.stringify(r).split(dir).join('<dir>');
  return JSON.parse(text.replace(/\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~/g, '.<backup>~'));
}

/** The task run both ways on identical fresh trees: the results must be the same. */
async function bothWays(
  module: string,
  setup: (dir: string) => Record<string, unknown>,
  opts: { check?: boolean } = {},
): Promise<{ one: ModuleResult; two: ModuleResult; oneDir: string; twoDir: string; oneExecs: number; twoExecs: number }> {
  const oneDir = makeTempDir('tsplay-w1-');
  const twoDir = makeTempDir('tsplay-w2-');
  const a = counting({ ...opts, base: oneDir });
  const b = counting({ ...opts, base: twoDir, twoStep: true });
  const one = await runModule(module, setup(oneDir), a.ctx);
  const two = await runModule(module, setup(twoDir), b.ctx);
  assert.deepEqual(normalized(one, oneDir), normalized(two, twoDir), 'same result as the two-step path');
  return { one, two, oneDir, twoDir, oneExecs: a.execs(), twoExecs: b.execs() };
}

describe('copy, template, lineinfile: a new or changed file in one round trip', () => {
  test('copy content to a new file: one exec, same result and diff as two steps', async () => {
    const r = await bothWays('copy', (dir) => ({ content: 'hello\n', dest: join(dir, 'new.conf'), mode: '0640' }));
    assert.equal(r.oneExecs, 1);
    assert.equal(r.twoExecs, 2);
    assert.equal(r.one.changed, true);
    assert.equal(readFileSync(join(r.oneDir, 'new.conf'), 'utf8'), 'hello\n');
    assert.equal(statSync(join(r.oneDir, 'new.conf')).mode & 0o7777, 0o640);
    assert.equal(r.one.mode, '0640');
    assert.deepEqual(r.one.diff, [{ before: '', after: 'hello\n', beforeHeader: join(r.oneDir, 'new.conf'), afterHeader: 'dynamically generated' }]);
    assert.deepEqual(readdirSync(r.oneDir), ['new.conf'], 'no temp file left');
  });

  test('a changed file: one exec, the diff shows the old content, the backup holds it', async () => {
    const setup = (dir: string) => {
      writeFileSync(join(dir, 'app.conf'), 'old line\n', { mode: 0o600 });
      return { content: 'new line\n', dest: join(dir, 'app.conf'), backup: true };
    };
    const r = await bothWays('copy', setup);
    assert.equal(r.oneExecs, 1);
    assert.equal(r.twoExecs, 2);
    assert.equal(r.one.changed, true);
    assert.deepEqual(r.one.diff, [{ before: 'old line\n', after: 'new line\n', beforeHeader: join(r.oneDir, 'app.conf'), afterHeader: 'dynamically generated' }]);
    assert.equal(readFileSync(join(r.oneDir, 'app.conf'), 'utf8'), 'new line\n');
    assert.equal(statSync(join(r.oneDir, 'app.conf')).mode & 0o7777, 0o600, 'the old mode is kept');
    assert.equal(readFileSync(String(r.one.backup_file), 'utf8'), 'old line\n');
  });

  test('an unchanged file (warm run): one exec, nothing written, ok', async () => {
    const dir = makeTempDir('tsplay-w1-');
    writeFileSync(join(dir, 'same'), 'same\n', { mode: 0o644 });
    const inode = statSync(join(dir, 'same')).ino;
    const c = counting();
    const r = await runModule('copy', { content: 'same\n', dest: join(dir, 'same'), mode: '0644' }, c.ctx);
    assert.equal(r.changed, false);
    assert.equal(r.diff, undefined);
    assert.equal(c.execs(), 1);
    assert.equal(statSync(join(dir, 'same')).ino, inode, 'the file was not replaced');
    assert.equal(c.stdinBytes(), 5, 'the content went along, speculatively');
  });

  test('copy src and template: one exec for a new file and for a changed one', async () => {
    const setup = (dir: string, old?: string) => {
      mkdirSync(join(dir, 'files'));
      mkdirSync(join(dir, 'templates'));
      writeFileSync(join(dir, 'files', 'motd'), 'welcome\n');
      writeFileSync(join(dir, 'templates', 'app.conf.j2'), 'port = {{ 80 + 1 }}\n');
      mkdirSync(join(dir, 'etc'));
      if (old !== undefined) {
        writeFileSync(join(dir, 'etc', 'motd'), old);
        writeFileSync(join(dir, 'etc', 'app.conf'), old);
      }
    };
    for (const old of [undefined, 'previous\n']) {
      const copy = await bothWays('copy', (dir) => (setup(dir, old), { src: 'motd', dest: join(dir, 'etc', 'motd') }));
      assert.deepEqual([copy.oneExecs, copy.twoExecs], [1, 2]);
      assert.equal(readFileSync(join(copy.oneDir, 'etc', 'motd'), 'utf8'), 'welcome\n');
      const tpl = await bothWays('template', (dir) => (setup(dir, old), { src: 'app.conf.j2', dest: join(dir, 'etc', 'app.conf'), mode: 0o600 }));
      assert.deepEqual([tpl.oneExecs, tpl.twoExecs], [1, 2]);
      assert.equal(readFileSync(join(tpl.oneDir, 'etc', 'app.conf'), 'utf8'), 'port = 81\n');
      assert.equal(tpl.one.changed, true);
      assert.equal(tpl.one.diff && (tpl.one.diff as Array<{ before: string }>)[0]!.before, old ?? '');
    }
  });

  test('check mode never chains: one exec, nothing written, nothing sent', async () => {
    const dir = makeTempDir('tsplay-w1-');
    writeFileSync(join(dir, 'old'), 'a\n');
    for (const [module, args] of [
      ['copy', { content: 'x\n', dest: join(dir, 'new') }],
      ['copy', { content: 'b\n', dest: join(dir, 'old') }],
      ['lineinfile', { path: join(dir, 'lines'), line: 'k=v', create: true }],
    ] as const) {
      const c = counting({ check: true });
      const r = await runModule(module, args, c.ctx);
      assert.equal(r.changed, true);
      assert.equal(c.execs(), 1);
      assert.equal(c.stdinBytes(), 0);
    }
    assert.deepEqual(readdirSync(dir), ['old']);
    assert.equal(readFileSync(join(dir, 'old'), 'utf8'), 'a\n');
  });

  test('validate failure keeps the old file: one exec, the same failure as two steps', async () => {
    const r = await bothWays('copy', (dir) => {
      writeFileSync(join(dir, 'sudoers'), 'good\n');
      return { content: 'bad\n', dest: join(dir, 'sudoers'), validate: 'grep -q good %s' };
    });
    assert.equal(r.oneExecs, 1);
    assert.equal(r.one.failed, true);
    assert.equal(r.one.msg, 'failed to validate');
    assert.equal(r.one.exit_status, 1);
    assert.equal(readFileSync(join(r.oneDir, 'sudoers'), 'utf8'), 'good\n');
    assert.deepEqual(readdirSync(r.oneDir), ['sudoers'], 'no temp file left');

    // a validate command that prints without a final newline
    const ok = await bothWays('copy', (dir) => ({ content: 'good\n', dest: join(dir, 'sudoers'), validate: 'printf checked:%s' }));
    assert.equal(ok.oneExecs, 1);
    assert.equal(ok.one.changed, true);
    assert.equal(readFileSync(join(ok.oneDir, 'sudoers'), 'utf8'), 'good\n');
  });

  test('a failing chown in the chained write: the failure as two steps, the old file kept', async () => {
    const r = await bothWays('copy', (dir) => {
      writeFileSync(join(dir, 'f'), 'old\n');
      return { content: 'new\n', dest: join(dir, 'f'), owner: 'no-such-user-tsplay' };
    });
    assert.equal(r.oneExecs, 1);
    assert.equal(r.one.failed, true);
    assert.match(String(r.one.msg), /chown failed: .*no-such-user-tsplay/);
    assert.equal(readFileSync(join(r.oneDir, 'f'), 'utf8'), 'old\n');
  });

  test('hostile names: written where asked, nothing run', async () => {
    for (const name of ["it's $(touch PWNED) `touch PWNED2`.conf", '-n', 'new\nline', 'back\\slash\\nx', 'sp ace;rm -rf x', '*']) {
      const r = await bothWays('copy', (dir) => ({ content: 'v\n', dest: join(dir, name) }));
      assert.equal(r.oneExecs, 1, JSON.stringify(name));
      assert.deepEqual(readdirSync(r.oneDir), [name]);
      assert.equal(readFileSync(join(r.oneDir, name), 'utf8'), 'v\n');
      // warm: the guard reads the probe's checksum line (escaped for some names): nothing written
      const inode = statSync(join(r.oneDir, name)).ino;
      const again = counting();
      const warm = await runModule('copy', { content: 'v\n', dest: join(r.oneDir, name) }, again.ctx);
      assert.deepEqual([warm.changed, warm.failed, warm.msg], [false, undefined, undefined]);
      assert.equal(statSync(join(r.oneDir, name)).ino, inode);
      const changed = counting();
      assert.equal((await runModule('copy', { content: 'w\n', dest: join(r.oneDir, name) }, changed.ctx)).changed, true);
      assert.equal(changed.execs(), 1);
      assert.equal(readFileSync(join(r.oneDir, name), 'utf8'), 'w\n');
    }
  });

  test('where the guard does not hold, the two-step path runs: link, folder in the way, force: false, attributes only', async () => {
    // a symlink at dest (follow: the target is written)
    const link = await bothWays('copy', (dir) => {
      writeFileSync(join(dir, 'real'), 'old\n');
      symlinkSync('real', join(dir, 'link'));
      return { content: 'new\n', dest: join(dir, 'link'), follow: true };
    });
    assert.deepEqual([link.oneExecs, link.twoExecs], [2, 2]);
    assert.equal(lstatSync(join(link.oneDir, 'link')).isSymbolicLink(), true);
    assert.equal(readFileSync(join(link.oneDir, 'real'), 'utf8'), 'new\n');

    // a folder at dest (template: the file goes inside)
    const inside = await bothWays('template', (dir) => {
      mkdirSync(join(dir, 'templates'));
      writeFileSync(join(dir, 'templates', 't.j2'), 'x\n');
      mkdirSync(join(dir, 'conf.d'));
      return { src: 't.j2', dest: join(dir, 'conf.d') };
    });
    assert.deepEqual([inside.oneExecs, inside.twoExecs], [2, 2]);
    assert.equal(readFileSync(join(inside.oneDir, 'conf.d', 't'), 'utf8'), 'x\n');

    // force: false on an existing file: left alone, one exec
    const kept = await bothWays('copy', (dir) => {
      writeFileSync(join(dir, 'f'), 'mine\n');
      return { content: 'theirs\n', dest: join(dir, 'f'), force: false };
    });
    assert.deepEqual([kept.oneExecs, kept.twoExecs], [1, 1]);
    assert.equal(readFileSync(join(kept.oneDir, 'f'), 'utf8'), 'mine\n');
    const created = await bothWays('copy', (dir) => ({ content: 'theirs\n', dest: join(dir, 'f'), force: false }));
    assert.deepEqual([created.oneExecs, created.twoExecs], [1, 2]);

    // same content, other mode: only chmod, two execs
    const attrs = await bothWays('copy', (dir) => {
      writeFileSync(join(dir, 'f'), 'same\n', { mode: 0o644 });
      return { content: 'same\n', dest: join(dir, 'f'), mode: '0600' };
    });
    assert.deepEqual([attrs.oneExecs, attrs.twoExecs], [2, 2]);
    assert.equal(statSync(join(attrs.oneDir, 'f')).mode & 0o7777, 0o600);

    // a missing folder: Ansible's error, nothing written
    const nodir = await bothWays('copy', (dir) => ({ content: 'x', dest: join(dir, 'no', 'f') }));
    assert.equal(nodir.one.failed, true);
    assert.equal(nodir.oneExecs, 1);
    assert.equal(existsSync(join(nodir.oneDir, 'no')), false);
  });

  test('not chained: a symbolic mode, content above the limit', async () => {
    const sym = await bothWays('copy', (dir) => ({ content: 'x\n', dest: join(dir, 'f'), mode: 'u=rw,go=' }));
    assert.deepEqual([sym.oneExecs, sym.twoExecs], [2, 2]);
    assert.equal(statSync(join(sym.oneDir, 'f')).mode & 0o7777, 0o600);
    const big = 'x'.repeat(64 * 1024 + 1);
    const c = counting();
    const dir = makeTempDir('tsplay-w1-');
    const r = await runModule('copy', { content: big, dest: join(dir, 'big') }, c.ctx);
    assert.equal(r.changed, true);
    assert.equal(c.execs(), 2);
    const w = counting();
    await runModule('copy', { content: big, dest: join(dir, 'big') }, w.ctx);
    assert.equal(w.stdinBytes(), 0, 'a warm run sends nothing above the limit');
  });

  test('lineinfile: create is one exec; a first edit of an existing file stays two (its new text depends on it)', async () => {
    const created = await bothWays('lineinfile', (dir) => ({ path: join(dir, 'a.conf'), regexp: '^key=', line: 'key=1', create: true, mode: '0644' }));
    assert.deepEqual([created.oneExecs, created.twoExecs], [1, 2]);
    assert.equal(readFileSync(join(created.oneDir, 'a.conf'), 'utf8'), 'key=1\n');
    assert.equal(statSync(join(created.oneDir, 'a.conf')).mode & 0o7777, 0o644);
    assert.deepEqual(created.one.diff, [{ before: '', after: 'key=1\n', beforeHeader: `${join(created.oneDir, 'a.conf')} (content)`, afterHeader: `${join(created.oneDir, 'a.conf')} (content)` }]);

    const edited = await bothWays('lineinfile', (dir) => {
      writeFileSync(join(dir, 'a.conf'), 'key=0\nother=1\n');
      return { path: join(dir, 'a.conf'), regexp: '^key=', line: 'key=1', create: true, backup: true };
    });
    assert.deepEqual([edited.oneExecs, edited.twoExecs], [2, 2]);
    assert.equal(readFileSync(join(edited.oneDir, 'a.conf'), 'utf8'), 'key=1\nother=1\n');

    // missing folders are created first: two steps (mkdir, write) as before
    const deep = await bothWays('lineinfile', (dir) => ({ path: join(dir, 'x', 'y.conf'), line: 'k', create: true }));
    assert.deepEqual([deep.oneExecs, deep.twoExecs], [3, 3]);
    assert.equal(readFileSync(join(deep.oneDir, 'x', 'y.conf'), 'utf8'), 'k\n');

    // a failed validate of a new file leaves no file
    const bad = await bothWays('lineinfile', (dir) => ({ path: join(dir, 'v.conf'), line: 'k', create: true, validate: 'false %s' }));
    assert.equal(bad.oneExecs, 1);
    assert.equal(bad.one.failed, true);
    assert.deepEqual(readdirSync(bad.oneDir), []);
  });

  test('lineinfile on a file the run already knows: one exec; changed behind its back: two, and right', async () => {
    const dir = makeTempDir('tsplay-w1-');
    const path = join(dir, 'sshd_config');
    writeFileSync(path, 'Port 22\nPermitRootLogin yes\n');
    const c = counting();
    const execs: number[] = [];
    const run = async (args: Record<string, unknown>): Promise<ModuleResult> => {
      const before = c.execs();
      const r = await runModule('lineinfile', { path, ...args }, c.ctx);
      execs.push(c.execs() - before);
      return r;
    };
    await run({ regexp: '^Port ', line: 'Port 2222' }); // first sight: probe, then write
    const second = await run({ regexp: '^PermitRootLogin ', line: 'PermitRootLogin no', backup: true });
    await run({ line: 'UseDNS no' });
    assert.deepEqual(execs, [2, 1, 1]);
    assert.equal(readFileSync(path, 'utf8'), 'Port 2222\nPermitRootLogin no\nUseDNS no\n');
    assert.deepEqual(second.diff, [{ before: 'Port 2222\nPermitRootLogin yes\n', after: 'Port 2222\nPermitRootLogin no\n', beforeHeader: `${path} (content)`, afterHeader: `${path} (content)` }]);
    assert.equal(readFileSync(String(second.backup), 'utf8'), 'Port 2222\nPermitRootLogin yes\n');

    // someone else edits it: the guard (sha1) fails, the two-step path edits what is there
    writeFileSync(path, 'Port 2222\nPermitRootLogin no\nUseDNS no\nX11Forwarding yes\n');
    const r = await run({ regexp: '^X11Forwarding ', line: 'X11Forwarding no' });
    assert.equal(execs.at(-1), 2);
    assert.equal(r.changed, true);
    assert.equal(readFileSync(path, 'utf8'), 'Port 2222\nPermitRootLogin no\nUseDNS no\nX11Forwarding no\n');
    // unchanged (the line is there): one exec, nothing written
    const ok = await run({ regexp: '^X11Forwarding ', line: 'X11Forwarding no' });
    assert.equal(ok.changed, false);
    assert.equal(execs.at(-1), 1);
  });
});
