// Benchmark, not a test: `tsplay registry sync` next to `skopeo sync` (Debian's skopeo), both copying
// the same images between two real docker-registry instances on loopback. Issue 7.
//
//   npm run bench:registry            # = node --import tsx spec/bench/registry.bench.ts
//   node --import tsx spec/bench/registry.bench.ts --reps 7 --write BENCHMARKS.md
//   ... --cli PATH     the built CLI to measure (default dist/bundle/main.js: npm run build first)
//   ... --parallel N   tsplay's --parallel (default 8, its own default)
//
// Images: 20 images of 5 random layers (1.24 MiB each, ~124 MiB unique) pushed once to a source
// registry with raw HTTP (spec/helpers/registry.ts). Phases, the two tools interleaved (tsplay, skopeo,
// tsplay, skopeo... the first tool alternates each repetition) so they share the machine's noise:
//   cold  each run copies into a fresh, empty target registry (started before the timer)
//   warm  each run copies into the target its own last cold run filled (everything present)
// Times are wall times of the whole process, medians over the repetitions. tsplay's peak RSS (its
// process's VmHWM, read at exit by a preloaded probe) is measured on cold runs of two image sets:
// the one above and 5 images of 2 layers of 24 MiB (~240 MiB, chunked uploads) — flat means streaming.
// Every run is checked: each target tag has the source's manifest digest. CPU seconds (user+sys) are
// read for the tool (the shell that starts it prints its children's times) and for the two registries
// (/proc/PID/stat before and after): on a small machine a cold copy is bound by the registries' CPU as
// much as by the tool's. The load average is printed with the figures.
//
// Needs /usr/bin/docker-registry and /usr/bin/skopeo (apt-get install docker-registry skopeo).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { fetchManifest, pushBulkImages, startRegistry, type SyntheticImage, type TestRegistry } from '../helpers/registry.js';

const { values: cli } = parseArgs({
  options: {
    reps: { type: 'string', default: '5' },
    parallel: { type: 'string', default: '8' },
    write: { type: 'string' },
    'skip-rss': { type: 'boolean' },
    cli: { type: 'string', default: 'dist/bundle/main.js' },
  },
});
const REPS = Number(cli.reps);
const CLI = path.resolve(repoRoot, cli.cli!);
if (!existsSync(CLI)) {
  console.error(`no built CLI at ${CLI}: npm run build (or --cli PATH)`);
  process.exit(1);
}
const PARALLEL = cli.parallel!;

for (const bin of ['/usr/bin/docker-registry', '/usr/bin/skopeo']) {
  if (!existsSync(bin)) {
    console.error(`needs ${bin} (apt-get install docker-registry skopeo)`);
    process.exit(1);
  }
}

const work = makeTempDir('tsplay-regbench-');
const policy = path.join(work, 'policy.json');
writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
// VmHWM, not getrusage's maxRSS: Linux carries maxRSS over fork+exec, so a child would report the
// bench process's own peak (it holds the random layers it pushed)
const RSS_PROBE = `data:text/javascript,import {readFileSync} from 'node:fs';process.on('exit',()=>process.stderr.write('TSPLAY_MAXRSS_KB '+/VmHWM:\\s*(\\d+)/.exec(readFileSync('/proc/self/status','utf8'))[1]+'\\n'))`;
const TICK = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s

interface Timed {
  seconds: number;
  /** user+sys of the tool's process */
  cpu: number;
  /** user+sys of the source and target registries during the run */
  registryCpu: number;
  maxRssKb?: number;
}

/** utime+stime of a process, in seconds (/proc/PID/stat fields 14 and 15), 0 when gone */
function procCpu(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return 0;
  }
}

/** the docker-registry process serving a TestRegistry (found by its config file) */
function registryPid(reg: TestRegistry): number | undefined {
  try {
    return Number(execFileSync('pgrep', ['-f', `docker-registry serve ${path.join(reg.dir, 'config.yml')}`], { encoding: 'utf8' }).trim().split('\n')[0]);
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[], registries: TestRegistry[]): Promise<Timed> {
  const pids = registries.map(registryPid);
  const registryCpuBefore = pids.reduce<number>((sum, pid) => sum + procCpu(pid), 0);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    // sh's `times` prints, last, the user and sys time of its children: the tool's CPU, at no cost
    const child = spawn('/bin/sh', ['-c', '"$0" "$@"; rc=$?; times >&2; exit $rc', cmd, ...args], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code !== 0) return reject(new Error(`${path.basename(cmd)} exited ${code}:\n${out.slice(-3000)}`));
      const rss = /TSPLAY_MAXRSS_KB (\d+)/.exec(out);
      const times = [...out.matchAll(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/g)].pop();
      const cpu = times ? Number(times[1]) * 60 + Number(times[2]) + Number(times[3]) * 60 + Number(times[4]) : NaN;
      const registryCpu = pids.reduce<number>((sum, pid) => sum + procCpu(pid), 0) - registryCpuBefore;
      resolve({ seconds, cpu, registryCpu, ...(rss ? { maxRssKb: Number(rss[1]) } : {}) });
    });
  });
}

function tsplaySync(list: string, source: TestRegistry, target: TestRegistry): Promise<Timed> {
  return run(process.execPath, [
    '--import', RSS_PROBE, CLI, 'registry', 'sync',
    '--images', list, '--from', source.host, '--to', target.host,
    '--insecure-registry', source.host, '--insecure-registry', target.host, '--parallel', PARALLEL,
  ], [source, target]);
}

/** skopeo sync names a copy DESTINATION/<last path component>: the namespace goes into DESTINATION. */
function skopeoSync(yamlFile: string, source: TestRegistry, target: TestRegistry, namespace: string): Promise<Timed> {
  return run('/usr/bin/skopeo', ['--policy', policy, 'sync', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', '--preserve-digests', yamlFile, `${target.host}/${namespace}`], [source, target]);
}

function writeLists(name: string, source: TestRegistry, images: SyntheticImage[]): { list: string; yaml: string } {
  const list = path.join(work, `${name}.txt`);
  writeFileSync(list, images.map((i) => i.listLine).join('\n') + '\n');
  const yaml = path.join(work, `${name}.yaml`);
  writeFileSync(yaml, [`${source.host}:`, '  tls-verify: false', '  images:', ...images.map((i) => `    ${i.repository}: ["${i.tag}"]`)].join('\n') + '\n');
  return { list, yaml };
}

async function verify(target: TestRegistry, images: SyntheticImage[], who: string): Promise<void> {
  for (const image of images) {
    const got = await fetchManifest(target, image.targetRepository, image.tag);
    if (got?.digest !== image.digest) throw new Error(`${who}: ${image.targetRepository}:${image.tag} has ${got?.digest ?? 'nothing'}, not ${image.digest}`);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const registries: TestRegistry[] = [];
async function fresh(): Promise<TestRegistry> {
  const reg = await startRegistry();
  registries.push(reg);
  return reg;
}

async function main(): Promise<void> {
  const source = await fresh();
  const MiB = 1024 * 1024;
  console.error('pushing 20 images x 5 layers x 1.24 MiB to the source...');
  const images = await pushBulkImages(source, { count: 20, layers: 5, layerSize: Math.round(1.24 * MiB), namespace: 'bench' });
  const uniqueMiB = images.reduce((sum, i) => sum + i.blobs.reduce((s, b) => s + b.size, 0), 0) / MiB;
  const { list, yaml } = writeLists('bench', source, images);
  type Phase = { wall: number[]; cpu: number[]; registryCpu: number[] };
  const phase = (): Phase => ({ wall: [], cpu: [], registryCpu: [] });
  const times: Record<'tsplay' | 'skopeo', { cold: Phase; warm: Phase }> = { tsplay: { cold: phase(), warm: phase() }, skopeo: { cold: phase(), warm: phase() } };
  const record = (p: Phase, t: Timed) => {
    p.wall.push(t.seconds);
    p.cpu.push(t.cpu);
    p.registryCpu.push(t.registryCpu);
  };
  const loadBefore = loadavg();
  const rssSmall: number[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const order: Array<'tsplay' | 'skopeo'> = rep % 2 === 0 ? ['tsplay', 'skopeo'] : ['skopeo', 'tsplay'];
    for (const tool of order) {
      const target = await fresh();
      const cold = tool === 'tsplay' ? await tsplaySync(list, source, target) : await skopeoSync(yaml, source, target, 'bench');
      await verify(target, images, tool);
      record(times[tool].cold, cold);
      if (cold.maxRssKb) rssSmall.push(cold.maxRssKb);
      const warm = tool === 'tsplay' ? await tsplaySync(list, source, target) : await skopeoSync(yaml, source, target, 'bench');
      record(times[tool].warm, warm);
      await target.stop();
      const cpuText = (t: Timed) => `cpu ${t.cpu.toFixed(2)} s + registries ${t.registryCpu.toFixed(2)} s`;
      console.error(
        `rep ${rep + 1} ${tool}: cold ${cold.seconds.toFixed(2)} s (${cpuText(cold)}), warm ${warm.seconds.toFixed(2)} s (${cpuText(warm)})` +
          `${cold.maxRssKb ? `, peak RSS ${(cold.maxRssKb / 1024).toFixed(0)} MiB` : ''}, load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
  }
  let rssBig: number[] = [];
  let bigMiB = 0;
  if (!cli['skip-rss']) {
    console.error('pushing 5 images x 2 layers x 24 MiB to the source...');
    const big = await pushBulkImages(source, { count: 5, layers: 2, layerSize: 24 * MiB, namespace: 'big' });
    bigMiB = big.reduce((sum, i) => sum + i.blobs.reduce((s, b) => s + b.size, 0), 0) / MiB;
    const bigLists = writeLists('big', source, big);
    for (let rep = 0; rep < Math.min(REPS, 2); rep++) {
      const target = await fresh();
      const r = await tsplaySync(bigLists.list, source, target);
      await verify(target, big, 'tsplay');
      if (r.maxRssKb) rssBig.push(r.maxRssKb);
      await target.stop();
      console.error(`big set: ${r.seconds.toFixed(2)} s, peak RSS ${((r.maxRssKb ?? 0) / 1024).toFixed(0)} MiB`);
    }
  }
  const loadAfter = loadavg();
  const ratio = (p: 'cold' | 'warm') => median(times.skopeo[p].wall) / median(times.tsplay[p].wall);
  const cell = (x: Phase) => `${median(x.wall).toFixed(2)} s (cpu ${median(x.cpu).toFixed(2)} + ${median(x.registryCpu).toFixed(2)} s)`;
  const rows = (['cold', 'warm'] as const).map((p) => `| ${p} | ${cell(times.tsplay[p])} | ${cell(times.skopeo[p])} | ${ratio(p).toFixed(2)}x |`);
  const lines = [
    '',
    '## Registry sync: tsplay registry sync vs skopeo sync (issue 7)',
    '',
    `\`npm run bench:registry\` (spec/bench/registry.bench.ts), ${new Date().toISOString().slice(0, 10)}: ${cpus().length} CPUs (${cpus()[0]?.model.trim()}), ` +
      `${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}, skopeo from Debian 12, two docker-registry 2.8 on loopback (http). ` +
      `20 images of 5 random layers, ${uniqueMiB.toFixed(0)} MiB unique; tsplay --parallel ${PARALLEL} (the built CLI, startup included), ` +
      `skopeo sync --src yaml --preserve-digests; ${REPS} interleaved repetitions, medians of whole-process wall times. Cold: an empty target; ` +
      'warm: every image present. Digests checked after every cold run. ' +
      `Load average (1, 5, 15 min) ${loadBefore.map((l) => l.toFixed(1)).join(', ')} before the runs, ${loadAfter.map((l) => l.toFixed(1)).join(', ')} after. ` +
      'Cells: median wall time (median CPU user+sys of the tool + of the two registries).',
    '',
    '| phase | tsplay | skopeo | tsplay faster by |',
    '|---|---|---|---|',
    ...rows,
    '',
    `tsplay peak RSS (VmHWM of its process): ${(median(rssSmall) / 1024).toFixed(0)} MiB copying ${uniqueMiB.toFixed(0)} MiB in 1.24 MiB layers` +
      (rssBig.length ? `, ${(median(rssBig) / 1024).toFixed(0)} MiB copying ${bigMiB.toFixed(0)} MiB in 24 MiB layers (chunked uploads)` : '') +
      '. Target: at least 1.5x faster cold, faster warm, RSS flat.',
  ];
  console.log(lines.join('\n'));
  if (cli.write) appendFileSync(cli.write, lines.join('\n') + '\n');
}

// no top-level await: Node 20 reports exit code 13 when process.exit() runs inside one
main().then(
  () => finish(0),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    return finish(1);
  },
);

async function finish(code: number): Promise<void> {
  for (const reg of registries) await reg.stop();
  // spec/helpers load node:test (temp dirs are removed by its hooks): leave without waiting for a test run
  process.exit(code);
}
