// Benchmark, not a test: what an ssh connection costs tsplay on 10 real lab hosts (engine/lab),
// next to OpenSSH's ssh with ControlMaster doing the same operations. Issue 3.
//
//   sudo npm run bench:ssh                      # = node --import tsx spec/bench/connection.bench.ts
//   sudo node --import tsx spec/bench/connection.bench.ts --ops 100 --rounds 30
//
// Needs Linux and root (the lab makes network namespaces). It brings up its own lab (name
// `tspbench`, state in a temp dir), so a user's lab is never touched, and takes it down at the end.
//
// Three transports run the same operations, interleaved (A, B, C, A, B, C...) so they share
// the machine's noise:
//   tsplay         engine/connection/ssh.ts SshConnection as shipped
//   tsplay+nodelay the same, with TCP_NODELAY set on its socket (ssh2 leaves Nagle on; this column
//                  shows what setting it would gain — see BENCHMARKS.md)
//   openssh+CM     `ssh -o ControlMaster=auto ...`: the first call per host opens the master,
//                  later calls reuse it (a new ssh process per operation, as Ansible does)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ssh2 from 'ssh2';
import { SshConnection } from '../../engine/connection/ssh.js';
import { labDown, labUp, type LabInfo } from '../../engine/lab/lab.js';

const LAB_NAME = 'tspbench';
const TRIVIAL = 'true';
const PROBE = 'stat -c %a /etc/passwd';
const PROBE_EXPECTED = '644';
/** Operations (or parallel rounds) a transport runs back to back before the next transport's turn. */
const BLOCK = 10;

const { values: cli } = parseArgs({
  options: {
    ops: { type: 'string', default: '100' }, // sequential operations per measure and transport
    rounds: { type: 'string', default: '30' }, // parallel rounds (one operation on every host each)
    hosts: { type: 'string', default: '10' },
  },
});
const OPS = positiveInt(cli.ops, '--ops');
const ROUNDS = positiveInt(cli.rounds, '--rounds');
const HOSTS = positiveInt(cli.hosts, '--hosts');

function positiveInt(text: string | undefined, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, not ${JSON.stringify(text)}`);
    process.exit(5);
  }
  return n;
}

// ---------------------------------------------------------------- TCP_NODELAY variant

// ssh2 never calls setNoDelay, so its socket runs with Nagle's algorithm. The variant column sets
// it on the sockets of connections opened while `noDelayForNewClients` is true (connections are
// opened one at a time below, so only the variant's client is created in that window).
let noDelayForNewClients = false;
type ClientInstance = InstanceType<typeof ssh2.Client>;
const originalConnect = ssh2.Client.prototype.connect as (this: ClientInstance, config: ssh2.ConnectConfig) => ClientInstance;
ssh2.Client.prototype.connect = function connectMaybeNoDelay(this: ClientInstance, config: ssh2.ConnectConfig): ClientInstance {
  const result = originalConnect.call(this, config);
  if (noDelayForNewClients) this.setNoDelay(true); // the socket exists once connect() returns; Node applies it on connect
  return result;
};

// ---------------------------------------------------------------- transports

interface Transport {
  name: string;
  /** Open the connection to host `i` and run `true` on it: the cold setup. */
  setup(i: number): Promise<void>;
  /** Run a command on host `i` over the open connection; returns its stdout. */
  run(i: number, command: string): Promise<string>;
  close(): Promise<void>;
}

function tsplayTransport(name: string, lab: LabInfo, noDelay: boolean): Transport {
  const conns = lab.hosts.map(
    (h) =>
      new SshConnection(h.name, {
        ansible_host: h.address,
        ansible_user: 'root',
        ansible_ssh_private_key_file: lab.privateKeyFile,
        tsplay_known_hosts_file: lab.knownHostsFile,
      }),
  );
  const run = async (i: number, command: string) => {
    const r = await conns[i]!.exec(command);
    if (r.rc !== 0) throw new Error(`${name}: \`${command}\` on ${lab.hosts[i]!.name} exited ${r.rc}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    name,
    async setup(i) {
      noDelayForNewClients = noDelay;
      try {
        await conns[i]!.connect();
      } finally {
        noDelayForNewClients = false;
      }
      await run(i, TRIVIAL);
    },
    run,
    async close() {
      await Promise.all(conns.map((c) => c.close()));
    },
  };
}

function opensshTransport(lab: LabInfo, dir: string): Transport {
  const base = (i: number) => [
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${join(dir, 'cm-%C')}`,
    '-o', 'ControlPersist=60',
    '-o', 'GSSAPIAuthentication=no',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${lab.knownHostsFile}`,
    '-o', 'LogLevel=ERROR',
    '-i', lab.privateKeyFile,
    `root@${lab.hosts[i]!.address}`,
  ];
  const run = (i: number, command: string) => ssh([...base(i), command]);
  return {
    name: 'openssh+CM',
    setup: async (i) => void (await run(i, TRIVIAL)), // ControlMaster=auto: the first call opens the master
    run,
    async close() {
      // the masters run on this machine (ControlPersist forks them away): stop each one
      await Promise.all(lab.hosts.map((_, i) => ssh(['-O', 'exit', ...base(i)]).catch(() => '')));
    },
  };
}

function ssh(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    // 'close', not 'exit': the ControlPersist master inherits nothing of ours, so close comes promptly
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ssh ${args.at(-1)} exited ${code}: ${err.trim()}`))));
  });
}

// ---------------------------------------------------------------- measuring

const now = () => Number(process.hrtime.bigint()) / 1e6;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = now();
  await fn();
  return now() - t;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!; // nearest rank
}
const median = (xs: number[]) => quantile(xs, 0.5);

interface Measure {
  title: string;
  unit: string;
  /** transport name → samples */
  samples: Map<string, number[]>;
  stats: Array<[label: string, fn: (xs: number[]) => number]>;
}

function newMeasure(title: string, transports: Transport[], stats: Measure['stats'], unit = 'ms'): Measure {
  return { title, unit, stats, samples: new Map(transports.map((t) => [t.name, []])) };
}

/** Setup per host, cold: each transport opens host i in turn (A, B, C), host after host. */
async function measureSetup(transports: Transport[], hosts: number): Promise<Measure> {
  const m = newMeasure(`connection setup + first \`${TRIVIAL}\`, per host (${hosts} hosts, one at a time)`, transports, [
    ['median', median],
    ['max', (xs) => Math.max(...xs)],
  ]);
  for (let i = 0; i < hosts; i++) {
    for (const t of rotate(transports, i)) m.samples.get(t.name)!.push(await timed(() => t.setup(i)));
  }
  return m;
}

/**
 * One command, `ops` times on host 0, back to back in blocks of BLOCK per transport, the blocks
 * interleaved. Back to back matters: a playbook's tasks follow each other without a pause, and
 * interleaving single operations would give each connection a 40 ms rest (the delayed-ACK timer)
 * between its operations, hiding exactly the Nagle stalls a real run has.
 */
async function measureSequential(transports: Transport[], command: string, ops: number, expect?: string): Promise<Measure> {
  const m = newMeasure(`\`${command}\`, sequential on one host (${ops} ops)`, transports, [
    ['median', median],
    ['p90', (xs) => quantile(xs, 0.9)],
  ]);
  for (let done = 0, block = 0; done < ops; done += BLOCK, block++) {
    for (const t of rotate(transports, block)) {
      for (let n = done; n < Math.min(ops, done + BLOCK); n++) {
        m.samples.get(t.name)!.push(
          await timed(async () => {
            const out = await t.run(0, command);
            if (expect !== undefined && out.trim() !== expect) throw new Error(`${t.name}: \`${command}\` printed ${JSON.stringify(out)}, expected ${expect}`);
          }),
        );
      }
    }
  }
  return m;
}

/** Every host runs the command at once, rounds back to back in blocks of BLOCK per transport, the blocks interleaved. */
async function measureParallel(transports: Transport[], command: string, hosts: number, rounds: number): Promise<{ latency: Measure; throughput: Measure }> {
  const latency = newMeasure(`\`${command}\`, ${hosts} hosts in parallel (${rounds} rounds, ${hosts * rounds} ops)`, transports, [
    ['median', median],
    ['p90', (xs) => quantile(xs, 0.9)],
  ]);
  const throughput = newMeasure(`\`${command}\`, ${hosts} hosts in parallel: round wall time`, transports, [['median', median]]);
  for (let done = 0, block = 0; done < rounds; done += BLOCK, block++) {
    for (const t of rotate(transports, block)) {
      const ops = latency.samples.get(t.name)!;
      for (let r = done; r < Math.min(rounds, done + BLOCK); r++) {
        const wall = await timed(() => Promise.all(Array.from({ length: hosts }, async (_, i) => ops.push(await timed(() => t.run(i, command))))));
        throughput.samples.get(t.name)!.push(wall);
      }
    }
  }
  return { latency, throughput };
}

/** The order changes every step, so no transport always runs right after another's teardown. */
function rotate<T>(xs: T[], by: number): T[] {
  const k = by % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

// ---------------------------------------------------------------- report

function machineDescription(): string[] {
  const cpu = cpus();
  const opensshVersion = spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim();
  const ssh2Version = (JSON.parse(readFileSync(new URL('../../node_modules/ssh2/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return [
    `- CPU: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown'} (nproc ${cpu.length})`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: Linux ${release()}`,
    `- node: ${process.version}, ssh2 ${ssh2Version}`,
    `- OpenSSH (client and the lab hosts' sshd): ${opensshVersion}`,
  ];
}

function table(measures: Measure[], transports: Transport[]): string[] {
  const baseline = 'openssh+CM';
  const others = transports.map((t) => t.name).filter((n) => n !== baseline);
  const header = ['measure', 'stat', ...others, baseline, ...others.map((n) => `${n} / openssh`)];
  const rows: string[][] = [];
  for (const m of measures) {
    for (const [label, fn] of m.stats) {
      const value = (name: string) => fn(m.samples.get(name)!);
      const base = value(baseline);
      rows.push([m.title, `${label} (${m.unit})`, ...others.map((n) => value(n).toFixed(1)), base.toFixed(1), ...others.map((n) => (value(n) / base).toFixed(2))]);
    }
  }
  return [`| ${header.join(' | ')} |`, `|${header.map((_, i) => (i < 2 ? '---' : '---:')).join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

// ---------------------------------------------------------------- main

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'it needs Linux (the lab hosts are network namespaces)';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'it needs root (the lab creates network namespaces and runs sshd); run it with sudo';
  if (spawnSync('ssh', ['-V']).error) return 'the OpenSSH client `ssh` is not installed (apt-get install openssh-client)';
  return undefined;
}

async function main(): Promise<void> {
  const why = unavailable();
  if (why) {
    console.error(`cannot run the connection benchmark: ${why}`);
    process.exitCode = 1;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-bench-'));
  const labDir = join(dir, 'lab');
  const transports: Transport[] = [];
  try {
    process.stderr.write(`bringing up ${HOSTS} lab hosts (lab ${LAB_NAME}, ${labDir})...\n`);
    const lab = await labUp(HOSTS, { name: LAB_NAME, dir: labDir });
    transports.push(tsplayTransport('tsplay', lab, false), tsplayTransport('tsplay+nodelay', lab, true), opensshTransport(lab, dir));

    process.stderr.write('measuring connection setup...\n');
    const setup = await measureSetup(transports, HOSTS);
    process.stderr.write(`measuring \`${TRIVIAL}\` sequentially...\n`);
    const trivial = await measureSequential(transports, TRIVIAL, OPS);
    process.stderr.write(`measuring \`${TRIVIAL}\` on ${HOSTS} hosts in parallel...\n`);
    const parallel = await measureParallel(transports, TRIVIAL, HOSTS, ROUNDS);
    process.stderr.write(`measuring the probe \`${PROBE}\`...\n`);
    const probe = await measureSequential(transports, PROBE, OPS, PROBE_EXPECTED);

    const lines = [
      `Connections: tsplay vs OpenSSH with ControlMaster on ${HOSTS} lab hosts (${new Date().toISOString().slice(0, 10)})`,
      '',
      ...machineDescription(),
      '',
      ...table([setup, trivial, parallel.latency, parallel.throughput, probe], transports),
      '',
      'ratio < 1: tsplay is faster. Setup is TCP + key exchange + auth + the first command (OpenSSH opens its',
      'master on the first call). Each OpenSSH operation is a new ssh process talking to the master.',
    ];
    console.log(lines.join('\n'));
  } finally {
    for (const t of transports) await t.close().catch((err: unknown) => console.error(`closing ${t.name}: ${String(err)}`));
    await labDown({ name: LAB_NAME, dir: labDir }).catch((err: unknown) => console.error(`lab down: ${String(err)}`));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
