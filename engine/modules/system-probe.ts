// What the system modules (user, group, sysctl, mount, cron, ...) share: one round trip that
// reads several files, globs and command outputs at once; commands that must succeed and,
// when they do not, fail the task with the command, rc and stderr; text diffs of files.
import { randomBytes } from 'node:crypto';
import { shQuote } from '../connection/shell.js';
import { globWord } from './run-command.js';
import { failureResult } from './file-write.js';
import type { FileDiff, ModuleContext, ModuleResult } from './types.js';

/** A failure the module reports as the task's result (msg plus Ansible's extra keys). */
export class SystemModuleError extends Error {
  constructor(
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'SystemModuleError';
  }
}

/** Run a module body; its SystemModuleError and host-operation errors become a failed result. */
export async function systemGuarded(body: () => Promise<ModuleResult>): Promise<ModuleResult> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof SystemModuleError) return { changed: false, failed: true, msg: err.message, ...err.extra };
    return failureResult(err);
  }
}

export interface ProbeRequest {
  /** Files read whole (null when absent or not a regular file). */
  files?: readonly string[];
  /** Globs (e.g. /etc/apt/sources.list.d/*.list): every regular file they match, read whole. */
  globs?: readonly string[];
  /** Commands by key: stdout (trailing newlines stripped) and rc; stderr is dropped. */
  commands?: Record<string, string>;
}

export interface ProbeAnswer {
  files: Map<string, string | null>;
  /** Per glob, the matched files in the shell's order, with their text. */
  globs: Map<string, Array<{ path: string; text: string }>>;
  commands: Record<string, { rc: number; out: string }>;
}

const b64 = (s: string): string => Buffer.from(s, 'base64').toString('utf8');

/** Read files, globs and command outputs in ONE exec round trip. */
export async function probeHost(ctx: ModuleContext, req: ProbeRequest): Promise<ProbeAnswer> {
  const mark = `@@tsplay-probe-${randomBytes(6).toString('hex')}`;
  const lines: string[] = [];
  const files = req.files ?? [];
  const globs = req.globs ?? [];
  const commands = Object.entries(req.commands ?? {});
  files.forEach((path, i) => {
    const p = shQuote(path);
    lines.push(`if [ -f ${p} ]; then printf '%s file ${i}\\n' '${mark}'; base64 < ${p} | tr -d '\\n'; echo; else printf '%s none ${i}\\n' '${mark}'; echo; fi`);
  });
  globs.forEach((glob, i) => {
    lines.push(
      `for f in ${globWord(glob)}; do [ -f "$f" ] || continue; printf '%s glob ${i} %s\\n' '${mark}' "$(printf '%s' "$f" | base64 | tr -d '\\n')"; base64 < "$f" | tr -d '\\n'; echo; done`,
    );
  });
  commands.forEach(([, script], i) => {
    lines.push(`tsplay_out=$( { ${script}\n} 2>/dev/null ); tsplay_rc=$?; printf '%s cmd ${i} %s\\n' '${mark}' "$tsplay_rc"; printf '%s' "$tsplay_out" | base64 | tr -d '\\n'; echo`);
  });
  const res = await ctx.ops.run(lines.join('\n') + '\n');
  const answer: ProbeAnswer = { files: new Map(), globs: new Map(globs.map((g) => [g, []])), commands: {} };
  const out = res.stdout.split('\n');
  for (let i = 0; i < out.length; i++) {
    const head = out[i]!;
    if (!head.startsWith(`${mark} `)) continue;
    const [, kind, index, extra] = head.split(' ');
    const body = out[i + 1] ?? '';
    i++;
    const n = Number(index);
    if (kind === 'file') answer.files.set(files[n]!, b64(body));
    else if (kind === 'none') answer.files.set(files[n]!, null);
    else if (kind === 'glob') answer.globs.get(globs[n]!)!.push({ path: b64(extra ?? ''), text: b64(body) });
    else if (kind === 'cmd') answer.commands[commands[n]![0]] = { rc: Number(extra), out: b64(body) };
  }
  if (answer.files.size !== new Set(files).size || Object.keys(answer.commands).length !== commands.length) {
    throw new SystemModuleError(`probing the host failed: ${res.stderr.trim() || `rc ${res.rc}`}`, { rc: res.rc });
  }
  return answer;
}

/**
 * Run a command that must succeed; otherwise the task fails with the command, rc and stderr
 * (`shown` is what the message names — never a secret: secrets travel on stdin).
 */
export async function mustRun(ctx: ModuleContext, script: string, shown: string, opts: { stdin?: string } = {}): Promise<{ stdout: string; stderr: string }> {
  const res = await ctx.ops.run(script, opts.stdin !== undefined ? { stdin: opts.stdin } : {});
  if (res.rc !== 0) {
    throw new SystemModuleError(`${shown} failed: ${res.stderr.trim() || res.stdout.trim() || `rc ${res.rc}`}`, {
      cmd: shown,
      rc: res.rc,
      stdout: res.stdout,
      stderr: res.stderr,
    });
  }
  return { stdout: res.stdout, stderr: res.stderr };
}

/** A file's before/after text for --diff (absent is empty, as Ansible shows it). */
export function textDiff(path: string, before: string | null, after: string | null): FileDiff {
  return { before: before ?? '', after: after ?? '', beforeHeader: `${path}${before === null ? ' (absent)' : ''}`, afterHeader: `${path}${after === null ? ' (absent)' : ''}` };
}

/** Lines of a text file, without the final newline's empty element. */
export function textLines(text: string | null): string[] {
  if (text === null || text === '') return [];
  return text.replace(/\n$/, '').split('\n');
}

/** The inverse of textLines: every line ends with a newline. */
export function joinLines(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** A small "key: value" block for diffs of settings that are not files (live values, states). */
export function settingsText(fields: Record<string, string | number | boolean | undefined>): string {
  return joinLines(Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${String(v)}`));
}

/** Ansible's booleans as users write them in key=value form too. */
export function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['yes', 'true', 'on', '1', 'y'].includes(v.toLowerCase())) || v === 1;
}

/** Write a text file atomically (keeps owner and mode of an existing file). */
export async function writeText(ctx: ModuleContext, path: string, text: string, attrs: { mode?: number; owner?: string; group?: string } = {}): Promise<void> {
  await ctx.ops.writeFileAtomic(path, Buffer.from(text, 'utf8'), attrs);
}

/** Refuse to start a write after an interrupt. */
export function assertNotInterrupted(ctx: ModuleContext): void {
  if (ctx.signal?.aborted) throw new SystemModuleError('interrupted before changing');
}

/**
 * The end every planning module shares: with no difference, the result as is; otherwise it is
 * changed with the diff, and the planned actions run in order unless in check mode.
 */
export async function applyPlan(ctx: ModuleContext, result: ModuleResult, diff: FileDiff[], actions: Array<() => Promise<unknown>>): Promise<ModuleResult> {
  if (diff.length === 0) return result;
  result.changed = true;
  result.diff = diff;
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  for (const action of actions) await action();
  return result;
}
