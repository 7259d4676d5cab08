// no_log: what a user sees of a result whose task asked to hide it.

export const CENSORED_MESSAGE = "the output has been hidden due to the fact that 'no_log: true' was specified for this result";

/** Keep only the status flags; every value the module returned is dropped. */
export function censorResult(result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { censored: CENSORED_MESSAGE, changed: Boolean(result.changed) };
  if (result.failed) out.failed = true;
  if (result.skipped) out.skipped = true;
  return out;
}
