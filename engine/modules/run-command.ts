// What command and shell share: creates/removes (checked on the host in the same round trip
// as the command), stdin, chdir, Ansible's result keys, and check-mode behaviour.
import { randomBytes } from 'node:crypto';
import { shQuote } from '../connection/shell.js';
import type { ModuleContext, ModuleResult } from './types.js';

export interface CommonCommandArgs {
  creates?: string;
  removes?: string;
  chdir?: string;
  stdin?: string;
  stdin_add_newline?: boolean;
  strip_empty_ends?: boolean;
}

export const COMMON_COMMAND_PROPERTIES = {
  creates: { type: 'string' },
  removes: { type: 'string' },
  chdir: { type: 'string' },
  stdin: { type: 'string' },
  stdin_add_newline: { type: 'boolean' },
  strip_empty_ends: { type: 'boolean' },
} as const;

/**
 * A glob as one shell word: literal parts quoted, `*`, `?` and simple `[...]` classes left
 * bare so the host's shell expands them (Ansible globs creates/removes) and nothing else.
 */
export function globWord(pattern: string): string {
  const parts = pattern.split(/(\*|\?|\[[A-Za-z0-9!^_.-]+\])/);
  return parts.map((part, i) => (i % 2 === 1 ? part : part === '' ? '' : shQuote(part))).join('') || "''";
}

function existsTest(pattern: string): string {
  return `tsplay_exists() { for f in ${globWord(pattern)}; do if [ -e "$f" ] || [ -L "$f" ]; then return 0; fi; done; return 1; }`;
}

/** Python's str(datetime.now()): "2024-01-02 03:04:05.123456" in local time. */
function pyTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}000`;
}

/** Python's str(timedelta): "0:00:01.234000". */
function pyDelta(ms: number): string {
  const s = Math.floor(ms / 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}.${String(ms % 1000).padStart(3, '0')}000`;
}

function lines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\r?\n$/, '').split(/\r\n|\n|\r/);
}

/**
 * Run `commandScript` (already quoted) unless creates/removes say not to. `shown` is the
 * `cmd` Ansible returns (a list for command, the string for shell).
 */
export async function runCommandScript(ctx: ModuleContext, commandScript: string, shown: string | string[], args: CommonCommandArgs): Promise<ModuleResult> {
  const skipMarker = `tsplay-skip-${randomBytes(8).toString('hex')}`;
  const guards: string[] = [];
  if (args.creates !== undefined) {
    guards.push(existsTest(args.creates), `if tsplay_exists; then printf '%s\\n' '${skipMarker}-creates'; exit 0; fi`);
  }
  if (args.removes !== undefined) {
    guards.push(existsTest(args.removes), `if ! tsplay_exists; then printf '%s\\n' '${skipMarker}-removes'; exit 0; fi`);
  }
  const guarded = args.creates !== undefined || args.removes !== undefined;
  if (ctx.check && !guarded) {
    return { changed: false, skipped: true, msg: 'Command would have run if not in check mode' };
  }
  const script = [...guards, ctx.check ? `printf '%s\\n' '${skipMarker}-would-run'` : commandScript].join('\n');
  const stdin = args.stdin === undefined ? undefined : args.stdin + (args.stdin_add_newline === false ? '' : '\n');
  const start = new Date();
  const res = await ctx.ops.run(script, {
    ...(stdin !== undefined ? { stdin } : {}),
    ...(args.chdir !== undefined ? { cwd: args.chdir } : {}),
    ...(ctx.environment ? { env: ctx.environment } : {}),
    ...(ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {}),
    // in check mode only the creates/removes test runs: tsplay's own script, never the command
    ...(ctx.check ? { ownScript: true } : {}),
  });
  const end = new Date();
  const marker = res.stdout.trim();
  if (res.rc === 0 && marker === `${skipMarker}-creates`) {
    const msg = `Did not run command since '${args.creates}' exists`;
    return { changed: false, cmd: shown, rc: 0, stdout: msg, stdout_lines: [msg], stderr: '', stderr_lines: [], msg };
  }
  if (res.rc === 0 && marker === `${skipMarker}-removes`) {
    const msg = `Did not run command since '${args.removes}' does not exist`;
    return { changed: false, cmd: shown, rc: 0, stdout: msg, stdout_lines: [msg], stderr: '', stderr_lines: [], msg };
  }
  if (ctx.check) {
    // creates/removes say it would run: changed, as Ansible reports it
    return { changed: true, cmd: shown, rc: 0, stdout: '', stderr: '', msg: 'Command would have run if not in check mode' };
  }
  const strip = args.strip_empty_ends !== false;
  const stdout = strip ? res.stdout.replace(/[\r\n]+$/, '') : res.stdout;
  const stderr = strip ? res.stderr.replace(/[\r\n]+$/, '') : res.stderr;
  const result: ModuleResult = {
    changed: true,
    cmd: shown,
    rc: res.rc,
    stdout,
    stderr,
    stdout_lines: lines(stdout),
    stderr_lines: lines(stderr),
    start: pyTime(start),
    end: pyTime(end),
    delta: pyDelta(end.getTime() - start.getTime()),
    msg: '',
  };
  if (res.rc !== 0) {
    result.failed = true;
    result.msg = 'non-zero return code';
  }
  return result;
}
