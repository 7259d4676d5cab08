// raw: send a command line to the host as it is — no module, no quoting, no creates/removes —
// through /bin/sh or `executable`. Like Ansible's raw it cannot know what it would change, so it
// is skipped in check mode.
import { defineModule } from './types.js';
import { shQuote } from '../connection/shell.js';

export interface RawArgs {
  _raw_params: string;
  executable?: string;
}

function lines(text: string): string[] {
  return text === '' ? [] : text.replace(/\r?\n$/, '').split(/\r?\n/);
}

export default defineModule<RawArgs>({
  name: 'raw',
  aliases: ['ansible.builtin.raw', 'ansible.legacy.raw'],
  freeForm: 'raw',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['_raw_params'],
    properties: {
      _raw_params: { type: 'string', minLength: 1 },
      executable: { type: 'string', minLength: 1 },
    },
  },
  run: async (args, ctx) => {
    if (ctx.check) return { changed: false, skipped: true, msg: 'Command would have run if not in check mode' };
    const script = args.executable !== undefined ? `exec ${shQuote(args.executable)} -c ${shQuote(args._raw_params)}` : args._raw_params;
    const res = await ctx.ops.run(script, {
      ...(ctx.environment ? { env: ctx.environment } : {}),
      ...(ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {}),
    });
    return {
      changed: true,
      rc: res.rc,
      stdout: res.stdout,
      stdout_lines: lines(res.stdout),
      stderr: res.stderr,
      stderr_lines: lines(res.stderr),
      ...(res.rc !== 0 ? { failed: true, msg: 'non-zero return code' } : {}),
    };
  },
});
