// stat: facts about a path, returned like Ansible's stat module ({stat: {exists, mode: '0644', ...}}).
import { defineModule } from './types.js';
import type { ChecksumAlgorithm } from '../connection/host-ops.js';
import { formatMode } from './mode.js';
import { guarded } from './file-write.js';

export interface StatArgs {
  path?: string;
  dest?: string;
  name?: string;
  follow?: boolean;
  get_checksum?: boolean;
  checksum_algorithm?: ChecksumAlgorithm;
  checksum?: ChecksumAlgorithm;
  checksum_algo?: ChecksumAlgorithm;
  /** Accepted for playbook compatibility; mimetype/attributes are not reported. */
  get_mime?: boolean;
  get_attributes?: boolean;
}

const ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512'];

export default defineModule<StatArgs>({
  name: 'stat',
  aliases: ['ansible.builtin.stat', 'ansible.legacy.stat'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      path: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      name: { type: 'string', minLength: 1 },
      follow: { type: 'boolean' },
      get_checksum: { type: 'boolean' },
      checksum_algorithm: { enum: ALGORITHMS },
      checksum: { enum: ALGORITHMS },
      checksum_algo: { enum: ALGORITHMS },
      get_mime: { type: 'boolean' },
      get_attributes: { type: 'boolean' },
    },
    oneOf: [{ required: ['path'] }, { required: ['dest'] }, { required: ['name'] }],
  },
  run: (args, ctx) =>
    guarded(async () => {
      const path = (args.path ?? args.dest ?? args.name)!;
      const algorithm = args.checksum_algorithm ?? args.checksum ?? args.checksum_algo ?? 'sha1';
      const s = await ctx.ops.stat(path, { follow: args.follow ?? false, checksum: args.get_checksum === false ? false : algorithm });
      if (!s.exists) return { changed: false, stat: { exists: false } };
      const m = s.mode;
      const stat: Record<string, unknown> = {
        exists: true,
        path,
        mode: formatMode(m),
        isdir: s.type === 'directory',
        isreg: s.type === 'file',
        islnk: s.type === 'link',
        ischr: s.special === 'chr',
        isblk: s.special === 'blk',
        isfifo: s.special === 'fifo',
        issock: s.special === 'sock',
        uid: s.uid,
        gid: s.gid,
        pw_name: s.owner,
        gr_name: s.group,
        size: s.size,
        inode: s.inode,
        dev: s.dev,
        nlink: s.nlink,
        atime: s.atime,
        mtime: s.mtime,
        ctime: s.ctime,
        rusr: (m & 0o400) !== 0,
        wusr: (m & 0o200) !== 0,
        xusr: (m & 0o100) !== 0,
        rgrp: (m & 0o040) !== 0,
        wgrp: (m & 0o020) !== 0,
        xgrp: (m & 0o010) !== 0,
        roth: (m & 0o004) !== 0,
        woth: (m & 0o002) !== 0,
        xoth: (m & 0o001) !== 0,
        isuid: (m & 0o4000) !== 0,
        isgid: (m & 0o2000) !== 0,
        readable: s.readable,
        writeable: s.writeable,
        executable: s.executable,
      };
      if (s.type === 'link') {
        stat.lnk_target = s.linkTarget;
        stat.lnk_source = s.linkSource;
      }
      if (s.checksum) stat.checksum = s.checksum;
      return { changed: false, stat };
    }),
});
