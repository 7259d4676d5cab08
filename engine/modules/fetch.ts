// fetch: copy a file from the host to the controller, into dest/<host>/<src path> (or exactly
// dest with flat). The remote checksum is read first; the bytes travel only when the
// controller's copy differs; the controller file is written atomically (temp file + rename).
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, posix, resolve } from 'node:path';
import { defineModule, type ModuleResult } from './types.js';
import { guarded } from './file-write.js';
import { contentDiff } from './file-write.js';

export interface FetchArgs {
  src: string;
  dest: string;
  flat?: boolean;
  fail_on_missing?: boolean;
  validate_checksum?: boolean;
}

const digest = (algo: string, data: Buffer): string => createHash(algo).update(data).digest('hex');

/** Where the file lands on the controller, as Ansible computes it. */
export function fetchDestination(src: string, dest: string, flat: boolean, host: string, baseDir: string): string {
  const base = isAbsolute(dest) ? dest : resolve(baseDir, dest);
  if (flat) return dest.endsWith('/') ? join(base, posix.basename(src)) : base;
  // src made relative, like Ansible: /etc/hosts → dest/host/etc/hosts
  return join(base, host, posix.normalize(src).replace(/^\/+/, ''));
}

export default defineModule<FetchArgs>({
  name: 'fetch',
  aliases: ['ansible.builtin.fetch', 'ansible.legacy.fetch'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      src: { type: 'string', minLength: 1 },
      dest: { type: 'string', minLength: 1 },
      flat: { type: 'boolean' },
      fail_on_missing: { type: 'boolean' },
      validate_checksum: { type: 'boolean' },
    },
  },
  run: (args, ctx) =>
    guarded(async () => {
      const dest = fetchDestination(args.src, args.dest, args.flat === true, ctx.host, dirname(ctx.taskPos.file));
      const remote = await ctx.ops.stat(args.src, { follow: true, checksum: 'sha1' });
      let problem: string | undefined;
      if (!remote.exists) problem = 'the remote file does not exist';
      else if (remote.type === 'directory') problem = 'remote file is a directory, fetch cannot work on directories';
      else if (!remote.readable) problem = 'no read permission on remote file';
      else if (!remote.checksum) problem = 'unable to calculate the checksum of the remote file';
      if (problem) {
        // historically not a failure (a log that may not exist); fail_on_missing (default) makes it one
        if (args.fail_on_missing !== false) return { changed: false, failed: true, file: args.src, msg: problem };
        return { changed: false, file: args.src, msg: `${problem}, not transferring, ignored` };
      }
      const local = existsSync(dest) && statSync(dest).isFile() ? readFileSync(dest) : undefined;
      if (existsSync(dest) && !statSync(dest).isFile()) return { changed: false, failed: true, msg: `dest ${dest} exists and is not a file` };
      const localSha1 = local ? digest('sha1', local) : undefined;
      if (local && localSha1 === remote.checksum) {
        return { changed: false, md5sum: digest('md5', local), file: args.src, dest, checksum: localSha1 };
      }
      const result: ModuleResult = { changed: true, dest, remote_checksum: remote.checksum, checksum: remote.checksum };
      if (ctx.check && !ctx.diff) return result;
      const data = await ctx.ops.readFile(args.src);
      if (data === null) return { changed: false, failed: true, file: args.src, msg: 'the remote file does not exist' };
      const sha1 = digest('sha1', data);
      if (ctx.diff) {
        const before = local ? { exists: true, content: local, size: local.length, checksum: localSha1 } : undefined;
        result.diff = [contentDiff(dest, before as Parameters<typeof contentDiff>[1], data, `${ctx.host}:${args.src}`)];
      }
      if (args.validate_checksum !== false && sha1 !== remote.checksum) {
        return { changed: false, failed: true, msg: 'checksum mismatch', file: args.src, dest, checksum: sha1, remote_checksum: remote.checksum };
      }
      if (ctx.check) return result;
      mkdirSync(dirname(dest), { recursive: true });
      const tmp = join(dirname(dest), `.tsplay-fetch.${randomBytes(6).toString('hex')}`);
      try {
        writeFileSync(tmp, data, { flag: 'wx', mode: 0o644, flush: true });
        renameSync(tmp, dest);
      } finally {
        rmSync(tmp, { force: true });
      }
      return { ...result, checksum: sha1, md5sum: digest('md5', data), remote_md5sum: null };
    }),
});
