// Error classes with stable codes and Ansible's exit codes. Known errors print short
// (message, file:line:col, code frame); unknown ones print with a stack.
import { readFileSync } from 'node:fs';

/** A place in a source file; line and col are 1-based. */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

export const ExitCode = {
  ok: 0,
  error: 1,
  hostFailed: 2,
  unreachable: 3,
  parse: 4,
  options: 5,
  interrupted: 99,
} as const;

export type ErrorCode =
  | 'YAML_SYNTAX'
  | 'YAML_TAB'
  | 'YAML_DUPLICATE_KEY'
  | 'SCHEMA'
  | 'UNKNOWN_KEYWORD'
  | 'UNKNOWN_MODULE'
  | 'MODULE_ARGS'
  | 'UNDEFINED_VARIABLE'
  | 'TEMPLATE'
  | 'EXPRESSION'
  | 'HOST_PATTERN'
  | 'INVENTORY'
  | 'FILE_NOT_FOUND'
  | 'INCLUDE_LOOP'
  | 'CLI_OPTION'
  | 'CONNECTION'
  | 'LAB'
  | 'ARGUMENT_SPEC'
  | 'MODULE_LOAD'
  | 'CONFIG'
  | 'VAULT'
  | 'REGISTRY'
  | 'BUNDLE'
  | 'INTERRUPTED'
  | 'INTERNAL';

export class TsplayError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  pos?: SourcePos;

  constructor(code: ErrorCode, message: string, opts: { pos?: SourcePos; exitCode?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TsplayError';
    this.code = code;
    this.exitCode = opts.exitCode ?? ExitCode.error;
    if (opts.pos) this.pos = opts.pos;
  }

  /** "file:line:col: message" followed by a code frame when the position is known. */
  format(): string {
    if (!this.pos) return `ERROR [${this.code}] ${this.message}`;
    const { file, line, col } = this.pos;
    const frame = codeFrame(file, line, col);
    return `ERROR [${this.code}] ${file}:${line}:${col}: ${this.message}${frame ? '\n' + frame : ''}`;
  }
}

/** Bad input found while loading: YAML, schema, templates, inventory. Exit code 4. */
export class ParseError extends TsplayError {
  constructor(code: ErrorCode, message: string, pos?: SourcePos, cause?: unknown) {
    super(code, message, { pos, exitCode: ExitCode.parse, cause });
    this.name = 'ParseError';
  }
}

/** Bad command-line options. Exit code 5. */
export class OptionError extends TsplayError {
  constructor(message: string) {
    super('CLI_OPTION', message, { exitCode: ExitCode.options });
    this.name = 'OptionError';
  }
}

const sourceCache = new Map<string, string[]>();

/** Remember a source text so code frames work for files not on disk (e.g. -e values, tests). */
export function registerSource(file: string, text: string): void {
  sourceCache.set(file, text.split(/\r?\n/));
}

/**
 * A source file's lines: the text the loader parsed (registerSource), else read from disk once.
 * Code frames and positions inside scalars all read through here.
 */
export function sourceLines(file: string): string[] | undefined {
  let lines = sourceCache.get(file);
  if (!lines) {
    try {
      lines = readFileSync(file, 'utf8').split(/\r?\n/);
    } catch {
      return undefined;
    }
    sourceCache.set(file, lines);
  }
  return lines;
}

/** Two lines of context either side and a caret under the column, like Babel's code frame. */
export function codeFrame(file: string, line: number, col: number): string {
  const lines = sourceLines(file);
  if (!lines || line < 1 || line > lines.length) return '';
  const first = Math.max(1, line - 2);
  const last = Math.min(lines.length, line + 2);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const marker = n === line ? '>' : ' ';
    const text = (lines[n - 1] ?? '').replace(/\t/g, '→');
    out.push(`${marker} ${String(n).padStart(width)} | ${text}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(Math.max(0, col - 1))}^`);
  }
  return out.join('\n');
}

/** Turns anything thrown into the text a user sees: short for known errors, with a stack otherwise. */
export function formatError(err: unknown): string {
  if (err instanceof TsplayError) return err.format();
  if (err instanceof Error) return `ERROR [INTERNAL] ${err.stack ?? err.message}`;
  return `ERROR [INTERNAL] ${String(err)}`;
}
