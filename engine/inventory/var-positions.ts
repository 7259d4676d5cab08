// Where each inventory variable was written (an INI line, a group_vars/host_vars file, a YAML
// inventory), carried through the merges so an error about a variable's value can name the
// place to fix it (role argument specs: "fw_port ... (group_vars/all.yml:2:10)").
import type { SourcePos } from '../errors.js';
import { locate, recordPosition } from '../load/positions.js';

// A merged mapping has no place of its own: only its values do. Without a `self`, locate()
// answers undefined for a value of unknown origin instead of a misleading fallback.
const NOWHERE = undefined as unknown as SourcePos;

/** Set `key` (defined, not assigned: `__proto__` stays an ordinary key) and remember where its value was written. */
export function setVarAt(target: Record<string, unknown>, key: string, value: unknown, pos: SourcePos | undefined): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  if (pos) recordPosition(target, NOWHERE).values.set(key, pos);
  else if (locate(target, key) !== undefined) recordPosition(target, NOWHERE).values.delete(key);
}

/** Copy every variable of `source` over `target`, with the positions known for them. */
export function mergeVarsAt(target: Record<string, unknown>, source: Record<string, unknown> | undefined): void {
  if (!source) return;
  for (const [key, value] of Object.entries(source)) setVarAt(target, key, value, locate(source, key));
}
