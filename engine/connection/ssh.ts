// The ssh transport (ssh2): ONE client per host for the whole run, opened on first use; every
// exec is `/bin/sh -c 'SCRIPT'` on a session channel taken from an adaptive channel limit,
// except tsplay's own scripts, which go to a long-lived shell once it is up (persistent-shell.ts);
// host keys checked against known_hosts (ssh2 itself would trust any key); keepalive and a
// connect timeout so a dead host is unreachable within seconds; jump hosts shared between
// every target behind them.
import { lookup } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, AuthenticationType, ClientChannel, ConnectConfig, Client as ClientType, PseudoTtyOptions, SFTPWrapper } from 'ssh2';
import { ChannelLimit } from './channel-limit.js';
import { PERSISTENT_SHELL_COMMAND, PERSISTENT_SHELL_MAX_STDIN, PersistentShell } from './persistent-shell.js';
import { SftpSession } from './sftp-session.js';
import { checkHostKey, fingerprintSha256, knownHostName, knownKeyTypes, loadKnownHosts, recordHostKey } from './known-hosts.js';
import type { ExecBufferResult } from './local.js';
import { BecomeStdinFeeder, isSuWithPassword, prepareScript, shQuote, SU_PROMPT_TIMEOUT_MS, SuPasswordExchange, wrapBecome, wrapSuWithPassword } from './shell.js';
import { hopLabel, resolveSshTarget, type SshHop, type SshTarget } from './ssh-options.js';
import { CommandTimeoutError, TransferError, UnreachableError, type BecomeOptions, type CommandGuard, type Connection, type ExecOptions, type ExecResult } from './types.js';

const { Client, utils } = ssh2;

export interface SshConnectionOptions {
  /** Asked for the passphrase of an encrypted key when no variable gives one. */
  askPassphrase?: (keyFile: string) => Promise<string | undefined>;
  /** ~/.ssh/config path (default $TSPLAY_SSH_CONFIG or ~/.ssh/config). */
  sshConfigPath?: string;
}

/** Everything needed to log in to one hop; a jump host gets the target's agent but never its password. */
interface LoginSecrets {
  password?: string;
  passphrase?: string;
  agentSocket?: string;
  askPassphrase?: (keyFile: string) => Promise<string | undefined>;
}

/** Host key settings shared by a target and its jump hosts. */
interface HostKeySettings {
  policy: SshTarget['hostKeyPolicy'];
  knownHostsFiles: string[];
  hash: boolean;
}

const SESSION_OPEN_RETRIES = 40;

/** The PTY for su with a password: no echo (the password and typed stdin never come back), no CR added. */
const SU_PTY: PseudoTtyOptions = { term: 'dumb', cols: 200, rows: 24, modes: { ECHO: 0, ECHONL: 0, ONLCR: 0, ICANON: 1 } };

/** The long-lived SFTP session of a connection, with the channel slot it holds. */
interface SftpHandle {
  session: SftpSession;
  client: ClientType;
  release: () => void;
  /** Rejecters of transfers in flight on this session, failed when its channel closes. */
  lost: Set<(err: Error) => void>;
}

/** Where openSession keeps a channel's exit status, recorded as soon as the channel exists. */
const EXIT_STATUS = Symbol('exitStatus');
type ExitRecorded = ClientChannel & { [EXIT_STATUS]?: number };

/** An open session channel with the channel slot it holds. */
interface OpenedSession {
  channel: ClientChannel;
  release: () => void;
}

/** The long-lived shell of one become user on one client (see persistent-shell.ts). */
interface ShellEntry {
  client: ClientType;
  shell?: PersistentShell;
  /** It could not start on this client (channel or exec refused, sudo said no): execs do not try again. */
  failed: boolean;
}

/** A session channel opened ahead of need (no request sent yet), for the next exec on `client`. */
interface SpareSession {
  client: ClientType;
  /** Take it for an exec; undefined: the open failed (the exec opens its own channel). */
  take: () => Promise<OpenedSession | undefined>;
  /** Close it unused (its slot is given back when the server confirms the close). */
  drop: () => void;
}

export class SshConnection implements Connection {
  readonly transport = 'ssh';
  private target?: SshTarget;
  private client?: ClientType;
  private connecting?: Promise<ClientType>;
  private limit?: ChannelLimit;
  private jumpLease?: JumpLease;
  private closed = false;
  /** Rejecters of commands in flight, failed when the connection drops. */
  private readonly inFlight = new Set<(err: Error) => void>();
  /** Guards holding a channel: released early when work needs their slots. */
  private readonly guards = new Set<CommandGuard>();
  /** ONE SFTP session per connection, opened on first transfer, reused, reopened if it died. */
  private sftpOpening?: Promise<SftpHandle>;
  private sftpHandle?: SftpHandle;
  /** The server has no SFTP subsystem (or refused it): transfers fall back to exec. */
  private sftpUnavailable?: string;
  /** How many SFTP sessions this connection opened (1 for a whole run, unless one died). */
  sftpSessionsOpened = 0;
  /** The pre-opened session channel the next exec takes (hides the channel-open round trip). */
  private spare?: SpareSession;
  /** Long-lived shells for tsplay's own scripts, by become user (persistent-shell.ts). */
  private readonly shells = new Map<string, ShellEntry>();
  /** Requests the long-lived shells served (the play benchmark counts them). */
  shellRequests = 0;

  constructor(
    readonly host: string,
    private readonly vars: Record<string, unknown> = {},
    private readonly options: SshConnectionOptions = {},
  ) {}

  /** The resolved settings (read on first use: vars may be templated lazily). */
  settings(): SshTarget {
    this.target ??= resolveSshTarget(this.host, this.vars, this.options.sshConfigPath ? { configPath: this.options.sshConfigPath } : {});
    return this.target;
  }

  /** The channel limit in force (lowered when the server refused channels). */
  get channelLimit(): number {
    return this.limit?.limit ?? this.settings().maxSessions;
  }

  async connect(): Promise<void> {
    await this.ensureClient();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.dropSpare();
    this.dropSftp();
    this.dropShells(false);
    const client = this.client;
    this.client = undefined;
    if (client) await endClient(client);
    this.jumpLease?.release();
    this.jumpLease = undefined;
  }

  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.execBuffer(script, opts);
    return { rc: result.rc, stdout: result.stdout.toString('utf8'), stderr: result.stderr };
  }

  async execBuffer(script: string, opts: ExecOptions = {}): Promise<ExecBufferResult> {
    const stdin = opts.stdin === undefined ? undefined : Buffer.isBuffer(opts.stdin) ? opts.stdin : Buffer.from(opts.stdin, 'utf8');
    if (isSuWithPassword(opts.become)) return this.execSuWithPassword(prepareScript(script, opts), opts, stdin);
    const viaShell = opts.ownScript ? this.runInShell(script, opts, stdin) : undefined;
    if (viaShell) return viaShell;
    const plan = wrapBecome(prepareScript(script, opts), opts.become);
    // the login shell parses this line; /bin/sh then runs the script, whatever the login shell is
    const command = `/bin/sh -c ${shQuote(plan.script)}`;
    const client = await this.ensureClient();
    const { channel, release } = await this.openSession(client, command);

    return new Promise<ExecBufferResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        if (timer) clearTimeout(timer);
        this.inFlight.delete(lost);
        fn();
      };
      const lost = (err: Error) => settle(() => reject(err));
      this.inFlight.add(lost);

      const feeder = new BecomeStdinFeeder(plan, stdin, {
        write: (data) => channel.write(data),
        end: () => channel.end(),
      });
      channel.on('error', () => {}); // a write after the remote closed is not our error
      channel.on('data', (chunk: Buffer) => stdout.push(chunk));
      channel.stderr.on('data', (chunk: Buffer) => {
        const own = feeder.onStderr(chunk);
        if (own.length > 0) stderr.push(own);
      });
      channel.on('close', () => {
        release();
        const exitCode = (channel as ExitRecorded)[EXIT_STATUS];
        if (exitCode === undefined) {
          // no exit status: the connection went away under the command
          settle(() => reject(this.lostError('the connection was lost while a command was running')));
          return;
        }
        const rest = feeder.flush();
        if (rest.length > 0) stderr.push(rest);
        const rc = exitCode;
        settle(() => resolve({ rc, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') }));
      });
      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        const ms = opts.timeoutMs;
        timer = setTimeout(() => {
          settle(() => reject(new CommandTimeoutError(`The command timed out after ${ms} ms`, ms)));
          try {
            channel.signal('KILL');
          } catch {
            // the channel may be closing already
          }
          channel.close();
        }, ms);
      }
      feeder.start();
    });
  }

  /**
   * su with a password: su reads it from a terminal, so this exec gets a PTY. The exchange
   * (prompt, password, marker, stdin as base64, stderr kept apart) is SuPasswordExchange's;
   * here: the channel, and a bounded wait so a su that never accepts is a failure, not a hang.
   */
  private async execSuWithPassword(script: string, opts: ExecOptions, stdin: Buffer | undefined): Promise<ExecBufferResult> {
    const plan = wrapSuWithPassword(script, opts.become as NonNullable<ExecOptions['become']> & { password: string }, stdin);
    const client = await this.ensureClient();
    const { channel, release } = await this.openSession(client, `/bin/sh -c ${shQuote(plan.script)}`, SU_PTY);
    return new Promise<ExecBufferResult>((resolve, reject) => {
      let settled = false;
      let becomeTimedOut = false;
      const timers: NodeJS.Timeout[] = [];
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        this.inFlight.delete(lost);
        fn();
      };
      const lost = (err: Error) => settle(() => reject(err));
      this.inFlight.add(lost);
      const kill = () => {
        try {
          channel.signal('KILL');
        } catch {
          // closing already
        }
        channel.close();
      };
      const exchange = new SuPasswordExchange(plan, { write: (data) => channel.write(data), end: () => channel.end() });
      channel.on('error', () => {});
      channel.on('data', (chunk: Buffer) => exchange.onOutput(chunk));
      channel.stderr.on('data', (chunk: Buffer) => exchange.onOutput(chunk)); // a PTY has none; just in case
      channel.on('close', () => {
        release();
        const exitCode = (channel as ExitRecorded)[EXIT_STATUS];
        if (becomeTimedOut) {
          const said = exchange.suMessage();
          const secs = Math.round(SU_PROMPT_TIMEOUT_MS / 1000);
          settle(() => resolve({ rc: 1, stdout: Buffer.alloc(0), stderr: `Timeout (${secs}s) waiting for privilege escalation prompt${said ? `: ${said}` : ''}` }));
          return;
        }
        if (exitCode === undefined) {
          settle(() => reject(this.lostError('the connection was lost while a command was running')));
          return;
        }
        const rc = exitCode;
        settle(() => resolve(exchange.result(rc)));
      });
      // bounded: a su that neither runs the script nor exits (a prompt we cannot answer) is killed
      timers.push(
        setTimeout(() => {
          if (exchange.switched) return;
          becomeTimedOut = true;
          kill();
        }, SU_PROMPT_TIMEOUT_MS),
      );
      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        const ms = opts.timeoutMs;
        timers.push(
          setTimeout(() => {
            settle(() => reject(new CommandTimeoutError(`The command timed out after ${ms} ms`, ms)));
            kill();
          }, ms),
        );
      }
    });
  }

  /**
   * See Connection.guard. sshd confirms an exec as soon as it forked, while the child is still
   * sshd (and dies with it): the script's first output byte says it really runs.
   */
  async guard(script: string): Promise<CommandGuard> {
    const client = await this.ensureClient();
    // a guard is an extra: it never takes one of the last two slots, and openChannel sheds
    // guards when anything else has to wait for a slot, so it can never deadlock the work
    const limit = (this.limit ??= new ChannelLimit(this.settings().maxSessions));
    // the pre-opened spare does not count: the guard takes it
    if (limit.inUse - (this.spare ? 1 : 0) + 2 > limit.limit) throw new TransferError('no spare channel for a guard', 'unavailable', '');
    const { channel, release } = await this.openSession(client, `/bin/sh -c ${shQuote(`printf .\n${script}`)}`);
    channel.on('error', () => {}); // the connection may die under it: that is what it is for
    channel.stderr.resume();
    await new Promise<void>((resolve) => {
      channel.once('data', () => {
        channel.resume(); // the rest of its output is not ours to read, but must not stall the channel
        resolve();
      });
      channel.once('close', () => {
        release();
        resolve();
      });
    });
    let released = false;
    const guard: CommandGuard = {
      release: () => {
        if (released) return;
        released = true;
        this.guards.delete(guard);
        try {
          channel.end('ok\n');
        } catch {
          // the channel closed already
        }
      },
    };
    this.guards.add(guard);
    return guard;
  }

  // ---------------------------------------------------------------- the long-lived shells

  /**
   * One of tsplay's own scripts in the become user's long-lived shell, when it is ready and
   * idle; undefined: run it as an exec (the first one on a connection starts the shell for the
   * next ones, so nobody waits for it). Not for a timeout (the shell cannot kill one request),
   * a become password (the shell is started without one) or big stdin data.
   */
  private runInShell(script: string, opts: ExecOptions, stdin: Buffer | undefined): Promise<ExecBufferResult> | undefined {
    if ((opts.timeoutMs ?? 0) > 0 || (opts.become?.password ?? '') !== '' || (stdin?.length ?? 0) > PERSISTENT_SHELL_MAX_STDIN) return undefined;
    const client = this.client;
    if (!client || this.closed) return undefined;
    const key = JSON.stringify(opts.become ? [opts.become.method, opts.become.user, opts.become.flags ?? null] : []);
    const entry = this.shells.get(key);
    if (!entry || entry.client !== client) {
      this.startShell(key, client, opts.become);
      return undefined;
    }
    const shell = entry.shell;
    if (!shell?.idle) return undefined; // starting, busy with another request, or could not start
    this.shellRequests++;
    return new Promise<ExecBufferResult>((resolve, reject) => {
      const lost = (err: Error) => reject(err);
      this.inFlight.add(lost);
      shell
        .run(prepareScript(script, opts), stdin)
        .then(resolve, reject)
        .finally(() => this.inFlight.delete(lost));
    });
  }

  /**
   * Start the long-lived shell for `key` on a channel of its own: only when another slot stays
   * free and nobody waits (as the spare session), so it never makes work wait; openChannel
   * closes idle shells when work needs their slots.
   */
  private startShell(key: string, client: ClientType, become: BecomeOptions | undefined): void {
    const limit = (this.limit ??= new ChannelLimit(this.settings().maxSessions));
    const slot = limit.tryAcquire(1);
    if (!slot) return;
    const entry: ShellEntry = { client, failed: false };
    this.shells.set(key, entry);
    const give = (failed: boolean) => {
      entry.failed = failed;
      // a shell that ended normally (closed while idle) may start again on the next request
      if (!failed && this.shells.get(key) === entry) this.shells.delete(key);
    };
    const command = wrapBecome(PERSISTENT_SHELL_COMMAND, become).script;
    try {
      openSessionChannel(client, (err, channel) => {
        if (err) {
          if (isSessionRefused(err)) slot.refused();
          else slot.release();
          give(true);
          return;
        }
        slot.opened();
        channel.on('error', () => {});
        execOnChannel(channel, command).then(
          () => {
            const shell = new PersistentShell(
              channel,
              () => (this.client === client ? new Error(`the shell tsplay keeps open on ${this.host} ended during the command`) : this.lostError('the connection was lost while a command was running')),
              () => {
                slot.release();
                if (entry.shell === shell) entry.shell = undefined;
                give(entry.failed || !shell.wasReady || shell.broken);
              },
            );
            void shell.ready.then((ok) => {
              if (ok && !this.closed && this.client === client) entry.shell = shell;
              else {
                entry.failed = !ok;
                shell.close();
              }
            });
          },
          () => {
            channel.close();
            slot.release();
            give(true);
          },
        );
      });
    } catch {
      slot.release(); // the connection is gone: ssh2 throws "Not connected"
      give(true);
    }
  }

  /** Close the long-lived shells (only the idle ones: their slots are wanted by work). */
  private dropShells(idleOnly: boolean): void {
    for (const entry of this.shells.values()) {
      if (entry.shell && (!idleOnly || entry.shell.idle)) entry.shell.close();
    }
  }

  // ---------------------------------------------------------------- SFTP transfers

  /** See Connection.putFile: runs as the login user, creates a new file only. */
  async putFile(data: Buffer | Readable, remotePath: string, mode = 0o600): Promise<void> {
    await this.withSftp(remotePath, (s) => s.put(data, remotePath, mode));
  }

  async getFile(remotePath: string): Promise<Buffer> {
    return this.withSftp(remotePath, (s) => s.get(remotePath));
  }

  async makeDir(remotePath: string, mode = 0o700): Promise<void> {
    await this.withSftp(remotePath, (s) => s.mkdir(remotePath, mode));
  }

  async removePath(remotePath: string, dir = false): Promise<void> {
    await this.withSftp(remotePath, (s) => (dir ? s.removeDir(remotePath) : s.remove(remotePath)));
  }

  async pathExists(remotePath: string): Promise<boolean> {
    return this.withSftp(remotePath, (s) => s.exists(remotePath));
  }

  /** Run one transfer on the session; a session that died under it is reported as lost (the next call reopens). */
  private async withSftp<T>(path: string, fn: (s: SftpSession) => Promise<T>): Promise<T> {
    const handle = await this.sftp(path);
    try {
      // ssh2 leaves SFTP requests pending when the connection dies under them: race the
      // transfer against the loss, as commands in flight do, so a dead host cannot hang it
      return await new Promise<T>((resolve, reject) => {
        const lost = (err: Error) => reject(err);
        this.inFlight.add(lost);
        handle.lost.add(lost);
        fn(handle.session)
          .then(resolve, reject)
          .finally(() => {
            this.inFlight.delete(lost);
            handle.lost.delete(lost);
          });
      });
    } catch (err) {
      if (this.client !== handle.client) throw this.lostError('the connection was lost during a file transfer');
      if (this.sftpHandle !== handle) throw new TransferError(`the sftp session closed during the transfer of ${path}`, 'lost', path);
      throw err;
    }
  }

  /** The SFTP session, opened on first use; it holds one channel slot for as long as it lives. */
  private sftp(path: string): Promise<SftpHandle> {
    if (this.sftpUnavailable) return Promise.reject(new TransferError(this.sftpUnavailable, 'unavailable', path));
    if (this.sftpHandle && this.client === this.sftpHandle.client) return Promise.resolve(this.sftpHandle);
    this.sftpOpening ??= this.openSftp(path).finally(() => {
      this.sftpOpening = undefined;
    });
    return this.sftpOpening;
  }

  private async openSftp(path: string): Promise<SftpHandle> {
    const client = await this.ensureClient();
    // a session holding the only slot would starve every exec: below 2 channels, no SFTP
    if (this.channelLimit < 2) throw new TransferError('the host allows only one session at a time', 'unavailable', path);
    let opened: { channel: SFTPWrapper; release: () => void };
    try {
      opened = await this.openChannel<SFTPWrapper>(client, (cb) => client.sftp(cb));
    } catch (err) {
      if (err instanceof UnreachableError && this.client === client) {
        // the server refused the subsystem (no sftp-server, or no Subsystem line)
        this.sftpUnavailable = `sftp is not available on ${this.host}: ${err.message}`;
        throw new TransferError(this.sftpUnavailable, 'unavailable', path);
      }
      throw err;
    }
    const handle: SftpHandle = { session: new SftpSession(opened.channel), client, release: opened.release, lost: new Set() };
    this.sftpSessionsOpened++;
    opened.channel.on('error', () => {}); // reported through the failed request and 'close'
    opened.channel.on('close', () => {
      opened.release();
      if (this.sftpHandle === handle) this.sftpHandle = undefined; // reopened on next use
      const err = new TransferError(`the sftp session on ${this.host} closed during a transfer`, 'lost', '');
      for (const reject of [...handle.lost]) reject(err);
    });
    if (this.closed || this.client !== client) {
      handle.session.end();
      throw this.lostError('the connection was closed');
    }
    this.sftpHandle = handle;
    return handle;
  }

  /** End the SFTP session (its slot is given back on close). */
  private dropSftp(): void {
    const handle = this.sftpHandle;
    this.sftpHandle = undefined;
    if (!handle) return;
    try {
      handle.session.end();
    } catch {
      // already closed
    }
    handle.release();
  }

  /**
   * A session channel running `command`, waiting for a slot; a refusal lowers the limit and
   * waits for the next slot. Without a PTY the channel is the spare opened during the previous
   * exec when there is one: sequential execs then cost one round trip (the exec request and its
   * answer) instead of two (BENCHMARKS.md, "Exec latency at 20 ms RTT").
   *
   * Not done, because it measured no gain: handing the channel over before CHANNEL_SUCCESS to
   * pipeline stdin. sshd opens a session with a zero window and grants it only with the exec,
   * so stdin waits for that WINDOW_ADJUST, which comes with CHANNEL_SUCCESS anyway.
   */
  private async openSession(client: ClientType, command: string, pty?: PseudoTtyOptions): Promise<OpenedSession> {
    if (pty) return this.openExecWithPty(client, command, pty);
    const opened = (await this.takeSpare(client)) ?? (await this.openChannel<ClientChannel>(client, (cb) => openSessionChannel(client, cb)));
    const started = execOnChannel(opened.channel, command);
    this.refillSpare(client); // opened while this exec's request travels
    try {
      await started;
    } catch (err) {
      opened.channel.close();
      opened.release();
      if (this.client !== client) throw this.lostError('the connection was lost');
      throw new UnreachableError(`Failed to open a session on ${this.host}: ${errorText(err)}`, this.host);
    }
    return opened;
  }

  /** The spare session for `client`, if one was opened (it may still be on its way). */
  private async takeSpare(client: ClientType): Promise<OpenedSession | undefined> {
    const spare = this.spare;
    if (!spare) return undefined;
    this.spare = undefined;
    if (spare.client !== client) {
      spare.drop();
      return undefined;
    }
    const opened = await spare.take();
    // it may have closed while idle (the server ended it): then open a fresh one
    if (opened && (opened.channel as unknown as { outgoing: { state: string } }).outgoing.state !== 'open') {
      opened.release();
      return undefined;
    }
    return opened;
  }

  /**
   * Open the next exec's session channel now, while this one runs: sequential work (a play's
   * tasks on one host) then never waits for a channel open. Only when nobody waits for a slot
   * and one more stays free, so a spare never makes work wait; anything that has to wait for a
   * slot drops it (openChannel).
   */
  private refillSpare(client: ClientType): void {
    if (this.spare || this.closed || this.client !== client || !this.limit) return;
    const slot = this.limit.tryAcquire(1);
    if (!slot) return;
    let channel: ClientChannel | undefined;
    let taken = false;
    let dropped = false;
    const opening = new Promise<OpenedSession | undefined>((resolve) => {
      const onOpen = (err: Error | undefined, opened: ClientChannel) => {
        if (err) {
          if (isSessionRefused(err)) slot.refused();
          else slot.release();
          resolve(undefined);
          return;
        }
        slot.opened();
        channel = opened;
        opened.on('error', () => {});
        opened.once('close', () => {
          if (this.spare === spare) this.spare = undefined;
          if (!taken) slot.release(); // a taken spare's slot is released by its exec
        });
        if (dropped) opened.close();
        resolve(dropped ? undefined : { channel: opened, release: slot.release });
      };
      try {
        openSessionChannel(client, onOpen);
      } catch {
        slot.release(); // the connection is gone: ssh2 throws "Not connected"
        resolve(undefined);
      }
    });
    const spare: SpareSession = {
      client,
      take: () => {
        taken = true;
        return opening;
      },
      drop: () => {
        dropped = true;
        if (this.spare === spare) this.spare = undefined;
        channel?.close();
      },
    };
    this.spare = spare;
  }

  private dropSpare(): void {
    this.spare?.drop();
  }

  /** su with a password: ssh2's client.exec, which sends the pty-req first (waiting for each answer). */
  private openExecWithPty(client: ClientType, command: string, pty: PseudoTtyOptions): Promise<OpenedSession> {
    return this.openChannel<ClientChannel>(client, (cb) => {
      const opened = (err: Error | undefined, stream: ClientChannel) => {
        if (!err) {
          // ssh2 may parse the whole reply (data, exit-status, close) from one chunk before
          // the awaiting code runs: catch the exit status now, or it is lost (jump hosts
          // batch packets like that) and the command looks like a lost connection
          stream.once('exit', (code: number | null, signal?: string) => {
            (stream as ExitRecorded)[EXIT_STATUS] = code ?? 128 + signalNumber(signal);
          });
        }
        cb(err, stream);
      };
      client.exec(command, { pty }, opened);
    });
  }

  /** Any channel (exec or sftp) under the channel limit, retrying refusals (past the server's MaxSessions). */
  private async openChannel<C>(client: ClientType, open: (cb: (err: Error | undefined, channel: C) => void) => void): Promise<{ channel: C; release: () => void }> {
    const limit = (this.limit ??= new ChannelLimit(this.settings().maxSessions));
    for (let attempt = 1; ; attempt++) {
      // an idle SFTP session must not hold the last slot an exec needs
      if (limit.limit < 2 && this.sftpHandle) this.dropSftp();
      // nor may guards or the spare session hold slots work waits for (the limit may have dropped under them)
      if (limit.inUse >= limit.limit) {
        for (const guard of [...this.guards]) guard.release();
        this.dropSpare();
        this.dropShells(true);
      }
      const slot = await limit.acquire();
      try {
        const channel = await new Promise<C>((resolve, reject) => {
          open((err, stream) => (err ? reject(err) : resolve(stream)));
        });
        slot.opened();
        return { channel, release: slot.release };
      } catch (err) {
        if (!this.client || this.client !== client) {
          slot.release();
          throw this.lostError('the connection was lost');
        }
        if (isSessionRefused(err) && attempt < SESSION_OPEN_RETRIES) {
          // not lowered: the server is still tearing down a closed session; give it a moment
          if (!slot.refused()) await sleep(Math.min(10 * attempt, 200));
          continue;
        }
        slot.release();
        throw new UnreachableError(`Failed to open a session on ${this.host}: ${errorText(err)}`, this.host);
      }
    }
  }

  private lostError(what: string): UnreachableError {
    const t = this.target;
    const where = t ? ` (${hopLabel(t)})` : '';
    return new UnreachableError(`Failed to connect to the host via ssh${where}: ${what}`, this.host);
  }

  private ensureClient(): Promise<ClientType> {
    if (this.client) return Promise.resolve(this.client);
    if (this.connecting) return this.connecting;
    this.closed = false;
    this.connecting = this.openClient().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async openClient(): Promise<ClientType> {
    let target: SshTarget;
    try {
      target = this.settings();
    } catch (err) {
      throw new UnreachableError(errorText(err), this.host);
    }
    const hostKeys: HostKeySettings = { policy: target.hostKeyPolicy, knownHostsFiles: target.knownHostsFiles, hash: target.hashKnownHosts };
    const secrets: LoginSecrets = {
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.passphrase !== undefined ? { passphrase: target.passphrase } : {}),
      ...(target.agentSocket ? { agentSocket: target.agentSocket } : {}),
      ...(this.options.askPassphrase ? { askPassphrase: this.options.askPassphrase } : {}),
    };
    let sock: Duplex | undefined;
    if (target.jumps.length > 0) {
      this.jumpLease?.release();
      const lease = await leaseJumpChain(this.host, target, hostKeys, secrets, target);
      this.jumpLease = lease;
      try {
        sock = await forwardTo(lease.client, target.host, target.port);
      } catch (err) {
        throw new UnreachableError(
          `Failed to connect to the host via ssh: connect to host ${target.host} port ${target.port} via ${lease.label}: ${errorText(err)}`,
          this.host,
        );
      }
    }
    const client = await login(this.host, target, hostKeys, secrets, sock);
    if (this.closed) {
      await endClient(client);
      throw this.lostError('the connection was closed');
    }
    client.on('close', () => {
      if (this.client !== client) return;
      this.client = undefined; // the next NEW operation may reconnect once; those in flight fail
      this.dropSpare();
      const err = this.lostError('the connection was lost');
      for (const reject of [...this.inFlight]) reject(err);
    });
    this.client = client;
    return client;
  }
}

// ---------------------------------------------------------------- login

/** Connect and authenticate one hop, directly or over `sock` (a channel through a jump host). */
async function login(inventoryHost: string, hop: SshHop, hostKeys: HostKeySettings, secrets: LoginSecrets, sock?: Duplex, timeouts?: SshTarget): Promise<ClientType> {
  const t = timeouts ?? (hop as SshTarget);
  let address = hop.host;
  const names = [knownHostName(hop.host, hop.port)];
  if (!sock && !isIP(hop.host)) {
    try {
      address = (await lookup(hop.host)).address;
    } catch {
      throw new UnreachableError(`Failed to connect to the host via ssh: Could not resolve hostname ${hop.host}: Name or service not known`, inventoryHost);
    }
    names.push(knownHostName(address, hop.port));
  }
  const entries = hostKeys.policy === 'off' ? [] : loadKnownHosts(hostKeys.knownHostsFiles);
  let hostKeyProblem: string | undefined;
  const hostVerifier = (key: Buffer): boolean => {
    if (hostKeys.policy === 'off') return true;
    const result = checkHostKey(entries, names, key);
    const fp = fingerprintSha256(key);
    switch (result.status) {
      case 'match':
        return true;
      case 'revoked':
        hostKeyProblem = `the host key for ${names[0]} (${fp}) is marked as revoked in ${result.entry.file}:${result.entry.line}`;
        return false;
      case 'changed': {
        const stored = result.stored.map((s) => `${s.fingerprint} (${s.keyType}, ${s.file}:${s.line})`).join(', ');
        const first = result.stored[0]!;
        hostKeyProblem =
          `REMOTE HOST IDENTIFICATION HAS CHANGED for ${names[0]}: the server presented ${fp}, ` +
          `known_hosts has ${stored}. If the change is expected, remove the old key ` +
          `(ssh-keygen -R ${shQuote(names[0]!)} -f ${shQuote(first.file)}, line ${first.line}) and run again.`;
        return false;
      }
      case 'unknown':
        if (hostKeys.policy === 'strict') {
          hostKeyProblem = `host key verification failed: no ${keyTypeLabel(key)} key for ${names[0]} in ${hostKeys.knownHostsFiles[0]} and host key checking is strict (server presented ${fp})`;
          return false;
        }
        try {
          recordHostKey(hostKeys.knownHostsFiles[0]!, names[0]!, key, { hash: hostKeys.hash });
        } catch (err) {
          hostKeyProblem = `cannot record the new host key for ${names[0]} (${fp}) in ${hostKeys.knownHostsFiles[0]}: ${errorText(err)}`;
          return false;
        }
        return true;
    }
  };
  const tried = new Set<string>();
  const methods = await authMethods(hop, secrets);
  const config: ConnectConfig = {
    host: address,
    port: hop.port,
    username: hop.user,
    readyTimeout: t.connectTimeoutMs,
    keepaliveInterval: t.keepaliveIntervalMs,
    keepaliveCountMax: t.keepaliveCountMax,
    hostVerifier,
    authHandler: (authsLeft, _partial, next) => {
      const allowed = authsLeft ? new Set<string>(authsLeft) : undefined;
      while (methods.length > 0) {
        const m = methods.shift()!;
        const wire = m.type === 'agent' ? 'publickey' : m.type;
        if (allowed && !allowed.has(wire)) continue;
        tried.add(wire);
        next(m);
        return;
      }
      next(false as unknown as AuthenticationType);
    },
    ...(sock ? { sock } : {}),
  };
  // offer the key types known_hosts has for this host first, as OpenSSH does
  const known = knownKeyTypes(entries, names);
  if (known.length > 0) config.algorithms = { serverHostKey: hostKeyAlgorithmsPreferring(known) as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"] };

  return new Promise<ClientType>((resolve, reject) => {
    const client = new Client();
    let ready = false;
    client.on('ready', () => {
      ready = true;
      resolve(client);
    });
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (ready) return; // after login, loss is reported through 'close'
      reject(new UnreachableError(`Failed to connect to the host via ssh: ${describeLoginError(err, hop, tried, hostKeyProblem)}`, inventoryHost));
      client.end();
    });
    client.on('close', () => {
      if (!ready) reject(new UnreachableError(`Failed to connect to the host via ssh: ${hostKeyProblem ?? `connection to ${hopLabel(hop)} closed during login`}`, inventoryHost));
    });
    try {
      client.connect(config);
      // ssh2 leaves Nagle on: each channel close then waits for a 40 ms delayed ACK before the
      // next channel can open (BENCHMARKS.md, "Connections"): 48 ms per command instead of 5
      client.setNoDelay(true);
    } catch (err) {
      reject(new UnreachableError(`Failed to connect to the host via ssh: ${errorText(err)}`, inventoryHost));
    }
  });
}

function keyTypeLabel(key: Buffer): string {
  const len = key.readUInt32BE(0);
  return key.subarray(4, 4 + len).toString('latin1');
}

const ALL_HOST_KEY_ALGOS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

function hostKeyAlgorithmsPreferring(keyTypes: string[]): string[] {
  // an ssh-rsa key is negotiated as rsa-sha2-*; prefer those for a known RSA key
  const preferred = ALL_HOST_KEY_ALGOS.filter((a) => keyTypes.includes(a) || (keyTypes.includes('ssh-rsa') && a.startsWith('rsa-sha2')));
  return [...preferred, ...ALL_HOST_KEY_ALGOS.filter((a) => !preferred.includes(a))];
}

/** OpenSSH's order: publickey (agent keys, then key files), keyboard-interactive, password. */
async function authMethods(hop: SshHop, secrets: LoginSecrets): Promise<AnyAuthMethod[]> {
  const username = hop.user;
  const methods: AnyAuthMethod[] = [];
  if (secrets.agentSocket && !hop.identitiesOnly) methods.push({ type: 'agent', username, agent: secrets.agentSocket });
  for (const file of hop.identityFiles) {
    let data: Buffer;
    try {
      data = readFileSync(file);
    } catch {
      continue; // OpenSSH skips identity files that do not exist
    }
    let passphrase = secrets.passphrase;
    let parsed = utils.parseKey(data, passphrase);
    if (parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message) && passphrase === undefined && secrets.askPassphrase) {
      passphrase = await secrets.askPassphrase(file);
      if (passphrase !== undefined) parsed = utils.parseKey(data, passphrase);
    }
    if (parsed instanceof Error) continue; // unreadable or wrong passphrase: try the next method
    methods.push({ type: 'publickey', username, key: data, ...(passphrase !== undefined ? { passphrase } : {}) });
  }
  if (secrets.password !== undefined) {
    const password = secrets.password;
    methods.push({
      type: 'keyboard-interactive',
      username,
      prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map(() => password)),
    });
    methods.push({ type: 'password', username, password });
  }
  return methods;
}

function describeLoginError(err: Error & { level?: string; code?: string }, hop: SshHop, tried: Set<string>, hostKeyProblem: string | undefined): string {
  if (hostKeyProblem) return hostKeyProblem;
  const where = `connect to host ${hop.host} port ${hop.port}`;
  if (err.level === 'client-authentication') {
    const list = tried.size > 0 ? [...tried].join(', ') : 'none: no key, agent or password available';
    return `authentication failed for ${hopLabel(hop)} (tried: ${list}): Permission denied`;
  }
  if (err.level === 'client-timeout') return `${where}: Connection timed out`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${where}: Connection refused`;
    case 'EHOSTUNREACH':
      return `${where}: No route to host`;
    case 'ENETUNREACH':
      return `${where}: Network is unreachable`;
    case 'ETIMEDOUT':
      return `${where}: Connection timed out`;
    case 'ECONNRESET':
      return `${where}: Connection reset by peer`;
  }
  return `${where}: ${errorText(err)}`;
}

// ---------------------------------------------------------------- jump hosts

/** A shared, reference-counted connection to the last hop of a jump chain. */
interface JumpEntry {
  label: string;
  client: Promise<ClientType>;
  refs: number;
}

interface JumpLease {
  client: ClientType;
  label: string;
  release(): void;
}

/** Jump connections by chain ("u@a:22>u@b:22"): ten targets behind one bastion share one connection. */
const jumpConnections = new Map<string, JumpEntry>();

async function leaseJumpChain(inventoryHost: string, target: SshTarget, hostKeys: HostKeySettings, secrets: LoginSecrets, timeouts: SshTarget): Promise<JumpLease> {
  // a bastion gets the agent and key passphrase, never the target's password
  const hopSecrets: LoginSecrets = {
    ...(secrets.agentSocket ? { agentSocket: secrets.agentSocket } : {}),
    ...(secrets.passphrase !== undefined ? { passphrase: secrets.passphrase } : {}),
    ...(secrets.askPassphrase ? { askPassphrase: secrets.askPassphrase } : {}),
  };
  let previous: ClientType | undefined;
  const held: JumpEntry[] = [];
  const releaseAll = () => {
    for (const entry of held.splice(0)) releaseJump(entry);
  };
  try {
    for (let i = 0; i < target.jumps.length; i++) {
      const hop = target.jumps[i]!;
      const key = target.jumps.slice(0, i + 1).map(hopLabel).join('>');
      let entry = jumpConnections.get(key);
      if (!entry) {
        const via = previous;
        const created: JumpEntry = {
          label: hopLabel(hop),
          refs: 0,
          client: (async () => {
            let sock: Duplex | undefined;
            if (via) {
              try {
                sock = await forwardTo(via, hop.host, hop.port);
              } catch (err) {
                throw new UnreachableError(`Failed to connect to the jump host ${hopLabel(hop)}: ${errorText(err)}`, inventoryHost);
              }
            }
            const client = await login(inventoryHost, hop, hostKeys, hopSecrets, sock, timeouts).catch((err: unknown) => {
              throw new UnreachableError(`${errorText(err)} (jump host ${hopLabel(hop)})`, inventoryHost);
            });
            // a dead bastion is forgotten, so the next target reconnects instead of reusing it
            client.on('close', () => {
              if (jumpConnections.get(key) === created) jumpConnections.delete(key);
            });
            return client;
          })(),
        };
        created.client.catch(() => {
          if (jumpConnections.get(key) === created) jumpConnections.delete(key);
        });
        jumpConnections.set(key, created);
        entry = created;
      }
      entry.refs++;
      held.push(entry);
      previous = await entry.client;
    }
  } catch (err) {
    releaseAll();
    throw err;
  }
  return { client: previous!, label: `jump host ${target.jumps.map(hopLabel).join(',')}`, release: releaseAll };
}

function releaseJump(entry: JumpEntry): void {
  entry.refs--;
  if (entry.refs > 0) return;
  for (const [key, e] of jumpConnections) if (e === entry) jumpConnections.delete(key);
  entry.client.then(endClient, () => {});
}

/** A direct-tcpip channel from `client` to host:port (the bastion resolves the name). */
function forwardTo(client: ClientType, host: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => (err ? reject(err) : resolve(stream)));
  });
}

// ---------------------------------------------------------------- ssh2 internals: session open and pipelined exec

// ssh2 1.x has no public way to open a session channel without sending a request on it (which
// the spare session needs); these two functions do what its client.exec does (lib/client.js
// openChannel and reqExec), split in two. Covered by spec/lab/ssh-*.test.ts.
/** ssh2's window and packet size (lib/Channel.js): its CHANNEL_OPEN_CONFIRMATION handler assumes them. */
const SSH2_MAX_WINDOW = 2 * 1024 * 1024;
const SSH2_PACKET_SIZE = 32 * 1024;

interface Ssh2ClientInternals {
  _chanMgr: { add(cb: ((err: Error | undefined, channel: ClientChannel) => void) & { type: string }): number };
  _protocol: { session(localId: number, window: number, packetSize: number): void; exec(remoteId: number, command: string, wantReply: boolean): void };
}
interface Ssh2ChannelInternals {
  _callbacks: Array<(hadErr: boolean | Error) => void>;
  outgoing: { id: number; state: string };
  subtype?: string;
  allowHalfOpen: boolean;
}

/** CHANNEL_OPEN "session": `cb` gets the channel on CHANNEL_OPEN_CONFIRMATION (or the refusal). */
function openSessionChannel(client: ClientType, cb: (err: Error | undefined, channel: ClientChannel) => void): void {
  const internals = client as unknown as Ssh2ClientInternals;
  const wrapper = Object.assign((err: Error | undefined, channel: ClientChannel) => cb(err, channel), { type: 'session' });
  const localId = internals._chanMgr.add(wrapper);
  if (localId === -1) {
    cb(new Error('No free channels available'), undefined as unknown as ClientChannel);
    return;
  }
  internals._protocol.session(localId, SSH2_MAX_WINDOW, SSH2_PACKET_SIZE);
}

/**
 * The exec request on an open session channel; resolves on CHANNEL_SUCCESS. The exit status is
 * caught from the start (ssh2 may parse data, exit-status and close from one chunk before the
 * caller's listeners exist: jump hosts batch packets like that).
 */
function execOnChannel(channel: ClientChannel, command: string): Promise<void> {
  const chan = channel as unknown as Ssh2ChannelInternals;
  channel.once('exit', (code: number | null, signal?: string) => {
    (channel as ExitRecorded)[EXIT_STATUS] = code ?? 128 + signalNumber(signal);
  });
  return new Promise<void>((resolve, reject) => {
    // ssh2 answers a channel's requests in order, and fails them all when the channel closes
    chan._callbacks.push((hadErr) => (hadErr ? reject(hadErr instanceof Error ? hadErr : new Error('Unable to exec')) : resolve()));
    chan.subtype = 'exec';
    chan.allowHalfOpen = true;
    (channel as unknown as { _client: Ssh2ClientInternals })._client._protocol.exec(chan.outgoing.id, command, true);
  });
}

// ---------------------------------------------------------------- helpers

function endClient(client: ClientType): Promise<void> {
  return new Promise((resolve) => {
    const done = setTimeout(() => {
      client.destroy();
      resolve();
    }, 2000);
    done.unref();
    client.once('close', () => {
      clearTimeout(done);
      resolve();
    });
    client.end();
  });
}

/** "open failed" (administratively prohibited) or resource shortage: past the server's MaxSessions. */
function isSessionRefused(err: unknown): boolean {
  const reason = (err as { reason?: unknown }).reason;
  return reason === 2 || reason === 4 || /open failed/i.test(errorText(err));
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/^\(SSH\) /, '');
  return String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function signalNumber(signal: string | undefined): number {
  const numbers: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, ILL: 4, ABRT: 6, FPE: 8, KILL: 9, SEGV: 11, PIPE: 13, ALRM: 14, TERM: 15, USR1: 10, USR2: 12 };
  return numbers[(signal ?? '').replace(/^SIG/, '')] ?? 0;
}
