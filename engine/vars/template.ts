// Templating with handlebars, configured for config files rather than HTML: no escaping
// (`a<b` stays), strict (a missing variable is an error naming it and its file:line:col),
// an isolated environment with Ansible-named helpers, compiled templates cached by text.
// Mustaches written in Jinja (`{{ x | default('a') }}`) are found and evaluated with the
// expression language (jinja-mustache.ts, jinja-render.ts); see TEMPLATES.md.
import Handlebars from 'handlebars';
import type { SourcePos } from '../errors.js';
import { copyPositions } from '../load/positions.js';
import { TemplateError } from './errors.js';
import { HELPERS, type HelperOptions } from './helpers.js';
import { classifyMustaches, JINJA_HELPER, placeholderIndex, type JinjaFault, type JinjaMustache } from './jinja-mustache.js';
import { evaluateJinja, JINJA_RUN, jinjaRunOf, jinjaScope, jinjaText, type JinjaRun } from './jinja-render.js';
import { lineColOf } from './source-offset.js';
import { findForbiddenSegment, singleMustache, walk, type MustacheStatement, type PathExpression, type Program } from './template-ast.js';
import { templateLocator, toTemplateError, type TemplateLocator } from './template-errors.js';
import { evaluateMustache } from './typed-template.js';
import { setOwn } from './values.js';

const env = Handlebars.create();
useStringConcatenation(env);
usePositionedLookups(env);
for (const [name, helper] of Object.entries(HELPERS)) env.registerHelper(name, helper as Handlebars.HelperDelegate);
env.registerHelper(JINJA_HELPER, function jinjaMustache(this: unknown, index: number, options: HelperOptions) {
  const run = jinjaRunOf(options.data);
  const mustache = run?.jinja[index];
  if (!run || !mustache) throw new TemplateError('TEMPLATE', `'${JINJA_HELPER}' is reserved`);
  return jinjaText(evaluateJinja(mustache, jinjaScope(run.vars, this, options.hash), run.text, run.pos));
});

/** `{{@first}}` rewritten: reads handlebars' @data variable `name` (strict, like any lookup). */
const DATA_HELPER = '__tsplay_data__';
env.registerHelper(DATA_HELPER, function dataVariable(name: string, options: HelperOptions) {
  const data = options.data as Record<string, unknown> | undefined;
  if (!data || !Object.prototype.hasOwnProperty.call(data, name) && !(name in data)) {
    throw new TemplateError('UNDEFINED_VARIABLE', `undefined data variable '@${name}' (@index, @key, @first and @last exist inside {{#each}}; @root everywhere)`, { variable: `@${name}` });
  }
  return data[name];
});

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
    // a boolean inside text prints as Ansible (Python) prints it: True / False
    return baseAppend.call(this, ['"" + container.', TEXT_OF, '(', source, ')'], location, explicit);
  };
  holder.JavaScriptCompiler = StringConcatCompiler as unknown as CompilerClass;
}

/** The name under which the compiled code finds textOf on handlebars' container. */
const TEXT_OF = '__tsplayTextOf';

function textOf(value: unknown): unknown {
  return typeof value === 'boolean' ? (value ? 'True' : 'False') : value;
}

function describeHolder(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  return typeof value === 'object' ? (Array.isArray(value) ? 'a list' : 'a mapping') : `${typeof value} ${JSON.stringify(value)}`;
}

/**
 * Handlebars' strict lookup runs `name in obj`, which throws a bare TypeError without a
 * position when obj is a string or a number (`{{ port }}` inside `{{#each names}}` reads
 * `port` of the current item, a string). Every compiled template's container gets a lookup
 * that throws handlebars' own "not defined" error with the mustache's line:column instead,
 * and the textOf the compiled code calls (useStringConcatenation).
 */
function usePositionedLookups(target: typeof Handlebars): void {
  type Container = Record<string, unknown> & { lookupProperty(obj: unknown, name: string): unknown };
  type Spec = Record<string, unknown> & { main?: (container: Container, ...rest: unknown[]) => unknown };
  const holder = target as unknown as { template(spec: Spec): unknown };
  const baseTemplate = holder.template;
  const Exception = target.Exception as unknown as new (message: string, node?: unknown) => Error;
  const prepared = new WeakSet<object>();
  const prepare = (container: Container): void => {
    if (prepared.has(container)) return;
    prepared.add(container);
    container[TEXT_OF] = textOf;
    container.strict = (obj: unknown, name: string, loc: unknown) => {
      const readable = obj !== null && obj !== undefined && (typeof obj === 'object' || typeof obj === 'function');
      if (!readable || !(name in (obj as object))) throw new Exception(`"${name}" not defined in ${describeHolder(obj)}`, { loc });
      return container.lookupProperty(obj, name);
    };
  };
  holder.template = function template(spec: Spec) {
    const main = spec.main;
    if (typeof main === 'function' && !prepared.has(spec)) {
      prepared.add(spec);
      spec.main = function mainWithLookups(this: unknown, container: Container, ...rest: unknown[]) {
        prepare(container);
        return main.call(this, container, ...rest);
      };
    }
    return baseTemplate.call(holder, spec);
  };
}

/**
 * `{{@first}}` and `{{@last}}` are helpers to handlebars when a helper of that name exists
 * (first/last do: Ansible's filters): make such a data mustache read the data variable.
 */
function readDataVariables(ast: Program): void {
  walk(ast, (node) => {
    if (node.type !== 'MustacheStatement') return;
    const mustache = node as MustacheStatement;
    const path = mustache.path as PathExpression;
    if (path.type !== 'PathExpression' || !path.data || path.parts.length !== 1 || mustache.params.length > 0 || (mustache.hash?.pairs.length ?? 0) > 0) return;
    if (!Object.prototype.hasOwnProperty.call(env.helpers, path.parts[0]!)) return;
    const loc = path.loc;
    mustache.params = [{ type: 'StringLiteral', value: path.parts[0]!, original: path.parts[0]!, loc } as hbs.AST.StringLiteral];
    mustache.path = { type: 'PathExpression', data: false, depth: 0, parts: [DATA_HELPER], original: DATA_HELPER, loc } as PathExpression;
  });
}

interface Compiled {
  /** Handlebars' AST of the text, Jinja mustaches replaced by placeholder calls. */
  ast?: Program;
  render?: Handlebars.TemplateDelegate;
  single?: MustacheStatement;
  /** The Jinja mustaches, by placeholder index. */
  jinja: readonly JinjaMustache[];
  /** The text is exactly this one Jinja mustache (whitespace around allowed). */
  singleJinja?: JinjaMustache;
  /** The text handed to handlebars (equal to the text without Jinja mustaches). */
  handlebarsText: string;
  /** Position of a handlebarsText line/column in the original text. */
  toOriginal: (line: number, column: number) => { line: number; column: number };
  /** The syntax/safety error, cached too: the same text always fails the same way. */
  error?: unknown;
}

/** A mustache on its own is valid handlebars (classification asks only in doubtful cases). */
function parsesAsHandlebars(mustache: string): boolean {
  try {
    env.parse(mustache);
    return true;
  } catch {
    return false;
  }
}

/**
 * Give each placeholder inside `{{#each xs as |x|}}` the block params in scope as hash
 * arguments (`x=x`): handlebars passes helpers their context as `this`, but not block params.
 */
function passBlockParams(ast: Program): void {
  walk(ast, (node, parents) => {
    if (placeholderIndex(node) === undefined) return;
    const names = new Set<string>();
    for (const parent of parents) {
      if (parent.type === 'Program') for (const name of (parent as Program).blockParams ?? []) names.add(name);
    }
    if (names.size === 0) return;
    const mustache = node as MustacheStatement;
    const loc = mustache.loc;
    mustache.hash = {
      type: 'Hash',
      loc,
      pairs: [...names].map((name) => ({
        type: 'HashPair',
        key: name,
        loc,
        value: { type: 'PathExpression', data: false, depth: 0, parts: [name], original: name, loc } as hbs.AST.PathExpression,
      })),
    };
  });
}

const MAX_CACHE = 10000;
const cache = new Map<string, Compiled>();

function compile(text: string): Compiled {
  let compiled = cache.get(text);
  if (compiled) return compiled;
  const classified = classifyMustaches(text, parsesAsHandlebars);
  const base = { jinja: classified.jinja, handlebarsText: classified.handlebarsText, toOriginal: classified.toOriginal };
  if (classified.fault) {
    compiled = { ...base, error: { jinjaFault: classified.fault } };
  } else {
    try {
      const ast = env.parse(classified.handlebarsText);
      const forbidden = findForbiddenSegment(ast);
      if (forbidden) {
        compiled = { ...base, ast, error: { forbidden } };
      } else {
        readDataVariables(ast);
        const single = singleMustache(ast);
        const singleIndex = single ? placeholderIndex(single) : undefined;
        if (classified.jinja.length > 0) passBlockParams(ast);
        compiled = {
          ...base,
          ast,
          render: env.compile(ast, COMPILE_OPTIONS),
          single,
          singleJinja: singleIndex === undefined ? undefined : classified.jinja[singleIndex],
        };
      }
    } catch (err) {
      compiled = { ...base, error: err };
    }
  }
  if (cache.size >= MAX_CACHE) cache.clear();
  cache.set(text, compiled);
  return compiled;
}

/** A locator for positions handlebars reports in handlebarsText (they are mapped to the text). */
function handlebarsLocator(compiled: Compiled, locate: TemplateLocator): TemplateLocator {
  return (line, column) => {
    const original = compiled.toOriginal(line, column);
    return locate(original.line, original.column);
  };
}

/** Throw the cached compile-time error of `compiled`, positioned for this use. */
function failCompiled(compiled: Compiled, text: string, locate: TemplateLocator): never {
  const error = compiled.error as { forbidden?: ReturnType<typeof findForbiddenSegment>; jinjaFault?: JinjaFault };
  if (error.jinjaFault) {
    const { line, col } = lineColOf(text, error.jinjaFault.offset);
    throw new TemplateError('TEMPLATE', error.jinjaFault.message, { pos: locate(line + 1, col) });
  }
  const located = handlebarsLocator(compiled, locate);
  if (error.forbidden) {
    const loc = error.forbidden.node.loc.start;
    throw new TemplateError('TEMPLATE', `access to '${error.forbidden.segment}' is not allowed in templates`, {
      pos: located(loc.line, loc.column),
    });
  }
  throw toTemplateError(compiled.error, compiled.handlebarsText, compiled.ast, located);
}

/** Handlebars' runtime options for one render: the Jinja mustaches travel in @data. */
function runtimeOptions(compiled: Compiled, text: string, vars: object, pos: SourcePos | undefined): Handlebars.RuntimeOptions {
  if (compiled.jinja.length === 0) return RUNTIME_OPTIONS;
  const run: JinjaRun = { jinja: compiled.jinja, text, pos, vars };
  return { ...RUNTIME_OPTIONS, data: { root: vars, [JINJA_RUN]: run } };
}

/** True when `text` contains a mustache and therefore needs rendering. */
export function isTemplate(text: string): boolean {
  return text.includes('{{');
}

/** The parsed template (syntax errors thrown as TemplateError); for static analysis. */
export function parseTemplate(text: string, pos?: SourcePos): Program {
  return analyseTemplate(text, pos).ast;
}

/**
 * The parsed template and its Jinja mustaches: in `ast`, mustache N of `jinja` is the
 * placeholder call `{{__tsplay_jinja__ N}}` (jinja-mustache.ts placeholderIndex). Syntax
 * errors of either kind are thrown as TemplateError.
 */
export function analyseTemplate(text: string, pos?: SourcePos): { ast: Program; jinja: readonly JinjaMustache[] } {
  const compiled = compile(text);
  if (compiled.error !== undefined) failCompiled(compiled, text, templateLocator(pos));
  return { ast: compiled.ast as Program, jinja: compiled.jinja };
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
    return (compiled.render as Handlebars.TemplateDelegate)(vars, runtimeOptions(compiled, text, vars, pos));
  } catch (err) {
    throw toTemplateError(err, compiled.handlebarsText, compiled.ast, handlebarsLocator(compiled, locate), vars);
  }
}

/** A template that is exactly one mustache evaluates to a typed value; others render to text. */
function renderTyped(text: string, vars: object, pos: SourcePos | undefined): unknown {
  const compiled = compile(text);
  const locate = templateLocator(pos);
  if (compiled.error !== undefined) failCompiled(compiled, text, locate);
  if (compiled.singleJinja) return evaluateJinja(compiled.singleJinja, vars, text, pos);
  if (!compiled.single) return renderString(text, vars, pos);
  try {
    const located = handlebarsLocator(compiled, locate);
    return evaluateMustache(compiled.single, vars, env.helpers as Record<string, (...args: unknown[]) => unknown>, located);
  } catch (err) {
    throw toTemplateError(err, compiled.handlebarsText, compiled.ast, handlebarsLocator(compiled, locate), vars);
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
