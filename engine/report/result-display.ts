// What of a module result is shown after "=>" (Ansible's _clean_results + _dump_results).
import { pythonJson } from './pyjson.js';

/**
 * Result keys starting with "_" are the runner's internal markers, never shown. One is a
 * display convention (Ansible's _ansible_verbose_always):
 *   `_show: true`  print the result even without -v, pretty, trimmed like debug's
 *                  (the debug module sets it, so `ok: [h] => {"msg": ...}` always appears).
 */
export const SHOW_KEY = '_show';

// debug's result shows only its message (ansible's _DEBUG_ALLOWED_KEYS) ...
const debugAllowedKeys = new Set(['msg', 'exception', 'warnings', 'deprecations']);
// ... or, for debug var=, the variable without the bookkeeping (ansible's _hide_in_debug).
const hiddenInDebug = ['changed', 'failed', 'skipped', 'invocation', 'skip_reason'];

export function isShownAlways(result: Record<string, unknown>): boolean {
  return result[SHOW_KEY] === true;
}

/** Ansible's _run_is_verbose: -v, or a result that asks to be shown. */
export function isVerboseResult(result: Record<string, unknown>, verbosity: number): boolean {
  return verbosity > 0 || isShownAlways(result);
}

function stripNestedInternalKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripNestedInternalKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!k.startsWith('_ansible_')) out[k] = stripNestedInternalKeys(v);
  }
  return out;
}

/** The keys a user sees, following Ansible's rules for debug, -vvv, diff and exceptions. */
export function displayedResult(result: Record<string, unknown>, verbosity: number): Record<string, unknown> {
  let shown: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) {
    if (!k.startsWith('_')) shown[k] = stripNestedInternalKeys(v);
  }
  if (isShownAlways(result)) {
    if ('msg' in shown) {
      shown = Object.fromEntries(Object.entries(shown).filter(([k]) => debugAllowedKeys.has(k)));
    } else {
      for (const k of hiddenInDebug) delete shown[k];
    }
  }
  if (verbosity < 3) {
    delete shown.invocation;
    delete shown.diff;
  }
  delete shown.exception;
  // Warnings are printed as [WARNING] lines of their own.
  delete shown.warnings;
  return shown;
}

/** The text after "=>": compact JSON, or indented by 4 for shown-always results and -vvv. */
export function dumpResult(result: Record<string, unknown>, verbosity: number): string {
  const indent = isShownAlways(result) || verbosity > 2 ? 4 : undefined;
  return pythonJson(displayedResult(result, verbosity), indent);
}
