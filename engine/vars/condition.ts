// `when:`, `failed_when:`, `changed_when:`, `until:` and `assert: that:` conditions.
import type { SourcePos } from '../errors.js';
import { ExpressionError } from './errors.js';
import { evaluateExpression } from './expr/evaluate.js';
import { isFalseWord, truthy } from './values.js';

export type ConditionPos = SourcePos | ((index: number) => SourcePos | undefined);

/**
 * The truth of a condition. A list holds when every item holds (checked in order, stopping
 * at the first false, like Ansible). Booleans are themselves. A string is an expression; when
 * its result is a string, Ansible's |bool words decide ('yes', 'true', 'on', '1' are true;
 * 'no', 'false', 'off', '0' and '' are false) and any other non-empty string is true.
 */
export function evaluateCondition(cond: string | boolean | Array<string | boolean>, vars: object, pos?: ConditionPos): boolean {
  const items = Array.isArray(cond) ? cond : [cond];
  for (let i = 0; i < items.length; i++) {
    const itemPos = typeof pos === 'function' ? pos(i) : pos;
    if (!conditionHolds(items[i], vars, itemPos)) return false;
  }
  return true;
}

function conditionHolds(item: unknown, vars: object, pos: SourcePos | undefined): boolean {
  if (typeof item === 'boolean') return item;
  if (item === null || item === undefined) return false;
  if (typeof item === 'number') return item !== 0;
  if (typeof item !== 'string') {
    throw new ExpressionError('EXPRESSION', `a condition must be a string or a boolean, not ${Array.isArray(item) ? 'a list' : typeof item}`, { pos });
  }
  if (item.trim() === '') return true; // Ansible: an empty conditional is true
  const result = evaluateExpression(item, vars, pos);
  if (typeof result === 'string') return !isFalseWord(result);
  return truthy(result);
}
