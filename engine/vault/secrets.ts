// The one redaction registry: every decrypted vault value and every password is registered
// here, and every output path (reporters, CLI error messages) replaces registered values
// with ******** before writing. Substring replacement also covers values derived from a
// secret ("postgres://app:SECRET@db" still contains SECRET).
//
// Values shorter than MIN_SECRET_LENGTH are not replaced: masking "a", "on" or "443"
// everywhere would mangle unrelated output and, by the pattern of the masks, tell more
// about the secret than it hides. Such short secrets are weak anyway (docs/vault.md).

export const MASK = '********';
export const MIN_SECRET_LENGTH = 4;

const secrets = new Set<string>();
let matcher: RegExp | undefined;

function addOne(value: string): void {
  if (value.length < MIN_SECRET_LENGTH || secrets.has(value)) return;
  secrets.add(value);
  matcher = undefined;
}

/**
 * Register a secret. Multi-line secrets (keys, certificates) also register each line, since
 * a diff or a wrapped message shows them line by line; JSON-escaped forms are registered too,
 * for messages that quote a value with JSON.stringify.
 */
export function registerSecret(value: unknown): void {
  if (typeof value === 'number' || typeof value === 'bigint') value = String(value);
  if (typeof value !== 'string') return;
  const forms = new Set([value, value.trim()]);
  if (/[\r\n]/.test(value)) for (const line of value.split(/\r?\n/)) forms.add(line.trim());
  for (const form of [...forms]) {
    addOne(form);
    const escaped = JSON.stringify(form).slice(1, -1);
    if (escaped !== form) addOne(escaped);
  }
}

/** Register every string (not key) in a value: the values of a vault-encrypted file. */
export function registerSecretsIn(value: unknown, seen = new WeakSet<object>()): void {
  if (typeof value === 'string') return registerSecret(value);
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  for (const item of Array.isArray(value) ? value : Object.values(value)) registerSecretsIn(item, seen);
}

export function hasSecrets(): boolean {
  return secrets.size > 0;
}

/** Forget every registered value (tests; a long-lived process between unrelated runs). */
export function clearSecrets(): void {
  secrets.clear();
  matcher = undefined;
}

function currentMatcher(): RegExp | undefined {
  if (secrets.size === 0) return undefined;
  if (!matcher) {
    // Longest first: a regex alternation takes the first alternative that matches, so a
    // secret that contains another is masked whole.
    const alternatives = [...secrets].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    matcher = new RegExp(alternatives.join('|'), 'g');
  }
  return matcher;
}

/** The text with every registered secret replaced by ********. */
export function redactText(text: string): string {
  const re = currentMatcher();
  return re ? text.replace(re, MASK) : text;
}

/**
 * A copy of a value (events, results) with secrets masked in every string, keys included.
 * Shares nothing mutable with the input, so reporters can keep what they receive.
 */
export function redactDeep<T>(value: T): T {
  if (!currentMatcher()) return value;
  return redactValue(value, new WeakMap()) as T;
}

function redactValue(value: unknown, seen: WeakMap<object, unknown>): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  const done = seen.get(value);
  if (done !== undefined) return done;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    seen.set(value, out);
    for (const item of value) out.push(redactValue(item, seen));
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value; // Dates, Buffers: nothing printable to mask
  const out: Record<string, unknown> = {};
  seen.set(value, out);
  for (const [key, item] of Object.entries(value)) {
    Object.defineProperty(out, redactText(key), { value: redactValue(item, seen), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
