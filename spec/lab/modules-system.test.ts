// System modules on a real lab host over SSH: users and groups, authorized keys, sysctl live in
// the host's own network namespace, hostname in its own UTS namespace, tmpfs and bind mounts in
// its own mount namespace, modprobe's persistent files, apt sources, cron.d files. Each module:
// --check on a fresh host predicts changed and the diff and changes nothing; the real run
// reaches the state; a second run is ok. Then one playbook through the CLI.
// Needs root on Linux (the lab is made of namespaces); skipped elsewhere.
import { makeTempDir } from '../helpers/temp-dir.js';
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { SshConnection } from '../../engine/connection/ssh.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import type { ModuleContext, ModuleDef, ModuleResult } from '../../engine/modules/types.js';
import { SYSTEM_MODULES } from '../../engine/modules/builtin-system.js';
import { tsplay, events } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'tspsys';
const modules = new Map(SYSTEM_MODULES.map((m) => [m.name, m as ModuleDef]));

describe('system modules on a lab host', { skip }, () => {
  let lab: LabInfo;
  let dir: string;
  let conn: SshConnection;
  const labOpts = () => ({ name: LAB, dir: path.join(dir, 'lab') });
  const sh = async (script: string) => (await labExec(lab.hosts[0]!.name, ['/bin/sh', '-c', script], labOpts())).stdout;
  const ctx = (check: boolean): ModuleContext => ({
    host: 'h1',
    conn,
    ops: new HostOps(conn),
    check,
    diff: true,
    vars: {},
    taskPos: { file: 'lab.yml', line: 1, col: 1 },
    searchPaths: { files: [], templates: [] },
    renderTemplate: (t) => t,
    evaluateCondition: () => true,
    evaluateExpression: () => undefined,
    inventory: undefined as never,
  });
  const run = (name: string, args: Record<string, unknown>, check = false): Promise<ModuleResult> => modules.get(name)!.run(args, ctx(check));

  /** --check (nothing changes on the host, per `observe`), real run, second run, check again. */
  async function converges(name: string, args: Record<string, unknown>, observe: string): Promise<ModuleResult> {
    const before = await sh(observe);
    const checked = await run(name, args, true);
    assert.ok(!checked.failed, `${name} --check: ${String(checked.msg)}`);
    assert.equal(checked.changed, true, `${name} --check predicts a change`);
    assert.equal(await sh(observe), before, `${name} --check changed the host`);
    const first = await run(name, args);
    assert.ok(!first.failed, `${name}: ${String(first.msg)} ${String(first.stderr ?? '')}`);
    assert.equal(first.changed, true);
    assert.deepEqual(checked.diff, first.diff, `${name}: check mode predicts the diff`);
    assert.notEqual(await sh(observe), before, `${name} changed the host`);
    const second = await run(name, args);
    assert.ok(!second.failed, String(second.msg));
    assert.equal(second.changed, false, `${name}: second run is ok (${JSON.stringify(second.diff)})`);
    assert.equal((await run(name, args, true)).changed, false);
    return first;
  }

  before(async () => {
    dir = makeTempDir('tsplay-labsys-');
    await labDown({ name: LAB }).catch(() => undefined); // a stale lab from a killed run
    lab = await labUp(1, labOpts());
    conn = new SshConnection('h1', { ansible_host: lab.hosts[0]!.address, ansible_user: 'root', ansible_ssh_private_key_file: lab.privateKeyFile, tsplay_known_hosts_file: lab.knownHostsFile });
  });
  after(async () => {
    await conn?.close();
    if (lab) await labDown(labOpts());
    rmSync(dir, { recursive: true, force: true });
  });

  test('group and user: create, modify, memberships, password hash never shown, remove', async () => {
    const g = await converges('group', { name: 'tspops', gid: 4711 }, 'getent group tspops');
    assert.equal(g.diff![0]!.after, 'tspops:x:4711:\n');
    await converges('group', { name: 'tspops', gid: 4712 }, 'getent group tspops');
    const hash = '$6$saltsalt$u0a7oNsF6m8hUqhZC6J8dZ0TtqUyRzX6yG8rZCqS0t9rT6n4Yd2lL1Kk4Qv1E7r7X9n8Wc5y1Zc2m3b4v5x6z.';
    const u = await converges('user', { name: 'deploy', uid: 4800, groups: ['tspops'], shell: '/bin/sh', comment: 'Deploy user', password: hash }, 'getent passwd deploy; getent group tspops; getent shadow deploy');
    assert.equal(u.diff![0]!.after, 'deploy:x:4800:(assigned by useradd):Deploy user:/home/deploy:/bin/sh\ngroups: tspops\npassword: set\n');
    assert.equal(JSON.stringify(u).includes(hash), false, 'the hash is not in the result');
    assert.equal(u.password, 'NOT_LOGGING_PASSWORD');
    assert.equal((await sh('getent shadow deploy')).split(':')[1], hash);
    assert.match(await sh('ls -ld /home/deploy'), /deploy/);
    // a new hash, a changed shell; append keeps memberships
    await sh('groupadd tspextra');
    const m = await converges('user', { name: 'deploy', shell: '/bin/bash', groups: 'tspextra', append: true, password: hash.replace('saltsalt', 'pepper00') }, 'getent passwd deploy; getent group tspextra; getent shadow deploy');
    assert.match(m.diff![0]!.after, /:\/bin\/bash\ngroups: tspextra,tspops\npassword: set \(changed\)\n$/);
    assert.equal(JSON.stringify(m).includes('pepper00'), false);
    // without append the list is exact
    await converges('user', { name: 'deploy', groups: [] }, 'getent group tspextra tspops');
    assert.equal((await sh('id -Gn deploy')).trim(), 'deploy');
    await converges('user', { name: 'deploy', state: 'absent', remove: true }, 'getent passwd deploy; ls /home');
    await converges('group', { name: 'tspops', state: 'absent' }, 'getent group tspops');
    const missing = await run('user', { name: 'x1', group: 'nope' });
    assert.match(String(missing.msg), /Group nope does not exist/);
  });

  test('authorized_key: the user\'s ~/.ssh is made 0700, the file 0600, owned by the user', async () => {
    await sh('useradd -m keyuser');
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ops@bastion';
    const r = await converges('authorized_key', { user: 'keyuser', key }, 'ls -la /home/keyuser/.ssh 2>&1; cat /home/keyuser/.ssh/authorized_keys 2>&1');
    assert.equal(r.diff![0]!.after, `${key}\n`);
    assert.equal((await sh('stat -c "%a %U" /home/keyuser/.ssh /home/keyuser/.ssh/authorized_keys')).trim(), '700 keyuser\n600 keyuser');
  });

  test('sysctl: file and live value in the host\'s network namespace; a bad key fails', async () => {
    const r = await converges('sysctl', { name: 'net.ipv4.ip_forward', value: '1', sysctl_file: '/etc/sysctl.d/90-tsplay.conf', sysctl_set: true }, 'cat /proc/sys/net/ipv4/ip_forward; cat /etc/sysctl.d/90-tsplay.conf 2>&1');
    assert.equal(r.diff!.length, 2, 'a file diff and a live diff');
    assert.equal((await sh('cat /proc/sys/net/ipv4/ip_forward')).trim(), '1');
    // file already right, live value reset: reload puts it back
    await sh('echo 0 > /proc/sys/net/ipv4/ip_forward');
    const again = await run('sysctl', { name: 'net.ipv4.ip_forward', value: '1', sysctl_file: '/etc/sysctl.d/90-tsplay.conf' });
    assert.equal(again.changed, true);
    assert.equal((await sh('cat /proc/sys/net/ipv4/ip_forward')).trim(), '1');
    const bad = await run('sysctl', { name: 'net.ipv4.no_such_key', value: '1', sysctl_file: '/etc/sysctl.d/91-tsplay.conf', sysctl_set: true });
    assert.equal(bad.failed, true);
    assert.match(String(bad.msg), /no_such_key/);
  });

  test('hostname: /etc/hostname and the live name in the host\'s UTS namespace', async () => {
    const r = await converges('hostname', { name: 'node-a.lab.internal', use: 'debian' }, 'hostname; cat /etc/hostname');
    assert.equal((await sh('hostname; cat /etc/hostname')).trim(), 'node-a.lab.internal\nnode-a.lab.internal');
    assert.equal(r.diff!.length, 2);
  });

  test('mount: tmpfs mounted with an fstab entry, opts remount, bind mount, unmounted, absent', async () => {
    await converges('mount', { path: '/mnt/tsp tmp', src: 'tmpfs', fstype: 'tmpfs', opts: 'size=16m', state: 'mounted' }, 'grep tsp /etc/fstab; grep tsp /proc/self/mountinfo');
    assert.match(await sh('grep "tsp" /etc/fstab'), /^tmpfs \/mnt\/tsp\\040tmp tmpfs size=16m 0 0$/m);
    assert.match(await sh('findmnt -n -o OPTIONS "/mnt/tsp tmp"'), /size=16384k/);
    await converges('mount', { path: '/mnt/tsp tmp', src: 'tmpfs', fstype: 'tmpfs', opts: 'size=32m', state: 'mounted' }, 'grep tsp /etc/fstab; findmnt -n -o OPTIONS "/mnt/tsp tmp"');
    assert.match(await sh('findmnt -n -o OPTIONS "/mnt/tsp tmp"'), /size=32768k/);
    await sh('mkdir -p /srv/tspdata && echo hi > /srv/tspdata/f');
    await converges('mount', { path: '/mnt/tspbind', src: '/srv/tspdata', fstype: 'none', opts: 'bind', state: 'mounted' }, 'grep tspbind /proc/self/mountinfo; grep tspbind /etc/fstab');
    assert.equal(await sh('cat /mnt/tspbind/f'), 'hi\n');
    await converges('mount', { path: '/mnt/tspbind', state: 'unmounted' }, 'grep tspbind /proc/self/mountinfo');
    assert.match(await sh('grep tspbind /etc/fstab'), /tspbind/, 'unmounted keeps the entry');
    await converges('mount', { path: '/mnt/tsp tmp', state: 'absent' }, 'grep tsp /etc/fstab; grep tsp /proc/self/mountinfo; ls /mnt');
    assert.equal(await sh('[ -e "/mnt/tsp tmp" ] && echo there || echo gone'), 'gone\n', 'the mount point is removed');
  });

  test('modprobe: persistent files (a module the kernel already has loaded); check mode of a load', async () => {
    // overlay is in the machine's kernel (the lab is built on it): no modprobe runs, the host has none
    const r = await converges('modprobe', { name: 'overlay', persistent: 'present', params: 'redirect_dir=on' }, 'cat /etc/modules-load.d/overlay.conf /etc/modprobe.d/overlay.conf 2>&1');
    assert.equal(await sh('cat /etc/modules-load.d/overlay.conf /etc/modprobe.d/overlay.conf'), 'overlay\noptions overlay redirect_dir=on\n');
    assert.equal(r.diff!.length, 2, 'no live diff: already loaded');
    const load = await run('modprobe', { name: 'tsp_not_loaded_mod' }, true);
    assert.equal(load.changed, true);
    assert.equal(load.diff![0]!.after, 'tsp_not_loaded_mod: loaded\n');
    await converges('modprobe', { name: 'overlay', persistent: 'absent' }, 'cat /etc/modules-load.d/overlay.conf /etc/modprobe.d/overlay.conf 2>&1');
    assert.equal(await sh('cat /etc/modules-load.d/overlay.conf /etc/modprobe.d/overlay.conf'), '#overlay\n#options overlay redirect_dir=on\n');
  });

  test('apt_repository: the .list file Ansible names, absent removes it', async () => {
    const repo = 'deb [arch=amd64] http://127.0.0.1:9/debian bookworm main';
    const r = await converges('apt_repository', { repo, update_cache: false }, 'ls /etc/apt/sources.list.d; cat /etc/apt/sources.list.d/127_0_0_1_9_debian.list 2>&1');
    assert.equal(r.diff![0]!.after, `${repo}\n`);
    assert.equal(await sh('cat /etc/apt/sources.list.d/127_0_0_1_9_debian.list'), `${repo}\n`);
    await converges('apt_repository', { repo: 'deb [arch=amd64]  http://127.0.0.1:9/debian/ bookworm main', state: 'absent', update_cache: false }, 'ls /etc/apt/sources.list.d');
  });

  test('cron (cron.d file), swap (no swap active: fstab only), selinux (not installed)', async () => {
    await converges('cron', { name: 'k3s cert check', special_time: 'daily', job: '/usr/local/bin/check', cron_file: 'tsplay-k3s' }, 'cat /etc/cron.d/tsplay-k3s 2>&1');
    assert.equal(await sh('cat /etc/cron.d/tsplay-k3s'), '#Ansible: k3s cert check\n@daily root /usr/local/bin/check\n');
    await sh("printf '/swapfile none swap sw 0 0\\n' >> /etc/fstab");
    if ((await sh('tail -n +2 /proc/swaps')).trim() === '') {
      await converges('swap', { state: 'disabled' }, 'cat /etc/fstab');
      assert.match(await sh('cat /etc/fstab'), /^#\/swapfile none swap sw 0 0$/m);
    }
    const se = await run('selinux', { state: 'disabled' });
    assert.equal(se.changed, false);
    assert.match(String(se.msg), /not installed/);
  });

  test('a playbook through the CLI: --check --diff, then converge, then ok', () => {
    const inventory = path.join(dir, 'inv.ini');
    writeFileSync(inventory, `h1 ansible_host=${lab.hosts[0]!.address} ansible_user=root ansible_ssh_private_key_file=${lab.privateKeyFile} tsplay_known_hosts_file=${lab.knownHostsFile}\n`);
    const playbook = path.join(dir, 'k8s-prereq.yml');
    writeFileSync(
      playbook,
      [
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - group: { name: kube, system: true }',
        '    - user: { name: kube, group: kube, system: true, create_home: false, shell: /usr/sbin/nologin }',
        '    - sysctl: { name: net.ipv4.conf.all.forwarding, value: 1, sysctl_file: /etc/sysctl.d/99-k8s.conf, sysctl_set: true }',
        '    - ansible.posix.mount: { path: /var/lib/tsp-k3s, src: tmpfs, fstype: tmpfs, state: mounted }',
        '    - swap: { state: off }',
        '',
      ].join('\n'),
    );
    const base = ['run', playbook, '-i', inventory, '--no-retry-files'];
    const check = tsplay([...base, '--check', '--diff']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /\+net\.ipv4\.conf\.all\.forwarding=1/);
    const first = tsplay([...base, '--json']);
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const second = tsplay([...base, '--json']);
    const recap = events(second.stdout).find((e) => e.kind === 'recap')!.stats as Record<string, Record<string, number>>;
    assert.equal(recap.h1!.changed, 0, second.stdout);
    assert.equal(recap.h1!.failed, 0);
  });
});
