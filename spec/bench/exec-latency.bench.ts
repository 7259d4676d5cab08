// Benchmark, not a test (issue 8): what one exec costs over ssh at a given round-trip time.
// One lab host behind the play bench's user-space delay proxy (spec/bench/play/delay-proxy.ts),
// N sequential `true` execs through engine/connection/ssh.ts SshConnection.exec, next to the
// same through OpenSSH `ssh` with a ControlMaster (a new ssh process per exec, the master kept).
//
//   sudo node --import tsx spec/bench/exec-latency.bench.ts                 # --rtt 20 --ops 40
//   sudo node --import tsx spec/bench/exec-latency.bench.ts --rtt 20 --trace
//
// --trace prints, for the tsplay column, when each ssh message of one exec left or arrived
// (ssh2's debug log, timestamped), relative to the exec call: where the round trips go.
//
// Needs Linux and root (the lab makes network namespaces). Lab name `rtth` (override with
// --lab), state in a temp dir, taken down at the end.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ssh2 from 'ssh2';
import { SshConnection } from '../../engine/connection/ssh.js';
import { labDown, labUp } from '../../engine/lab/lab.js';
import { measureProxyRoundTrip, startDelayProxy } from './play/delay-proxy.js';

const { values: cli } = parseArgs({
  options: {
    rtt: { type: 'string', default: '20' },
    ops: { type: 'string', default: '40' },
    trace: { type: 'boolean', default: false },
    lab: { type: 'string', default: 'rtth' },
  },
});
const RTT = Number(cli.rtt);
const OPS = Number(cli.ops);
if (!(RTT >= 0) || !(OPS >= 1)) {
  console.error('--rtt must be ≥ 0 and --ops ≥ 1');
  process.exit(5);
}
if (process.platform !== 'linux' || process.getuid?.() !== 0) {
  console.error('needs Linux and root (the lab makes network namespaces)');
  process.exit(5);
}

const now = () => Number(process.hrtime.bigint()) / 1e6;
const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
};

// ---------------------------------------------------------------- ssh2's debug log, timestamped

/** ssh2 message log lines with their time, for --trace; filled only while `recording`. */
const wire: Array<{ t: number; msg: string }> = [];
let recording = false;
type ClientInstance = InstanceType<typeof ssh2.Client>;
const originalConnect = ssh2.Client.prototype.connect as (this: ClientInstance, config: ssh2.ConnectConfig) => ClientInstance;
ssh2.Client.prototype.connect = function connectWithDebug(this: ClientInstance, config: ssh2.ConnectConfig): ClientInstance {
  return originalConnect.call(this, {
    ...config,
    debug: (msg: string) => {
      if (recording && /^(Inbound|Outbound)/.test(msg) && !/GLOBAL_REQUEST|REQUEST_(SUCCESS|FAILURE)/.test(msg)) wire.push({ t: now(), msg });
    },
  });
};

function ssh(args: string[], stdin?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', stdin === undefined ? ['-n', ...args] : args, { stdio: ['pipe', 'pipe', 'pipe'] });
    p.stdin.on('error', () => {}); // ssh may exit before reading it all
    p.stdin.end(stdin ?? '');
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ssh exited ${code}: ${err.trim()}`))));
  });
}

// ---------------------------------------------------------------- ssh2's public client.exec, as ssh.ts used it

/** A bare ssh2 client (Nagle off, as ssh.ts sets it) on the proxy: the column for ssh.ts before issue 8's change. */
function plainSsh2Client(port: number, privateKey: Buffer): Promise<ClientInstance> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.once('ready', () => resolve(client));
    client.once('error', reject);
    client.connect({ host: '127.0.0.1', port, username: 'root', privateKey, hostVerifier: () => true });
    client.setNoDelay(true);
  });
}

/** client.exec waits for CHANNEL_SUCCESS before handing the channel over; stdin and EOF follow. */
function plainExec(client: ClientInstance, command: string, stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, channel) => {
      if (err) return reject(err);
      let code: number | undefined;
      channel.once('exit', (c: number) => (code = c));
      channel.resume();
      channel.stderr.resume();
      channel.once('close', () => (code === 0 ? resolve() : reject(new Error(`ssh2 exec: rc ${code}`))));
      channel.end(stdin);
    });
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tsplay-exec-latency-'));
  const labDir = join(dir, 'lab');
  await labDown({ name: cli.lab!, dir: labDir });
  const lab = await labUp(1, { name: cli.lab!, dir: labDir });
  const host = lab.hosts[0]!;
  const proxy = await startDelayProxy({ host: host.address, port: 22 }, RTT);
  const knownHosts = join(dir, 'known_hosts');
  const keyLine = readFileSync(lab.knownHostsFile, 'utf8').split('\n').find(Boolean)!;
  writeFileSync(knownHosts, `[127.0.0.1]:${proxy.port} ${keyLine.split(' ').slice(1).join(' ')}\n`);
  const conn = new SshConnection(host.name, {
    ansible_host: '127.0.0.1',
    ansible_port: proxy.port,
    ansible_user: 'root',
    ansible_ssh_private_key_file: lab.privateKeyFile,
    tsplay_known_hosts_file: knownHosts,
  });
  const sshBase = [
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${join(dir, 'cm-%C')}`,
    '-o', 'ControlPersist=60',
    '-o', 'GSSAPIAuthentication=no',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHosts}`,
    '-o', 'LogLevel=ERROR',
    '-i', lab.privateKeyFile,
    '-p', String(proxy.port),
    'root@127.0.0.1',
  ];
  try {
    const pings = await measureProxyRoundTrip(RTT, 20);
    const rttMeasured = quantile(pings, 0.5);
    const plain = await plainSsh2Client(proxy.port, readFileSync(lab.privateKeyFile));
    const transports: Array<[name: string, run: (command: string, stdin?: string) => Promise<void>]> = [
      [
        'tsplay (SshConnection.exec)',
        async (command, stdin) => {
          const r = await conn.exec(command, stdin === undefined ? {} : { stdin });
          if (r.rc !== 0) throw new Error(`tsplay exec: rc ${r.rc}`);
        },
      ],
      ['ssh2 client.exec (ssh.ts before)', (command, stdin) => plainExec(plain, command, stdin)],
      ['openssh+CM (ssh process)', async (command, stdin) => void (await ssh([...sshBase, command], stdin))],
    ];
    const workloads: Array<[command: string, stdin: string | undefined]> = [
      ['true', undefined],
      ['cat >/dev/null', 'x'.repeat(200)],
    ];
    for (const [, run] of transports) await run('true'); // warm: connections (and the master) open

    for (const [command, stdin] of workloads) {
      const times = new Map<string, number[]>(transports.map(([name]) => [name, []]));
      const BLOCK = 10;
      for (let done = 0; done < OPS; done += BLOCK) {
        for (const [name, run] of transports) {
          for (let i = 0; i < Math.min(BLOCK, OPS - done); i++) {
            const t = now();
            await run(command, stdin);
            times.get(name)!.push(now() - t);
          }
        }
      }
      const what = stdin === undefined ? `\`${command}\`` : `\`${command}\` with ${stdin.length} bytes of stdin`;
      console.log(`\n## exec latency: ${what}, ${OPS} sequential execs, one host, delay proxy RTT ${RTT} ms (measured ${rttMeasured.toFixed(1)} ms)\n`);
      console.log('| transport | median ms | p90 ms | min ms | median / RTT |');
      console.log('|---|---|---|---|---|');
      for (const [name, xs] of times) {
        const med = quantile(xs, 0.5);
        console.log(`| ${name} | ${med.toFixed(1)} | ${quantile(xs, 0.9).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${RTT > 0 ? (med / rttMeasured).toFixed(2) : '-'} |`);
      }
    }
    plain.end();

    if (cli.trace) {
      const traced: Array<[string, string | undefined]> = [['true', undefined], ['echo ok', undefined], ['cat', 'some stdin\n'], ['echo ok; sleep 0.05; echo done', undefined]];
      for (const [command, stdin] of traced) {
        wire.length = 0;
        recording = true;
        const t0 = now();
        await conn.exec(command, stdin === undefined ? {} : { stdin });
        const t1 = now();
        await new Promise((r) => setTimeout(r, RTT * 2 + 20)); // what the exec left in flight
        recording = false;
        console.log(`\ntrace \`${command}\`${stdin === undefined ? '' : ' with stdin'}: exec resolved after ${(t1 - t0).toFixed(1)} ms`);
        for (const w of wire) console.log(`  ${(w.t - t0).toFixed(1).padStart(6)} ms  ${w.msg}`);
      }
    }
  } finally {
    await conn.close();
    await ssh(['-O', 'exit', ...sshBase]).catch(() => '');
    await proxy.close();
    await labDown({ name: cli.lab!, dir: labDir });
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
