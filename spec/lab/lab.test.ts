// The lab: real throwaway hosts (netns + overlay root + sshd) on this machine. The host tests
// need Linux and root (CI runs them as root) and are skipped otherwise; the inventory and
// option tests run everywhere. They use their own lab name and state dir, so a user's lab
// (tsplab, 10.213.0.0/24) on the same machine is left alone.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, labExec, labInventory, labStatus, labUp, LabError, type LabInfo } from '../../engine/lab/lab.js';
import { parseGroupSpec, renderLabInventory } from '../../engine/lab/inventory-file.js';
import { resolveLabConfig } from '../../engine/lab/config.js';
import { loadInventory } from '../../engine/inventory/load.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const isRoot = process.platform === 'linux' && typeof process.getuid === 'function' && process.getuid() === 0;
const hasTools = ['/usr/sbin/sshd', '/usr/bin/ssh'].every((f) => existsSync(f));
const skipHosts = !isRoot ? 'the lab needs Linux and root (CI runs these tests as root)' : !hasTools ? 'needs openssh-server and openssh-client' : false;

const LAB_NAME = 'tsplabspec';
const workDir = makeTempDir('tsplay-lab-spec-');
const labDir = path.join(workDir, 'lab');
const lab = { name: LAB_NAME, dir: labDir };
/** The other lab of the two-labs test. */
const secondLab = { name: `${LAB_NAME.slice(0, 8)}b`, dir: path.join(workDir, 'second') };

function sh(file: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

/** OpenSSH with strict host key checking against the lab's known_hosts, nothing from ~/.ssh. */
function ssh(info: LabInfo, user: string, address: string, command: string, input?: string) {
  return sh('ssh', [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes',
    '-o', 'GSSAPIAuthentication=no',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${info.knownHostsFile}`,
    '-o', 'ConnectTimeout=10',
    '-i', info.privateKeyFile,
    `${user}@${address}`,
    command,
  ], input);
}

function mountPoints(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => line.split(' ')[4]!);
}
function linkNames(): string[] {
  const out = spawnSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map((line) => line.split(': ')[1]!.split('@')[0]!);
}
function netnsList(): string[] {
  return existsSync('/run/netns') ? readdirSync('/run/netns') : [];
}
function blackholePresent(): boolean {
  return spawnSync('ip', ['route', 'show', 'exact', '10.213.0.0/16', 'type', 'blackhole'], { encoding: 'utf8' }).stdout.trim() !== '';
}
function nsOf(pid: number, kind: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}
/** Live (not zombie) processes. */
function livePids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      return false;
    }
  });
}
/** The net, mnt and pid namespaces of every process of the lab's hosts, found through the netns files. */
function labNamespaces(): Set<string> {
  const ids = new Set<string>();
  for (const name of netnsList().filter((n) => n.startsWith(`${LAB_NAME}-h`))) {
    const netns = `net:[${statSync(`/run/netns/${name}`).ino}]`;
    ids.add(netns);
    for (const pid of livePids().filter((p) => nsOf(p, 'net') === netns)) {
      for (const kind of ['mnt', 'pid']) {
        const id = nsOf(pid, kind);
        if (id && id !== nsOf(process.pid, kind)) ids.add(id);
      }
    }
  }
  return ids;
}
const ours = (name: string) => name === `${LAB_NAME}0` || name.startsWith(`${LAB_NAME}-h`);

after(() => removeTempDir(workDir));

describe('lab hosts', { skip: skipHosts }, () => {
  const before_ = { mounts: [] as string[], links: [] as string[], netns: [] as string[], blackhole: false };
  let info: LabInfo;

  before(async () => {
    // labs left over by an interrupted run: labDown finds their hosts and bridge from the
    // machine (netns and link names), so it works although that run's state dir is gone
    await labDown(lab);
    await labDown(secondLab);
    before_.mounts = mountPoints();
    before_.links = linkNames();
    before_.netns = netnsList();
    before_.blackhole = blackholePresent();
  });
  after(async () => {
    await labDown(secondLab);
    await labDown(lab);
  });

  test('up 10: each host answers OpenSSH, strict host key checking, with its own hostname', async () => {
    const started = Date.now();
    info = await labUp(10, lab);
    const seconds = (Date.now() - started) / 1000;
    assert.equal(info.hosts.length, 10);
    assert.equal(info.created.length, 10);
    assert.equal(new Set(info.hosts.map((h) => h.address)).size, 10, 'every host has its own address');
    assert.ok(info.hosts.every((h) => h.address.startsWith('10.213.')), 'addresses are in the lab range');
    assert.equal(statSync(info.privateKeyFile).mode & 0o777, 0o600);
    assert.deepEqual(netnsList().filter((n) => n.startsWith(`${LAB_NAME}-h`)).sort(), info.hosts.map((h) => h.name).sort());
    const results = await Promise.all(info.hosts.map((h) => ssh(info, 'root', h.address, 'hostname')));
    results.forEach((r, i) => {
      assert.equal(r.code, 0, `ssh ${info.hosts[i]!.name}: ${r.stderr}`);
      assert.equal(r.stdout.trim(), info.hosts[i]!.name);
    });
    assert.ok(seconds < 60, `10 hosts took ${seconds}s`);
    // the machine's mount table is not touched while the lab is up, apart from ip's netns files
    const extra = mountPoints().filter((m) => !before_.mounts.includes(m) && !m.startsWith('/run/netns'));
    assert.deepEqual(extra, []);
  });

  test('each host has its own /root, /tmp and /etc; nothing reaches the machine', async () => {
    const [h1, h2] = info.hosts;
    const marker = `tsplay-spec-${process.pid}`;
    const write = await ssh(info, 'root', h1!.address, `touch /tmp/${marker} /root/${marker} /etc/${marker} && ls -ld /root`);
    assert.equal(write.code, 0, write.stderr);
    assert.match(write.stdout, /^drwx------/, '/root is mode 700 (sshd refuses keys otherwise)');
    const seen = await ssh(info, 'root', h2!.address, `ls /tmp/${marker} /root/${marker} /etc/${marker} 2>/dev/null | wc -l`);
    assert.equal(seen.stdout.trim(), '0', 'files of h1 are not in h2');
    for (const dir of ['/tmp', '/root', '/etc']) assert.equal(existsSync(path.join(dir, marker)), false, `${dir}/${marker} is not on the machine`);
    const again = await ssh(info, 'root', h1!.address, `ls /tmp/${marker} /root/${marker} /etc/${marker}`);
    assert.equal(again.code, 0, 'h1 keeps its files');
  });

  test('the written inventory (INI and YAML) reaches every host with the lab key and known_hosts', async () => {
    for (const file of [info.inventoryFile, info.inventoryYamlFile]) {
      const inventory = loadInventory([file]);
      assert.deepEqual(inventory.hostsOf(LAB_NAME), info.hosts.map((h) => h.name), file);
      for (const host of info.hosts) {
        const vars = inventory.hostVars(host.name);
        assert.equal(vars.ansible_host, host.address);
        assert.equal(vars.ansible_user, 'root');
        assert.equal(vars.ansible_ssh_private_key_file, info.privateKeyFile);
        assert.equal(vars.tsplay_known_hosts_file, info.knownHostsFile);
      }
    }
    assert.equal(labInventory(lab), readFileSync(info.inventoryFile, 'utf8'));
  });

  test('up is idempotent: the same N keeps hosts and host keys, more adds, fewer removes', async () => {
    const keys = readFileSync(info.knownHostsFile, 'utf8');
    const again = await labUp(10, lab);
    assert.deepEqual(again.created, []);
    assert.equal(readFileSync(info.knownHostsFile, 'utf8'), keys, 'host keys unchanged');

    const more = await labUp(12, lab);
    assert.deepEqual(more.created, [`${LAB_NAME}-h11`, `${LAB_NAME}-h12`]);
    const h12 = more.hosts[11]!;
    assert.equal((await ssh(more, 'root', h12.address, 'hostname')).stdout.trim(), h12.name);

    const fewer = await labUp(3, lab);
    assert.deepEqual(fewer.created, []);
    assert.equal(fewer.removed.length, 9);
    assert.deepEqual(netnsList().filter((n) => n.startsWith(`${LAB_NAME}-h`)).sort(), [1, 2, 3].map((n) => `${LAB_NAME}-h${n}`));
    assert.deepEqual(linkNames().filter(ours).sort(), [`${LAB_NAME}-h1`, `${LAB_NAME}-h2`, `${LAB_NAME}-h3`, `${LAB_NAME}0`]);
    const status = await labStatus(lab);
    assert.deepEqual(status.hosts.map((h) => [h.name, h.sshd]), [1, 2, 3].map((n) => [`${LAB_NAME}-h${n}`, true]));
    info = fewer;
  });

  test('sshd stopped inside a host: the host lives on, status says so, up starts sshd again', async () => {
    const h2 = info.hosts[1]!;
    await ssh(info, 'root', h2.address, 'echo kept > /root/kept');
    const stop = await labExec(h2.name, ['pkill', '-x', 'sshd'], lab);
    assert.equal(stop.code, 0, stop.stderr);
    const down = (await labStatus(lab)).hosts.find((h) => h.name === h2.name)!;
    assert.equal(down.sshd, false);
    assert.equal(down.netns, true);
    const up = await labUp(3, lab);
    assert.deepEqual(up.created, [], 'the host was not rebuilt');
    const kept = await ssh(info, 'root', h2.address, 'cat /root/kept');
    assert.equal(kept.stdout.trim(), 'kept');
  });

  test('--users: tsplay-nopw sudo without a password, tsplay-pw with one (only in the hosts)', async () => {
    info = await labUp(3, { ...lab, users: true });
    assert.ok(info.becomeUsers);
    const passwordFile = info.becomeUsers!.passwordFile;
    assert.equal(statSync(passwordFile).mode & 0o777, 0o600);
    const password = readFileSync(passwordFile, 'utf8').trim();
    assert.ok(password.length >= 16);
    const address = info.hosts[2]!.address;
    const nopw = await ssh(info, 'tsplay-nopw', address, 'sudo -n id -u');
    assert.equal(nopw.stdout.trim(), '0', nopw.stderr);
    const needs = await ssh(info, 'tsplay-pw', address, 'sudo -n id -u');
    assert.notEqual(needs.code, 0, 'tsplay-pw needs a password');
    const pw = await ssh(info, 'tsplay-pw', address, "sudo -S -p '' id -u", `${password}\n`);
    assert.equal(pw.stdout.trim(), '0', pw.stderr);
    assert.equal(spawnSync('getent', ['passwd', 'tsplay-pw']).status, 2, 'the machine has no tsplay-pw user');
    assert.ok(!readFileSync(info.inventoryFile, 'utf8').includes(password), 'the inventory does not hold the password');
  });

  test('down leaves nothing: mounts, namespaces, links, processes, state dir; twice is fine', async () => {
    const namespaces = labNamespaces();
    assert.ok(namespaces.size >= 3 * 3, 'found the hosts\' net, mnt and pid namespaces');
    const result = await labDown(lab);
    assert.equal(result.removed.length, 3);
    assert.deepEqual(mountPoints(), before_.mounts);
    assert.deepEqual(linkNames().filter(ours), []);
    assert.deepEqual(linkNames().filter((l) => !before_.links.includes(l)).filter(ours), []);
    assert.deepEqual(netnsList().filter((n) => n.startsWith(`${LAB_NAME}-h`)), []);
    assert.deepEqual(netnsList().sort(), before_.netns.sort());
    const left = livePids().filter((pid) => ['net', 'mnt', 'pid'].some((kind) => namespaces.has(nsOf(pid, kind) ?? '')));
    assert.deepEqual(left, [], 'no process of the lab is alive');
    assert.equal(existsSync(labDir), false, 'state dir removed');
    assert.equal(blackholePresent(), before_.blackhole);
    assert.deepEqual((await labDown(lab)).removed, []);
    assert.equal((await labStatus(lab)).up, false);
  });

  test('while a lab is up, the rest of 10.213.0.0/16 is blackholed: a connect fails at once, nothing leaves the machine', async () => {
    info = await labUp(1, lab);
    const elsewhere = '10.213.254.77'; // in the lab range, in no lab's /24
    const route = spawnSync('ip', ['route', 'get', elsewhere], { encoding: 'utf8' });
    assert.notEqual(route.status, 0, `ip route get ${elsewhere} found a route: ${route.stdout}`);
    const started = Date.now();
    const outcome = await new Promise<string>((resolve) => {
      const socket = connect({ host: elsewhere, port: 22 });
      socket.setTimeout(5000, () => (socket.destroy(), resolve('timeout')));
      socket.once('connect', () => (socket.destroy(), resolve('connected')));
      socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
    });
    assert.notEqual(outcome, 'connected');
    assert.notEqual(outcome, 'timeout');
    assert.ok(Date.now() - started < 1000, 'fails at once');
    await labDown(lab);
  });

  test('two labs brought up at once get their own /24 and bridge; one going down leaves the other', async () => {
    const second = secondLab;
    const [a, b] = await Promise.all([labUp(1, lab), labUp(1, second)]);
    try {
      assert.notEqual(a.subnet, b.subnet);
      assert.notEqual(a.bridge, b.bridge);
      await labDown(lab);
      const r = await ssh(b, 'root', b.hosts[0]!.address, 'hostname');
      assert.equal(r.stdout.trim(), b.hosts[0]!.name, r.stderr);
      assert.ok(blackholePresent(), 'the blackhole stays while a lab is up');
    } finally {
      await labDown(second);
      await labDown(lab);
    }
    assert.equal(existsSync('/run/tsplay-lab.lock'), false);
  });

  test('refuses a state dir that is not a lab dir, and leaves it alone', async () => {
    const other = path.join(workDir, 'not-a-lab');
    mkdirSync(other);
    writeFileSync(path.join(other, 'precious'), 'x');
    await assert.rejects(labUp(1, { name: LAB_NAME, dir: other }), (err: unknown) => err instanceof LabError && /not a tsplay lab directory/.test(err.message));
    await labDown({ name: LAB_NAME, dir: other });
    assert.equal(readFileSync(path.join(other, 'precious'), 'utf8'), 'x');
  });

  test('not root: "the lab needs root"', () => {
    const probe = `import('${path.join(repoRoot, 'engine/lab/lab.ts')}').then((m) => m.labUp(1, { name: '${LAB_NAME}', dir: '${labDir}' })).catch((e) => { console.log(e.message); })`;
    const result = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '-e', probe], {
      encoding: 'utf8',
      cwd: repoRoot,
    });
    assert.match(result.stdout, /the lab needs root/, result.stderr);
    assert.equal(existsSync(labDir), false);
  });
});

describe('lab inventory and options', () => {
  const base = {
    labName: 'tsplab',
    hosts: [1, 2, 3].map((index) => ({ index, name: `tsplab-h${index}`, address: `10.213.0.${10 + index}` })),
    privateKeyFile: '/var/lib/tsplay-lab/id_ed25519',
    knownHostsFile: '/var/lib/tsplay-lab/known_hosts',
    groups: ['web=1-2', 'db=3', 'everything'],
  };

  test('group specs: ranges, lists, all hosts; bad ones are errors', () => {
    assert.deepEqual(parseGroupSpec('web=1-3,5'), { name: 'web', indexes: [1, 2, 3, 5] });
    assert.deepEqual(parseGroupSpec('all_lab'), { name: 'all_lab' });
    assert.throws(() => parseGroupSpec('web=4', 3), /the lab has hosts 1-3, not 4/);
    assert.throws(() => parseGroupSpec('web-servers=1'), /group name/);
    assert.throws(() => parseGroupSpec('web=a'), /not a host number/);
    assert.throws(() => parseGroupSpec('web=3-1'), /empty/);
  });

  for (const format of ['ini', 'yaml'] as const) {
    test(`${format} inventory: the lab group carries the connection vars, extra groups list their hosts`, () => {
      const dir = mkdtempSync(path.join(workDir, 'inv-'));
      const file = path.join(dir, format === 'ini' ? 'lab.ini' : 'lab.yml');
      writeFileSync(file, renderLabInventory(base, format));
      const inventory = loadInventory([file]);
      assert.deepEqual(inventory.hostsOf('tsplab'), ['tsplab-h1', 'tsplab-h2', 'tsplab-h3']);
      assert.deepEqual(inventory.hostsOf('web'), ['tsplab-h1', 'tsplab-h2']);
      assert.deepEqual(inventory.hostsOf('db'), ['tsplab-h3']);
      assert.deepEqual(inventory.hostsOf('everything'), ['tsplab-h1', 'tsplab-h2', 'tsplab-h3']);
      const vars = inventory.hostVars('tsplab-h3');
      assert.equal(vars.ansible_host, '10.213.0.13');
      assert.equal(vars.ansible_user, 'root');
      assert.equal(vars.ansible_ssh_private_key_file, base.privateKeyFile);
      assert.equal(vars.tsplay_known_hosts_file, base.knownHostsFile);
    });
  }

  test('a key path with spaces survives the INI inventory', () => {
    const dir = mkdtempSync(path.join(workDir, 'inv-'));
    const file = path.join(dir, 'lab.ini');
    writeFileSync(file, renderLabInventory({ ...base, privateKeyFile: '/var/lib/my lab/id_ed25519', groups: [] }, 'ini'));
    assert.equal(loadInventory([file]).hostVars('tsplab-h1').ansible_ssh_private_key_file, '/var/lib/my lab/id_ed25519');
  });

  test('lab names must fit interface names; the default lab is tsplab in /var/lib/tsplay-lab', () => {
    assert.throws(() => resolveLabConfig({ name: 'Bad-Name' }), LabError);
    assert.throws(() => resolveLabConfig({ name: 'muchtoolongname' }), /1-10 lower-case/);
    const saved = { name: process.env.TSPLAY_LAB_NAME, dir: process.env.TSPLAY_LAB_DIR };
    delete process.env.TSPLAY_LAB_NAME;
    delete process.env.TSPLAY_LAB_DIR;
    try {
      assert.deepEqual(resolveLabConfig(), { name: 'tsplab', dir: '/var/lib/tsplay-lab', bridge: 'tsplab0' });
      assert.equal(resolveLabConfig({ name: 'second' }).dir, '/var/lib/tsplay-lab-second');
    } finally {
      if (saved.name !== undefined) process.env.TSPLAY_LAB_NAME = saved.name;
      if (saved.dir !== undefined) process.env.TSPLAY_LAB_DIR = saved.dir;
    }
  });
});
