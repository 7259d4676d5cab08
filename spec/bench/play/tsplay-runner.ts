// Runs the built tsplay CLI on the bench play as a user would (`tsplay run play.yml -i inv
// --forks N --json`), with child-probe.mjs preloaded for its own peak RSS and CPU time (and,
// when asked, the per-task count of ssh operations).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runTimed } from './process.js';

const PROBE = fileURLToPath(new URL('./child-probe.mjs', import.meta.url));

export interface OpCounts {
  connect: number;
  exec: number;
  /** Requests to the connection's long-lived shell (engine/connection/persistent-shell.ts). */
  shell: number;
  sftpSession: number;
  sftpRequest: number;
  /** The first exec scripts of the task (truncated), to see what each exec is. */
  execScripts: string[];
}

export interface ChildUsage {
  maxRssKiB: number;
  vmHwmKiB?: number;
  userSec: number;
  systemSec: number;
  counts?: Record<string, OpCounts>;
}

export interface TsplayRun {
  ms: number;
  exitCode: number;
  /** recap: changed per host */
  changed: Map<string, number>;
  /** host → names of the tasks that reported changed (a loop counts once) */
  changedTasks: Map<string, Set<string>>;
  /** task name → wall time from its task-start to the next task-start (or the recap), from the events' times */
  taskMs: Map<string, number>;
  usage?: ChildUsage;
  failures: string[];
}

export interface TsplayOptions {
  cli: string;
  playbook: string;
  inventory: string;
  forks: number;
  check: boolean;
  countOps?: boolean;
}

export async function runTsplay(opts: TsplayOptions): Promise<TsplayRun> {
  const tmp = mkdtempSync(join(tmpdir(), 'tsplay-bench-probe-'));
  const probeOut = join(tmp, 'usage.json');
  try {
    const args = ['--import', PROBE, opts.cli, 'run', opts.playbook, '-i', opts.inventory, '--forks', String(opts.forks), '--json', '--no-retry-files', ...(opts.check ? ['--check'] : [])];
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', TSPLAY_BENCH_PROBE_OUT: probeOut, TSPLAY_BENCH_CLI: opts.cli, ...(opts.countOps ? { TSPLAY_BENCH_COUNT: '1' } : {}) };
    delete env.FORCE_COLOR;
    const r = await runTimed(process.execPath, args, { env, timeoutMs: 600_000 });
    const failures: string[] = [];
    const changed = new Map<string, number>();
    const changedTasks = new Map<string, Set<string>>();
    let sawRecap = false;
    const starts: Array<[string, number]> = [];
    for (const line of r.stdout.split('\n')) {
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line) as Record<string, unknown>;
      if (event.kind === 'host-result') {
        const host = String(event.host);
        if (event.status === 'failed' || event.status === 'unreachable') failures.push(`tsplay: ${host} ${String(event.status)} in "${String(event.task)}": ${String(event.msg ?? '')}`);
        const perItem = event.item !== undefined && !event.loopSummary;
        if (event.status === 'changed' && !perItem) {
          const set = changedTasks.get(host) ?? new Set<string>();
          set.add(String(event.task));
          changedTasks.set(host, set);
        }
      }
      if (event.kind === 'task-start') starts.push([String(event.name), Number(event.time)]);
      if (event.kind === 'recap') {
        starts.push(['(recap)', Number(event.time)]);
        sawRecap = true;
        for (const [host, s] of Object.entries(event.stats as Record<string, { changed: number }>)) changed.set(host, s.changed);
      }
    }
    const taskMs = new Map<string, number>();
    for (let i = 0; i + 1 < starts.length; i++) taskMs.set(starts[i]![0], starts[i + 1]![1] - starts[i]![1]);
    if (r.code !== 0) failures.push(`tsplay exited ${r.code}: ${r.stderr.trim().slice(-800)}`);
    if (!sawRecap) failures.push('tsplay printed no recap');
    let usage: ChildUsage | undefined;
    try {
      usage = JSON.parse(readFileSync(probeOut, 'utf8')) as ChildUsage;
    } catch {
      failures.push('tsplay: the probe wrote no resource usage (did the process exit normally?)');
    }
    return { ms: r.ms, exitCode: r.code, changed, changedTasks, taskMs, ...(usage ? { usage } : {}), failures };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
