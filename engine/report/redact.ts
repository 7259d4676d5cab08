// Every event reaches the reporters through here, with registered secrets (vault values,
// passwords: engine/vault/secrets.ts) masked in every string: result values, messages,
// diffs (a changed line holding a secret shows masked), item labels, warnings. Masking the
// event rather than the written text also covers JSON-escaped and line-wrapped output.
import type { Reporter, RunEvent } from './events.js';
import { redactDeep } from '../vault/secrets.js';

export function redactEvent(event: RunEvent): RunEvent {
  return redactDeep(event);
}

/**
 * The same reporter (same class, so callers can still tell which one they got) whose
 * onEvent receives masked events.
 */
export function redactingReporter<R extends Reporter>(inner: R): R {
  const onEvent = inner.onEvent?.bind(inner);
  if (onEvent) inner.onEvent = (event: RunEvent) => onEvent(redactEvent(event));
  return inner;
}
