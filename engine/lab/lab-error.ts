// Errors the lab reports to the user: wrong platform, not root, a missing tool, a bad option.
import { ExitCode, TsplayError } from '../errors.js';

export class LabError extends TsplayError {
  constructor(message: string, opts: { cause?: unknown; exitCode?: number } = {}) {
    super('LAB', message, { cause: opts.cause, exitCode: opts.exitCode ?? ExitCode.error });
    this.name = 'LabError';
  }
}
