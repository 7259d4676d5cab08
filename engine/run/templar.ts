// The runner's one door to templating and expressions (engine/vars), so the rest of
// the runner does not depend on how those are laid out.
import type { SourcePos } from '../errors.js';
import { type VarLayer, renderString, renderValue, evaluateCondition, evaluateExpression, buildScope, scopeWith } from '../vars/index.js';

export type { VarLayer } from '../vars/index.js';

export type PosLookup = SourcePos | ((path: Array<string | number>) => SourcePos | undefined);

export function makeScope(layers: VarLayer[], magic: Record<string, unknown>): Record<string, unknown> {
  return buildScope(layers, { magic });
}

export function childScope(scope: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  return scopeWith(scope, extra);
}

export function template(value: unknown, scope: Record<string, unknown>, pos?: PosLookup): unknown {
  return renderValue(value, scope, pos);
}

export function templateText(text: string, scope: Record<string, unknown>, pos?: SourcePos): string {
  return renderString(text, scope, pos);
}

export function condition(cond: string | boolean | Array<string | boolean>, scope: Record<string, unknown>, pos?: SourcePos): boolean {
  return evaluateCondition(cond, scope, pos);
}

export function expression(expr: string, scope: Record<string, unknown>, pos?: SourcePos): unknown {
  return evaluateExpression(expr, scope, pos);
}
