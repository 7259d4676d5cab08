// The ssh transport against real OpenSSH servers started here on loopback ports.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { SshConnection } from '../../engine/connection/ssh.js';
import { shQuote } from '../../engine/connection/shell.js';
import { CommandTimeoutError, UnreachableError } from '../../engine/connection/types.js';
import { descendants, keygenFingerprint, makeKey, run, sshdUnavailable, startSshd, type Sshd } from './sshd-fixture.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const skip = sshdUnavailable();
const work = skip ? '' : makeTempDir('tsplay-ssh-test-');
if (work) chmodSync(work, 0o755);

function vars(sshd: Sshd, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ansible_host: sshd.host,
    ansible_port: sshd.port,
    ansible_user: 'root',
    tsplay_known_hosts_file: join(work, 'known_hosts'),
    ...extra,
  };
}

async function unreachable(p: Promise<unknown>): Promise<UnreachableError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof UnreachableError, `expected UnreachableError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the host to be unreachable');
}

describe('ssh connection on a real sshd', { skip: skip ?? false, timeout: 180_000 }, () => {
  let key: string;
  let sshd: Sshd;
  const open: SshConnection[] = [];
  const conn = (host: string, v: Record<string, unknown>, o = {}) => {
    const c = new SshConnection(host, v, o);
    open.push(c);
    return c;
  };

  before(async () => {
    key = makeKey(work, 'id_test');
    sshd = await startSshd({ authorized: { root: [key] } });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    await sshd?.dispose(); // undefined when before failed
    removeTempDir(work);
  });

  test('key auth; accept-new records the host key, a second connection matches it', async () => {
    const kh = join(work, 'kh-accept');
    const c1 = conn('h1', vars(sshd, { ansible_ssh_private_key_file: key, tsplay_known_hosts_file: kh }));
    const res = await c1.exec('id -un');
    assert.deepEqual(res, { rc: 0, stdout: 'root\n', stderr: '' });
    const recorded = readFileSync(kh, 'utf8');
    assert.equal(recorded.split('\n').filter(Boolean).length, 1);
    assert.match(run('ssh-keygen', ['-F', `[127.0.0.1]:${sshd.port}`, '-f', kh]), /ssh-ed25519/);
    const c2 = conn('h1', vars(sshd, { ansible_ssh_private_key_file: key, tsplay_known_hosts_file: kh, ansible_ssh_host_key_checking: 'strict' }));
    assert.equal((await c2.exec('echo again')).stdout, 'again\n');
    assert.equal(readFileSync(kh, 'utf8'), recorded, 'nothing recorded twice');
  });

  test('strict refuses an unknown host, naming the fingerprint ssh-keygen prints', async () => {
    const kh = join(work, 'kh-strict');
    const c = conn('h2', vars(sshd, { ansible_ssh_private_key_file: key, tsplay_known_hosts_file: kh, ansible_ssh_host_key_checking: 'strict' }));
    const err = await unreachable(c.exec('true'));
    assert.match(err.message, /host key checking is strict/);
    assert.ok(err.message.includes(keygenFingerprint(`${sshd.hostKey}.pub`)), err.message);
    assert.equal(existsSync(kh), false, 'nothing recorded under strict');
  });

  test('a changed host key is refused with both fingerprints and the line to remove', async () => {
    const kh = join(work, 'kh-changed');
    const other = await startSshd({ authorized: { root: [key] } });
    try {
      await conn('h3', vars(other, { ansible_ssh_private_key_file: key, tsplay_known_hosts_file: kh })).connect();
      const oldFp = keygenFingerprint(`${other.hostKey}.pub`);
      await other.stop();
      const newHostKey = makeKey(work, `host_key_${Date.now()}`);
      const again = await startSshd({ port: other.port, hostKey: newHostKey, authorized: { root: [key] } });
      try {
        const err = await unreachable(conn('h3', vars(again, { ansible_ssh_private_key_file: key, tsplay_known_hosts_file: kh })).exec('true'));
        assert.match(err.message, /HAS CHANGED/);
        assert.ok(err.message.includes(oldFp), err.message);
        assert.ok(err.message.includes(keygenFingerprint(`${newHostKey}.pub`)), err.message);
        assert.ok(err.message.includes(`${kh}:1`), err.message);
        assert.equal(err.host, 'h3');
      } finally {
        await again.dispose();
      }
    } finally {
      await other.dispose();
    }
  });

  test('an encrypted key works with its passphrase; without it, auth fails clearly', async () => {
    const passphrase = 'correct horse $(battery)';
    const encrypted = makeKey(work, 'id_encrypted', 'ed25519', passphrase);
    const srv = await startSshd({ authorized: { root: [encrypted] } });
    try {
      const ok = conn('h4', vars(srv, { ansible_ssh_private_key_file: encrypted, ansible_ssh_private_key_passphrase: passphrase }));
      assert.equal((await ok.exec('echo in')).stdout, 'in\n');
      const asked: string[] = [];
      const viaPrompt = conn('h4', vars(srv, { ansible_ssh_private_key_file: encrypted }), {
        askPassphrase: async (file: string) => (asked.push(file), passphrase),
      });
      await viaPrompt.connect();
      assert.deepEqual(asked, [encrypted]);
      const savedAgent = process.env.SSH_AUTH_SOCK;
      delete process.env.SSH_AUTH_SOCK;
      try {
        const bad = conn('h4', vars(srv, { ansible_ssh_private_key_file: encrypted, ansible_ssh_private_key_passphrase: 'wrong' }));
        const err = await unreachable(bad.connect());
        assert.match(err.message, new RegExp(`authentication failed for root@127\\.0\\.0\\.1:${srv.port}`));
        assert.ok(!err.message.includes('wrong') && !err.message.includes(passphrase));
      } finally {
        if (savedAgent !== undefined) process.env.SSH_AUTH_SOCK = savedAgent;
      }
    } finally {
      await srv.dispose();
    }
  });

  test('password auth for a throwaway user; a wrong password is an auth failure without the password', async () => {
    const user = `tsplay${process.pid % 100000}`;
    const password = `pw'"$(x) ${Date.now()}`;
    run('useradd', ['-m', '-s', '/bin/sh', user]);
    let srv: Sshd | undefined;
    try {
      srv = await startSshd({ passwordAuth: true });
      run('chpasswd', [], { input: `${user}:${password}\n` });
      const noKey = join(work, 'no-such-key');
      const c = conn('pw', vars(srv, { ansible_user: user, ansible_password: password, ansible_ssh_private_key_file: noKey }));
      assert.equal((await c.exec('id -un')).stdout, `${user}\n`);
      const bad = conn('pw', vars(srv, { ansible_user: user, ansible_password: 'nope-not-it', ansible_ssh_private_key_file: noKey }));
      const err = await unreachable(bad.connect());
      assert.match(err.message, /authentication failed for tsplay\d+@127\.0\.0\.1:\d+ \(tried: .*password/);
      assert.ok(!err.message.includes('nope-not-it'));
    } finally {
      await srv?.dispose();
      spawnSync('userdel', ['-r', '-f', user]);
    }
  });

  test('sudo with a password over ssh: converges, password never in output or ps', async () => {
    const user = `tsplb${process.pid % 100000}`;
    const password = `s3cr3t-${Date.now()}`;
    const sudoers = `/etc/sudoers.d/${user}`;
    let srv: Sshd | undefined;
    let watch: NodeJS.Timeout | undefined;
    try {
      run('useradd', ['-m', '-s', '/bin/sh', user]);
      run('chpasswd', [], { input: `${user}:${password}\n` });
      writeFileSync(sudoers, `${user} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });
      srv = await startSshd({ authorized: { [user]: [key] } });
      const c = conn('sudo', vars(srv, { ansible_user: user, ansible_ssh_private_key_file: key }));
      const target = join(work, `root-owned-${user}`);
      let seenInPs = false;
      watch = setInterval(() => {
        for (const pid of readdirSync('/proc')) {
          if (!/^\d+$/.test(pid)) continue;
          try {
            if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(password)) seenInPs = true;
          } catch {
            // gone
          }
        }
      }, 20);
      const res = await c.exec(`sleep 0.5; cat > ${shQuote(target)}; id -u`, {
        stdin: 'hello\n',
        become: { method: 'sudo', user: 'root', password },
      });
      clearInterval(watch);
      assert.deepEqual(res, { rc: 0, stdout: '0\n', stderr: '' });
      assert.equal(readFileSync(target, 'utf8'), 'hello\n');
      assert.equal(seenInPs, false);
      const wrong = await c.exec('id -u', { become: { method: 'sudo', user: 'root', password: 'bad-password' } });
      assert.notEqual(wrong.rc, 0);
      assert.ok(!wrong.stderr.includes('bad-password') && !wrong.stdout.includes('bad-password'));
    } finally {
      clearInterval(watch); // the exec may have thrown before the test cleared it
      await srv?.dispose();
      rmSync(sudoers, { force: true });
      spawnSync('userdel', ['-r', '-f', user]);
    }
  });

  test('ssh-agent auth', async () => {
    const sock = join(work, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    const saved = process.env.SSH_AUTH_SOCK;
    try {
      for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      const agentKey = makeKey(work, 'id_agent');
      run('ssh-add', ['-q', agentKey], { env: { ...process.env, SSH_AUTH_SOCK: sock } });
      const srv = await startSshd({ authorized: { root: [agentKey] } });
      try {
        process.env.SSH_AUTH_SOCK = sock;
        const c = conn('agent', vars(srv, { ansible_ssh_private_key_file: join(work, 'not-there') }));
        assert.equal((await c.exec('echo via agent')).stdout, 'via agent\n');
      } finally {
        await srv.dispose();
      }
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
      agent.kill();
    }
  });

  test('MaxSessions 2: 30 parallel execs all succeed on one connection', async () => {
    const srv = await startSshd({ authorized: { root: [key] }, maxSessions: 2 });
    try {
      const c = conn('max2', vars(srv, { ansible_ssh_private_key_file: key }));
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => c.exec(`sleep 0.0$((${i} % 5)); echo ${i}`)));
      assert.deepEqual(results.map((r) => r.stdout), Array.from({ length: 30 }, (_, i) => `${i}\n`));
      assert.equal(c.channelLimit, 2, 'the limit adapted to the server');
      assert.equal((srv.log.match(/Accepted publickey/g) ?? []).length, 1, 'one connection for everything');
    } finally {
      await srv.dispose();
    }
  });

  test('exec: rc, stdin, env, cwd, stderr, binary stdout, timeout', async () => {
    const c = conn('h1', vars(sshd, { ansible_ssh_private_key_file: key }));
    const dir = mkdtempSync(join(work, 'cwd '));
    const res = await c.exec('cat; echo "$GREETING" >&2; pwd; exit 7', { stdin: 'in\n', env: { GREETING: "it's $(x)" }, cwd: dir });
    assert.deepEqual(res, { rc: 7, stdout: `in\n${dir}\n`, stderr: "it's $(x)\n" });
    const missing = await c.exec('echo ran', { cwd: '/nonexistent/dir' });
    assert.equal(missing.rc, 1);
    assert.match(missing.stderr, /Unable to change directory/);
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10]);
    const bin = await c.execBuffer('cat', { stdin: bytes });
    assert.ok(bin.stdout.equals(bytes));
    const big = Buffer.alloc(3 * 1024 * 1024, 'x');
    assert.equal((await c.exec('wc -c', { stdin: big })).stdout.trim(), String(big.length));
    const started = Date.now();
    await assert.rejects(c.exec('sleep 30', { timeoutMs: 500 }), CommandTimeoutError);
    assert.ok(Date.now() - started < 5000);
    assert.equal((await c.exec('echo still usable')).stdout, 'still usable\n');
    const signalled = await c.exec('kill -TERM $$');
    assert.equal(signalled.rc, 143);
  });

  test('nasty strings in scripts and names arrive byte for byte and nothing executes', async () => {
    const c = conn('h1', vars(sshd, { ansible_ssh_private_key_file: key }));
    const dir = mkdtempSync(join(work, 'nasty-'));
    const nasty = ['a b', "it's", '$(touch pwned)', '`touch pwned`', 'line1\nline2', 'ünïcødé ✓', '"dq" \\ back', '-n', '*', "'", '\t tab'];
    for (const s of nasty) {
      const res = await c.exec(`printf '%s' ${shQuote(s)} > ${shQuote(s.replace(/\//g, '_'))} && cat -- ${shQuote(s.replace(/\//g, '_'))}`, { cwd: dir });
      assert.equal(res.stdout, s, JSON.stringify(s));
    }
    assert.equal(existsSync(join(dir, 'pwned')), false);
    assert.equal(existsSync(join(work, 'pwned')), false);
  });

  test('connection refused is unreachable at once', async () => {
    const srv = await startSshd({ authorized: { root: [key] } });
    const port = srv.port;
    await srv.dispose();
    const started = Date.now();
    const err = await unreachable(conn('gone', { ...vars(sshd), ansible_port: port, ansible_ssh_private_key_file: key }).connect());
    assert.match(err.message, new RegExp(`connect to host 127\\.0\\.0\\.1 port ${port}: Connection refused`));
    assert.ok(Date.now() - started < 3000);
  });

  test('sshd killed mid-command: unreachable within seconds, others carry on', async () => {
    const victim = await startSshd({ authorized: { root: [key] } });
    try {
      const c = conn('victim', vars(victim, { ansible_ssh_private_key_file: key }));
      const survivor = conn('h1', vars(sshd, { ansible_ssh_private_key_file: key }));
      await c.connect();
      const started = Date.now();
      const pending = c.exec('sleep 60');
      const other = survivor.exec('sleep 1; echo done');
      setTimeout(() => victim.kill('SIGKILL'), 300);
      const err = await unreachable(pending);
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 20_000, `took ${elapsed} ms`);
      assert.match(err.message, /lost/);
      assert.equal((await other).stdout, 'done\n');
      // a new operation tries once more and is refused, not hung
      await unreachable(c.exec('true'));
    } finally {
      await victim.dispose();
    }
  });

  test('a host that stops answering (SIGSTOP) is found dead by keepalive', async () => {
    const frozen = await startSshd({ authorized: { root: [key] } });
    const cfg = join(work, 'ssh_config_keepalive');
    writeFileSync(cfg, 'Host *\n  ServerAliveInterval 1\n  ServerAliveCountMax 2\n');
    try {
      const c = conn('frozen', vars(frozen, { ansible_ssh_private_key_file: key }), { sshConfigPath: cfg });
      await c.connect();
      const pending = c.exec('sleep 60');
      // freeze once the command runs on the server (it used to be a fixed 200 ms wait)
      const running = () => descendants(frozen.pid).some((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\x0060\x00';
        } catch {
          return false;
        }
      });
      for (const until = Date.now() + 5000; !running() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
      const started = Date.now();
      frozen.kill('SIGSTOP');
      await unreachable(pending);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    } finally {
      frozen.kill('SIGCONT');
      await frozen.dispose();
    }
  });

  test('jump host: three targets on 127.0.0.2 through ONE bastion connection', async () => {
    const bastion = await startSshd({ authorized: { root: [key] }, logLevel: 'DEBUG1' });
    try {
      const inner = await startSshd({ listen: '127.0.0.2', authorized: { root: [key] } });
      try {
        const jump = `root@127.0.0.1:${bastion.port}`;
        const conns = ['t1', 't2', 't3'].map((h) => conn(h, vars(inner, { ansible_ssh_private_key_file: key, tsplay_jump_host: jump })));
        const out = await Promise.all(conns.map((c) => c.exec('echo $SSH_CONNECTION')));
        for (const r of out) assert.match(r.stdout, new RegExp(` 127\\.0\\.0\\.2 ${inner.port}\\n$`));
        assert.equal((bastion.log.match(/Accepted publickey/g) ?? []).length, 1, 'one bastion connection');
        assert.equal((bastion.log.match(new RegExp(`target 127\\.0\\.0\\.2 port ${inner.port}`, 'g')) ?? []).length, 3, 'each target went through it');
        const kh = readFileSync(join(work, 'known_hosts'), 'utf8');
        assert.ok(kh.includes(`[127.0.0.1]:${bastion.port} `), 'the bastion key was verified and recorded');
        assert.ok(kh.includes(`[127.0.0.2]:${inner.port} `), 'the target key too');
        await Promise.all(conns.map((c) => c.close()));
        // unreachable target behind the bastion names the bastion
        const err = await unreachable(conn('t4', { ...vars(inner), ansible_port: 1, ansible_ssh_private_key_file: key, tsplay_jump_host: jump }).connect());
        assert.match(err.message, /via jump host/);
      } finally {
        await inner.dispose();
      }
    } finally {
      await bastion.dispose();
    }
  });
});
