// shell: run a command line through a shell (/bin/sh, or `executable`), like Ansible's shell.
import { defineModule } from './types.js';
import { shQuote } from '../connection/shell.js';
import { COMMON_COMMAND_PROPERTIES, runCommandScript, type CommonCommandArgs } from './run-command.js';
import { guarded } from './file-write.js';

export interface ShellArgs extends CommonCommandArgs {
  _raw_params?: string;
  cmd?: string;
  executable?: string;
}

export default defineModule<ShellArgs>({
  name: 'shell',
  aliases: ['ansible.builtin.shell', 'ansible.legacy.shell'],
  freeForm: 'raw',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      _raw_params: { type: 'string' },
      cmd: { type: 'string' },
      executable: { type: 'string', minLength: 1 },
      ...COMMON_COMMAND_PROPERTIES,
    },
    oneOf: [{ required: ['_raw_params'] }, { required: ['cmd'] }],
  },
  run: (args, ctx) =>
    guarded(async () => {
      const command = args._raw_params ?? args.cmd ?? '';
      if (command.trim() === '') return { changed: false, failed: true, rc: 256, msg: 'no command given' };
      return runCommandScript(ctx, `exec ${shQuote(args.executable ?? '/bin/sh')} -c ${shQuote(command)}`, command, args);
    }),
});
