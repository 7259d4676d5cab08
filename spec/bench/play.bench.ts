// Benchmark, not a test (issue 8): the same 37-task play run three ways on N lab hosts —
// tsplay (the built CLI), Ansible (Debian's ansible-core with its best settings) and the floor
// (one OpenSSH connection per host running a generated shell script) — in three phases: cold
// (fresh hosts), warm (nothing to change) and check (--check on fresh hosts). Runs are
// interleaved (tsplay, ansible, floor, tsplay, ...) and every run is verified on every host.
//
//   sudo npm run bench                                    # = node --import tsx spec/bench/play.bench.ts
//   sudo npm run bench -- --hosts 3 --reps 1 --skip-ansible    # a quick look
//   sudo npm run bench -- --rtt 20                        # through a 20 ms RTT delay proxy per host
//   sudo npm run bench -- --scale 10,50,100 --skip-compare     # tsplay and the floor on 10, 50, 100 hosts
//   sudo npm run bench -- --count-ops                     # ssh operations tsplay makes per task and module
//   ... --write                                           # also append the results to BENCHMARKS.md
//
// Needs Linux and root (the lab makes network namespaces). It brings up its own lab (name
// `benchb`, state in a temp dir) once, sized for the largest mode, and takes it down at the end.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { labDown, labUp, type LabHost, type LabInfo } from '../../engine/lab/lab.js';
import { ensureAnsible, runAnsible, stopControlMasters, writeAnsibleConfig } from './play/ansible-runner.js';
import { measureBannerTime, measureProxyRoundTrip, startDelayProxy, type DelayProxy } from './play/delay-proxy.js';
import { runFloor, type SshTarget } from './play/floor.js';
import { machineDescription, markdownTable, median, ratio, seconds } from './play/report.js';
import { benchTasks, changingTaskCount, TARGET_ROOT, writePlayDir, type BenchTask } from './play/scenario.js';
import { runTsplay, type ChildUsage, type OpCounts } from './play/tsplay-runner.js';
import { resetHosts, verifyHosts, type LabRef } from './play/verify.js';

const LAB_NAME = 'benchb';
const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

const { values: cli } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10' },
    reps: { type: 'string', default: '3' },
    rtt: { type: 'string' },
    scale: { type: 'string' },
    'skip-ansible': { type: 'boolean', default: false },
    'skip-compare': { type: 'boolean', default: false },
    'count-ops': { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
    cli: { type: 'string', default: join(repoRoot, 'dist/bundle/main.js') },
    // harness self-test: the floor leaves out this task, and the verification must say so
    'break-floor': { type: 'string' },
  },
});

function positiveInt(text: string | undefined, name: string, min = 1): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) {
    console.error(`${name} must be an integer ≥ ${min}, not ${JSON.stringify(text)}`);
    process.exit(5);
  }
  return n;
}
const HOSTS = positiveInt(cli.hosts, '--hosts');
const REPS = positiveInt(cli.reps, '--reps');
const RTT = cli.rtt === undefined ? 0 : positiveInt(cli.rtt, '--rtt', 0);
const SCALE = cli.scale === undefined ? [] : cli.scale.split(',').map((s) => positiveInt(s.trim(), '--scale'));
const CLI = resolve(cli.cli);

type Phase = 'check' | 'cold' | 'warm';
/** check and cold need fresh hosts, warm the converged state cold leaves: this order needs one reset per fresh run. */
const PHASES: Phase[] = ['check', 'cold', 'warm'];
type RunnerName = 'tsplay' | 'ansible' | 'floor';

interface RunRecord {
  runner: RunnerName;
  phase: Phase;
  hosts: number;
  ms: number;
  usage?: ChildUsage;
  problems: string[];
}

const problemsSeen: string[] = [];
const log = (msg: string) => process.stderr.write(`${msg}\n`);

// ---------------------------------------------------------------- targets: direct or through a delay proxy

interface Targets {
  hosts: LabHost[];
  ssh: SshTarget[];
  inventory: string;
  knownHostsFile: string;
}

/** The lab's known_hosts plus `[127.0.0.1]:PORT` lines for the proxied hosts (what clients look up behind a proxy). */
function writeKnownHosts(lab: LabInfo, file: string, proxied: Map<string, number>): void {
  const lines = readFileSync(lab.knownHostsFile, 'utf8').split('\n').filter(Boolean);
  const extra: string[] = [];
  for (const line of lines) {
    const [names, ...key] = line.split(' ');
    const hostName = names!.split(',')[0]!;
    const port = proxied.get(hostName);
    if (port !== undefined) extra.push(`[127.0.0.1]:${port} ${key.join(' ')}`);
  }
  writeFileSync(file, [...lines, ...extra].join('\n') + '\n');
}

function writeInventory(file: string, ssh: SshTarget[], lab: LabInfo, knownHostsFile: string): void {
  const hostLines = ssh.map((t) => `${t.host} ansible_host=${t.address}${t.port === 22 ? '' : ` ansible_port=${t.port}`}`);
  writeFileSync(
    file,
    [
      '[bench]',
      ...hostLines,
      '',
      '[bench:vars]',
      'ansible_user=root',
      `ansible_ssh_private_key_file=${lab.privateKeyFile}`,
      `tsplay_known_hosts_file=${knownHostsFile}`,
      'ansible_python_interpreter=/usr/bin/python3',
      '',
    ].join('\n'),
  );
}

function directTargets(lab: LabInfo, hosts: LabHost[], dir: string, label: string): Targets {
  const knownHostsFile = join(dir, `known_hosts-${label}`);
  writeKnownHosts(lab, knownHostsFile, new Map());
  const ssh = hosts.map((h) => ({ host: h.name, address: h.address, port: 22 }));
  const inventory = join(dir, `inventory-${label}.ini`);
  writeInventory(inventory, ssh, lab, knownHostsFile);
  return { hosts, ssh, inventory, knownHostsFile };
}

async function proxiedTargets(lab: LabInfo, hosts: LabHost[], dir: string, rttMs: number, proxies: DelayProxy[]): Promise<Targets> {
  const ports = new Map<string, number>();
  for (const h of hosts) {
    const p = await startDelayProxy({ host: h.address, port: 22 }, rttMs);
    proxies.push(p);
    ports.set(h.name, p.port);
  }
  const knownHostsFile = join(dir, `known_hosts-rtt${rttMs}`);
  writeKnownHosts(lab, knownHostsFile, ports);
  const ssh = hosts.map((h) => ({ host: h.name, address: '127.0.0.1', port: ports.get(h.name)! }));
  const inventory = join(dir, `inventory-rtt${rttMs}.ini`);
  writeInventory(inventory, ssh, lab, knownHostsFile);
  return { hosts, ssh, inventory, knownHostsFile };
}

// ---------------------------------------------------------------- one verified run

interface Context {
  lab: LabInfo;
  labRef: LabRef;
  tasks: BenchTask[];
  playbook: string;
  playDir: string;
  workDir: string;
  ansibleConfig?: string;
  ansibleControlDir?: string;
}

function expectChanged(runner: RunnerName, phase: Phase, changed: Map<string, number>, hosts: LabHost[], want: number): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    const got = changed.get(h.name);
    if (got !== want) out.push(`${runner} ${phase}: ${h.name} reported changed=${got ?? 'nothing'}, expected ${want}`);
  }
  return out;
}

async function runOnce(ctx: Context, runner: RunnerName, phase: Phase, targets: Targets): Promise<RunRecord> {
  const { tasks } = ctx;
  const hosts = targets.hosts;
  if (phase !== 'warm') await resetHosts(ctx.labRef, hosts);
  const check = phase === 'check';
  const wantChanged = phase === 'warm' ? 0 : changingTaskCount(tasks);
  const problems: string[] = [];
  let ms: number;
  let usage: ChildUsage | undefined;
  if (runner === 'tsplay') {
    const r = await runTsplay({ cli: CLI, playbook: ctx.playbook, inventory: targets.inventory, forks: hosts.length, check });
    ({ ms } = r);
    usage = r.usage;
    problems.push(...r.failures, ...expectChanged(runner, phase, r.changed, hosts, wantChanged));
    if (phase !== 'warm') {
      // check must report exactly the tasks cold changes (all but apt), by name, on every host
      const want = tasks.filter((t) => t.module !== 'apt').map((t) => t.name);
      for (const h of hosts) {
        const got = r.changedTasks.get(h.name) ?? new Set<string>();
        const missing = want.filter((n) => !got.has(n));
        const extra = [...got].filter((n) => !want.includes(n));
        if (missing.length || extra.length) problems.push(`tsplay ${phase}: ${h.name} changed tasks differ: missing [${missing.join(', ')}] extra [${extra.join(', ')}]`);
      }
    }
  } else if (runner === 'ansible') {
    const r = await runAnsible({ config: ctx.ansibleConfig!, playbook: ctx.playbook, inventory: targets.inventory, check, cwd: ctx.playDir });
    ({ ms } = r);
    problems.push(...r.failures, ...expectChanged(runner, phase, r.changed, hosts, wantChanged));
    // ControlPersist would hand the next Ansible run open connections; every runner starts cold
    await stopControlMasters(targets.ssh, ctx.ansibleControlDir!);
  } else {
    const r = await runFloor(tasks, targets.ssh, { privateKeyFile: ctx.lab.privateKeyFile, knownHostsFile: targets.knownHostsFile }, { dry: check, ...(cli['break-floor'] ? { skipTask: cli['break-floor'] } : {}) });
    ({ ms } = r);
    problems.push(...r.failures, ...expectChanged(runner, phase, r.changed, hosts, wantChanged));
  }
  problems.push(...(await verifyHosts(ctx.labRef, hosts, tasks, check ? 'fresh' : 'converged')).map((p) => `${runner} ${phase}: ${p}`));
  if (problems.length > 0) {
    log(`  VERIFICATION FAILED (${runner} ${phase}, ${hosts.length} hosts):`);
    for (const p of problems.slice(0, 15)) log(`    ${p}`);
    if (problems.length > 15) log(`    ... and ${problems.length - 15} more`);
    problemsSeen.push(...problems);
  }
  log(`  ${runner.padEnd(7)} ${phase.padEnd(5)} ${hosts.length} hosts: ${seconds(ms)} s${usage ? `, peak RSS ${(usage.maxRssKiB / 1024).toFixed(0)} MB, CPU ${(usage.userSec + usage.systemSec).toFixed(2)} s` : ''}${problems.length ? ' (FAILED verification)' : ''}`);
  return { runner, phase, hosts: hosts.length, ms, ...(usage ? { usage } : {}), problems };
}

/** R repetitions of every phase, runners interleaved (their order rotates each repetition). */
async function runMatrix(ctx: Context, runners: RunnerName[], targets: Targets, reps: number): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (let rep = 0; rep < reps; rep++) {
    log(`repetition ${rep + 1}/${reps} on ${targets.hosts.length} hosts`);
    const order = [...runners.slice(rep % runners.length), ...runners.slice(0, rep % runners.length)];
    for (const phase of PHASES) for (const runner of order) records.push(await runOnce(ctx, runner, phase, targets));
  }
  return records;
}

const medianOf = (records: RunRecord[], runner: RunnerName, phase: Phase, hosts: number, pick: (r: RunRecord) => number = (r) => r.ms) =>
  median(records.filter((r) => r.runner === runner && r.phase === phase && r.hosts === hosts).map(pick));

// ---------------------------------------------------------------- tables

function compareTable(records: RunRecord[], hosts: number, runners: RunnerName[]): string[] {
  const has = (r: RunnerName) => runners.includes(r);
  const header = ['phase', 'tsplay (s)', ...(has('ansible') ? ['ansible (s)'] : []), 'floor (s)', 'tsplay / floor', ...(has('ansible') ? ['ansible / tsplay'] : []), 'runs verified'];
  const rows = PHASES.map((phase) => {
    const t = medianOf(records, 'tsplay', phase, hosts);
    const a = medianOf(records, 'ansible', phase, hosts);
    const f = medianOf(records, 'floor', phase, hosts);
    const runs = records.filter((r) => r.phase === phase);
    const ok = runs.filter((r) => r.problems.length === 0).length;
    return [phase, seconds(t), ...(has('ansible') ? [seconds(a)] : []), seconds(f), ratio(t, f), ...(has('ansible') ? [ratio(a, t)] : []), `${ok}/${runs.length}`];
  });
  return markdownTable(header, rows);
}

function scaleTable(records: RunRecord[], sizes: number[], tasks: number): string[] {
  const base = sizes.includes(10) ? 10 : sizes[0]!;
  const header = ['hosts', 'phase', 'tsplay (s)', 'floor (s)', 'tsplay / floor', `tsplay / tsplay@${base}`, 'peak RSS (MB)', 'CPU per host-task (ms)'];
  const rows: string[][] = [];
  for (const n of sizes) {
    for (const phase of PHASES) {
      const t = medianOf(records, 'tsplay', phase, n);
      const f = medianOf(records, 'floor', phase, n);
      const rss = Math.max(...records.filter((r) => r.runner === 'tsplay' && r.phase === phase && r.hosts === n && r.usage).map((r) => r.usage!.maxRssKiB / 1024));
      const cpu = medianOf(records, 'tsplay', phase, n, (r) => (r.usage ? ((r.usage.userSec + r.usage.systemSec) * 1000) / (n * tasks) : NaN));
      rows.push([String(n), phase, seconds(t), seconds(f), ratio(t, f), ratio(t, medianOf(records, 'tsplay', phase, base)), Number.isFinite(rss) ? rss.toFixed(0) : '–', Number.isFinite(cpu) ? cpu.toFixed(2) : '–']);
    }
  }
  return markdownTable(header, rows, 2);
}

/** Module of a bench task name ("copy 03" → copy, "file loop 20 items" → file loop). */
function moduleOf(task: string, tasks: BenchTask[]): string {
  const t = tasks.find((x) => x.name === task);
  if (!t) return task;
  return t.module === 'file-loop' ? 'file (loop of 20)' : t.module;
}

interface CountedRun {
  phase: Phase;
  counts: Record<string, OpCounts>;
  taskMs: Map<string, number>;
  ms: number;
}

function opsTable(byPhase: CountedRun[], tasks: BenchTask[], hosts: number): string[] {
  const modules = [...new Set(tasks.map((t) => moduleOf(t.name, tasks)))];
  const header = ['module (tasks)', ...byPhase.map(({ phase }) => `${phase}: exec / shell req / sftp req / ms`)];
  const rows: string[][] = [];
  const cell = ({ counts, taskMs }: CountedRun, names: string[]) => {
    const sum = (k: 'exec' | 'shell' | 'sftpRequest') => names.reduce((a, n) => a + (counts[n]?.[k] ?? 0), 0) / (hosts * names.length);
    const ms = names.reduce((a, n) => a + (taskMs.get(n) ?? NaN), 0) / names.length;
    return `${sum('exec').toFixed(1)} / ${sum('shell').toFixed(1)} / ${sum('sftpRequest').toFixed(1)} / ${ms.toFixed(0)}`;
  };
  for (const m of modules) {
    const names = tasks.filter((t) => moduleOf(t.name, tasks) === m).map((t) => t.name);
    rows.push([`${m} (${names.length})`, ...byPhase.map((run) => cell(run, names))]);
  }
  const all = tasks.map((t) => t.name);
  rows.push([`all ${all.length} tasks, per task`, ...byPhase.map((run) => cell(run, all))]);
  rows.push(['whole run: wall (ms), tasks\' share', ...byPhase.map(({ taskMs, ms }) => `${ms.toFixed(0)}, ${(([...taskMs.values()].reduce((a, b) => a + b, 0) / ms) * 100).toFixed(0)}% in tasks`)]);
  for (const extra of ['(before the first task)', '(after the last task)']) {
    rows.push([
      `${extra}, per host`,
      ...byPhase.map(({ counts: c }) => {
        const x = c[extra];
        return x ? `${(x.exec / hosts).toFixed(1)} / ${((x.shell ?? 0) / hosts).toFixed(1)} / ${(x.sftpRequest / hosts).toFixed(1)} (connect ${(x.connect / hosts).toFixed(1)}, sftp sessions ${(x.sftpSession / hosts).toFixed(1)})` : '0 / 0 / 0';
      }),
    ]);
  }
  const sessions = byPhase.map(({ counts: c }) => Object.values(c).reduce((a, x) => a + x.sftpSession, 0) / hosts);
  const connects = byPhase.map(({ counts: c }) => Object.values(c).reduce((a, x) => a + x.connect, 0) / hosts);
  rows.push(['ssh connections / SFTP sessions per host (whole run)', ...sessions.map((s, i) => `${connects[i]!.toFixed(1)} / ${s.toFixed(1)}`)]);
  return markdownTable(header, rows);
}

// ---------------------------------------------------------------- main

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'it needs Linux (the lab hosts are network namespaces)';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'it needs root (the lab creates network namespaces and runs sshd); run it with sudo';
  if (spawnSync('ssh', ['-V']).error) return 'the OpenSSH client `ssh` is not installed (apt-get install openssh-client)';
  if (!existsSync(CLI)) return `the built CLI ${CLI} does not exist: run \`npm run build\` first`;
  return undefined;
}

/** The newest mtime under engine/ against the built CLI's: a stale dist measures old code. */
function staleBuildWarning(): string | undefined {
  const cliTime = statSync(CLI).mtimeMs;
  const r = spawnSync('find', [join(repoRoot, 'engine'), '-name', '*.ts', '-newer', CLI], { encoding: 'utf8' });
  const newer = r.stdout.split('\n').filter(Boolean);
  return newer.length > 0 && cliTime ? `warning: ${newer.length} engine source file(s) are newer than ${CLI} (e.g. ${newer[0]}): run \`npm run build\`` : undefined;
}

async function main(): Promise<void> {
  const why = unavailable();
  if (why) {
    console.error(`cannot run the play benchmark: ${why}`);
    process.exitCode = 1;
    return;
  }
  const stale = staleBuildWarning();
  if (stale) log(stale);
  const compare = !cli['skip-compare'];
  const runners: RunnerName[] = cli['skip-ansible'] ? ['tsplay', 'floor'] : ['tsplay', 'ansible', 'floor'];
  const labSize = Math.max(compare || cli['count-ops'] ? HOSTS : 1, ...SCALE);

  const workDir = mkdtempSync(join(tmpdir(), 'tsplay-playbench-'));
  const labRef = { name: LAB_NAME, dir: join(workDir, 'lab') };
  const proxies: DelayProxy[] = [];
  const output: string[] = [];
  let ansibleVersion: string | undefined;
  let ctx: Context | undefined;
  try {
    if (compare && runners.includes('ansible')) ansibleVersion = ensureAnsible();
    const tasks = benchTasks();
    const playDir = join(workDir, 'play');
    const playbook = writePlayDir(playDir, tasks);

    await labDown(labRef); // a lab of this name left by a killed run would be reused half-configured
    log(`bringing up ${labSize} lab hosts (lab ${LAB_NAME}, ${labRef.dir})...`);
    const lab = await labUp(labSize, labRef);
    ctx = { lab, labRef, tasks, playbook, playDir, workDir };
    if (ansibleVersion) {
      ctx.ansibleControlDir = join(workDir, 'cp');
      mkdirSync(ctx.ansibleControlDir, { recursive: true });
    }

    const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
    output.push(`### Play benchmark, ${date} UTC`, '', ...machineDescription(ansibleVersion), '', `Play: ${tasks.length} tasks (${TARGET_ROOT}), \`${CLI.replace(repoRoot + '/', '')}\`${stale ? ' (STALE build)' : ''}.`, '');

    // the comparison and the op count run on the first N hosts, directly or through the delay proxies
    let targets: Targets | undefined;
    if (compare || cli['count-ops']) {
      const hosts = lab.hosts.slice(0, HOSTS);
      if (RTT > 0) {
        const rt = await measureProxyRoundTrip(RTT);
        targets = await proxiedTargets(lab, hosts, workDir, RTT, proxies);
        const bannerMedian = async (host: string, port: number) => {
          const times: number[] = [];
          for (let i = 0; i < 5; i++) times.push(await measureBannerTime(host, port));
          return median(times);
        };
        const direct = await bannerMedian(hosts[0]!.address, 22);
        const proxied = await bannerMedian('127.0.0.1', targets.ssh[0]!.port);
        const line = `Delay proxy (${RTT} ms RTT asked): TCP round trip through it median ${median(rt).toFixed(1)} ms (min ${rt[0]!.toFixed(1)}, max ${rt.at(-1)!.toFixed(1)}, ${rt.length} one-byte ping-pongs to an echo server); connect + sshd banner ${direct.toFixed(1)} ms direct, ${proxied.toFixed(1)} ms through it (the banner travels one way: +${RTT / 2} ms expected). The TCP handshake itself is not delayed (the proxy accepts locally): connection setup is about one RTT shorter than on a real link.`;
        log(line);
        output.push(line, '');
      } else {
        targets = directTargets(lab, hosts, workDir, 'direct');
      }
    }

    if (compare && targets) {
      if (ansibleVersion) ctx.ansibleConfig = writeAnsibleConfig(workDir, { forks: HOSTS, knownHostsFile: targets.knownHostsFile, privateKeyFile: lab.privateKeyFile });
      const records = await runMatrix(ctx, runners, targets, REPS);
      output.push(`#### ${HOSTS} hosts${RTT ? `, ${RTT} ms RTT` : ''}: medians of ${REPS} run(s) each, wall time of the whole run`, '', ...compareTable(records, HOSTS, runners), '');
    }

    if (SCALE.length > 0) {
      const records: RunRecord[] = [];
      for (const n of [...SCALE].sort((a, b) => a - b)) {
        const targets = directTargets(lab, lab.hosts.slice(0, n), workDir, `scale${n}`);
        records.push(...(await runMatrix(ctx, ['tsplay', 'floor'], targets, REPS)));
      }
      output.push(`#### Scale: tsplay and the floor, medians of ${REPS} run(s); peak RSS is the tsplay process's (max over the runs), CPU its user+system time / (hosts × ${tasks.length} tasks)`, '', ...scaleTable(records, [...SCALE].sort((a, b) => a - b), tasks.length), '');
    }

    if (cli['count-ops'] && targets) {
      const hosts = targets.hosts;
      const byPhase: CountedRun[] = [];
      for (const phase of PHASES) {
        if (phase !== 'warm') await resetHosts(labRef, hosts);
        const r = await runTsplay({ cli: CLI, playbook, inventory: targets.inventory, forks: hosts.length, check: phase === 'check', countOps: true });
        if (r.failures.length) problemsSeen.push(...r.failures);
        byPhase.push({ phase, counts: r.usage?.counts ?? {}, taskMs: r.taskMs, ms: r.ms });
      }
      output.push(
        `#### SSH operations tsplay makes, per task and host (${hosts.length} hosts${RTT ? `, ${RTT} ms RTT` : ''}; exec = one session channel running a command, shell req = one script run by the connection's long-lived shell, sftp req = one SFTP request, ms = the task's wall time on all hosts (task-start to next task-start); check and cold on fresh hosts)`,
        '',
        ...opsTable(byPhase, tasks, hosts.length),
        '',
      );
      if (process.env.TSPLAY_BENCH_SHOW_SCRIPTS) {
        for (const { phase, counts } of byPhase) {
          for (const [task, c] of Object.entries(counts)) log(`${phase} ${task}: ${c.exec} exec, ${c.shell ?? 0} shell, ${c.sftpRequest} sftp\n    ${c.execScripts.map((s) => s.replace(/\s+/g, ' ')).join('\n    ')}`);
        }
      }
    }

    if (problemsSeen.length > 0) output.push(`**${problemsSeen.length} verification problem(s)**: the figures above include runs that did not reach the expected state (see stderr).`, '');
    const text = output.join('\n');
    console.log(text);
    if (cli.write) {
      appendFileSync(join(repoRoot, 'BENCHMARKS.md'), `\n${text}`);
      log('appended to BENCHMARKS.md');
    }
    if (problemsSeen.length > 0) process.exitCode = 1;
  } finally {
    for (const p of proxies) await p.close();
    await labDown(labRef).catch((err: unknown) => console.error(`lab down: ${String(err)}`));
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
