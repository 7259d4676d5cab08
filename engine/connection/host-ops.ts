// File operations on a host, built once on Connection.exec so every transport gets them and
// the target needs only a POSIX shell and coreutils. Each operation is ONE exec round trip:
// probes are batched into one script that prints key=value records, writes carry their data
// on stdin. Every path is quoted with shQuote; nothing a user wrote is ever run as code
// except the `validate:` command, which is split into words like Ansible does.
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { TransferError, type BecomeOptions, type CommandGuard, type Connection, type ExecOptions, type ExecResult } from './types.js';
import { isSuWithPassword, shQuote, shlexSplit } from './shell.js';
import { absentStat, parseStatBatch, statBatchScript, statFromFields } from './stat-batch.js';

/**
 * Writes at least this big go over the connection's SFTP session (when it has one) instead
 * of the exec's stdin. Measured on loopback sshd (spec/lab/ssh-transfer.test.ts, report):
 * SFTP put + the one exec is ~15-20% faster at 1 MiB and 50 MiB, and no better below, where
 * the exec round trip dominates and SFTP adds its own open/close round trips.
 */
export const SFTP_WRITE_MIN_BYTES = 256 * 1024;

export type FileType = 'file' | 'directory' | 'link' | 'other';

export interface FileStat {
  path: string;
  exists: boolean;
  /** 'absent' when the path does not exist (a dangling link followed is absent too). */
  type: FileType | 'absent';
  /** For type 'other': chr, blk, fifo, sock. */
  special?: 'chr' | 'blk' | 'fifo' | 'sock';
  /** Permission bits including suid/sgid/sticky, e.g. 0o644. */
  mode: number;
  owner: string;
  group: string;
  uid: number;
  gid: number;
  size: number;
  /** Seconds since the epoch, with fractions where the target's stat gives them. */
  mtime: number;
  atime: number;
  ctime: number;
  inode: number;
  dev: number;
  nlink: number;
  /** What a symlink points to, as written (set whenever the path is a symlink, followed or not). */
  linkTarget?: string;
  /** The canonical path the link resolves to. */
  linkSource?: string;
  /** Hex digest of a regular file's content when asked for. */
  checksum?: string;
  /** The content of a regular file when asked for and not larger than the limit. */
  content?: Buffer;
  /** Access for the (become) user running the probe. */
  readable: boolean;
  writeable: boolean;
  executable: boolean;
}

/** Digest tools every coreutils has (`${name}sum`). */
export type ChecksumAlgorithm = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

export interface StatOptions {
  /** Follow a symlink to what it points to (default false: describe the link). */
  follow?: boolean;
  checksum?: ChecksumAlgorithm | false;
  /** Also read the content of a regular file up to this many bytes (for diffs). */
  contentUpTo?: number;
}

export interface FileAttributes {
  /** A numeric mode or anything chmod accepts; numbers are applied as octal. */
  mode?: number;
  owner?: string;
  group?: string;
}

export interface WriteOptions extends FileAttributes {
  /** A command with %s for the temporary file; a non-zero exit keeps the old file. */
  validate?: string;
  /** Keep the old file as `path.PID.YYYY-MM-DD@HH:MM:SS~`. */
  backup?: boolean;
}

export interface WriteResult {
  backupFile?: string;
  /** The destination as written (mode, owner, size...). */
  stat: FileStat;
  /** sha1 of the written content. */
  checksum: string;
}

/** An operation on the host failed; the message says what and includes the host's stderr. */
export class HostOpError extends Error {
  constructor(
    message: string,
    readonly rc: number,
    readonly stdout = '',
    readonly stderr = '',
  ) {
    super(message);
    this.name = 'HostOpError';
  }
}

/** `validate:` rejected the new content; the old file was left in place. */
export class ValidateError extends HostOpError {
  constructor(rc: number, stdout: string, stderr: string) {
    super('failed to validate', rc, stdout, stderr);
    this.name = 'ValidateError';
  }
}

const RECORD = '@@tsplay-record';

// One shell function per probe; `$1` path, `$2` follow (1/0), `$3` checksum tool or '',
// `$4` content limit or ''. Everything that may hold odd bytes (link targets, content)
// travels base64-encoded so the record stays line-oriented.
const STAT_FUNCTION = `tsplay_stat() {
  printf '%s\\n' '${RECORD}'
  p=$1
  if [ "$2" = 1 ]; then
    [ -e "$p" ] || { printf 'exists=0\\n'; return 0; }
    set -- "$1" "$2" "$3" "$4" -L
  else
    [ -e "$p" ] || [ -L "$p" ] || { printf 'exists=0\\n'; return 0; }
    set -- "$1" "$2" "$3" "$4"
  fi
  stat $5 -c 'st=%f %u %g %s %.9X %.9Y %.9Z %i %d %h
owner=%U
group=%G' -- "$p" 2>/dev/null || stat $5 -c 'st=%f %u %g %s %X %Y %Z %i %d %h
owner=%U
group=%G' -- "$p" || { printf 'error=stat\\n'; return 0; }
  a=; [ -r "$p" ] && a=r; [ -w "$p" ] && a="\${a}w"; [ -x "$p" ] && a="\${a}x"
  printf 'access=%s\\n' "$a"
  if [ -L "$p" ]; then
    printf 'link=%s\\n' "$(readlink -- "$p" | base64 | tr -d '\\n')"
    printf 'source=%s\\n' "$(readlink -f -- "$p" | base64 | tr -d '\\n')"
  fi
  if [ -f "$p" ] && { [ -n "$5" ] || [ ! -L "$p" ]; }; then
    if [ -n "$3" ] && [ -r "$p" ]; then printf 'checksum=%s\\n' "$("$3" < "$p" | cut -d' ' -f1)"; fi
    if [ -n "$4" ] && [ -r "$p" ] && [ "$(stat -L -c %s -- "$p")" -le "$4" ]; then
      printf 'content=%s\\n' "$(base64 < "$p" | tr -d '\\n')"
    fi
  fi
}`;

/** A path to probe with its own follow setting (probe's opts.follow is the default). */
export interface ProbeTarget {
  path: string;
  follow: boolean;
}

/** A change chained onto a probe (see HostOps.probe). */
export interface ProbeThen {
  /** A shell condition on the probed paths: test builtins, e.g. from kindGuard. */
  guard: string;
  script: string;
  /** Data for the script's stdin (the probe reads none; unread when the guard fails). */
  stdin?: Buffer;
  /**
   * The script is exactly mkdirsScript([path], attrs): probeChain makes consecutive such
   * folders with the same attributes with one mkdir when all their guards hold.
   */
  mkdir?: { path: string; attrs: FileAttributes };
}

export interface ProbeResult {
  stats: FileStat[];
  umask: number;
  /** With `then`: whether its script ran, its exit code and output, and the exec's stderr. */
  then?: { ran: boolean; rc: number; stdout: string; stderr: string };
}

export interface HostOpsOptions {
  become?: BecomeOptions;
  timeoutMs?: number;
  env?: Record<string, string>;
}

export class HostOps {
  constructor(
    readonly conn: Connection,
    readonly opts: HostOpsOptions = {},
  ) {}

  /** Run a script with this host's become, timeout and environment. */
  run(script: string, extra: ExecOptions = {}): Promise<ExecResult> {
    const env = this.opts.env || extra.env ? { ...this.opts.env, ...extra.env } : undefined;
    return this.conn.exec(script, {
      ...extra,
      ...(env ? { env } : {}),
      ...(this.opts.become && !extra.become ? { become: this.opts.become } : {}),
      ...(this.opts.timeoutMs !== undefined && extra.timeoutMs === undefined ? { timeoutMs: this.opts.timeoutMs } : {}),
    });
  }

  /**
   * run for the file operations' own scripts (probes, writes, mkdir, chmod...), which start
   * nothing that outlives them: the transport may run them in its long-lived shell.
   */
  private runOwn(script: string, extra: ExecOptions = {}): Promise<ExecResult> {
    return this.run(script, { ...extra, ownScript: true });
  }

  async stat(path: string, opts: StatOptions = {}): Promise<FileStat> {
    const [one] = await this.statMany([path], opts);
    return one!;
  }

  /** Stat several paths in one round trip (e.g. every file of a directory copy). */
  async statMany(paths: readonly string[], opts: StatOptions = {}): Promise<FileStat[]> {
    return (await this.probe(paths, opts)).stats;
  }

  /**
   * statMany plus the host's umask (the mode new files and folders get), in one round trip:
   * one `stat` and one checksum process for all paths (stat-batch.ts). Should the host's
   * tools not give what that script expects, the per-path probe runs instead (one more
   * round trip, with stat's fallbacks and its error messages).
   *
   * `then` chains a change onto the same round trip: its script runs (in a subshell) right
   * after the probe when its guard holds on the host, and `then.ran` says whether it did. A
   * module uses it for a plan it computed for the state it expects, and must check that the
   * plan it computes from the returned stats is that same plan (see file.ts).
   */
  async probe(paths: ReadonlyArray<string | ProbeTarget>, opts: StatOptions = {}, then?: ProbeThen): Promise<ProbeResult> {
    const targets = paths.map((p) => (typeof p === 'string' ? { path: p, follow: opts.follow ?? false } : p));
    const batchOpts = {
      ...(opts.checksum ? { checksumTool: `${opts.checksum}sum` } : {}),
      ...(opts.contentUpTo !== undefined ? { contentUpTo: opts.contentUpTo } : {}),
    };
    let script = statBatchScript(targets, batchOpts);
    if (then) script += `if [ "$tsplay_ok" = 1 ] && { ${then.guard}; }; then (\n${then.script}\n); printf '\\n@@then=%s\\n' "$?"; fi\n`;
    const res = await this.runOwn(script, then?.stdin ? { stdin: then.stdin } : {});
    const parsed = parseStatBatch(res.stdout, targets, batchOpts);
    // the last line, on a line of its own: what the chained script printed comes before it
    const ran = then ? /\n@@then=(\d+)\n$/.exec(parsed ? parsed.rest : res.stdout) : null;
    if (!parsed) {
      // the change ran, but what the probe saw before it cannot be read: no honest report
      if (then && res.stdout.includes('@@then=')) throw new HostOpError(`the probe of ${targets[0]?.path ?? 'the paths'} gave unreadable output`, res.rc, res.stdout, res.stderr);
      return this.probePerPath(targets, opts);
    }
    const result: ProbeResult = { stats: parsed.stats, umask: parsed.umask };
    if (then) result.then = { ran: ran !== null, rc: ran ? Number(ran[1]) : 0, stdout: ran ? parsed.rest.slice(0, ran.index) : '', stderr: res.stderr };
    return result;
  }

  /**
   * probe with several changes chained in order (a loop's items, see file.ts runMany): each
   * runs when its guard holds, with its stderr in its own output; the first guard that does
   * not hold ends the chain (nothing after it runs), so the items that ran are a prefix of
   * the list and the caller handles the rest after them, in order.
   */
  async probeChain(paths: ReadonlyArray<string | ProbeTarget>, opts: StatOptions, chain: readonly ProbeThen[]): Promise<ProbeResult & { chain: Array<{ ran: boolean; rc: number; output: string }> }> {
    const targets = paths.map((p) => (typeof p === 'string' ? { path: p, follow: opts.follow ?? false } : p));
    const batchOpts = {
      ...(opts.checksum ? { checksumTool: `${opts.checksum}sum` } : {}),
      ...(opts.contentUpTo !== undefined ? { contentUpTo: opts.contentUpTo } : {}),
    };
    let script = statBatchScript(targets, batchOpts) + 'tsplay_chain=$tsplay_ok\n';
    const single = (then: ProbeThen, i: number) =>
      `if [ "$tsplay_chain" = 1 ] && { ${then.guard}; }; then (\n${then.script}\n) 2>&1; printf '\\n@@then${i}=%s\\n' "$?"; else tsplay_chain=0; fi\n`;
    const merged = mkdirRuns(chain);
    for (let i = 0; i < chain.length; ) {
      const end = merged.get(i);
      if (end === undefined) {
        script += single(chain[i]!, i);
        i++;
        continue;
      }
      // every guard holds (the usual case): the folders in ONE mkdir, each item's result is
      // whether its folder is there now; else item by item as above
      const items = chain.slice(i, end);
      const folders = items.map((t) => t.mkdir!.path);
      script += `if [ "$tsplay_chain" = 1 ] && ${items.map((t) => `{ ${t.guard}; }`).join(' && ')}; then printf '\\n@@merged${i}\\n'; (\n${mkdirsScript(folders, items[0]!.mkdir!.attrs)}\n) 2>&1; tsplay_rc=$?\n`;
      script += folders.map((f, k) => `if [ -d ${shQuote(f)} ]; then printf '\\n@@then${i + k}=0\\n'; else printf '\\n@@then${i + k}=%s\\n' "$tsplay_rc"; fi\n`).join('');
      script += `else\n${items.map((t, k) => single(t, i + k)).join('')}fi\n`;
      i = end;
    }
    const res = await this.runOwn(script);
    const parsed = parseStatBatch(res.stdout, targets, batchOpts);
    const none = chain.map(() => ({ ran: false, rc: 0, output: '' }));
    if (!parsed) {
      if (chain.length > 0 && res.stdout.includes('@@then')) throw new HostOpError(`the probe of ${targets[0]?.path ?? 'the paths'} gave unreadable output`, res.rc, res.stdout, res.stderr);
      return { ...(await this.probePerPath(targets, opts)), chain: none };
    }
    const results = none;
    const marker = /\n@@then(\d+)=(\d+)\n/g;
    let from = 0;
    for (let m = marker.exec(parsed.rest); m; m = marker.exec(parsed.rest)) {
      const i = Number(m[1]);
      if (i < results.length) results[i] = { ran: true, rc: Number(m[2]), output: parsed.rest.slice(from, m.index) };
      from = m.index + m[0].length - 1; // the marker's last newline starts the next output
    }
    for (const [start, end] of merged) {
      const head = `\n@@merged${start}\n`;
      const first = results[start]!;
      if (!first.output.startsWith(head)) continue; // went item by item
      // one mkdir's messages for all: each failed item gets the lines naming its folder
      const said = first.output.slice(head.length);
      for (let k = start; k < end; k++) {
        const r = results[k]!;
        const mine = said.split('\n').filter((line) => line.includes(chain[k]!.mkdir!.path));
        results[k] = { ...r, output: r.rc === 0 ? '' : mine.length > 0 ? `${mine.join('\n')}\n` : said };
      }
    }
    return { stats: parsed.stats, umask: parsed.umask, chain: results };
  }

  private async probePerPath(targets: readonly ProbeTarget[], opts: StatOptions): Promise<{ stats: FileStat[]; umask: number }> {
    const tool = opts.checksum ? `${opts.checksum}sum` : "''";
    const limit = opts.contentUpTo !== undefined ? String(opts.contentUpTo) : "''";
    const calls = targets.map((t) => `tsplay_stat ${shQuote(t.path)} ${t.follow ? 1 : 0} ${tool} ${limit}`);
    const res = await this.runOwn(`${STAT_FUNCTION}\nprintf 'umask=%s\\n' "$(umask)"\n${calls.join('\n')}\n`);
    const parts = res.stdout.split(`${RECORD}\n`);
    const umask = /^umask=([0-7]+)$/m.exec(parts[0] ?? '');
    const records = parts.slice(1);
    if (!umask || records.length !== targets.length) {
      throw new HostOpError(`stat failed: ${res.stderr.trim() || `rc ${res.rc}`}`, res.rc, res.stdout, res.stderr);
    }
    return { stats: records.map((text, i) => parseStatRecord(targets[i]!.path, text, res.stderr)), umask: parseInt(umask[1]!, 8) };
  }

  /** The host's umask, for the mode a new file or directory will get. */
  async umask(): Promise<number> {
    const res = await this.runOwn('umask');
    return parseInt(res.stdout.trim(), 8);
  }

  /**
   * A file's bytes, or null when it does not exist. Binary-safe. Without become, over the
   * connection's SFTP session when it has one: no exec, no base64 (measured 0.7 ms vs 130 ms
   * for 4 KiB, 30 ms vs 200 ms for 1 MiB on loopback). Anything SFTP cannot say plainly
   * (permission denied, not a regular file, a dangling link) goes the exec way, for its
   * messages.
   */
  async readFile(path: string): Promise<Buffer | null> {
    if (!this.opts.become && this.conn.getFile) {
      try {
        return await this.conn.getFile(path);
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        if (err.code === 'not-found' && this.conn.pathExists && !(await this.conn.pathExists(path).catch(() => true))) return null;
        // any other transfer problem: the shell reads it, or says why not
      }
    }
    const p = shQuote(path);
    const res = await this.runOwn(`[ -e ${p} ] || [ -L ${p} ] || exit 3\nbase64 < ${p}`);
    if (res.rc === 3) return null;
    if (res.rc !== 0) throw new HostOpError(`could not read ${path}: ${res.stderr.trim()}`, res.rc, '', res.stderr);
    return Buffer.from(res.stdout.replace(/\s+/g, ''), 'base64');
  }

  /**
   * Replace `path` atomically with `data`: temp file in the same folder, fsync, owner and
   * mode (the old file's unless given; a new file gets 0666 & ~umask like Ansible), optional
   * validate and backup, then rename. A trap removes the temp file on every exit path.
   */
  async writeFileAtomic(path: string, data: Buffer, opts: WriteOptions = {}): Promise<WriteResult> {
    const checksum = createHash('sha1').update(data).digest('hex');
    const viaSftp = await this.writeViaSftp(path, data, opts);
    if (viaSftp) return { ...viaSftp, checksum };
    const result = await this.replaceFile(path, { kind: 'stdin', data }, opts);
    return { ...result, checksum };
  }

  /**
   * The SFTP variant of writeFileAtomic, or undefined when it does not apply (no SFTP, a
   * small file, become to a user other than root, SFTP refused): the caller then streams
   * over stdin. SFTP runs as the login user, so:
   * - without become, the data goes straight into a new temp file (O_EXCL, 0600) next to
   *   the destination and the one exec finishes the job (owner, mode, validate, backup, mv);
   * - with become (to root), the data goes into a private folder the login user owns
   *   (mode 0700) and the one become exec copies it into a temp file next to the
   *   destination; su with a password needs this at every size (a PTY mangles binary stdin).
   * The staged files are removed in every path: by the exec's trap, and from here after it.
   */
  private async writeViaSftp(path: string, data: Buffer, opts: WriteOptions): Promise<Omit<WriteResult, 'checksum'> | undefined> {
    const conn = this.conn;
    if (!conn.putFile || !conn.removePath) return undefined;
    const become = this.opts.become;
    const needsPty = isSuWithPassword(become);
    if (data.length < SFTP_WRITE_MIN_BYTES && !needsPty) return undefined;
    // only root can read what the login user staged in a 0700 folder
    if (become && (become.user || 'root') !== 'root') return undefined;
    const token = randomBytes(8).toString('hex');
    if (!become) {
      const tmp = posix.join(posix.dirname(path), `.tsplay-tmp.${token}`);
      const guard = await this.cleanupGuard(`rm -f -- ${shQuote(tmp)}`);
      try {
        try {
          await conn.putFile(data, tmp, 0o600);
        } catch (err) {
          if (err instanceof TransferError) return undefined; // e.g. the login user may not write there: the shell says why
          throw err;
        }
        try {
          return await this.replaceFile(path, { kind: 'placed', tmp }, opts);
        } finally {
          await conn.removePath(tmp).catch(() => {});
        }
      } finally {
        guard?.release();
      }
    }
    if (!conn.makeDir) return undefined;
    const stage = `/tmp/.tsplay-stage.${token}`;
    const staged = `${stage}/data`;
    const guard = await this.cleanupGuard(`rm -rf -- ${shQuote(stage)}`);
    try {
      try {
        await conn.makeDir(stage, 0o700);
        await conn.putFile(data, staged, 0o600);
      } catch (err) {
        await conn.removePath(staged).catch(() => {});
        await conn.removePath(stage, true).catch(() => {});
        if (err instanceof TransferError) return undefined;
        throw err;
      }
      try {
        return await this.replaceFile(path, { kind: 'host', src: staged, cleanup: stage }, opts);
      } finally {
        await conn.removePath(staged).catch(() => {});
        await conn.removePath(stage, true).catch(() => {});
      }
    } finally {
      guard?.release();
    }
  }

  /**
   * When the connection dies during an SFTP upload, the partial temp file stays on the host
   * and the controller cannot reach it any more: a guard started first removes it then. It
   * waits a moment after the loss so sftp-server has handled what it had already received
   * (an open that arrives after the removal would leave the file behind). A guard that
   * cannot start is no reason to fail the write.
   */
  private async cleanupGuard(cleanup: string): Promise<CommandGuard | undefined> {
    if (!this.conn.guard) return undefined;
    return this.conn.guard(`if read -r line; then exit 0; fi\nsleep 2\n${cleanup}\n`).catch(() => undefined);
  }

  /** Like writeFileAtomic, but the content is a file already on the host (remote_src). */
  async copyFileOnHost(src: string, path: string, opts: WriteOptions = {}): Promise<Omit<WriteResult, 'checksum'>> {
    return this.replaceFile(path, { kind: 'host', src }, opts);
  }

  private async replaceFile(path: string, source: WriteSource, opts: WriteOptions): Promise<Omit<WriteResult, 'checksum'>> {
    const res = await this.runOwn(replaceScript(path, source, opts), source.kind === 'stdin' ? { stdin: source.data } : {});
    return replaceResult(path, res);
  }

  /**
   * writeFileAtomic as a script to chain onto a probe (HostOps.probe's `then`, the data on
   * the probe's stdin), or undefined when writeFileAtomic would not send it on stdin: from
   * SFTP_WRITE_MIN_BYTES on, and for su with a password (a PTY mangles binary stdin).
   */
  chainableWrite(path: string, data: Buffer, opts: WriteOptions = {}): { script: string; stdin: Buffer } | undefined {
    if (data.length >= SFTP_WRITE_MIN_BYTES || isSuWithPassword(this.opts.become)) return undefined;
    return { script: replaceScript(path, { kind: 'stdin', data }, opts), stdin: data };
  }

  /** What a write chained with chainableWrite did (throws as writeFileAtomic does). */
  chainedWriteResult(path: string, data: Buffer, then: NonNullable<ProbeResult['then']>): WriteResult {
    const result = replaceResult(path, { rc: then.rc, stdout: then.stdout, stderr: then.stderr });
    return { ...result, checksum: createHash('sha1').update(data).digest('hex') };
  }

  /** Create each folder in order (parents first) and give each the attributes. */
  async mkdirs(paths: readonly string[], attrs: FileAttributes = {}): Promise<void> {
    if (paths.length === 0) return;
    await this.mustRun(mkdirsScript(paths, attrs), mkdirsFailure(paths));
  }

  /** Remove a path; a folder only with recursive (rm -rf). Absent is fine. */
  async remove(path: string, recursive = false): Promise<void> {
    await this.mustRun(`rm -f${recursive ? 'r' : ''} -- ${shQuote(path)}`, `could not remove ${path}`);
  }

  /** chown/chgrp/chmod as needed in one round trip. follow=false changes a link itself. */
  async setAttributes(path: string, attrs: FileAttributes, opts: { follow?: boolean; recurse?: boolean } = {}): Promise<void> {
    const lines = ['set -e', ...attributeCommands(path, attrs, opts.follow ?? true, opts.recurse ?? false)];
    if (lines.length === 1) return;
    await this.mustRun(lines.join('\n'), `could not set attributes of ${path}`);
  }

  /** Many chmods in one round trip (recursive mode changes). */
  async chmodMany(entries: ReadonlyArray<{ path: string; mode: number }>): Promise<void> {
    if (entries.length === 0) return;
    const lines = ['set -e', ...entries.map((e) => `chmod ${octal(e.mode)} -- ${shQuote(e.path)}`)];
    await this.mustRun(lines.join('\n'), 'chmod failed');
  }

  async chmod(path: string, mode: number): Promise<void> {
    await this.setAttributes(path, { mode });
  }

  async chown(path: string, owner: string): Promise<void> {
    await this.setAttributes(path, { owner });
  }

  async chgrp(path: string, group: string): Promise<void> {
    await this.setAttributes(path, { group });
  }

  /** Point `path` at `target` (replacing a link or file already there). */
  async symlink(target: string, path: string): Promise<void> {
    await this.mustRun(`ln -sfn -- ${shQuote(target)} ${shQuote(path)}`, `could not create symlink ${path}`);
  }

  async hardlink(target: string, path: string): Promise<void> {
    await this.mustRun(`ln -f -- ${shQuote(target)} ${shQuote(path)}`, `could not create hard link ${path}`);
  }

  /**
   * Create the file if missing and set its times. A time is 'now', 'preserve' (leave it),
   * or a touch -t stamp (CCYYMMDDhhmm.SS, the host's local time).
   */
  async touch(path: string, times: { mtime?: string; atime?: string; create?: boolean } = {}): Promise<void> {
    const p = shQuote(path);
    const lines = ['set -e'];
    if (times.create !== false) lines.push(`[ -e ${p} ] || [ -L ${p} ] || : > ${p}`);
    for (const [flag, value] of [['-m', times.mtime ?? 'now'], ['-a', times.atime ?? 'now']] as const) {
      if (value === 'preserve') continue;
      lines.push(value === 'now' ? `touch -c ${flag} -- ${p}` : `touch -c ${flag} -t ${shQuote(value)} -- ${p}`);
    }
    await this.mustRun(lines.join('\n'), `could not touch ${path}`);
  }

  /** Seconds since the epoch for touch -t stamps, read on the host (its time zone). */
  async stampsToEpoch(stamps: readonly string[]): Promise<number[]> {
    if (stamps.length === 0) return [];
    const lines = stamps.map((s) => {
      const m = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(?:\.(\d\d))?$/.exec(s);
      if (!m) throw new HostOpError(`invalid time stamp ${s}`, 1);
      return `date -d ${shQuote(`${m[1]}-${m[2]}-${m[3]} ${m[4]}:${m[5]}:${m[6] ?? '00'}`)} +%s`;
    });
    const res = await this.mustRun(['set -e', ...lines].join('\n'), 'could not convert time stamps');
    return res.stdout.trim().split('\n').map(Number);
  }

  /**
   * Everything below a folder (not the folder itself) with its type, mode and owner, in one
   * round trip; for recursive attribute changes.
   */
  async listTree(path: string): Promise<FileStat[]> {
    const res = await this.mustRun(
      `${STAT_FUNCTION}\nfind ${shQuote(path)} -mindepth 1 -exec sh -c 'for f do printf "%s\\n" "$(printf "%s" "$f" | base64 | tr -d "\\n")"; done' sh {} + | while IFS= read -r b; do p=$(printf '%s' "$b" | base64 -d; printf x); tsplay_stat "\${p%x}" 0 '' ''; printf 'name=%s\\n' "$b"; done`,
      `could not list ${path}`,
    );
    return res.stdout
      .split(`${RECORD}\n`)
      .slice(1)
      .map((text) => {
        const name = /^name=(.*)$/m.exec(text)?.[1] ?? '';
        return parseStatRecord(Buffer.from(name, 'base64').toString('utf8'), text, res.stderr);
      });
  }

  /** Names in a folder (not recursive), hidden ones included. */
  async listDir(path: string): Promise<string[]> {
    const res = await this.mustRun(
      `cd -- ${shQuote(path)} || exit 1\nfor f in * .[!.]* ..?*; do [ -e "$f" ] || [ -L "$f" ] || continue; printf '%s' "$f" | base64 | tr -d '\\n'; printf '\\n'; done`,
      `could not list ${path}`,
    );
    return res.stdout.split('\n').filter(Boolean).map((b) => Buffer.from(b, 'base64').toString('utf8')).sort();
  }

  private async mustRun(script: string, what: string): Promise<ExecResult> {
    const res = await this.runOwn(script);
    if (res.rc !== 0) throw new HostOpError(`${what}: ${res.stderr.trim() || `rc ${res.rc}`}`, res.rc, res.stdout, res.stderr);
    return res;
  }
}

// stdin: the data on the exec's stdin; host: a file on the host (remote_src, or staged by SFTP
// in a private folder `cleanup` removed at the end); placed: the temp file is already next to
// the destination (written by SFTP)
type WriteSource = { kind: 'stdin'; data: Buffer } | { kind: 'host'; src: string; cleanup?: string } | { kind: 'placed'; tmp: string };

/**
 * The script replaceFile runs; the same text for the same arguments (chained writes compare it).
 *
 * Every program it starts costs the host ~1 ms (issue 8), so it starts as few as it can: a new
 * file with a plain mode costs chmod, dd, mv and the final stat. The shell creates the temp
 * file itself (noclobber: O_EXCL) and chmod gives it its final mode before any data is in it,
 * when nobody could then read the data who cannot read the final file; dd copies, fsyncs and
 * counts in one program. Otherwise mktemp (0600) and chmod after chown, as before.
 */
function replaceScript(path: string, source: WriteSource, opts: WriteOptions): string {
  const dest = shQuote(path);
  const dir = shQuote(posix.dirname(path));
  const stage = source.kind === 'host' ? source.cleanup : undefined;
  const idsGiven = opts.owner !== undefined || opts.group !== undefined;
  const lines = [
    STAT_FUNCTION,
    `dest=${dest}`,
    ...(stage ? [`stage=${shQuote(stage)}`] : []),
    // tmp is set once the temp file is ours (cleared once moved): the trap removes only that
    source.kind === 'placed' ? `tmp=${shQuote(source.tmp)}` : 'tmp=',
    `trap '[ -z "$tmp" ] || rm -f -- "$tmp"${stage ? '; rm -rf -- "$stage"' : ''}' EXIT`,
    `trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM`,
    ...finalAttributesLines(dir, opts.mode),
  ];
  if (source.kind === 'placed') lines.push('fix=1', `[ -f "$tmp" ] || exit 71`, `sync -- "$tmp" 2>/dev/null || sync`);
  else lines.push(...createTempLines(dir, idsGiven), ...copyDataLines(source));
  // keep the old owner (ignored when we may not, as Ansible does), then apply the asked ones
  lines.push(`[ -z "$ids" ] || chown "$ids" "$tmp" 2>/dev/null`);
  if (opts.owner !== undefined) lines.push(`chown -- ${shQuote(opts.owner)} "$tmp" || exit 72`);
  if (opts.group !== undefined) lines.push(`chgrp -- ${shQuote(opts.group)} "$tmp" || exit 73`);
  // chmod after chown: chown clears the suid/sgid bits
  lines.push(`[ -z "$fix" ] || chmod "$mode" "$tmp" || exit 77`);
  if (opts.validate !== undefined) {
    lines.push(`printf '%s\\n' '@@validate'`, `${validateCommand(opts.validate)}`, `vrc=$?`, `[ "$vrc" -eq 0 ] || { printf '\\n@@validate-rc=%s\\n' "$vrc"; exit 75; }`);
  }
  if (opts.backup) {
    lines.push(
      // Ansible's name, PATH.PID.STAMP~; the number counts up past a backup already there: $$ is
      // the same for every script of a long-lived shell, and two writes may share a second
      `if [ -e "$dest" ]; then stamp=$(date +%Y-%m-%d@%H:%M:%S); n=$$; while [ -e "$dest.$n.$stamp~" ] || [ -L "$dest.$n.$stamp~" ]; do n=$((n + 1)); done; bk="$dest.$n.$stamp~"; cp -p -- "$dest" "$bk" || exit 74; printf '@@backup=%s\\n' "$(printf '%s' "$bk" | base64 | tr -d '\\n')"; fi`,
    );
  }
  lines.push(`mv -f -- "$tmp" "$dest" || exit 76`, 'tmp=', `printf '%s\\n' '@@final'`, `tsplay_stat "$dest" 0 '' ''`);
  return lines.join('\n') + '\n';
}

/**
 * `mode`: the final mode (the asked one, else the old file's, else 0666 & ~umask for a new
 * file, like Ansible); `ids`: the old file's uid:gid to give the temp file, '' when it gets
 * them anyway (the old file is ours and no setgid folder changes the group). Tests are
 * builtins: stat starts only when the old file's mode or ids are needed.
 */
function finalAttributesLines(dir: string, mode: number | undefined): string[] {
  const ours = `[ -O "$dest" ] && [ -G "$dest" ] && [ ! -g ${dir} ]`;
  if (mode !== undefined) {
    return [`mode=${octal(mode)} ids=`, `if [ -e "$dest" ] && ! { ${ours}; }; then set -- $(stat -L -c '%u %g' -- "$dest"); ids=\${1:+$1:$2}; fi`];
  }
  return [
    'mode= ids=',
    `if [ -e "$dest" ]; then set -- $(stat -L -c '%a %u %g' -- "$dest"); mode=\${1:+0$1}; ${ours} || ids=\${2:+$2:$3}; fi`,
    `if [ -z "$mode" ]; then mode=$(umask); mode=$(( 0666 & ~0$mode )); mode=0$(( mode >> 6 & 7 ))$(( mode >> 3 & 7 ))$(( mode & 7 )); fi`,
  ];
}

/**
 * Create the temp file, exclusively. The fast way, when the final mode can be set before the
 * data is in it: no suid/sgid/sticky bit (writing as non-root would clear them), readable
 * and writable by its owner (the data is written and may be counted after), and nobody could read it earlier who cannot read the
 * final file (nothing changes its owner, or only the owner may read). The shell creates it
 * with noclobber (O_EXCL), in a subshell (a fork, no program): `.tsplay-tmp.$$.N`, then
 * mktemp's random names after collisions ($$ is the same for every script of a long-lived
 * shell; a name that is taken is never touched). noclobber opens an existing non-regular file
 * (a FIFO, a link to a device) without O_EXCL: the name is checked to be free before and a
 * regular file after. chmod always follows: the shell creates with 0666, and a folder's
 * default ACL overrides the umask. Otherwise mktemp (0600) and chmod after chown (`fix`).
 * The name starts with a dot so globs like *.conf in the folder do not see it.
 */
function createTempLines(dir: string, idsGiven: boolean): string[] {
  const sameReaders = idsGiven ? '[ $(( $mode & 066 )) = 0 ]' : '{ [ -z "$ids" ] || [ $(( $mode & 066 )) = 0 ]; }';
  return [
    `if [ $(( $mode & ~0777 )) = 0 ] && [ $(( $mode & 0600 )) = $(( 0600 )) ] && ${sameReaders}; then`,
    '  n=0',
    '  while :; do',
    `    if [ $n -lt 3 ]; then t=${dir}/.tsplay-tmp.$$.$n; else t=$(mktemp -u ${dir}/.tsplay-tmp.XXXXXXXXXX) || exit 70; fi`,
    '    if [ ! -e "$t" ] && [ ! -L "$t" ]; then',
    `      err=$(exec 2>&1; umask 077; set -C; : > "$t") && [ -f "$t" ] && [ ! -L "$t" ] && break`,
    `      [ -e "$t" ] || [ -L "$t" ] || { printf '%s\\n' "$err" >&2; exit 70; }`,
    '    fi',
    `    n=$((n + 1)); [ $n -lt 10 ] || { printf '%s\\n' 'no free temporary file name' >&2; exit 70; }`,
    '  done',
    '  tmp=$t fix=',
    '  chmod "$mode" "$tmp" || exit 77',
    'else',
    `  tmp=$(mktemp ${dir}/.tsplay-tmp.XXXXXXXXXX) || exit 70`,
    '  fix=1',
    'fi',
  ];
}

/**
 * Copy the data into the temp file with ONE program: dd copies, fsyncs (conv=fsync) and says
 * how many bytes it copied (GNU, and busybox with its third status line); otherwise wc counts.
 * A dd that refuses conv=fsync says so before it reads anything and the temp file is still
 * empty: then cat, wc and sync as before. Data that arrived short is never installed (78).
 */
function copyDataLines(source: Exclude<WriteSource, { kind: 'placed' }>): string[] {
  const input = source.kind === 'host' ? ` if=${shQuote(source.src)}` : '';
  const fallback = source.kind === 'host' ? `cat -- ${shQuote(source.src)} > "$tmp" || exit 71` : `cat > "$tmp" || exit 71`;
  const lines = [`if out=$(LC_ALL=C dd${input} bs=65536 conv=fsync 2>&1 > "$tmp"); then`];
  if (source.kind === 'stdin') {
    // a connection lost mid-stream ends stdin early and the copy still succeeds
    // ("1 byte copied", "6 bytes copied", busybox "6 bytes (6B) copied")
    const size = source.data.length;
    lines.push(
      '  case $out in',
      `    *"records out\n${size} byte"*) ;;`,
      `    *"records out\n"[0-9]*) exit 78 ;;`,
      `    *) set -- $(wc -c < "$tmp"); [ "$1" = ${size} ] || exit 78 ;;`,
      '  esac',
    );
  } else {
    lines.push('  :');
  }
  lines.push(
    `elif [ -s "$tmp" ] || case $out in *records*) ;; *) false ;; esac; then`,
    `  printf '%s\\n' "$out" >&2; exit 71`,
    'else',
    `  ${fallback}`,
    ...(source.kind === 'stdin' ? [`  set -- $(wc -c < "$tmp"); [ "$1" = ${source.data.length} ] || exit 78`] : []),
    `  sync -- "$tmp" 2>/dev/null || sync`,
    'fi',
  );
  return lines;
}

/** What replaceScript printed, as a result; a failure as ValidateError or HostOpError. */
function replaceResult(path: string, res: ExecResult): Omit<WriteResult, 'checksum'> {
  if (res.rc === 75) {
    const out = res.stdout.slice(res.stdout.indexOf('@@validate\n') + '@@validate\n'.length);
    const match = /\n@@validate-rc=(\d+)\n$/.exec(out);
    throw new ValidateError(match ? Number(match[1]) : 1, match ? out.slice(0, match.index) : out, res.stderr);
  }
  if (res.rc !== 0) throw new HostOpError(writeFailure(res.rc, path, res.stderr), res.rc, res.stdout, res.stderr);
  const backup = /^@@backup=(.*)$/m.exec(res.stdout);
  const final = res.stdout.split('@@final\n')[1] ?? '';
  const stat = parseStatRecord(path, final.split(`${RECORD}\n`)[1] ?? '', res.stderr);
  return { stat, ...(backup ? { backupFile: Buffer.from(backup[1]!, 'base64').toString('utf8') } : {}) };
}

/** Runs of 2 or more consecutive chained folder creations with the same attributes: start -> end. */
function mkdirRuns(chain: readonly ProbeThen[]): Map<number, number> {
  const runs = new Map<number, number>();
  const key = (t: ProbeThen) => (t.mkdir && !t.stdin ? JSON.stringify(t.mkdir.attrs) : undefined);
  for (let i = 0; i < chain.length; ) {
    const k = key(chain[i]!);
    let end = i + 1;
    while (k !== undefined && end < chain.length && key(chain[end]!) === k) end++;
    if (end - i >= 2) runs.set(i, end);
    i = end;
  }
  return runs;
}

/** The script mkdirs runs (also chained onto a probe by the file module). */
export function mkdirsScript(paths: readonly string[], attrs: FileAttributes = {}): string {
  // mkdir -m gives the exact mode (no umask) in the same program. With an owner or group and
  // a suid/sgid/sticky bit, chmod stays after chown as before (chown may clear those bits).
  const ids: FileAttributes = {
    ...(attrs.owner !== undefined ? { owner: attrs.owner } : {}),
    ...(attrs.group !== undefined ? { group: attrs.group } : {}),
  };
  const idsGiven = attrs.owner !== undefined || attrs.group !== undefined;
  const modeAtCreation = attrs.mode !== undefined && (!idsGiven || (attrs.mode & 0o7000) === 0);
  const mkdir = modeAtCreation ? `mkdir -m ${octal(attrs.mode!)} --` : 'mkdir --';
  const afterMkdir = modeAtCreation ? ids : attrs;
  const quoted = paths.map(shQuote);
  const lines = ['set -e'];
  const batch = paths.length > 1;
  if (batch) {
    // all missing (the usual case: callers ask for the missing ones, parents first): one
    // mkdir, one chown, one chgrp for all of them
    lines.push(`if ${quoted.map((q) => `[ ! -d ${q} ]`).join(' && ')}; then`, `${mkdir} ${quoted.join(' ')}`, ...attributeCommandsFor(quoted.join(' '), afterMkdir, true), 'else');
  }
  for (const q of quoted) {
    // one that exists already (made meanwhile) gets the attributes as before
    if (modeAtCreation) lines.push(`if [ -d ${q} ]; then`, ...attributeCommandsFor(q, attrs, true), 'else', `${mkdir} ${q}`, ...attributeCommandsFor(q, ids, true), 'fi');
    else lines.push(`[ -d ${q} ] || mkdir -- ${q}`, ...attributeCommandsFor(q, attrs, true));
  }
  if (batch) lines.push('fi');
  return lines.join('\n');
}

/** mkdirs' error message, without the host's stderr. */
export function mkdirsFailure(paths: readonly string[]): string {
  return `could not create directory ${paths[paths.length - 1]}`;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function attributeCommands(path: string, attrs: FileAttributes, follow: boolean, recurse = false): string[] {
  return attributeCommandsFor(shQuote(path), attrs, follow, recurse);
}

/** attributeCommands for paths already quoted (several: one program each for all of them). */
function attributeCommandsFor(p: string, attrs: FileAttributes, follow: boolean, recurse = false): string[] {
  const r = recurse ? '-R ' : '';
  const h = follow ? '' : '-h ';
  const out: string[] = [];
  if (attrs.owner !== undefined) out.push(`chown ${r}${h}-- ${shQuote(attrs.owner)} ${p}`);
  if (attrs.group !== undefined) out.push(`chgrp ${r}${h}-- ${shQuote(attrs.group)} ${p}`);
  // Linux cannot chmod a link itself; leave links alone unless following them.
  if (attrs.mode !== undefined) out.push(follow ? `chmod ${r}${octal(attrs.mode)} -- ${p}` : `[ -L ${p} ] || chmod ${r}${octal(attrs.mode)} -- ${p}`);
  return out;
}

/** The validate command as shell words: split like Ansible (no shell), %s → the temp file. */
function validateCommand(validate: string): string {
  const words = shlexSplit(validate);
  return words.map((w) => w.split('%s').map((part) => (part === '' ? '' : shQuote(part))).join('"$tmp"')).join(' ');
}

function writeFailure(rc: number, path: string, stderr: string): string {
  const detail = stderr.trim();
  const what: Record<number, string> = {
    70: `could not create a temporary file next to ${path}`,
    71: `could not write the temporary file for ${path}`,
    72: 'chown failed',
    73: 'chgrp failed',
    74: `could not back up ${path}`,
    76: `could not move the new file into place at ${path}`,
    77: 'chmod failed',
    78: `the data for ${path} arrived incomplete (the connection broke?); the old file is kept`,
  };
  return `${what[rc] ?? `writing ${path} failed (rc ${rc})`}${detail ? `: ${detail}` : ''}`;
}

function parseStatRecord(path: string, text: string, stderr: string): FileStat {
  const fields = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) fields.set(line.slice(0, eq), line.slice(eq + 1));
  }
  if (fields.get('exists') === '0') return absentStat(path);
  const stat = statFromFields(path, fields);
  if (!stat) throw new HostOpError(`could not stat ${path}: ${stderr.trim()}`, 1, text, stderr);
  return stat;
}
