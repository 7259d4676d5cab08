// A long-lived /bin/sh on the host that runs tsplay's own scripts one after another (issue 8).
//
// Every exec costs the host a new session: sshd forks, sets up the user, starts the login shell,
// which starts /bin/sh; each program started costs ~1 ms of host CPU, and 10 hosts share the
// controller's 2 cores in the lab. This shell is started once per connection (and become user)
// as `/bin/sh -s`, reading commands from the channel; a request is then one write and one reply
// on an open channel and costs the host one subshell and nothing else.
//
// Only scripts marked ExecOptions.ownScript come here: tsplay's file probes and writes, which
// start nothing that outlives them. A user's command could leave a process writing to the
// channel after its end marker; those keep their own session.
//
// A request is shell text: ONE brace group, so a request cut short by a lost connection is an
// unfinished command that never runs. Inside it the script is a single-quoted word run by
// `( eval ... )` (its exit, traps, cd and set -e stay in the subshell; a syntax error in it is
// its own rc 2), its stdin is /dev/null or data piped from the printf builtin (the shell reads
// ahead on its input, so no command may read the channel itself), and the end is marked by
// "NONCE RC\n" on stdout and "NONCE\n" on stderr. The nonce is 128 random bits: a script's
// output cannot contain it by accident. One difference from an exec: `$$` is the long-lived
// shell's PID, the same for every request (fine in names, never to be killed).
import { randomBytes } from 'node:crypto';
import type { Duplex, Readable } from 'node:stream';
import { shQuote } from './shell.js';

/** What a request gives back (as an exec does). */
export interface ShellResult {
  rc: number;
  stdout: Buffer;
  stderr: string;
}

/** The channel the shell runs on: its stdin/stdout, and stderr apart (an ssh2 session channel). */
export type ShellChannel = Duplex & { stderr: Readable; close?: () => void };

/** The command the channel runs (wrapped for become by the owner). */
export const PERSISTENT_SHELL_COMMAND = '/bin/sh -s';

/**
 * Stdin data up to this size is sent as printf escapes (up to 4 bytes a byte); bigger data goes
 * the way of a normal exec. A shell that reads its input a byte at a time (bash as /bin/sh)
 * pays for every byte.
 */
export const PERSISTENT_SHELL_MAX_STDIN = 64 * 1024;

const READY = 'tsplay-shell-ready';

/** The first thing the shell reads: what ends it, and the greeting. */
const PRELUDE = [`trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM`, `printf '%s\\n' ${READY}`, ''].join('\n');

/** The text of one request. */
export function requestText(script: string, stdin: Buffer | undefined, nonce: string): string {
  // stdin data comes from the request's own text through a pipe: nothing the script does (read
  // all, some or none of it) can touch the channel, and it is never written to the host's disk
  const feed = stdin && stdin.length > 0 ? `printf ${printfLiteral(stdin)} | ` : '';
  return [
    '{',
    `tsplay_sh_c=${shQuote(script)}`,
    `${feed}( eval "$tsplay_sh_c" )${feed ? '' : ' < /dev/null'}; tsplay_sh_rc=$?`,
    `printf '%s %s\\n' ${nonce} "$tsplay_sh_rc"`,
    `printf '%s\\n' ${nonce} >&2`,
    '}',
    '',
  ].join('\n');
}

/** `data` as a single-quoted printf format that prints exactly it: text stays text, the rest \ooo. */
export function printfLiteral(data: Buffer): string {
  let out = "'";
  let first = true;
  for (const byte of data) {
    // printable ASCII but the quote, backslash and percent sign; newline and tab as they are; a
    // leading dash escaped, or printf would read it as an option
    const plain = (byte >= 0x20 && byte <= 0x7e && byte !== 0x27 && byte !== 0x5c && byte !== 0x25) || byte === 0x0a || byte === 0x09;
    if (plain && !(first && byte === 0x2d)) out += String.fromCharCode(byte);
    else out += `\\${byte.toString(8).padStart(3, '0')}`;
    first = false;
  }
  return `${out}'`;
}

interface Pending {
  nonce: string;
  stdout: Buffer[];
  stderr: Buffer[];
  rc?: number;
  stderrDone: boolean;
  resolve: (r: ShellResult) => void;
  reject: (err: Error) => void;
}

export class PersistentShell {
  /** Resolves true once the host's loop said it is ready; false if it stopped instead. */
  readonly ready: Promise<boolean>;
  private isReady = false;
  private closed = false;
  /** It said something outside the protocol: closed, and not to be started again. */
  broken = false;
  private pending?: Pending;

  /** `onEnd` runs once when the channel has closed (the owner gives back its slot). */
  constructor(
    private readonly channel: ShellChannel,
    private readonly describeLoss: () => Error,
    onEnd: () => void,
  ) {
    let greeting: Buffer = Buffer.alloc(0);
    let readyResolve!: (ok: boolean) => void;
    this.ready = new Promise((resolve) => (readyResolve = resolve));
    channel.on('error', () => {}); // reported through 'close'
    channel.on('data', (chunk: Buffer) => {
      if (!this.isReady) {
        greeting = Buffer.concat([greeting, chunk]);
        if (greeting.toString('latin1') === `${READY}\n`) {
          this.isReady = true;
          readyResolve(true);
        } else if (greeting.length >= READY.length + 1) {
          this.fail(); // not our loop talking: never use it
        }
        return;
      }
      this.onStdout(chunk);
    });
    channel.stderr.on('data', (chunk: Buffer) => this.onStderr(chunk));
    channel.write(PRELUDE);
    channel.once('close', () => {
      this.closed = true;
      readyResolve(false);
      const pending = this.pending;
      this.pending = undefined;
      // a moment later: when the whole connection went, its loss is reported first (as unreachable)
      if (pending) setImmediate(() => pending.reject(this.describeLoss()));
      onEnd();
    });
  }

  /** Ready, open and not running anything: a request now starts at once. */
  get idle(): boolean {
    return this.isReady && !this.closed && !this.pending;
  }

  /** Whether it ever became ready. */
  get wasReady(): boolean {
    return this.isReady;
  }

  /** Run `script` (already prepared: env, cwd) with `stdin`; only when idle. */
  run(script: string, stdin: Buffer | undefined): Promise<ShellResult> {
    if (!this.idle) return Promise.reject(new Error('the persistent shell is busy or closed'));
    const nonce = `TSPLAYEND${randomBytes(16).toString('hex')}`;
    return new Promise<ShellResult>((resolve, reject) => {
      this.pending = { nonce, stdout: [], stderr: [], stderrDone: false, resolve, reject };
      this.channel.write(requestText(script, stdin, nonce), 'utf8');
    });
  }

  /** End the loop: its input ends, so the shell exits once any request it runs is done. */
  close(): void {
    if (this.closed) return;
    try {
      this.channel.end();
      this.channel.close?.();
    } catch {
      // closed already
    }
  }

  private fail(): void {
    this.broken = true;
    this.close();
  }

  private onStdout(chunk: Buffer): void {
    const p = this.pending;
    if (!p || p.rc !== undefined) {
      // output outside a request: something still writes to the channel; never trust it again
      this.fail();
      return;
    }
    p.stdout.push(chunk);
    if (chunk[chunk.length - 1] !== 0x0a) return; // the marker ends a line
    // "NONCE RC\n" is the last thing printed: look at the end only (a big output comes in many chunks)
    const tail = tailOf(p.stdout, p.nonce.length + 5).toString('latin1');
    const at = tail.lastIndexOf(`${p.nonce} `);
    if (at < 0) return;
    const m = /^(\d+)\n$/.exec(tail.slice(at + p.nonce.length + 1));
    if (!m) {
      this.fail();
      return;
    }
    const all = Buffer.concat(p.stdout);
    p.stdout = [all.subarray(0, all.length - (tail.length - at))];
    p.rc = Number(m[1]);
    this.finish(p);
  }

  private onStderr(chunk: Buffer): void {
    const p = this.pending;
    if (!p || p.stderrDone) {
      this.fail();
      return;
    }
    p.stderr.push(chunk);
    if (chunk[chunk.length - 1] !== 0x0a) return;
    const marker = `${p.nonce}\n`;
    if (tailOf(p.stderr, marker.length).toString('latin1') !== marker) return;
    const all = Buffer.concat(p.stderr);
    p.stderr = [all.subarray(0, all.length - marker.length)];
    p.stderrDone = true;
    this.finish(p);
  }

  private finish(p: Pending): void {
    if (p.rc === undefined || !p.stderrDone || this.pending !== p) return;
    this.pending = undefined;
    p.resolve({ rc: p.rc, stdout: Buffer.concat(p.stdout), stderr: Buffer.concat(p.stderr).toString('utf8') });
  }
}

/** The last `n` bytes of `chunks` (fewer when there are fewer), copying no more than that. */
function tailOf(chunks: readonly Buffer[], n: number): Buffer {
  const parts: Buffer[] = [];
  let need = n;
  for (let i = chunks.length - 1; i >= 0 && need > 0; i--) {
    const c = chunks[i]!;
    parts.unshift(c.subarray(Math.max(0, c.length - need)));
    need -= c.length;
  }
  return Buffer.concat(parts);
}
