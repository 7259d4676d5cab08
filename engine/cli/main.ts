#!/usr/bin/env node
// tsplay's command line: a thin layer over the public API (engine/index.ts).
// Exit codes follow ansible-playbook: 0 ok, 1 error, 2 host failed, 3 unreachable,
// 4 parse error, 5 bad options, 99 interrupted.
import { Command, CommanderError } from 'commander';
import { ExitCode, formatError, TsplayError } from '../errors.js';
import { registerRunCommand } from './run-command.js';
import { registerInventoryCommand } from './inventory-command.js';
import { registerLabCommand } from './lab-command.js';

function buildProgram(): Command {
  const program = new Command();
  program
    .name('tsplay')
    .description('Agentless, Ansible-like playbook engine: runs idempotent modules over SSH on many hosts in parallel')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRunCommand(program);
  registerInventoryCommand(program);
  registerLabCommand(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version are not errors; everything else commander rejects is a bad option
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return ExitCode.ok;
      return ExitCode.options;
    }
    process.stderr.write(formatError(err) + '\n');
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
    process.stderr.write(formatError(err) + '\n');
    process.exitCode = ExitCode.error;
  },
);
