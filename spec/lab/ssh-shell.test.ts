// The long-lived shell over real ssh (engine/connection/persistent-shell.ts, ssh.ts): tsplay's own
// scripts run in it once it is up, with the same results as execs, as the login or the become
// user; a shell that dies is replaced, a request it was running fails plainly, a lost connection
// is unreachable. Needs root on Linux (the lab is made of namespaces); skipped elsewhere.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SshConnection } from '../../engine/connection/ssh.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import { UnreachableError, type ExecOptions } from '../../engine/connection/types.js';
import { useOneHostLab } from '../helpers/one-host-lab.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'tspshell';

describe('the long-lived shell on a lab host', { skip, timeout: 180_000 }, () => {
  const { lab, inHost, connect } = useOneHostLab(LAB, 'tsplay-shell-');
  const own = (opts: ExecOptions = {}): ExecOptions => ({ ...opts, ownScript: true });
  /** ownScript execs until one is served by the shell (the first ones start it). */
  const untilShell = async (c: SshConnection, opts: ExecOptions = {}) => {
    for (let i = 0; i < 50; i++) {
      const before = c.shellRequests;
      await c.exec('true', own(opts));
      if (c.shellRequests > before) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.fail('the shell never served a request');
  };

  test('own scripts run in one shell once it is up, with exactly what an exec gives', async () => {
    const c = connect();
    await untilShell(c);
    const stdin = randomBytes(3000);
    const cases: Array<[string, ExecOptions]> = [
      ['echo out; echo err >&2; exit 5', {}],
      ['cat; printf end', { stdin }],
      ['printf "%s|%s|%s" "$(pwd)" "$GREETING" "$(id -u)"', { cwd: '/tmp', env: { GREETING: "it's ünï $(x)" } }],
      ['cd /nonexistent-here', {}],
    ];
    for (const [script, opts] of cases) {
      const before = c.shellRequests;
      const viaShell = await c.execBuffer(script, own(opts));
      assert.equal(c.shellRequests, before + 1, `${script}: served by the shell`);
      const viaExec = await c.execBuffer(script, opts);
      assert.equal(c.shellRequests, before + 1, `${script}: a plain exec is not`);
      assert.equal(viaShell.rc, viaExec.rc, script);
      assert.deepEqual(viaShell.stdout, viaExec.stdout, script);
      assert.equal(viaShell.stderr.replace(/^(\/bin\/sh: \d+: )(eval: )?/, '$1'), viaExec.stderr, script);
    }
    // one long-lived process: the requests' parent is the same shell, an exec's is new each time
    const parents = new Set<string>();
    for (let i = 0; i < 3; i++) parents.add((await c.exec('echo $PPID', own())).stdout);
    assert.equal(parents.size, 1);
  });

  test('file writes through the shell are byte-exact and leave nothing behind', async () => {
    const c = connect();
    const ops = new HostOps(c);
    await untilShell(c);
    const before = c.shellRequests;
    const data = Buffer.concat([randomBytes(20_000), Buffer.from("\n'%s\\0 end\n")]);
    await ops.writeFileAtomic('/srv/shell-write.bin', data, { mode: 0o640 });
    assert.ok(c.shellRequests > before, 'the write went through the shell');
    assert.equal((await inHost('sha256sum < /srv/shell-write.bin')).split(' ')[0], createHash('sha256').update(data).digest('hex'));
    const stat = await ops.stat('/srv/shell-write.bin', { checksum: 'sha256' });
    assert.equal(stat.mode, 0o640);
    assert.equal((await inHost("ls -A /srv /tmp | grep -c '^[.]tsplay-' || true")).trim(), '0');

    // backups name the file PATH.PID.STAMP~ like Ansible: $$ is the same for every request in
    // the shell, so two writes in one second must still keep both old versions
    await ops.writeFileAtomic('/srv/backed.conf', Buffer.from('v1\n'));
    const first = await ops.writeFileAtomic('/srv/backed.conf', Buffer.from('v2\n'), { backup: true });
    const second = await ops.writeFileAtomic('/srv/backed.conf', Buffer.from('v3\n'), { backup: true });
    assert.notEqual(first.backupFile, second.backupFile);
    assert.equal(await inHost(`cat '${first.backupFile}' '${second.backupFile}' /srv/backed.conf`), 'v1\nv2\nv3\n');
  });

  test('become without a password gets a shell of its own, as that user; with a password, execs', async () => {
    const users = lab().becomeUsers!;
    const c = connect(users.nopasswd);
    const sudo = { method: 'sudo' as const, user: 'root' };
    await untilShell(c, { become: sudo });
    await untilShell(c);
    const before = c.shellRequests;
    assert.equal((await c.exec('id -un', own({ become: sudo }))).stdout, 'root\n');
    assert.equal((await c.exec('id -un', own())).stdout, `${users.nopasswd}\n`);
    assert.equal(c.shellRequests, before + 2);
    const rootShell = (await c.exec('echo $PPID', own({ become: sudo }))).stdout;
    const userShell = (await c.exec('echo $PPID', own())).stdout;
    assert.notEqual(rootShell, userShell);

    const p = connect(users.password);
    const password = readFileSync(users.passwordFile, 'utf8').trim();
    const withPassword = { method: 'sudo' as const, user: 'root', password };
    const count = p.shellRequests;
    for (let i = 0; i < 3; i++) assert.equal((await p.exec('id -un', own({ become: withPassword }))).stdout, 'root\n');
    assert.equal(p.shellRequests, count, 'a become password never goes to a long-lived shell');
  });

  test('a shell killed while idle is replaced; one killed under a request fails that request only', async () => {
    const c = connect();
    await untilShell(c);
    await inHost("pkill -KILL -f '^/bin/sh -s$'");
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await c.exec('echo fine', own())).stdout, 'fine\n'); // an exec while the next shell starts
    await untilShell(c);

    const running = c.exec('sleep 5; echo never', own());
    running.catch(() => {}); // it fails while the kill is on its way; asserted below
    await new Promise((resolve) => setTimeout(resolve, 300));
    await inHost("pkill -KILL -f '^/bin/sh -s$'");
    await assert.rejects(running, (err: Error) => !(err instanceof UnreachableError) && /ended during the command/.test(err.message));
    assert.equal((await c.exec('echo still connected', own())).stdout, 'still connected\n');
  });

  test('sshd killed under a shell request: unreachable, not a hang', async () => {
    const c = connect();
    await untilShell(c);
    const running = c.exec('sleep 5; echo never', own());
    running.catch(() => {}); // it fails while the kill is on its way; asserted below
    await new Promise((resolve) => setTimeout(resolve, 300));
    await inHost('pkill -KILL -x sshd');
    await assert.rejects(running, UnreachableError);
  });
});
