// command: run a program with arguments, no shell (so no pipes, redirects or $VARS), like
// Ansible's command module. The words are split like Python's shlex and each one quoted.
import { defineModule } from './types.js';
import { shJoin, shlexSplit } from '../connection/shell.js';
import { COMMON_COMMAND_PROPERTIES, runCommandScript, type CommonCommandArgs } from './run-command.js';
import { guarded } from './file-write.js';

export interface CommandArgs extends CommonCommandArgs {
  _raw_params?: string;
  cmd?: string;
  argv?: string[];
}

export default defineModule<CommandArgs>({
  name: 'command',
  aliases: ['ansible.builtin.command', 'ansible.legacy.command'],
  freeForm: 'raw',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      _raw_params: { type: 'string' },
      cmd: { type: 'string' },
      argv: { type: 'array', items: { type: 'string' }, minItems: 1 },
      ...COMMON_COMMAND_PROPERTIES,
    },
    oneOf: [{ required: ['_raw_params'] }, { required: ['cmd'] }, { required: ['argv'] }],
  },
  run: (args, ctx) =>
    guarded(async () => {
      const argv = args.argv ?? shlexSplit(args._raw_params ?? args.cmd ?? '');
      if (argv.length === 0) return { changed: false, failed: true, rc: 256, msg: 'no command given' };
      return runCommandScript(ctx, `exec ${shJoin(argv)}`, argv, args);
    }),
});
