// slurp: a file on the host, returned base64-encoded (content, encoding, source) like Ansible.
import { defineModule } from './types.js';
import { HostOpError } from '../connection/host-ops.js';

export interface SlurpArgs {
  src?: string;
  path?: string;
}

export default defineModule<SlurpArgs>({
  name: 'slurp',
  aliases: ['ansible.builtin.slurp', 'ansible.legacy.slurp'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { src: { type: 'string', minLength: 1 }, path: { type: 'string', minLength: 1 } },
    oneOf: [{ required: ['src'] }, { required: ['path'] }],
  },
  run: async (args, ctx) => {
    const src = (args.src ?? args.path)!;
    try {
      const data = await ctx.ops.readFile(src);
      if (data === null) return { changed: false, failed: true, msg: `file not found: ${src}` };
      return { changed: false, content: data.toString('base64'), encoding: 'base64', source: src };
    } catch (err) {
      if (!(err instanceof HostOpError)) throw err;
      if (/Is a directory/i.test(err.stderr)) return { changed: false, failed: true, msg: `source is a directory and must be a file: ${src}` };
      if (/Permission denied/i.test(err.stderr)) return { changed: false, failed: true, msg: `file is not readable: ${src}` };
      return { changed: false, failed: true, msg: err.message };
    }
  },
});
