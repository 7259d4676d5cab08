// One lab host: an overlay copy of the machine's root, its own /run /tmp /root /dev/shm, proc
// for its own pid namespace, a hostname, and sshd. Every mount is made inside the host's own
// mount namespace, so the machine's mount table never changes and the mounts vanish with the
// host's last process: `down` only has to kill processes.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { type HostNames, hostDir, type LabConfig, labPaths } from './config.js';
import { createHostKey } from './keys.js';
import { LabError } from './lab-error.js';
import { resolveTool, run, type RunResult } from './system.js';

export interface HostLayout {
  dir: string;
  root: string;
  upper: string;
  work: string;
  log: string;
}

export function hostLayout(lab: LabConfig, name: string): HostLayout {
  const dir = hostDir(lab, name);
  return { dir, root: path.join(dir, 'root'), upper: path.join(dir, 'upper'), work: path.join(dir, 'work'), log: path.join(dir, 'sshd.log') };
}

// Runs as pid 1 of the host's new pid namespace, in its new mount and uts namespaces and its netns.
// Positional args: root upper work name authorized_keys. The final pid 1 is a shell that starts
// sshd and reaps orphans, so restarting or killing sshd inside a host does not end the host.
const HOST_INIT = String.raw`
set -eu
root=$1 upper=$2 work=$3 name=$4 keys=$5
mount -t overlay overlay -o "lowerdir=/,upperdir=$upper,workdir=$work" "$root"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/dev/shm"
mount -t proc proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
mount -t cgroup2 cgroup2 "$root/sys/fs/cgroup" 2>/dev/null || true
mount -t tmpfs -o mode=755,nosuid,nodev tmpfs "$root/run"
mkdir -p "$root/run/sshd" "$root/run/lock"
chmod 1777 "$root/run/lock"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs "$root/tmp"
mount -t tmpfs -o mode=700 tmpfs "$root/root"
cp -a /etc/skel/. "$root/root/"
chmod 700 "$root/root"
mkdir -m 700 "$root/root/.ssh"
cp "$keys" "$root/root/.ssh/authorized_keys"
chmod 600 "$root/root/.ssh/authorized_keys"
for f in "$root"/etc/ssh/ssh_host_*; do
  case $f in *_ed25519_key|*_ed25519_key.pub) ;; *) rm -f "$f" ;; esac
done
hostname "$name"
cd "$root"
exec chroot "$root" /bin/sh -c '/usr/sbin/sshd -D -e & while :; do sleep 2147483647 & wait $! || :; done'
`;

/** Files the host sees as its own from the start: hostname, hosts, machine-id, host key. */
async function prepareUpper(host: HostNames, layout: HostLayout): Promise<void> {
  for (const dir of [layout.root, layout.upper, layout.work]) mkdirSync(dir, { recursive: true, mode: 0o755 });
  const etc = path.join(layout.upper, 'etc');
  mkdirSync(etc, { recursive: true, mode: 0o755 });
  writeFileSync(path.join(etc, 'hostname'), `${host.name}\n`);
  // sudo warns "unable to resolve host" (on stderr, into become output) unless the name resolves.
  const machineHosts = existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : '127.0.0.1\tlocalhost\n';
  writeFileSync(path.join(etc, 'hosts'), `${machineHosts.replace(/\n?$/, '\n')}${host.address}\t${host.name}\n`);
  writeFileSync(path.join(etc, 'machine-id'), randomBytes(16).toString('hex') + '\n');
  await createHostKey(layout.upper, host.name);
}

/** Builds the host's filesystem and starts its init and sshd, detached from this process. Resolves when sshd answers. */
export async function startHost(lab: LabConfig, host: HostNames): Promise<void> {
  const layout = hostLayout(lab, host.name);
  await prepareUpper(host, layout);
  const log = openSync(layout.log, 'a', 0o644);
  let exited: string | undefined;
  try {
    const child = spawn(
      resolveTool('nsenter'),
      [
        `--net=/run/netns/${host.name}`,
        '--',
        resolveTool('unshare'),
        '--uts',
        '--pid',
        '--fork',
        '--mount',
        '--propagation',
        'private',
        '--',
        '/bin/sh',
        '-c',
        HOST_INIT,
        `${lab.name}-init`,
        layout.root,
        layout.upper,
        layout.work,
        host.name,
        labPaths(lab).publicKey,
      ],
      { detached: true, stdio: ['ignore', log, log] },
    );
    child.on('exit', (code, signal) => {
      exited = signal ? `signal ${signal}` : `exit code ${code}`;
    });
    child.unref();
  } finally {
    closeSync(log);
  }
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await sshdAnswers(host.address, 300)) return;
    if (exited) break;
    await sleep(50);
  }
  const tail = existsSync(layout.log) ? readFileSync(layout.log, 'utf8').trim().split('\n').slice(-8).join('\n') : '';
  throw new LabError(`lab host ${host.name} did not start${exited ? ` (${exited})` : ''}; log ${layout.log}:\n${tail}`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True when a TCP connection to address:22 opens within timeoutMs. */
export function sshdAnswers(address: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function nsLink(pid: number, kind: 'mnt' | 'pid' | 'net'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${kind}`);
  } catch {
    return undefined;
  }
}

function netnsPids(name: string): number[] {
  // Same as `ip netns pids NAME`, without a process: a netns file's inode is the namespace's id.
  let inode: number;
  try {
    inode = statSync(`/run/netns/${name}`).ino;
  } catch {
    return [];
  }
  const target = `net:[${inode}]`;
  return allPids().filter((pid) => nsLink(pid, 'net') === target);
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

/** Every process of a host: those in its netns, and any others sharing its pid or mount namespace. */
export function hostProcesses(name: string): number[] {
  const inNetns = netnsPids(name);
  const namespaces = new Set<string>();
  for (const pid of inNetns) {
    for (const kind of ['mnt', 'pid'] as const) {
      const link = nsLink(pid, kind);
      if (link) namespaces.add(link);
    }
  }
  // the machine's own namespaces must never count (the nsenter parent shares them briefly)
  namespaces.delete(nsLink(process.pid, 'mnt') ?? '');
  namespaces.delete(nsLink(process.pid, 'pid') ?? '');
  const pids = new Set(inNetns);
  for (const pid of allPids()) {
    const mnt = nsLink(pid, 'mnt');
    const pidNs = nsLink(pid, 'pid');
    if ((mnt && namespaces.has(mnt)) || (pidNs && namespaces.has(pidNs))) pids.add(pid);
  }
  return [...pids];
}

/** The host's init (pid 1 inside), as a pid of the machine. */
export function hostInitPid(name: string): number | undefined {
  for (const pid of netnsPids(name)) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/);
      if (nspid && nspid.length >= 2 && nspid[nspid.length - 1] === '1') return pid;
    } catch {
      // exited meanwhile
    }
  }
  return undefined;
}

/** Kills every process of the host and waits until they are gone; its mounts go with them. */
export async function stopHostProcesses(name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = existsSync(`/run/netns/${name}`) ? hostProcesses(name) : [];
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    if (Date.now() > deadline) throw new LabError(`processes of lab host ${name} survive SIGKILL: ${pids.join(', ')}`);
    await sleep(30);
  }
}

/**
 * Runs a command inside a running host (its namespaces and root), as root, without ssh:
 * for tests that need to change a host from outside (stop sshd, add a firewall rule, ...).
 */
export async function execInHost(name: string, command: string[], opts: { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const pid = hostInitPid(name);
  if (pid === undefined) throw new LabError(`lab host ${name} is not running`);
  return run('nsenter', [`--target=${pid}`, '--mount', '--uts', '--net', '--pid', '--root', '--wd', '--', ...command], {
    input: opts.input,
    timeoutMs: opts.timeoutMs,
    allowFailure: true,
  });
}

export function removeHostFiles(lab: LabConfig, name: string): void {
  rmSync(hostLayout(lab, name).dir, { recursive: true, force: true });
}
