// SFTP transfers and su with a password over SSH, on a real lab host (its own namespaces,
// sshd, /root, /tmp): big atomic writes through the long-lived SFTP session, with and
// without become, validate failures, reads, and su answered on a PTY.
// Needs root on Linux (the lab is made of namespaces); skipped elsewhere.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { HostOps, SFTP_WRITE_MIN_BYTES, ValidateError } from '../../engine/connection/host-ops.js';
import { useOneHostLab } from '../helpers/one-host-lab.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'tspsftp';
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('SFTP transfers and su with a password on a lab host', { skip, timeout: 300_000 }, () => {
  const { lab, host, inHost, connect } = useOneHostLab(LAB, 'tsplay-sftp-');
  const strayTemps = async (folder: string) => (await inHost(`ls -A ${folder} /tmp | grep -c '^\\.tsplay-' || true`)).trim();
  const password = () => readFileSync(lab().becomeUsers!.passwordFile, 'utf8').trim();

  test('a big write is byte-exact and atomic, keeps owner and mode, and many transfers share ONE sftp session', async () => {
    const c = connect();
    const ops = new HostOps(c);
    await inHost(`mkdir -p /srv/x && printf old > /srv/x/big.bin && chown 1234:2345 /srv/x/big.bin && chmod 0640 /srv/x/big.bin`);
    const data = randomBytes(20 * 1024 * 1024);
    // a reader polling during the write sees the old file or the new one, never a torn one
    const seen = new Set<string>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        seen.add((await inHost('sha256sum < /srv/x/big.bin')).split(' ')[0]!);
      }
    })();
    const written = await ops.writeFileAtomic('/srv/x/big.bin', data);
    polling = false;
    await poller;
    for (const h of seen) assert.ok(h === sha256('old') || h === sha256(data), 'only whole versions were visible');
    assert.equal((await inHost('sha256sum < /srv/x/big.bin')).split(' ')[0], sha256(data));
    assert.equal(await inHost(`stat -c '%u:%g %a' /srv/x/big.bin`), '1234:2345 640\n');
    assert.equal(written.stat.size, data.length);
    assert.equal(await strayTemps('/srv/x'), '0');

    // reads of any size come back exact; a missing file is null
    assert.ok((await ops.readFile('/srv/x/big.bin'))!.equals(data));
    assert.equal(await ops.readFile('/srv/x/missing'), null);
    // the server side: one sftp-server process, the same one before and after many transfers
    const sftpServers = async () => (await inHost('pgrep -x sftp-server || true')).trim().split('\n').filter(Boolean);
    const before = await sftpServers();
    assert.equal(before.length, 1, 'one sftp-server on the host');
    const small = Buffer.from([0, 1, 2, 255, 10, 13]);
    for (let i = 0; i < 5; i++) {
      await ops.writeFileAtomic(`/srv/x/big-${i}.bin`, Buffer.concat([data.subarray(0, SFTP_WRITE_MIN_BYTES), Buffer.from([i])]));
      await ops.writeFileAtomic(`/srv/x/small-${i}.bin`, small, { mode: 0o600 });
      assert.ok((await ops.readFile(`/srv/x/small-${i}.bin`))!.equals(small));
    }
    assert.deepEqual(await sftpServers(), before, 'the same sftp-server served every transfer');
    assert.equal(c.sftpSessionsOpened, 1, 'one SFTP session for every transfer');
    await c.close();
    // gone within 300 ms of the close: poll rather than always waiting that long
    const deadline = Date.now() + 300;
    let left = await sftpServers();
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      left = await sftpServers();
    }
    assert.deepEqual(left, [], 'closed with the connection');
  });

  test('the SFTP session is reopened after it dies', async () => {
    const c = connect();
    const ops = new HostOps(c);
    await ops.readFile('/etc/hostname');
    assert.equal(c.sftpSessionsOpened, 1);
    await inHost(`pkill -x sftp-server`);
    await new Promise((r) => setTimeout(r, 300));
    const again = await ops.readFile('/etc/hostname');
    assert.equal(again!.toString(), `${host().name}\n`);
    assert.equal(c.sftpSessionsOpened, 2, 'a new session replaced the dead one');
  });

  test('validate failure over SFTP leaves the old file and no temp files', async () => {
    const ops = new HostOps(connect());
    await inHost(`printf 'keep me\\n' > /srv/x/conf`);
    const big = Buffer.alloc(SFTP_WRITE_MIN_BYTES * 2, 'y');
    await assert.rejects(ops.writeFileAtomic('/srv/x/conf', big, { validate: 'grep -q keep %s' }), ValidateError);
    assert.equal(await inHost('cat /srv/x/conf'), 'keep me\n');
    assert.equal(await strayTemps('/srv/x'), '0');
  });

  test('become (sudo, no password) as a non-root user: the big file is staged privately, then moved into place by root', async () => {
    const ops = new HostOps(connect(lab().becomeUsers!.nopasswd), { become: { method: 'sudo', user: 'root' } });
    await inHost(`printf old > /srv/x/root.bin && chown root:root /srv/x/root.bin && chmod 0600 /srv/x/root.bin`);
    const data = randomBytes(3 * 1024 * 1024);
    await ops.writeFileAtomic('/srv/x/root.bin', data);
    assert.equal((await inHost('sha256sum < /srv/x/root.bin')).split(' ')[0], sha256(data));
    assert.equal(await inHost(`stat -c '%U %a' /srv/x/root.bin`), 'root 600\n');
    assert.equal(await strayTemps('/srv/x'), '0');
    await assert.rejects(ops.writeFileAtomic('/srv/x/root.bin', data, { validate: 'false %s' }), ValidateError);
    assert.equal(await strayTemps('/srv/x'), '0', 'nothing left in the destination or the staging folder');
  });

  test('su with the password converges a root-owned file as a non-root user; the password is nowhere', async () => {
    const pw = password();
    const c = connect(lab().becomeUsers!.password);
    const ops = new HostOps(c, { become: { method: 'su', user: 'root', password: pw } });
    let seenInPs = false;
    const watchMachine = setInterval(() => {
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue;
        try {
          if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(pw)) seenInPs = true;
        } catch {
          // gone
        }
      }
    }, 20);
    let watchingHost = true;
    const watchHost = (async () => {
      while (watchingHost) {
        if ((await inHost('cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "')).includes(pw)) seenInPs = true;
      }
    })();
    try {
      const who = await ops.run('id -u; echo to-stderr >&2; exit 3');
      assert.deepEqual(who, { rc: 3, stdout: '0\n', stderr: 'to-stderr\n' });
      const piped = await c.execBuffer('cat; sleep 0.3', { stdin: Buffer.from([0, 4, 3, 255, 10, 13, 10]), become: { method: 'su', user: 'root', password: pw } });
      assert.deepEqual([...piped.stdout], [0, 4, 3, 255, 10, 13, 10], 'binary stdin and stdout survive the PTY');
      await inHost(`printf old > /srv/x/su.conf && chown root:root /srv/x/su.conf && chmod 0600 /srv/x/su.conf`);
      const text = Buffer.from('converged by su\n');
      await ops.writeFileAtomic('/srv/x/su.conf', text);
      assert.equal(await inHost('cat /srv/x/su.conf'), 'converged by su\n');
      assert.equal(await inHost(`stat -c '%U %a' /srv/x/su.conf`), 'root 600\n');
      assert.equal((await ops.writeFileAtomic('/srv/x/su.conf', text)).stat.owner, 'root');
      assert.equal(await strayTemps('/srv/x'), '0');
      for (const r of [who, piped]) assert.ok(!r.stdout.includes(pw) && !r.stderr.includes(pw));
    } finally {
      clearInterval(watchMachine);
      watchingHost = false;
      await watchHost;
    }
    assert.equal(seenInPs, false, 'the password never appeared in a process list');
  });

  test('su with a wrong password fails cleanly within seconds', async () => {
    const c = connect(lab().becomeUsers!.password);
    const started = Date.now();
    const res = await c.exec('id -u', { become: { method: 'su', user: 'root', password: 'not-the-password' } });
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    assert.notEqual(res.rc, 0);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /Incorrect su password/);
    assert.ok(!res.stderr.includes('not-the-password'));
  });
});
