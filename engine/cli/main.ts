#!/usr/bin/env node
// tsplay's command line: a thin layer over the public API (engine/index.ts).
// Exit codes follow ansible-playbook: 0 ok, 1 error, 2 host failed, 3 unreachable,
// 4 parse error, 5 bad options, 99 interrupted.
import { Command, CommanderError } from 'commander';
import { ExitCode, formatError, TsplayError } from '../errors.js';
import { redactText } from '../vault/secrets.js';

// Each command's module pulls in its part of the engine (ssh2, ajv, handlebars, the module
// registry...): loading them all cost ~0.5 s of start-up for `tsplay --version`. Only the
// command named on the command line is loaded; help, no command or an unknown name load all,
// so help lists every command and commander can suggest one.
type Register = (program: Command) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import('./run-command.js')).registerRunCommand,
  inventory: async () => (await import('./inventory-command.js')).registerInventoryCommand,
  lab: async () => (await import('./lab-command.js')).registerLabCommand,
  role: async () => (await import('./role-command.js')).registerRoleCommand,
  vault: async () => (await import('./vault-command.js')).registerVaultCommand,
  registry: async () => (await import('./registry-command.js')).registerRegistryCommand,
};

/** The commands to register for argv: the one named, none for --version alone, else all. */
async function commandsFor(argv: readonly string[]): Promise<Register[]> {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first === undefined && argv.length > 0 && argv.every((a) => a === '--version' || a === '-V')) return [];
  const names = first !== undefined && first in COMMANDS && first !== 'help' ? [first] : Object.keys(COMMANDS);
  return Promise.all(names.map((n) => COMMANDS[n]!()));
}

function buildProgram(commands: readonly Register[]): Command {
  const program = new Command();
  program
    .name('tsplay')
    .description('Agentless, Ansible-like playbook engine: runs idempotent modules over SSH on many hosts in parallel')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram(await commandsFor(argv));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are not errors; everything else commander rejects is a bad option
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      return ExitCode.options;
    }
    process.stderr.write(redactText(formatError(err)) + '\n');
    return err instanceof TsplayError ? err.exitCode : ExitCode.error;
  }
}

// `tsplay run ... | head`: the reader went away. Keep converging the hosts and drop the
// output, rather than dying half-way through a run.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(redactText(formatError(err)) + '\n');
    process.exitCode = ExitCode.error;
  },
);
