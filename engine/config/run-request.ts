// The friendly shape of a programmatic run: only the playbook is required, the rest is named
// like `tsplay run`'s options and defaults the same way; a loaded project config fills what
// the caller leaves out (the caller's values win, as command-line options do).
import type { PlaybookRequest } from '../run/playbook-runner.js';
import type { RunOptions } from '../run/context.js';
import type { Reporter } from '../report/events.js';
import { connectionDefaultsFrom, type ProjectConfig } from './project-config.js';

export interface RunPlaybookOptions
  extends Partial<Omit<RunOptions, 'playbookFile' | 'tags' | 'check' | 'diff' | 'forks' | 'extraVars' | 'verbosity' | 'retryFiles'>> {
  /** The playbook file (relative paths: to process.cwd()). */
  playbook: string;
  /** Inventory sources, as -i: files, folders, or "host1,host2," lists. Default: the config's, else only the implicit localhost. */
  inventory?: string | string[];
  /** --check: report what would change, change nothing. */
  check?: boolean;
  /** --diff: put before/after diffs into the events. */
  diff?: boolean;
  /** --tags / --skip-tags. */
  tags?: string[];
  skipTags?: string[];
  /** --forks (default: the config's, else 50). */
  forks?: number;
  /** --extra-vars: the highest variable precedence. */
  extraVars?: Record<string, unknown>;
  /** -v count (default 0). */
  verbosity?: number;
  /** Write PLAYBOOK.retry next to the playbook when hosts fail (default false, unlike the CLI). */
  retryFiles?: boolean;
  /** Settings from loadProjectConfig(): used for whatever is not given here. */
  projectConfig?: ProjectConfig;
  /** Receives every event (task start, host results, recap). Default: none; the outcome is returned anyway. */
  reporter?: Reporter;
  /** Abort to interrupt the run as Ctrl-C does: no new task starts. */
  signal?: AbortSignal;
}

/** The full request the runner takes, from the friendly options. */
export function toPlaybookRequest(opts: RunPlaybookOptions): PlaybookRequest {
  const { playbook, inventory, tags, skipTags, projectConfig: config = {}, reporter: _reporter, signal: _signal, ...rest } = opts;
  const inventorySources = inventory === undefined ? (config.inventory ?? []) : Array.isArray(inventory) ? inventory : [inventory];
  const req: PlaybookRequest = {
    ...rest,
    playbookFile: playbook,
    inventorySources,
    check: opts.check ?? false,
    diff: opts.diff ?? false,
    tags: { only: tags ?? [], skip: skipTags ?? [] },
    forks: opts.forks ?? config.forks ?? 50,
    extraVars: opts.extraVars ?? {},
    verbosity: opts.verbosity ?? 0,
    retryFiles: opts.retryFiles ?? false,
    connectionDefaults: { ...connectionDefaultsFrom(config), ...opts.connectionDefaults },
  };
  const timeoutSeconds = opts.timeoutSeconds ?? config.timeout;
  if (timeoutSeconds !== undefined) req.timeoutSeconds = timeoutSeconds;
  const modulePaths = opts.modulePaths ?? config.modulePaths;
  if (modulePaths) req.modulePaths = modulePaths;
  const rolesPath = opts.rolesPath ?? config.rolesPath;
  if (rolesPath) req.rolesPath = rolesPath;
  const strategy = opts.defaultStrategy ?? config.strategy;
  if (strategy) req.defaultStrategy = strategy;
  return req;
}
