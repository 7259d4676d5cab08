// Evaluating Jinja mustaches (see jinja-mustache.ts) while a template renders: which variables
// they see, how their values print inside text, and their errors as TemplateErrors.
import type { SourcePos } from '../errors.js';
import { ExpressionError, TemplateError } from './errors.js';
import { evaluateParsed, offsetLocator } from './expr/evaluate.js';
import type { JinjaMustache } from './jinja-mustache.js';
import { pyStr, readProperty } from './values.js';

/** What the internal helper needs to evaluate mustache N of the text being rendered. */
export interface JinjaRun {
  jinja: readonly JinjaMustache[];
  /** The original template text and where it was written, for error positions. */
  text: string;
  pos: SourcePos | undefined;
  /** The template's root variables. */
  vars: object;
}

/** Key of the JinjaRun in handlebars' @data frame: a symbol, so no template can read it. */
export const JINJA_RUN = Symbol('tsplay jinja run');

/** The JinjaRun of the render a helper call belongs to (block frames chain to it via _parent). */
export function jinjaRunOf(data: unknown): JinjaRun | undefined {
  let frame = data as Record<string | symbol, unknown> | undefined;
  while (frame && typeof frame === 'object') {
    const run = frame[JINJA_RUN];
    if (run) return run as JinjaRun;
    frame = frame._parent as Record<string | symbol, unknown> | undefined;
  }
  return undefined;
}

/**
 * Names visible to a Jinja mustache, first match wins: the block params in scope (`as |s|`),
 * `this`, the members of the current context inside `{{#each}}`/`{{#with}}`, then the root
 * variables. Read-only, and nothing is copied (the root may be a lazily rendered scope).
 */
export function jinjaScope(root: object, context: unknown, blockParams: Record<string, unknown>): object {
  const inBlock = context !== root;
  if (!inBlock && Object.keys(blockParams).length === 0) return root;
  const layers: object[] = [blockParams, { this: context }];
  if (inBlock && context !== null && typeof context === 'object') layers.push(context);
  layers.push(root);
  const find = (key: string) => {
    for (const layer of layers) {
      const read = readProperty(layer, key);
      if (read.found) return read;
    }
    return undefined;
  };
  return new Proxy(Object.create(null) as object, {
    get: (_t, key) => (typeof key === 'string' ? find(key)?.value : undefined),
    has: (_t, key) => typeof key === 'string' && find(key) !== undefined,
    getOwnPropertyDescriptor(_t, key) {
      if (typeof key !== 'string') return undefined;
      const read = find(key);
      return read ? { value: read.value, writable: false, enumerable: true, configurable: true } : undefined;
    },
    ownKeys: () => [...new Set(layers.flatMap((layer) => Object.keys(layer)))],
    set: () => false,
    defineProperty: () => false,
    deleteProperty: () => false,
    setPrototypeOf: () => false,
  });
}

/** The value of a Jinja mustache; its errors are TemplateErrors at the offending column. */
export function evaluateJinja(mustache: JinjaMustache, vars: object, text: string, pos: SourcePos | undefined): unknown {
  try {
    return evaluateParsed(mustache.tree, vars, offsetLocator(text, pos, mustache.start));
  } catch (err) {
    if (!(err instanceof ExpressionError)) throw err;
    throw new TemplateError(err.code === 'UNDEFINED_VARIABLE' ? 'UNDEFINED_VARIABLE' : 'TEMPLATE', err.message, {
      pos: err.pos,
      variable: err.variable,
      cause: err,
    });
  }
}

/**
 * How a value prints inside text: Python's str() (True, False, ['a', 1], {'k': 'v'}), except
 * None, which Ansible prints as an empty string (its Jinja environment's `finalize`).
 */
export function jinjaText(value: unknown): string {
  return value === null || value === undefined ? '' : pyStr(value);
}
