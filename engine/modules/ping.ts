// ping: proves the host answers a command (not ICMP): exec `true`, return `pong` as Ansible does.
import { defineModule } from './types.js';

export interface PingArgs {
  data?: string;
}

export default defineModule<PingArgs>({
  name: 'ping',
  aliases: ['ansible.builtin.ping'],
  freeForm: 'kv',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { data: { type: 'string' } },
  },
  async run(args, ctx) {
    const data = args.data ?? 'pong';
    // Ansible's test hook: data=crash makes the module raise
    if (data === 'crash') return { changed: false, failed: true, msg: 'boom' };
    const res = await ctx.conn.exec('true', ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {});
    if (res.rc !== 0) return { changed: false, failed: true, rc: res.rc, msg: `ping: 'true' exited with ${res.rc}: ${res.stderr.trim()}` };
    return { changed: false, ping: data };
  },
});
