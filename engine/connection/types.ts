// The connection interface every transport implements (local now, ssh next).
// A connection only runs shell scripts and streams bytes; file operations (stat, read,
// atomic write) are built once on top of exec in host-ops.ts, so every transport
// behaves the same and needs nothing on the target but a POSIX shell.
import type { Readable } from 'node:stream';

export interface BecomeOptions {
  /** sudo (default) or su. */
  method: 'sudo' | 'su';
  /** Target user, default root. */
  user: string;
  /** Password for sudo/su; sent on stdin, never on a command line. */
  password?: string;
  /** Extra flags for the become method. */
  flags?: string;
}

export interface ExecOptions {
  /** Bytes written to the command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /** Extra environment for the command (exported inside the script, so it survives become). */
  env?: Record<string, string>;
  /** Working directory; the script fails with rc 1 if it does not exist. */
  cwd?: string;
  become?: BecomeOptions;
  /** Kill the command and reject with a timeout error after this many ms. */
  timeoutMs?: number;
  /**
   * The script is one of tsplay's own (file probes and writes, host-ops.ts): it starts nothing
   * that outlives it and reads no more than `stdin`. A transport may run such a script in a
   * long-lived shell on the host instead of a new session (ssh: persistent-shell.ts).
   */
  ownScript?: boolean;
}

export interface ExecResult {
  rc: number;
  stdout: string;
  stderr: string;
}

export interface Connection {
  /** The inventory host name this connection serves. */
  readonly host: string;
  /** Transport name: 'local', 'ssh'. */
  readonly transport: string;
  /** Connect (idempotent); rejects with an UnreachableError. */
  connect(): Promise<void>;
  /**
   * Run a POSIX shell script (`sh -c script`) on the target.
   * A non-zero exit is not an error: it is returned in rc.
   */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Close the connection; safe to call twice. */
  close(): Promise<void>;

  // Optional file transfer (ssh: one long-lived SFTP session per host). These run as the
  // LOGIN user, never with become, and do no atomic replace: host-ops builds the guarantees
  // (temp file in the destination folder, validate, rename) on top. They reject with a
  // TransferError ('unavailable' when the host has no SFTP: callers fall back to exec) or
  // an UnreachableError when the connection is lost.

  /**
   * Create `remotePath`, which must not exist yet (O_CREAT|O_EXCL: nothing already there,
   * not even a symlink, is followed or replaced), with `mode` (default 0600), and write all
   * of `data` to it. A failed transfer removes the partial file.
   */
  putFile?(data: Buffer | Readable, remotePath: string, mode?: number): Promise<void>;
  /** The bytes of a regular file ('not-found', 'denied', 'not-regular' otherwise). */
  getFile?(remotePath: string): Promise<Buffer>;
  /** Create a folder with `mode` (default 0700); fails if anything exists at the path. */
  makeDir?(remotePath: string, mode?: number): Promise<void>;
  /** Remove a file, or an empty folder with `dir`; absent is fine. */
  removePath?(remotePath: string, dir?: boolean): Promise<void>;
  /** Whether anything (a dangling symlink too) exists at the path. */
  pathExists?(remotePath: string): Promise<boolean>;

  /**
   * A dead man's switch for work the controller must finish (ssh: an SFTP upload into a temp
   * file). Starts `script` as the login user, without become, and resolves once it runs; its
   * stdin stays open. release() sends one line and closes stdin, so the script's `read`
   * succeeds; when the connection dies first, the script's `read` sees end of file instead
   * and it can clean up on the host, where the controller no longer reaches.
   */
  guard?(script: string): Promise<CommandGuard>;
}

/** What Connection.guard gives back. */
export interface CommandGuard {
  /** Tell the script all went well (idempotent; a no-op once the connection is gone). */
  release(): void;
}

/** Why a transfer failed: the caller decides (null for not-found, fall back for unavailable). */
export type TransferErrorCode = 'not-found' | 'denied' | 'not-regular' | 'unavailable' | 'lost' | 'failed';

/** A putFile/getFile/... failed; `code` says why. */
export class TransferError extends Error {
  constructor(
    message: string,
    readonly code: TransferErrorCode,
    readonly path: string,
  ) {
    super(message);
    this.name = 'TransferError';
  }
}

/** The host could not be reached, or the connection was lost. Counts as UNREACHABLE. */
export class UnreachableError extends Error {
  constructor(
    message: string,
    readonly host: string,
  ) {
    super(message);
    this.name = 'UnreachableError';
  }
}

/** A command ran longer than its timeout. Counts as a task failure. */
export class CommandTimeoutError extends Error {
  constructor(
    message: string,
    readonly timeoutMs: number,
  ) {
    super(message);
    this.name = 'CommandTimeoutError';
  }
}
