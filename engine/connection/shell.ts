// Shell quoting and become wrapping, shared by every transport. Every value that goes into
// a script is quoted here, so a path with spaces, quotes, `$(...)` or newlines stays a path.
import { randomBytes } from 'node:crypto';
import { TsplayError } from '../errors.js';
import type { BecomeOptions, ExecOptions } from './types.js';

/**
 * POSIX single-quote a string: every byte inside single quotes is literal, and a single
 * quote is written as '\''. NUL cannot travel in a shell word, so it is refused.
 */
export function shQuote(s: string): string {
  if (s.includes('\0')) throw new TsplayError('INTERNAL', 'a shell argument cannot contain a NUL byte');
  if (s !== '' && /^[A-Za-z0-9_\/.,:+@%-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote each word and join with spaces. */
export function shJoin(words: readonly string[]): string {
  return words.map(shQuote).join(' ');
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The script with the working directory and environment set up front. Both are applied
 * inside the script so they survive become (sudo resets the environment) and work the same
 * over every transport. A missing cwd fails the script with rc 1, as ExecOptions promises.
 */
export function prepareScript(script: string, opts: Pick<ExecOptions, 'env' | 'cwd'> = {}): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(opts.env ?? {})) {
    if (!ENV_NAME.test(name)) throw new TsplayError('INTERNAL', `invalid environment variable name: ${JSON.stringify(name)}`);
    lines.push(`${name}=${shQuote(String(value))}; export ${name}`);
  }
  if (opts.cwd !== undefined) {
    lines.push(`cd -- ${shQuote(opts.cwd)} || { echo ${shQuote(`Unable to change directory to ${opts.cwd}`)} >&2; exit 1; }`);
  }
  return lines.length === 0 ? script : `${lines.join('\n')}\n${script}`;
}

/**
 * How to run a script as another user.
 *
 * With a sudo password the exchange is Ansible's: sudo prints `promptMarker` on stderr when
 * it wants the password; only then is `stdinPrefix` (the password line) written. The inner
 * shell prints `successMarker` on stderr before the script runs; only then is the real stdin
 * written. So a password is never handed to a command that did not ask for it (NOPASSWD,
 * cached credentials), and it never appears on a command line or in the environment.
 * BecomeStdinFeeder implements that exchange for any transport.
 */
export interface BecomePlan {
  script: string;
  /** The password line, written when promptMarker appears on stderr. */
  stdinPrefix?: string;
  promptMarker?: string;
  successMarker?: string;
}

const DEFAULT_SUDO_FLAGS = ['-H', '-S', '-n'];

function splitFlags(flags: string | undefined): string[] | undefined {
  if (flags === undefined || flags.trim() === '') return undefined;
  return flags.trim().split(/\s+/);
}

/**
 * Wrap a script for become. sudo: `sudo -H -S -n -u USER -- /bin/sh -c SCRIPT` (-n dropped
 * and a random prompt set when a password is given); a become user equal to the current
 * user still goes through sudo, as Ansible does. su: `su USER -c '/bin/sh -c SCRIPT'`,
 * passwordless only (su reads a password from a terminal, which a non-interactive exec has
 * not got; run as root, or use sudo).
 */
export function wrapBecome(script: string, become: BecomeOptions | undefined): BecomePlan {
  if (!become) return { script };
  const user = become.user || 'root';
  if (become.method === 'su') {
    if (become.password !== undefined && become.password !== '') {
      throw new TsplayError(
        'CONNECTION',
        'become_method su with a password needs a terminal, which tsplay does not allocate; use sudo, or connect as root for passwordless su',
      );
    }
    const flags = splitFlags(become.flags) ?? [];
    return { script: `su ${shJoin(flags)}${flags.length ? ' ' : ''}${shQuote(user)} -c ${shQuote(`/bin/sh -c ${shQuote(script)}`)}` };
  }
  if (become.method !== 'sudo') throw new TsplayError('CONNECTION', `unsupported become method: ${String(become.method)}`);
  let flags = splitFlags(become.flags) ?? DEFAULT_SUDO_FLAGS;
  const hasPassword = become.password !== undefined && become.password !== '';
  if (!hasPassword) {
    return { script: `sudo ${shJoin(flags)} -u ${shQuote(user)} -- /bin/sh -c ${shQuote(script)}` };
  }
  const token = randomBytes(12).toString('hex');
  const promptMarker = `[tsplay-become-prompt-${token}]`;
  const successMarker = `TSPLAY-BECOME-SUCCESS-${token}`;
  // -n would refuse to ask for the password we have; -S reads it from stdin.
  flags = flags.filter((f) => f !== '-n');
  if (!flags.includes('-S')) flags.push('-S');
  const inner = `printf '%s\\n' ${shQuote(successMarker)} >&2\n${script}`;
  return {
    script: `sudo ${shJoin(flags)} -p ${shQuote(promptMarker)} -u ${shQuote(user)} -- /bin/sh -c ${shQuote(inner)}`,
    stdinPrefix: `${become.password}\n`,
    promptMarker,
    successMarker,
  };
}

// ---------------------------------------------------------------- su with a password (PTY)

/** How long su may take to ask for the password and accept it before the exec is failed. */
export const SU_PROMPT_TIMEOUT_MS = 15_000;

/** True when become needs su to read a password from a terminal (ssh allocates a PTY for it). */
export function isSuWithPassword(become: BecomeOptions | undefined): become is BecomeOptions & { password: string } {
  return become?.method === 'su' && become.password !== undefined && become.password !== '';
}

/**
 * su reads its password from a terminal, so the command runs on a PTY (over ssh). A PTY has
 * one output stream and a line discipline that mangles binary input, so the script is
 * wrapped to keep the exec contract anyway:
 * - the PTY is created with ECHO and ONLCR off (and `stty` repeats it inside), so nothing we
 *   type is echoed and a newline stays a newline;
 * - su's prompt (any text ending in ':' before the success marker, so localized prompts
 *   work) is answered once with the password, written to the PTY, never on a command line
 *   or in the environment;
 * - once su switched users the inner shell prints `successMarker`; everything before it
 *   (prompt, su's noise) is dropped;
 * - the script's stderr goes to a private temp file and is printed after `stderrMarker` at
 *   the end, so stdout and stderr stay apart (a command's interleaving of the two is lost);
 * - stdin travels base64-encoded in 76-column lines followed by ^D (EOF in canonical mode)
 *   and is decoded by `base64 -d` on the host: binary-safe, but slower than a pipe, so
 *   host-ops sends large files over SFTP instead. Without stdin the script reads /dev/null.
 */
export interface SuPtyPlan {
  /** The command for the login shell. */
  script: string;
  password: string;
  successMarker: string;
  stderrMarker: string;
  /** What to type after the success marker (base64 lines and ^D), when there is stdin. */
  typedStdin?: Buffer;
}

export function wrapSuWithPassword(script: string, become: BecomeOptions & { password: string }, stdin: Buffer | undefined): SuPtyPlan {
  const user = become.user || 'root';
  const token = randomBytes(12).toString('hex');
  const successMarker = `TSPLAY-BECOME-SUCCESS-${token}`;
  const stderrMarker = `@@tsplay-stderr-${token}@@`;
  const run = stdin === undefined
    ? `/bin/sh -c ${shQuote(script)} </dev/null 2>>"$tsplay_err"`
    : `base64 -d 2>>"$tsplay_err" | /bin/sh -c ${shQuote(script)} 2>>"$tsplay_err"`;
  const inner = [
    'stty -echo -onlcr 2>/dev/null',
    `tsplay_err=$(mktemp) || exit 1`,
    `trap 'rm -f -- "$tsplay_err"' EXIT`,
    `trap 'exit 129' HUP; trap 'exit 143' TERM`,
    `printf '%s\\n' ${shQuote(successMarker)}`,
    run,
    'tsplay_rc=$?',
    `printf '%s' ${shQuote(stderrMarker)}`,
    'cat -- "$tsplay_err"',
    'exit $tsplay_rc',
  ].join('\n');
  const flags = splitFlags(become.flags) ?? [];
  const plan: SuPtyPlan = {
    script: `su ${shJoin(flags)}${flags.length ? ' ' : ''}${shQuote(user)} -c ${shQuote(`/bin/sh -c ${shQuote(inner)}`)}`,
    password: become.password,
    successMarker,
    stderrMarker,
  };
  if (stdin !== undefined) {
    const lines = stdin.toString('base64').replace(/.{76}/g, '$&\n');
    plan.typedStdin = Buffer.from(`${lines}${lines.endsWith('\n') || lines === '' ? '' : '\n'}\x04`, 'latin1');
  }
  return plan;
}

/**
 * The conversation with su on a PTY: answers the prompt once, types stdin after the
 * success marker, and splits what followed into stdout and stderr. Transport-agnostic.
 */
export class SuPasswordExchange {
  private before = '';
  private readonly after: Buffer[] = [];
  private passed = false;
  private passwordSent = false;

  constructor(
    private readonly plan: SuPtyPlan,
    private readonly sink: StdinSink,
  ) {}

  /** su switched users and the script runs. */
  get switched(): boolean {
    return this.passed;
  }

  onOutput(chunk: Buffer): void {
    if (this.passed) {
      this.after.push(chunk);
      return;
    }
    this.before += chunk.toString('latin1');
    const at = this.before.indexOf(this.plan.successMarker);
    if (at >= 0) {
      let rest = this.before.slice(at + this.plan.successMarker.length);
      rest = rest.replace(/^\r?\n/, '');
      this.before = this.before.slice(0, at);
      this.passed = true;
      if (rest.length > 0) this.after.push(Buffer.from(rest, 'latin1'));
      if (this.plan.typedStdin) this.sink.write(this.plan.typedStdin);
      return;
    }
    // su's prompt: whatever it printed ends in ':' and waits (localized prompts included)
    if (!this.passwordSent && /:\s*$/.test(this.before)) {
      this.passwordSent = true;
      this.sink.write(Buffer.from(`${this.plan.password}\n`, 'utf8'));
    }
  }

  /** The exec result once the command exited with `rc`. */
  result(rc: number): { rc: number; stdout: Buffer; stderr: string } {
    if (!this.passed) {
      // su never ran the script: wrong password, unknown user, su missing...
      const said = this.suMessage();
      const stderr = this.passwordSent ? `Incorrect su password${said ? ` (${said})` : ''}` : said || 'su failed before running the command';
      return { rc: rc === 0 ? 1 : rc, stdout: Buffer.alloc(0), stderr };
    }
    const all = Buffer.concat(this.after);
    const mark = all.lastIndexOf(this.plan.stderrMarker);
    if (mark < 0) return { rc, stdout: all, stderr: '' };
    return { rc, stdout: all.subarray(0, mark), stderr: all.subarray(mark + this.plan.stderrMarker.length).toString('utf8') };
  }

  /** What su printed, without its prompt (and never the password: ECHO is off). */
  suMessage(): string {
    let text = this.before.replace(/\r/g, '');
    const prompt = /^[^\n]*:[ \t]*(\n|$)/.exec(text);
    if (this.passwordSent && prompt) text = text.slice(prompt[0].length);
    return Buffer.from(text, 'latin1').toString('utf8').trim().split(this.plan.password).join('********');
  }
}

/** Where the child's stdin goes; a transport adapts its stream to this. */
export interface StdinSink {
  write(data: Buffer): void;
  end(): void;
}

/**
 * Feeds stdin to a (possibly become-wrapped) command and cleans its stderr: the password
 * only after sudo prompts for it (once: a second prompt means it was wrong, and stdin is
 * closed so sudo gives up), the real stdin only after the success marker, and the markers
 * are removed from stderr so users see only what the command printed.
 */
export class BecomeStdinFeeder {
  private pending = '';
  private passed = false;
  private passwordSent = false;
  private closed = false;

  constructor(
    private readonly plan: BecomePlan,
    private readonly stdin: Buffer | undefined,
    private readonly sink: StdinSink,
  ) {}

  /** Call once the process is started. */
  start(): void {
    if (!this.plan.successMarker) {
      this.passed = true;
      this.sendStdin();
    }
  }

  /** Feed a stderr chunk; returns the part that belongs to the user's command. */
  onStderr(chunk: Buffer): Buffer {
    if (this.passed) return chunk;
    this.pending += chunk.toString('latin1'); // byte-preserving while we search ASCII markers
    const { promptMarker, successMarker } = this.plan;
    if (promptMarker && this.pending.includes(promptMarker)) {
      const prompts = this.pending.split(promptMarker).length - 1;
      this.pending = this.pending.split(promptMarker).join('');
      if (!this.passwordSent) {
        this.passwordSent = true;
        this.sink.write(Buffer.from(this.plan.stdinPrefix ?? '\n', 'utf8'));
        if (prompts > 1) this.closeStdin();
      } else {
        this.closeStdin();
      }
    }
    const at = successMarker ? this.pending.indexOf(`${successMarker}\n`) : -1;
    if (at >= 0 && successMarker) {
      const before = this.pending.slice(0, at);
      const after = this.pending.slice(at + successMarker.length + 1);
      this.pending = '';
      this.passed = true;
      this.sendStdin();
      return Buffer.from(before + after, 'latin1');
    }
    return Buffer.alloc(0);
  }

  /** At process exit: whatever stderr was held back (sudo's own messages). */
  flush(): Buffer {
    const rest = this.pending;
    this.pending = '';
    return Buffer.from(rest, 'latin1');
  }

  private sendStdin(): void {
    if (this.closed) return;
    if (this.stdin && this.stdin.length > 0) this.sink.write(this.stdin);
    this.closeStdin();
  }

  private closeStdin(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.end();
  }
}

/** An unbalanced quote or a trailing backslash in a command line. */
export class ShellSplitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ShellSplitError';
  }
}

/**
 * Split a command line into words like Python's shlex.split (POSIX mode), which Ansible's
 * command module and `validate:` use: quotes group, backslash escapes outside single
 * quotes (inside double quotes only before `"` and `\`), no expansion of any kind.
 */
export function shlexSplit(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < line.length && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (ch === '\\') {
      if (i + 1 >= line.length) throw new ShellSplitError('No escaped character');
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (quote) throw new ShellSplitError('No closing quotation');
  if (inWord) words.push(word);
  return words;
}
