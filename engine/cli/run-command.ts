// `tsplay run PLAYBOOK...`: ansible-playbook's options and behaviour.
import { Command } from 'commander';
import { ExitCode, OptionError } from '../errors.js';
import { parseExtraVars } from './extra-vars.js';
import { parseTagList } from '../run/tags.js';
import { prepareRun, executeRun, type PlaybookRequest } from '../run/playbook-runner.js';
import { createReporter } from '../report/select.js';
import { parseLimit } from '../inventory/patterns.js';
import { listPlaybook } from './list-playbook.js';
import { defaultInventorySources } from './defaults.js';
import { closePrompts, promptSecret } from './prompt-secret.js';
import { openVault, withVaultOptions } from './vault-options.js';
import { registerSecret } from '../vault/secrets.js';
import { registerInventoryPasswords } from '../vault/connection-secrets.js';
import { loadProjectConfig, connectionDefaultsFrom } from '../config/project-config.js';

export interface RunFlags {
  inventory?: string[];
  check?: boolean;
  diff?: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  startAtTask?: string;
  forks?: string;
  config?: string;
  extraVars?: string[];
  listTasks?: boolean;
  listTags?: boolean;
  listHosts?: boolean;
  syntaxCheck?: boolean;
  verbose: number;
  json?: boolean;
  timeout?: string;
  retryFiles: boolean;
  askPass?: boolean;
  askBecomePass?: boolean;
  vaultId?: string[];
  vaultPasswordFile?: string[];
  askVaultPass?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function positiveInt(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new OptionError(`${name} must be a whole number >= ${min}, got '${value}'`);
  return n;
}

export function registerRunCommand(program: Command): void {
  const command = program
    .command('run')
    .description('run one or more playbooks against an inventory (like ansible-playbook)')
    .argument('<playbook...>', 'playbook files, run in order')
    .option('-i, --inventory <source>', 'inventory file, directory or comma-separated host list (repeatable)', collect)
    .option('-C, --check', "don't make any changes; show what would change")
    .option('-D, --diff', 'show the differences in files and settings that change')
    .option('-l, --limit <pattern>', 'further limit hosts to a pattern (@file reads a retry file)')
    .option('-t, --tags <tags>', 'only run tasks tagged with these (comma-separated, repeatable)', collect)
    .option('--skip-tags <tags>', 'skip tasks tagged with these (comma-separated, repeatable)', collect)
    .option('--start-at-task <name>', 'start at the task with this name (glob allowed)')
    .option('-f, --forks <n>', 'number of hosts worked on in parallel (default 50)')
    .option('-e, --extra-vars <vars>', 'key=value, YAML/JSON, or @file (repeatable; highest precedence)', collect)
    .option('--list-tasks', 'list the tasks that would run, then exit')
    .option('--list-tags', 'list all tags, then exit')
    .option('--list-hosts', 'list the hosts each play targets, then exit')
    .option('--syntax-check', 'load and validate the playbook, then exit')
    .option('-v, --verbose', 'more output (-vvv for the most)', (_v: string, prev: number) => prev + 1, 0)
    .option('--json', 'NDJSON event stream on stdout instead of text')
    .option('-T, --timeout <seconds>', 'per-task command timeout in seconds (0 = none)')
    .option('--no-retry-files', "don't write PLAYBOOK.retry listing failed hosts")
    .option('--config <file>', 'project config file (default: tsplay.config.yaml here or in a parent folder; env TSPLAY_CONFIG)')
    .option('-k, --ask-pass', 'ask for the SSH password (ansible_password in the inventory wins)')
    .option('-K, --ask-become-pass', 'ask for the become (sudo/su) password (ansible_become_password wins)');
  withVaultOptions(command)
    .action(async (playbooks: string[], flags: RunFlags) => {
      process.exitCode = await runCommand(playbooks, flags);
    });
}

export async function runCommand(playbooks: string[], flags: RunFlags): Promise<number> {
  const cwd = process.cwd();
  // command-line options win over the environment, which wins over the project config
  const config = loadProjectConfig({ cwd, ...(flags.config !== undefined ? { configFile: flags.config } : {}) });
  const forks = flags.forks !== undefined ? positiveInt('--forks', flags.forks, 1) : (config.forks ?? 50);
  const timeoutSeconds = flags.timeout !== undefined ? positiveInt('--timeout', flags.timeout, 0) : config.timeout;
  const extraVars = parseExtraVars(flags.extraVars ?? [], cwd);
  const limit = flags.limit !== undefined ? parseLimit(flags.limit, cwd) : undefined;
  // secrets from prompts sit below the inventory, as Ansible's --ask-pass does
  const connectionDefaults: Record<string, unknown> = connectionDefaultsFrom(config);
  if (flags.askPass) connectionDefaults.ansible_password = await promptSecret('SSH password: ');
  if (flags.askBecomePass) connectionDefaults.ansible_become_password = await promptSecret('BECOME password: ');
  registerSecret(connectionDefaults.ansible_password); // passwords never reach the output
  registerSecret(connectionDefaults.ansible_become_password);
  // vault passwords (files, scripts, prompts): loaders decrypt vault data with this keyring
  const { vault, prompted: vaultPrompted } = await openVault(flags, config, cwd);
  if (flags.askPass || flags.askBecomePass || vaultPrompted) closePrompts();
  let exitCode: number = ExitCode.ok;
  for (const playbook of playbooks) {
    const req: PlaybookRequest = {
      playbookFile: playbook,
      inventorySources: flags.inventory?.length ? flags.inventory : (config.inventory ?? defaultInventorySources(cwd)),
      check: Boolean(flags.check),
      diff: Boolean(flags.diff),
      ...(limit !== undefined ? { limit } : {}),
      tags: { only: parseTagList(flags.tags), skip: parseTagList(flags.skipTags) },
      ...(flags.startAtTask !== undefined ? { startAtTask: flags.startAtTask } : {}),
      forks,
      extraVars,
      verbosity: flags.verbose,
      ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
      retryFiles: flags.retryFiles,
      connectionDefaults,
      vault,
      ...(config.modulePaths ? { modulePaths: config.modulePaths } : {}),
      ...(config.rolesPath ? { rolesPath: config.rolesPath } : {}),
      ...(config.strategy ? { defaultStrategy: config.strategy } : {}),
    };
    const listing = Boolean(flags.listHosts || flags.listTasks || flags.listTags);
    const loaded = await prepareRun(req, { checkVariables: !listing });
    registerInventoryPasswords(loaded.inventory);
    if (flags.syntaxCheck) {
      process.stdout.write(`\nplaybook: ${playbook}\n`);
      continue;
    }
    if (listing) {
      process.stdout.write(listPlaybook(req, loaded, { hosts: Boolean(flags.listHosts), tasks: Boolean(flags.listTasks), tags: Boolean(flags.listTags) }));
      continue;
    }
    const reporter = createReporter({ json: Boolean(flags.json), out: process.stdout, verbosity: flags.verbose, diff: req.diff });
    const abort = new AbortController();
    let interrupts = 0;
    const onInterrupt = () => {
      interrupts++;
      if (interrupts > 1) process.exit(ExitCode.interrupted);
      process.stderr.write('\n[WARNING]: interrupted: letting running tasks finish, starting no new ones (Ctrl-C again to quit now)\n');
      abort.abort();
    };
    process.on('SIGINT', onInterrupt);
    process.on('SIGTERM', onInterrupt);
    try {
      const outcome = await executeRun(req, loaded, reporter, abort.signal);
      exitCode = outcome.exitCode;
    } finally {
      process.off('SIGINT', onInterrupt);
      process.off('SIGTERM', onInterrupt);
    }
    if (exitCode !== ExitCode.ok) break;
  }
  return exitCode;
}
