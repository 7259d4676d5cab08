// Templating with handlebars, configured for config files rather than HTML: no escaping
// (`a<b` stays), strict (a missing variable is an error naming it and its file:line:col),
// an isolated environment with Ansible-named helpers, compiled templates cached by text.
import Handlebars from 'handlebars';
import type { SourcePos } from '../errors.js';
import { copyPositions } from '../load/positions.js';
import { TemplateError } from './errors.js';
import { HELPERS } from './helpers.js';
import { findForbiddenSegment, singleMustache, type MustacheStatement, type Program } from './template-ast.js';
import { templateLocator, toTemplateError, type TemplateLocator } from './template-errors.js';
import { evaluateMustache } from './typed-template.js';
import { setOwn } from './values.js';

const env = Handlebars.create();
useStringConcatenation(env);
for (const [name, helper] of Object.entries(HELPERS)) env.registerHelper(name, helper as Handlebars.HelperDelegate);

const COMPILE_OPTIONS = { noEscape: true, strict: true } as const;
// Explicit `false` denies inherited members silently (the default denies them with a console warning).
const RUNTIME_OPTIONS: Handlebars.RuntimeOptions = { allowProtoPropertiesByDefault: false, allowProtoMethodsByDefault: false };

/**
 * With noEscape, handlebars joins adjacent outputs with a bare `+`, so `{{a}}{{b}}` with a=1,
 * b=3 renders "4" (handlebars 4.7.x). This compiler subclass makes every buffer append a
 * string first ("" + value), in the top template and in every block body.
 */
function useStringConcatenation(target: typeof Handlebars): void {
  type CompilerClass = { new (): object; prototype: Record<string, unknown> };
  const holder = target as unknown as { JavaScriptCompiler: CompilerClass };
  const Base = holder.JavaScriptCompiler;
  const baseAppend = Base.prototype.appendToBuffer as (this: unknown, ...args: unknown[]) => unknown;
  function StringConcatCompiler(this: unknown) {
    (Base as unknown as (this: unknown) => void).call(this);
  }
  StringConcatCompiler.prototype = Object.create(Base.prototype);
  StringConcatCompiler.prototype.constructor = StringConcatCompiler;
  StringConcatCompiler.prototype.compiler = StringConcatCompiler; // used for block bodies
  StringConcatCompiler.prototype.appendToBuffer = function appendToBuffer(this: unknown, source: unknown, location: unknown, explicit: unknown) {
    return baseAppend.call(this, ['"" + (', source, ')'], location, explicit);
  };
  holder.JavaScriptCompiler = StringConcatCompiler as unknown as CompilerClass;
}

interface Compiled {
  ast?: Program;
  render?: Handlebars.TemplateDelegate;
  single?: MustacheStatement;
  /** The syntax/safety error, cached too: the same text always fails the same way. */
  error?: unknown;
}

const MAX_CACHE = 10000;
const cache = new Map<string, Compiled>();

function compile(text: string): Compiled {
  let compiled = cache.get(text);
  if (compiled) return compiled;
  try {
    const ast = env.parse(text);
    const forbidden = findForbiddenSegment(ast);
    if (forbidden) {
      compiled = { ast, error: { forbidden } };
    } else {
      compiled = { ast, render: env.compile(ast, COMPILE_OPTIONS), single: singleMustache(ast) };
    }
  } catch (err) {
    compiled = { error: err };
  }
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(text, compiled);
  return compiled;
}

/** Throw the cached compile-time error of `compiled`, positioned for this use. */
function failCompiled(compiled: Compiled, text: string, locate: TemplateLocator): never {
  const forbidden = (compiled.error as { forbidden?: ReturnType<typeof findForbiddenSegment> }).forbidden;
  if (forbidden) {
    const loc = forbidden.node.loc.start;
    throw new TemplateError('TEMPLATE', `access to '${forbidden.segment}' is not allowed in templates`, {
      pos: locate(loc.line, loc.column),
    });
  }
  throw toTemplateError(compiled.error, text, compiled.ast, locate);
}

/** True when `text` contains a mustache and therefore needs rendering. */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/** The parsed template (syntax errors thrown as TemplateError); for static analysis. */
export function parseTemplate(text: string, pos?: SourcePos): Program {
  const compiled = compile(text);
  if (compiled.error !== undefined) failCompiled(compiled, text, templateLocator(pos));
  return compiled.ast as Program;
}

/**
 * Render `text` against `vars`. Text without "{{" is returned unchanged without touching
 * handlebars. `pos` is where the YAML value holding the template was written.
 */
export function renderString(text: string, vars: object, pos?: SourcePos): string {
  if (!text.includes('{{')) return text;
  const compiled = compile(text);
  const locate = templateLocator(pos);
  if (compiled.error !== undefined) failCompiled(compiled, text, locate);
  try {
    return (compiled.render as Handlebars.TemplateDelegate)(vars, RUNTIME_OPTIONS);
  } catch (err) {
    throw toTemplateError(err, text, compiled.ast, locate, vars);
  }
}

/** A template that is exactly one mustache evaluates to a typed value; others render to text. */
function renderTyped(text: string, vars: object, pos: SourcePos | undefined): unknown {
  const compiled = compile(text);
  const locate = templateLocator(pos);
  if (compiled.error !== undefined) failCompiled(compiled, text, locate);
  if (!compiled.single) return renderString(text, vars, pos);
  try {
    return evaluateMustache(compiled.single, vars, env.helpers as Record<string, (...args: unknown[]) => unknown>, locate);
  } catch (err) {
    throw toTemplateError(err, text, compiled.ast, locate, vars);
  }
}

export type PositionSource = SourcePos | ((path: (string | number)[]) => SourcePos | undefined);

/**
 * Render every string inside `value` (keys too when they contain "{{"), returning copies of
 * arrays and objects; other values are returned as they are. A string that is exactly one
 * mustache keeps the type of its value (`"{{ servers }}"` → the list). `pos` is the position
 * of `value`, or a function giving the position of the member at a path below it.
 */
export function renderValue(value: unknown, vars: object, pos?: PositionSource): unknown {
  const positionAt = (path: (string | number)[]): SourcePos | undefined =>
    typeof pos === 'function' ? pos(path) : pos;
  const visit = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') return node.includes('{{') ? renderTyped(node, vars, positionAt(path)) : node;
    if (Array.isArray(node)) {
      const out = node.map((item, i) => visit(item, [...path, i]));
      copyPositions(node, out);
      return out;
    }
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(node)) {
        const renderedKey = key.includes('{{') ? renderString(key, vars, positionAt([...path, key])) : key;
        setOwn(out, renderedKey, visit(member, [...path, key]));
      }
      copyPositions(node, out);
      return out;
    }
    return node;
  };
  return visit(value, []);
}

/** True when `value` holds a string with "{{" anywhere inside it (keys included). */
export function containsTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => k.includes('{{') || containsTemplate(v));
  }
  return false;
}
