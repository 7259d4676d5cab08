// Benchmark, not a test: connection setup time and per-operation round trip of tsplay's ssh
// transport against N real sshd's on loopback, next to OpenSSH's ssh with ControlMaster for
// the same operations. Needs root and Linux (it starts sshd).
//
//   node --import tsx spec/bench/ssh-roundtrip.bench.ts [hosts=10] [ops=20]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConnection } from '../../engine/connection/ssh.js';
import { makeKey, sshdUnavailable, startSshd, type Sshd } from '../lab/sshd-fixture.js';

const hosts = Number(process.argv[2] ?? 10);
const ops = Number(process.argv[3] ?? 20);
const why = sshdUnavailable();
if (why) {
  console.error(`cannot run the benchmark: ${why}`);
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'tsplay-bench-'));
const key = makeKey(dir, 'id_bench');
const OPERATION = 'printf ok'; // the smallest real round trip: start a command, read its output

function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function sshArgs(sshd: Sshd): string[] {
  return [
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=no',
    '-o', `UserKnownHostsFile=${join(dir, 'openssh_known_hosts')}`,
    '-o', 'GSSAPIAuthentication=no',
    '-o', 'ControlMaster=auto',
    '-o', `ControlPath=${join(dir, `cm-${sshd.port}`)}`,
    '-o', 'ControlPersist=120',
    '-o', 'LogLevel=ERROR',
    '-i', key,
    '-p', String(sshd.port),
    `root@${sshd.host}`,
  ];
}

function openssh(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('ssh', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ssh exited ${code}: ${err}`))));
  });
}

async function main(): Promise<void> {
  const servers: Sshd[] = [];
  for (let i = 0; i < hosts; i++) servers.push(await startSshd({ authorized: { root: [key] }, logLevel: 'ERROR' }));
  const conns = servers.map(
    (s, i) =>
      new SshConnection(`bench${i}`, {
        ansible_host: s.host,
        ansible_port: s.port,
        ansible_user: 'root',
        ansible_ssh_private_key_file: key,
        tsplay_known_hosts_file: join(dir, 'tsplay_known_hosts'),
      }),
  );
  try {
    // connection setup, all hosts at once (what a play's first task does)
    const tsSetup: number[] = [];
    let t0 = now();
    await Promise.all(conns.map(async (c) => {
      const t = now();
      await c.connect();
      tsSetup.push(now() - t);
    }));
    const tsSetupWall = now() - t0;
    const osSetup: number[] = [];
    t0 = now();
    // the master is opened by the first command (ControlMaster=auto), as Ansible does
    await Promise.all(servers.map(async (s) => {
      const t = now();
      await openssh([...sshArgs(s), 'true']);
      osSetup.push(now() - t);
    }));
    const osSetupWall = now() - t0;

    // per-operation round trip: `ops` sequential operations on every host, hosts in parallel
    const tsOps: number[] = [];
    t0 = now();
    await Promise.all(conns.map(async (c) => {
      for (let i = 0; i < ops; i++) {
        const t = now();
        const r = await c.exec(OPERATION);
        if (r.stdout !== 'ok') throw new Error(`unexpected output ${JSON.stringify(r.stdout)}`);
        tsOps.push(now() - t);
      }
    }));
    const tsOpsWall = now() - t0;
    const osOps: number[] = [];
    t0 = now();
    await Promise.all(servers.map(async (s) => {
      for (let i = 0; i < ops; i++) {
        const t = now();
        await openssh([...sshArgs(s), OPERATION]);
        osOps.push(now() - t);
      }
    }));
    const osOpsWall = now() - t0;

    const rows: Array<[string, number, number]> = [
      ['connection setup, median per host (ms)', median(tsSetup), median(osSetup)],
      [`connection setup, ${hosts} hosts wall (ms)`, tsSetupWall, osSetupWall],
      ['operation round trip, median (ms)', median(tsOps), median(osOps)],
      [`${ops} ops x ${hosts} hosts wall (ms)`, tsOpsWall, osOpsWall],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    console.log(`ssh round trip: ${hosts} sshd on loopback, ${ops} operations per host ("${OPERATION}")\n`);
    console.log(`${'measure'.padEnd(w)}  ${'tsplay'.padStart(9)}  ${'openssh+CM'.padStart(10)}  ${'ratio'.padStart(6)}`);
    for (const [name, ts, os] of rows) {
      console.log(`${name.padEnd(w)}  ${ts.toFixed(1).padStart(9)}  ${os.toFixed(1).padStart(10)}  ${(ts / os).toFixed(2).padStart(6)}`);
    }
    console.log('\nratio < 1: tsplay is faster. OpenSSH setup includes its first command (ControlMaster=auto).');
  } finally {
    await Promise.all(conns.map((c) => c.close()));
    await Promise.all(servers.map((s) => openssh([...sshArgs(s).slice(0, -1), '-O', 'exit', `root@${s.host}`]).catch(() => {})));
    await Promise.all(servers.map((s) => s.dispose()));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
