// script: copy a controller script into a fresh temp folder on the host, run it with its
// arguments (creates/removes/chdir/executable as Ansible), and remove it afterwards — in the
// same round trip: the script travels on the command's stdin.
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { defineModule } from './types.js';
import { shJoin, shlexSplit, shQuote } from '../connection/shell.js';
import { runCommandScript } from './run-command.js';
import { guarded } from './file-write.js';
import { findControllerSource, notFoundMessage } from './source-path.js';

export interface ScriptArgs {
  _raw_params?: string;
  cmd?: string;
  creates?: string;
  removes?: string;
  chdir?: string;
  executable?: string;
  decrypt?: boolean;
}

export default defineModule<ScriptArgs>({
  name: 'script',
  aliases: ['ansible.builtin.script', 'ansible.legacy.script'],
  freeForm: 'raw',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      _raw_params: { type: 'string', minLength: 1 },
      cmd: { type: 'string', minLength: 1 },
      creates: { type: 'string' },
      removes: { type: 'string' },
      chdir: { type: 'string' },
      executable: { type: 'string', minLength: 1 },
      decrypt: { type: 'boolean' },
    },
    oneOf: [{ required: ['_raw_params'] }, { required: ['cmd'] }],
  },
  run: (args, ctx) =>
    guarded(async () => {
      const words = shlexSplit(args._raw_params ?? args.cmd ?? '');
      const [src, ...scriptArgs] = words;
      if (src === undefined) return { changed: false, failed: true, msg: 'no script given' };
      if (args.chdir !== undefined && !posix.isAbsolute(args.chdir)) return { changed: false, failed: true, msg: 'chdir must be an absolute path' };
      const lookup = findControllerSource(ctx, src, 'files');
      if (!lookup.found) return { changed: false, failed: true, msg: notFoundMessage(src, lookup.searched) };
      const content = readFileSync(lookup.found);
      const name = posix.basename(lookup.found);
      // not `exec`: the trap must outlive the script to remove it
      const runner = args.executable !== undefined ? `${shQuote(args.executable)} ` : '';
      const body = [
        `tsplay_d=$(mktemp -d "\${TMPDIR:-/tmp}/tsplay-script.XXXXXXXXXX") || exit 1`,
        `trap 'rm -rf -- "$tsplay_d"' EXIT`,
        `cat > "$tsplay_d"/${shQuote(name)} || exit 1`,
        `chmod 0700 "$tsplay_d"/${shQuote(name)} || exit 1`,
        `${runner}"$tsplay_d"/${shQuote(name)}${scriptArgs.length ? ' ' + shJoin(scriptArgs) : ''} </dev/null`,
      ].join('\n');
      const result = await runCommandScript(ctx, body, `${lookup.found}${scriptArgs.length ? ' ' + shJoin(scriptArgs) : ''}`, {
        ...(args.creates !== undefined ? { creates: args.creates } : {}),
        ...(args.removes !== undefined ? { removes: args.removes } : {}),
        ...(args.chdir !== undefined ? { chdir: args.chdir } : {}),
        stdin: content.toString('utf8'),
        stdin_add_newline: false,
        strip_empty_ends: false,
      });
      delete result.cmd;
      return result;
    }),
});
