// Errors raised while templating or evaluating conditions. They carry exit code 4 (a parse
// error) like Ansible's "undefined variable" failures at load time; the runner decides whether
// one fails a single task (runtime) or the whole run (pre-flight).
import { ExitCode, TsplayError, type ErrorCode, type SourcePos } from '../errors.js';

export type TemplateErrorCode = Extract<ErrorCode, 'UNDEFINED_VARIABLE' | 'TEMPLATE'>;
export type ExpressionErrorCode = Extract<ErrorCode, 'UNDEFINED_VARIABLE' | 'EXPRESSION'>;

/** A handlebars template failed: undefined variable, unknown helper, syntax error, helper error. */
export class TemplateError extends TsplayError {
  /** The variable path that was undefined ("foo", "a.b"), when that is the cause. */
  readonly variable?: string;

  constructor(code: TemplateErrorCode, message: string, opts: { pos?: SourcePos; variable?: string; cause?: unknown } = {}) {
    super(code, message, { pos: opts.pos, cause: opts.cause, exitCode: ExitCode.parse });
    this.name = 'TemplateError';
    if (opts.variable !== undefined) this.variable = opts.variable;
  }
}

/** A condition/expression failed: syntax error, undefined name, type error in an operator or filter. */
export class ExpressionError extends TsplayError {
  readonly variable?: string;

  constructor(code: ExpressionErrorCode, message: string, opts: { pos?: SourcePos; variable?: string; cause?: unknown } = {}) {
    super(code, message, { pos: opts.pos, cause: opts.cause, exitCode: ExitCode.parse });
    this.name = 'ExpressionError';
    if (opts.variable !== undefined) this.variable = opts.variable;
  }
}
