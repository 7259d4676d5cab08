// Registry errors: a TsplayError (code CONNECTION: the registry is a remote end like a host) with a
// `reason` callers switch on. Messages name the registry, repository and digest, never a secret.
import { ExitCode, TsplayError } from '../errors.js';

export type RegistryErrorReason = 'auth' | 'not-found' | 'digest' | 'http' | 'network' | 'tls' | 'reference';

export class RegistryError extends TsplayError {
  readonly reason: RegistryErrorReason;
  /** HTTP status when the registry answered */
  readonly status?: number;
  /** worth another attempt: 5xx, 429, a dropped connection */
  readonly retriable: boolean;
  /** Retry-After in ms when the registry sent one */
  readonly retryAfterMs?: number;

  constructor(
    reason: RegistryErrorReason,
    message: string,
    opts: { status?: number; retriable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(reason === 'reference' ? 'CLI_OPTION' : 'CONNECTION', message, {
      exitCode: reason === 'reference' ? ExitCode.options : ExitCode.error,
      cause: opts.cause,
    });
    this.name = 'RegistryError';
    this.reason = reason;
    if (opts.status !== undefined) this.status = opts.status;
    this.retriable = opts.retriable ?? false;
    if (opts.retryAfterMs !== undefined) this.retryAfterMs = opts.retryAfterMs;
  }
}

/** A URL for messages: no user:password@, no query (upload URLs carry opaque state). */
export function redactUrl(url: string | URL): string {
  try {
    const u = new URL(String(url));
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString();
  } catch {
    return '<url>';
  }
}
