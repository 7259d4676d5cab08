// tempfile: create a uniquely named temporary file (0600) or folder (0700) on the host with
// mktemp, and return its path. Every run creates a new one (changed), as in Ansible; check mode
// creates nothing and returns the name pattern it would use.
import { posix } from 'node:path';
import { defineModule } from './types.js';
import { shQuote } from '../connection/shell.js';

export interface TempfileArgs {
  state?: 'file' | 'directory';
  path?: string;
  prefix?: string;
  suffix?: string;
}

export default defineModule<TempfileArgs>({
  name: 'tempfile',
  aliases: ['ansible.builtin.tempfile', 'ansible.legacy.tempfile'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { enum: ['file', 'directory'] },
      path: { type: 'string', minLength: 1 },
      prefix: { type: 'string', pattern: '^[^/]*$' },
      suffix: { type: 'string', pattern: '^[^/]*$' },
    },
  },
  run: async (args, ctx) => {
    const state = args.state ?? 'file';
    const template = `${args.prefix ?? 'ansible.'}XXXXXXXXXX${args.suffix ?? ''}`;
    const dir = args.path !== undefined ? shQuote(args.path) : '"${TMPDIR:-/tmp}"';
    if (ctx.check) {
      const res = await ctx.ops.run(`printf '%s' ${dir}`);
      const path = posix.join(res.stdout || '/tmp', template);
      return { changed: true, path, state };
    }
    const suffixFlag = args.suffix ? ` --suffix=${shQuote(args.suffix)}` : '';
    const mktemp = `mktemp${state === 'directory' ? ' -d' : ''} -p ${dir}${suffixFlag} ${shQuote(`${args.prefix ?? 'ansible.'}XXXXXXXXXX`)}`;
    // the path and its attributes in the same round trip
    const res = await ctx.ops.run(`p=$(${mktemp}) || exit 1\nprintf '%s\\n' "$p"\nstat -c '%a %U %G %u %g %s' -- "$p"`);
    const [path, st] = res.stdout.replace(/\n$/, '').split('\n');
    if (res.rc !== 0 || !path || !st) return { changed: false, failed: true, rc: res.rc, msg: `could not create a temporary ${state}: ${res.stderr.trim()}` };
    const [mode, owner, group, uid, gid, size] = st.split(' ');
    return { changed: true, path, state, mode: mode!.padStart(4, '0'), owner, group, uid: Number(uid), gid: Number(gid), size: Number(size) };
  },
});
