// A real OpenSSH server for tests and the benchmark: its own sshd_config, host key and
// authorized_keys in a temp dir, listening on a free loopback port. Needs root (sshd drops
// privileges per session) and Linux; `sshdUnavailable()` says why not when it cannot run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SSHD = '/usr/sbin/sshd';

/** Why a real sshd cannot run here, or undefined when it can. */
export function sshdUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (sshd must switch users)';
  if (!existsSync(SSHD)) return `${SSHD} is not installed (apt-get install openssh-server)`;
  if (spawnSync('ssh-keygen', ['-?']).error) return 'ssh-keygen is not installed';
  return undefined;
}

/** A free TCP port on an address (bind to 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input, env: opts.env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** A fresh key pair: returns the private key path (public key at path + '.pub'). */
export function makeKey(dir: string, name: string, type: 'ed25519' | 'rsa' | 'ecdsa' = 'ed25519', passphrase = ''): string {
  const file = join(dir, name);
  run('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', name, '-f', file]);
  return file;
}

/** `SHA256:...` of a public key file, as ssh-keygen -lf prints it. */
export function keygenFingerprint(pubFile: string): string {
  return run('ssh-keygen', ['-lf', pubFile]).split(' ')[1]!;
}

export interface SshdOptions {
  listen?: string;
  port?: number;
  /** Host key file to use (default: a new ed25519 key). */
  hostKey?: string;
  /** Users → public key files allowed to log in. */
  authorized?: Record<string, string[]>;
  passwordAuth?: boolean;
  maxSessions?: number;
  /** Extra sshd_config lines. */
  extra?: string[];
  logLevel?: 'ERROR' | 'INFO' | 'DEBUG1';
}

export class Sshd {
  log = '';
  /** sshd's own mount namespace (set once it listens): every session process lives in it, orphans too. */
  mountNamespace: string | undefined;
  constructor(
    readonly dir: string,
    readonly host: string,
    readonly port: number,
    readonly hostKey: string,
    private proc: ChildProcess,
  ) {}

  get pid(): number {
    return this.proc.pid!;
  }

  /**
   * Signal sshd and every session process it started. They are found by sshd's mount namespace,
   * not only as its descendants: a session forking while its parent is killed, or orphaned by
   * that, would escape a walk of the process tree and outlive the test (a stray `sleep 60`).
   * SIGKILL repeats until nothing of this server is left alive.
   */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    const members = () => [...new Set([this.pid, ...descendants(this.pid), ...processesInMountNamespace(this.mountNamespace)])].filter(isAlive);
    for (let round = 0; round < (signal === 'SIGKILL' ? 200 : 1); round++) {
      const pids = members();
      if (pids.length === 0) return;
      // parents first (the list is sshd, then what it started, in tree order): a session sshd
      // still alive when its command is killed reports that as the command's exit signal, and a
      // test of a server dying mid-command would see a killed command instead (it did, under load)
      for (const pid of pids) {
        try {
          process.kill(pid, signal);
        } catch {
          // already gone
        }
      }
    }
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) resolve();
      else this.proc.once('exit', () => resolve());
    });
    this.kill('SIGKILL');
    await exited;
  }

  /** Stop and remove the temp dir. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function mountNamespaceOf(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** Running (not zombie) processes in a mount namespace; none for the machine's own (never kill those). */
function processesInMountNamespace(ns: string | undefined): number[] {
  if (!ns || ns === mountNamespaceOf('self')) return [];
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => mountNamespaceOf(pid) === ns);
}

function isAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Every process below `pid`, parents before children (read from /proc). */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(name));
      children.set(ppid, list);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

/** Start `sshd -D -e -f CONFIG` and wait until it listens. */
export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // sshd's privilege separation dir
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-sshd-'));
  chmodSync(dir, 0o755); // users other than root read their authorized_keys here
  const host = opts.listen ?? '127.0.0.1';
  const port = opts.port ?? (await freePort(host));
  const hostKey = opts.hostKey ?? makeKey(dir, 'ssh_host_ed25519_key');
  const akDir = join(dir, 'authorized_keys');
  mkdirSync(akDir, { mode: 0o755 });
  for (const [user, keys] of Object.entries(opts.authorized ?? {})) {
    const file = join(akDir, user);
    writeFileSync(file, keys.map((k) => readFileSync(k.endsWith('.pub') ? k : `${k}.pub`, 'utf8')).join(''));
    chmodSync(file, 0o644);
  }
  const config = [
    `Port ${port}`,
    `ListenAddress ${host}`,
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${akDir}/%u`,
    'StrictModes no',
    'UsePAM no',
    'PermitRootLogin yes',
    `PasswordAuthentication ${opts.passwordAuth ? 'yes' : 'no'}`,
    'KbdInteractiveAuthentication no',
    `MaxSessions ${opts.maxSessions ?? 10}`,
    'MaxStartups 100:30:200',
    'UseDNS no',
    'Subsystem sftp internal-sftp',
    `LogLevel ${opts.logLevel ?? 'INFO'}`,
    ...(opts.extra ?? []),
  ].join('\n');
  const configFile = join(dir, 'sshd_config');
  writeFileSync(configFile, `${config}\n`);
  // sshd runs in its own mount namespace with an empty /root: root's shell start-up files on
  // this machine (pyenv here) would otherwise run on every command and lock each other (lab.md)
  const proc = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs -o mode=700 tsplay-root /root && exec "$0" -D -e -f "$1"', SSHD, configFile],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const sshd = new Sshd(dir, host, port, hostKey, proc);
  proc.stderr!.on('data', (chunk: Buffer) => (sshd.log += chunk.toString('utf8')));
  let exited = false;
  proc.once('exit', () => (exited = true));
  // listening once a TCP connect succeeds (the log says so only at INFO and above)
  const deadline = Date.now() + 10_000;
  while (!(await canConnect(host, port))) {
    // a server that never came up is nobody's to dispose: stop it and remove its dir here
    if (exited) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd exited: ${sshd.log}`);
    }
    if (Date.now() > deadline) {
      await sshd.dispose();
      throw new Error(`sshd did not start listening on ${host}:${port}: ${sshd.log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  // listening, so unshare has made the namespace and exec'd sshd in it
  sshd.mountNamespace = mountNamespaceOf(sshd.pid);
  return sshd;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}
