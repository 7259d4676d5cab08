// System modules on the local host, on files in temp dirs (sysctl_file, fstab, cron_file,
// reposdir, configfile, authorized_keys path): fresh apply changes, a second apply is ok,
// check mode predicts changed and diff and touches nothing; bad arguments fail at load.
// What needs the real /etc (user, group, hostname, apt_repository, modprobe, mounts) runs in
// spec/lab/modules-system.test.ts on lab hosts.
import { localModuleContext, runModule } from '../helpers/module-context.js';
import { snapshotTree } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModuleResult } from '../../engine/modules/types.js';
import type { ModuleDef } from '../../engine/modules/types.js';
import { SYSTEM_MODULES } from '../../engine/modules/builtin-system.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import { ParseError } from '../../engine/errors.js';
import { suggestFilename } from '../../engine/modules/apt_repository.js';
import { parseKeyLine } from '../../engine/modules/authorized_key.js';

// this group's list, looked up by every name and alias (the registry adds the other groups,
// which other engineers change at the same time)
const byName = new Map<string, ModuleDef>();
for (const m of SYSTEM_MODULES) for (const n of [m.name, ...(m.aliases ?? [])]) byName.set(n, m as ModuleDef);
const lookupModule = (name: string): ModuleDef | undefined => byName.get(name) ?? byName.get(name.replace(/^ansible\.(builtin|legacy)\./, ''));

const tempDir = () => makeTempDir('tsplay-sys-');

const context = localModuleContext;

const run = runModule;
const snapshot = snapshotTree;

/**
 * The module contract: check mode on a fresh setup predicts changed and the diff and leaves
 * the files untouched; the real run changes; a second run is ok, also in check mode.
 */
async function converges(name: string, setup: (dir: string) => Record<string, unknown>, opts: { env?: (dir: string) => Record<string, string> } = {}): Promise<{ dir: string; first: ModuleResult }> {
  const checkDir = tempDir();
  const checkArgs = setup(checkDir);
  const before = snapshot(checkDir);
  const checked = await run(name, checkArgs, context({ check: true, ...(opts.env ? { env: opts.env(checkDir) } : {}) }));
  assert.ok(!checked.failed, `${name} --check failed: ${String(checked.msg)}`);
  assert.equal(snapshot(checkDir), before, 'check mode changed nothing');

  const dir = tempDir();
  const args = setup(dir);
  const env = opts.env ? { env: opts.env(dir) } : {};
  const first = await run(name, args, context(env));
  assert.ok(!first.failed, `${name} failed: ${String(first.msg)}`);
  assert.equal(first.changed, true, 'the first run changes');
  assert.equal(checked.changed, true, 'check mode predicts changed');
  const norm = (r: ModuleResult) => JSON.stringify(r.diff ?? []).split(checkDir).join('<d>').split(dir).join('<d>');
  assert.equal(norm(checked), norm(first), 'check mode predicts the diff');
  assert.ok((first.diff ?? []).length > 0, 'a diff is reported');
  const second = await run(name, args, context(env));
  assert.ok(!second.failed, String(second.msg));
  assert.equal(second.changed, false, 'the second run is ok');
  assert.equal(second.diff, undefined, 'no diff on the second run');
  const secondCheck = await run(name, args, context({ check: true, ...env }));
  assert.equal(secondCheck.changed, false, 'check mode after convergence is ok');
  return { dir, first };
}

describe('sysctl', () => {
  test('adds the key to the file, replaces an old value in place, keeps the rest', async () => {
    const { dir, first } = await converges('sysctl', (d) => {
      writeFileSync(join(d, 'k8s.conf'), '# kube\nnet.ipv4.ip_forward = 0\nvm.swappiness=10\n');
      return { name: 'net.ipv4.ip_forward', value: '1', sysctl_file: join(d, 'k8s.conf'), reload: false };
    });
    assert.equal(readFileSync(join(dir, 'k8s.conf'), 'utf8'), '# kube\nnet.ipv4.ip_forward=1\nvm.swappiness=10\n');
    assert.match(first.diff![0]!.before, /ip_forward = 0/);
    assert.match(first.diff![0]!.after, /ip_forward=1/);
  });

  test('a new file; booleans are 1/0; whitespace in values does not matter', async () => {
    const { dir } = await converges('sysctl', (d) => ({ name: 'net.ipv4.tcp_rmem', value: '4096  87380 6291456', sysctl_file: join(d, 'new.conf'), reload: false }));
    assert.equal(readFileSync(join(dir, 'new.conf'), 'utf8'), 'net.ipv4.tcp_rmem=4096  87380 6291456\n');
    const r = await run('sysctl', { name: 'net.ipv4.tcp_rmem', value: '4096\t87380 6291456', sysctl_file: join(dir, 'new.conf'), reload: false }, context());
    assert.equal(r.changed, false);
    const b = await converges('sysctl', (d) => ({ name: 'net.bridge.bridge-nf-call-iptables', value: true, sysctl_file: join(d, 'b.conf'), reload: false }));
    assert.equal(readFileSync(join(b.dir, 'b.conf'), 'utf8'), 'net.bridge.bridge-nf-call-iptables=1\n');
  });

  test('state absent removes the key', async () => {
    const { dir } = await converges('sysctl', (d) => {
      writeFileSync(join(d, 's.conf'), 'a.b=1\nnet.ipv4.ip_forward=1\n');
      return { name: 'net.ipv4.ip_forward', state: 'absent', sysctl_file: join(d, 's.conf'), reload: false };
    });
    assert.equal(readFileSync(join(dir, 's.conf'), 'utf8'), 'a.b=1\n');
  });

  test('the live value is compared when reload is on: a file already right but a live value off is a change', async () => {
    const dir = tempDir();
    const live = readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim();
    const file = join(dir, 'live.conf');
    writeFileSync(file, `kernel.pid_max=${live}\n`);
    const same = await run('sysctl', { name: 'kernel.pid_max', value: live, sysctl_file: file }, context({ check: true }));
    assert.equal(same.changed, false, 'file and live value match');
    const other = String(Number(live) - 1);
    writeFileSync(file, `kernel.pid_max=${other}\n`);
    const r = await run('sysctl', { name: 'kernel.pid_max', value: other, sysctl_file: file }, context({ check: true }));
    assert.equal(r.changed, true);
    const liveDiff = r.diff!.find((d) => d.beforeHeader === 'kernel.pid_max (live)')!;
    assert.equal(liveDiff.before, `kernel.pid_max: ${live}\n`);
    assert.equal(liveDiff.after, `kernel.pid_max: ${other}\n`);
    assert.equal(readFileSync('/proc/sys/kernel/pid_max', 'utf8').trim(), live, 'check mode did not set it');
  });
});

describe('mount (fstab only: state present)', () => {
  test('adds an entry, rewrites a changed one, escapes spaces', async () => {
    const { dir, first } = await converges('mount', (d) => {
      writeFileSync(join(d, 'fstab'), 'UUID=abc / ext4 errors=remount-ro 0 1\n/dev/sdb1 /data xfs defaults 0 0\n');
      return { path: '/data', src: '/dev/sdc1', fstype: 'xfs', opts: 'noatime', state: 'present', fstab: join(d, 'fstab') };
    });
    assert.equal(readFileSync(join(dir, 'fstab'), 'utf8'), 'UUID=abc / ext4 errors=remount-ro 0 1\n/dev/sdc1 /data xfs noatime 0 0\n');
    assert.equal(first.diff!.length, 1, 'present does not mount: only the fstab diff');
    const sp = await converges('mount', (d) => ({ path: '/mnt/with space', src: 'tmpfs', fstype: 'tmpfs', state: 'present', boot: false, fstab: join(d, 'fstab') }));
    assert.equal(readFileSync(join(sp.dir, 'fstab'), 'utf8'), 'tmpfs /mnt/with\\040space tmpfs noauto 0 0\n');
  });

  test('state absent drops the entry; unmounted of a path not mounted is ok', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'fstab'), 'tmpfs /nowhere/x tmpfs defaults 0 0\nproc /proc proc defaults 0 0\n');
    const r = await run('mount', { path: '/nowhere/x', state: 'absent', fstab: join(dir, 'fstab') }, context());
    assert.equal(r.changed, true, String(r.msg));
    assert.equal(readFileSync(join(dir, 'fstab'), 'utf8'), 'proc /proc proc defaults 0 0\n');
    const again = await run('mount', { path: '/nowhere/x', state: 'absent', fstab: join(dir, 'fstab') }, context());
    assert.equal(again.changed, false);
    const un = await run('mount', { path: '/nowhere/x', state: 'unmounted', fstab: join(dir, 'fstab') }, context());
    assert.equal(un.changed, false);
  });

  test('present without src/fstype fails with a message', async () => {
    const r = await run('mount', { path: '/x', state: 'present', fstab: join(tempDir(), 'fstab') }, context());
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /needs src and fstype/);
  });
});

describe('cron', () => {
  test('cron_file: Ansible\'s marker, the user column, disabled, removal of the emptied file', async () => {
    const { dir } = await converges('cron', (d) => {
      writeFileSync(join(d, 'backup'), '#Ansible: old\n0 1 * * * root /bin/old\n');
      return { name: 'nightly backup', minute: 30, hour: '2', job: '/usr/local/bin/backup >/dev/null', user: 'root', cron_file: join(d, 'backup') };
    });
    const file = join(dir, 'backup');
    assert.equal(readFileSync(file, 'utf8'), '#Ansible: old\n0 1 * * * root /bin/old\n#Ansible: nightly backup\n30 2 * * * root /usr/local/bin/backup >/dev/null\n');
    const changed = await run('cron', { name: 'old', special_time: 'reboot', job: '/bin/old', disabled: true, cron_file: file }, context());
    assert.equal(changed.changed, true);
    assert.match(readFileSync(file, 'utf8'), /^#Ansible: old\n#@reboot root \/bin\/old\n/);
    await run('cron', { name: 'old', state: 'absent', cron_file: file }, context());
    const last = await run('cron', { name: 'nightly backup', state: 'absent', cron_file: file }, context());
    assert.equal(last.changed, true);
    assert.equal(existsSync(file), false, 'the emptied cron.d file is removed');
  });

  test('a user crontab through crontab -l / crontab -u USER - (a stand-in crontab on PATH)', async () => {
    // a crontab stand-in that keeps each user's table in a file, with cron's "no crontab" rc 1
    const fakeBin = (d: string) => {
      mkdirSync(join(d, 'bin'), { recursive: true });
      mkdirSync(join(d, 'spool'), { recursive: true });
      writeFileSync(
        join(d, 'bin', 'crontab'),
        `#!/bin/sh\nu=$(id -un)\nwhile [ $# -gt 0 ]; do case $1 in -u) u=$2; shift 2;; -l) op=l; shift;; -) op=w; shift;; *) shift;; esac; done\nf=${JSON.stringify(join(d, 'spool'))}/$u\nif [ "$op" = l ]; then [ -f "$f" ] || { echo "no crontab for $u" >&2; exit 1; }; cat "$f"; else cat > "$f"; fi\n`,
      );
      chmodSync(join(d, 'bin', 'crontab'), 0o755);
    };
    const { dir } = await converges(
      'cron',
      (d) => {
        fakeBin(d);
        return { name: 'check dirs', minute: '*/5', job: 'ls /tmp', user: 'nobody' };
      },
      { env: (d) => ({ PATH: `${join(d, 'bin')}:${process.env.PATH}` }) },
    );
    assert.equal(readFileSync(join(dir, 'spool', 'nobody'), 'utf8'), '#Ansible: check dirs\n*/5 * * * * ls /tmp\n');
  });

  test('no crontab on the host: a clear failure', async () => {
    const r = await run('cron', { name: 'x', job: 'true', user: 'root' }, context({ env: { PATH: '/nonexistent' } }));
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /Failed to find required executable "crontab"/);
  });
});

describe('authorized_key', () => {
  const KEY1 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl alice@laptop';
  const KEY2 = 'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDx bob@ws';

  test('keys are added to a new file (0600) in a new folder (0700)', async () => {
    const { dir } = await converges('authorized_key', (d) => ({ user: 'root', key: `${KEY1}\n${KEY2}\n`, path: join(d, 'ssh', 'authorized_keys') }));
    assert.equal(readFileSync(join(dir, 'ssh', 'authorized_keys'), 'utf8'), `${KEY1}\n${KEY2}\n`);
    assert.equal(statSync(join(dir, 'ssh', 'authorized_keys')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'ssh')).mode & 0o777, 0o700);
  });

  test('key_options replace the line in place; exclusive drops other keys but keeps comments; absent removes', async () => {
    const { dir } = await converges('authorized_key', (d) => {
      mkdirSync(join(d, 'ssh'));
      writeFileSync(join(d, 'ssh', 'ak'), `# managed\n${KEY2}\n${KEY1}\n`);
      return { user: 'root', key: KEY1, key_options: 'no-port-forwarding,from="10.0.0.1"', path: join(d, 'ssh', 'ak'), exclusive: true };
    });
    assert.equal(readFileSync(join(dir, 'ssh', 'ak'), 'utf8'), `# managed\nno-port-forwarding,from="10.0.0.1" ${KEY1}\n`);
    const gone = await converges('authorized_key', (d) => {
      writeFileSync(join(d, 'ak'), `${KEY2}\n${KEY1}\n`);
      return { user: 'root', key: KEY1, state: 'absent', path: join(d, 'ak') };
    });
    assert.equal(readFileSync(join(gone.dir, 'ak'), 'utf8'), `${KEY2}\n`);
  });

  test('an unknown user and a bad key fail with a message', async () => {
    const r = await run('authorized_key', { user: 'no-such-user-tsplay', key: KEY1 }, context());
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /no-such-user-tsplay/);
    const bad = await run('authorized_key', { user: 'root', key: 'not a key', path: join(tempDir(), 'ak') }, context());
    assert.match(String(bad.msg), /invalid key/);
    assert.deepEqual(parseKeyLine(`command="echo a b" ${KEY1}`)?.options, 'command="echo a b"');
  });
});

describe('yum_repository', () => {
  test('writes the section as Ansible does; a changed option rewrites only that section; absent removes the emptied file', async () => {
    const { dir } = await converges('yum_repository', (d) => {
      writeFileSync(join(d, 'epel.repo'), '[other]\nname = Other\nbaseurl = http://o/\n');
      return { name: 'epel', description: 'EPEL YUM repo', baseurl: 'https://mirror.local/epel/$releasever/', gpgcheck: false, file: 'epel', reposdir: d };
    });
    const file = join(dir, 'epel.repo');
    assert.equal(readFileSync(file, 'utf8'), '[other]\nname = Other\nbaseurl = http://o/\n\n[epel]\nbaseurl = https://mirror.local/epel/$releasever/\ngpgcheck = 0\nname = EPEL YUM repo\n');
    const r = await run('yum_repository', { name: 'epel', description: 'EPEL YUM repo', baseurl: 'https://mirror.local/epel/$releasever/', gpgcheck: true, file: 'epel', reposdir: dir }, context());
    assert.equal(r.changed, true);
    assert.match(readFileSync(file, 'utf8'), /gpgcheck = 1/);
    await run('yum_repository', { name: 'other', state: 'absent', file: 'epel', reposdir: dir }, context());
    await run('yum_repository', { name: 'epel', state: 'absent', file: 'epel', reposdir: dir }, context());
    assert.equal(existsSync(file), false);
  });

  test('baseurl, mirrorlist or metalink is required for present', async () => {
    const r = await run('yum_repository', { name: 'x', reposdir: tempDir() }, context());
    assert.match(String(r.msg), /'baseurl', 'metalink' or 'mirrorlist' is required/);
  });
});

describe('swap (fstab part; no swap is active on the test machine)', () => {
  test('disabled comments out swap entries; enabled restores them', async () => {
    const active = readFileSync('/proc/swaps', 'utf8').trim().split('\n').length > 1;
    if (active) return; // swapoff on the test machine itself is not what a unit test may do
    const { dir } = await converges('swap', (d) => {
      writeFileSync(join(d, 'fstab'), 'UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n');
      return { state: 'disabled', fstab: join(d, 'fstab') };
    });
    assert.equal(readFileSync(join(dir, 'fstab'), 'utf8'), 'UUID=1 / ext4 defaults 0 1\n#/swap.img none swap sw 0 0\n');
    const off = await run('swap', { state: false, fstab: join(dir, 'fstab') }, context());
    assert.equal(off.changed, false, 'YAML off (false) reads as disabled');
    const on = await run('swap', { state: 'enabled', fstab: join(dir, 'fstab') }, context({ check: true }));
    assert.equal(on.changed, true);
    assert.equal(on.diff![0]!.after, 'UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n');
  });
});

describe('selinux', () => {
  test('no SELinux at all: ok with a message', async () => {
    const r = await run('selinux', { state: 'disabled', configfile: join(tempDir(), 'config') }, context());
    assert.equal(r.changed, false);
    assert.match(String(r.msg), /SELinux is not installed/);
  });

  test('config edited in place; turning SELinux on from off needs a reboot', async () => {
    if (existsSync('/sys/fs/selinux/enforce')) return; // this machine runs SELinux: the lab test covers it
    const { dir, first } = await converges('selinux', (d) => {
      writeFileSync(join(d, 'config'), '# comment\nSELINUX=disabled\nSELINUXTYPE=targeted\n');
      return { state: 'permissive', policy: 'targeted', configfile: join(d, 'config') };
    });
    assert.equal(readFileSync(join(dir, 'config'), 'utf8'), '# comment\nSELINUX=permissive\nSELINUXTYPE=targeted\n');
    assert.equal(first.reboot_required, true);
    assert.match(String(first.msg), /Config SELinux state changed from 'disabled' to 'permissive'/);
  });
});

describe('apt_repository file names', () => {
  test('the .list name Ansible derives from the repo line', () => {
    assert.equal(suggestFilename('deb http://dl.google.com/linux/chrome/deb/ stable main'), 'dl_google_com_linux_chrome_deb.list');
    assert.equal(suggestFilename('deb [arch=amd64 signed-by=/k.gpg] https://user:pw@download.docker.com/linux/debian bookworm stable'), 'download_docker_com_linux_debian.list');
  });
});

describe('arguments are checked when the playbook is loaded', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['user', 'name: bob\n        shel: /bin/bash', /shel/],
    ['user', 'name: bob\n        uid: many', /uid/],
    ['group', 'name: g\n        state: gone', /state/],
    ['authorized_key', 'user: root', /key/],
    ['sysctl', 'name: a.b\n        value: 1\n        reload: maybe', /reload/],
    ['modprobe', 'name: br_netfilter\n        persistent: yes', /persistent/],
    ['hostname', 'name: "bad name"', /name/],
    ['mount', 'path: /mnt\n        state: attached', /state/],
    ['cron', 'name: x\n        job: y\n        weekdays: 1', /weekdays/],
    ['apt_repository', 'repo: "deb http://x/ y z"\n        state: enabled', /state/],
    ['yum_repository', 'name: r\n        gpgcheck: perhaps', /gpgcheck/],
    ['swap', 'state: paused', /state/],
    ['selinux', 'policy: targeted', /state/],
  ];
  for (const [mod, args, message] of cases) {
    test(`${mod}: ${args.split('\n')[0]}…`, () => {
      const dir = tempDir();
      const file = join(dir, 'play.yml');
      writeFileSync(file, `- hosts: all\n  tasks:\n    - name: t\n      ${mod}:\n        ${args}\n`);
      let error: unknown;
      try {
        loadPlaybook(file, { lookupModule, moduleNames: [] });
      } catch (err) {
        error = err;
      }
      assert.ok(error instanceof ParseError, `expected a ParseError, got ${String(error)}`);
      assert.match((error as Error).message, message);
      assert.match(String((error as ParseError & { pos?: { line: number } }).pos?.line ?? (error as Error).message), /\d/);
      rmSync(dir, { recursive: true, force: true });
    });
  }
});
