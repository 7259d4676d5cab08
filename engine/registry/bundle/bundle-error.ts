// Errors a user can cause with a bundle: a corrupt or truncated archive, a blob whose bytes do
// not match its digest, a missing zstd command, an image list line that is not an image.
import { type ErrorCode, TsplayError } from '../../errors.js';

/**
 * The stable code of every bundle error. engine/errors.ts has no registry code yet; 'BUNDLE' is
 * widened here so the message and exit code are right today (see the report: the union needs it).
 */
const BUNDLE_CODE: ErrorCode = 'BUNDLE';

export class BundleError extends TsplayError {
  constructor(message: string, opts: { cause?: unknown } = {}) {
    super(BUNDLE_CODE, message, opts);
    this.name = 'BundleError';
  }
}
