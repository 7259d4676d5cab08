// Rewriting a file so a crash leaves the old or the new content, never half of one:
// a temp file in the same directory, fsync, the old file's mode, rename over it.
import { closeSync, fsyncSync, openSync, renameSync, rmSync, statSync, writeSync, chmodSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Mode for files that did not exist: readable by the owner only, as ansible-vault creates them. */
export const NEW_FILE_MODE = 0o600;

export function writeFileAtomic(file: string, data: string | Buffer): void {
  let mode = NEW_FILE_MODE;
  try {
    mode = statSync(file).mode & 0o7777;
  } catch {
    // a new file
  }
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', NEW_FILE_MODE);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  try {
    chmodSync(temp, mode);
    renameSync(temp, file);
  } catch (err) {
    rmSync(temp, { force: true });
    throw err;
  }
}
