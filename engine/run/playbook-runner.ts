// The public entry: load the inventory and the playbook, check everything that can be
// checked before any host is contacted, then run the plays and report the recap.
import path from 'node:path';
import { writeFileSync } from 'node:fs';
import type { Inventory } from '../inventory/types.js';
import type { Playbook } from '../load/model.js';
import { loadPlaybook } from '../load/playbook.js';
import { loadTaskFile } from '../load/tasks.js';
import { loadRoleAtRunTime } from '../load/roles.js';
import { envRolesPath, roleLibraryDirs, type RoleSearchOptions } from '../load/role-path.js';
import { loadInventory } from '../inventory/load.js';
import { lookupModule, moduleNames } from '../modules/registry.js';
import { loadLibraryModules, loadModuleDirs } from '../modules/library-loader.js';
import { useVaultKeyring } from '../vault/keyring.js';
import { toPlaybookRequest, type RunPlaybookOptions } from '../config/run-request.js';
import { ConnectionPool } from '../connection/factory.js';
import { ExitCode } from '../errors.js';
import type { Reporter, RunEvent, HostStats } from '../report/events.js';
import type { RunContext, RunOptions } from './context.js';
import { Semaphore } from './semaphore.js';
import { runPlay } from './play-runner.js';
import { preflight } from './preflight.js';
import '../connection/builtin.js';

export interface PlaybookRequest extends RunOptions {
  inventorySources: string[];
}

export interface LoadedRun {
  inventory: Inventory;
  playbook: Playbook;
  /** Per play: whether facts must be gathered (asked for, or used). */
  gatherFacts: boolean[];
}

/**
 * Everything that happens before a host is touched. Throws ParseError (exit 4) on bad input.
 * `checkVariables: false` (for --list-*) skips the check that every variable is defined.
 */
export async function prepareRun(req: PlaybookRequest, opts: { checkVariables?: boolean } = {}): Promise<LoadedRun> {
  const playbookDir = path.dirname(path.resolve(req.playbookFile));
  if (req.vault) useVaultKeyring(req.vault); // loaders decrypt with the active keyring
  // custom modules first (the project's, then roles' library/), so the playbook's module
  // names and arguments are checked against them
  await loadLibraryModules({ playbookFile: req.playbookFile, modulePaths: req.modulePaths ?? [] });
  await loadModuleDirs(roleLibraryDirs(roleSearch(req)));
  const inventory = loadInventory(req.inventorySources, { playbookDir });
  const playbook = loadPlaybook(req.playbookFile, { lookupModule, moduleNames: moduleNames(), roles: roleSearch(req) });
  if (req.limit) inventory.select(req.limit); // a bad --limit pattern fails now, not mid-run
  // the project's default strategy applies to plays that name none (Ansible's DEFAULT_STRATEGY)
  if (req.defaultStrategy) for (const play of playbook.plays) if (play.raw.strategy === undefined) play.strategy = req.defaultStrategy;
  const gatherFacts = preflight(playbook, inventory, req.extraVars, { checkVariables: opts.checkVariables ?? true });
  return { inventory, playbook, gatherFacts };
}

/** Where roles are looked for: beside the playbook, the environment's roles path, then the project config's. */
export function roleSearch(req: Pick<PlaybookRequest, 'playbookFile' | 'rolesPath'>): RoleSearchOptions {
  return { playbookDir: path.dirname(path.resolve(req.playbookFile)), rolesPath: [...envRolesPath(), ...(req.rolesPath ?? [])], cwd: process.cwd() };
}

export interface RunOutcome {
  exitCode: number;
  stats: Record<string, HostStats>;
  retryFile?: string;
}

export async function executeRun(req: PlaybookRequest, loaded: LoadedRun, reporter: Reporter, signal: AbortSignal = new AbortController().signal): Promise<RunOutcome> {
  const started = Date.now();
  const emit = (event: RunEvent) => reporter.onEvent?.(event);
  const ctx: RunContext = {
    opts: req,
    inventory: loaded.inventory,
    pool: new ConnectionPool(),
    emit,
    stats: new Map(),
    hosts: new Map(),
    forks: new Semaphore(Math.max(1, req.forks)),
    signal,
    stopped: false,
    lookupModule,
    loadTaskFile: (file, includedFrom, role) => loadTaskFile(file, { lookupModule, moduleNames: moduleNames() }, { includedFrom, ...(role !== undefined ? { role } : {}) }),
    loadRole: (entry, fromFile) => loadRoleAtRunTime(entry, fromFile, { lookupModule, moduleNames: moduleNames(), roles: roleSearch(req) }),
  };
  emit({ kind: 'run-start', playbook: req.playbookFile, check: req.check, diff: req.diff, time: started });
  try {
    for (let i = 0; i < loaded.playbook.plays.length; i++) {
      if (ctx.stopped || signal.aborted) break;
      await runPlay(ctx, loaded.playbook.plays[i]!, loaded.gatherFacts[i] ?? false);
    }
  } finally {
    await ctx.pool.closeAll();
  }
  const stats = Object.fromEntries(ctx.stats);
  emit({ kind: 'recap', stats, time: Date.now() });
  const exitCode = signal.aborted ? ExitCode.interrupted : exitCodeFor(stats);
  const retryFile = req.retryFiles ? writeRetryFile(req.playbookFile, stats) : undefined;
  emit({ kind: 'run-end', exitCode, durationMs: Date.now() - started, ...(retryFile ? { retryFile } : {}), time: Date.now() });
  await reporter.close?.();
  return { exitCode, stats, ...(retryFile ? { retryFile } : {}) };
}

/** Ansible's codes: 2 when a host failed, 3 when hosts were only unreachable, else 0. */
export function exitCodeFor(stats: Record<string, HostStats>): number {
  const all = Object.values(stats);
  if (all.some((s) => s.failed > 0)) return ExitCode.hostFailed;
  if (all.some((s) => s.unreachable > 0)) return ExitCode.unreachable;
  return ExitCode.ok;
}

/** PLAYBOOK.retry beside the playbook, one failed or unreachable host a line (for --limit @file). */
function writeRetryFile(playbookFile: string, stats: Record<string, HostStats>): string | undefined {
  const failed = Object.entries(stats).filter(([, s]) => s.failed > 0 || s.unreachable > 0).map(([h]) => h);
  if (failed.length === 0) return undefined;
  const file = path.join(path.dirname(playbookFile), `${path.basename(playbookFile).replace(/\.ya?ml$/, '')}.retry`);
  try {
    writeFileSync(file, failed.join('\n') + '\n');
    return file;
  } catch {
    return undefined;
  }
}

/**
 * Load, check and run a playbook: the programmatic equivalent of `tsplay run` (docs/api.md).
 * Only `playbook` is required. Throws ParseError for bad input, before any host is touched.
 */
export async function runPlaybook(opts: RunPlaybookOptions, reporter: Reporter | undefined = opts.reporter, signal: AbortSignal | undefined = opts.signal): Promise<RunOutcome> {
  const req = toPlaybookRequest(opts);
  return executeRun(req, await prepareRun(req), reporter ?? {}, signal);
}
