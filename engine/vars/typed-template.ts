// Evaluates a template that is exactly one mustache (`"{{ servers }}"`, `"{{default port 80}}"`)
// to a value instead of a string, so YAML like `loop: "{{ hosts }}"` yields a list. It walks
// handlebars' own AST with handlebars' rules: a bare name is a helper if one exists, else a
// variable; strict lookups, except that a helper parameter may be missing at its last segment.
import type { SourcePos } from '../errors.js';
import { TemplateError } from './errors.js';
import { HelperFailure, type HelperOptions } from './helpers.js';
import { undefinedMessage, type TemplateLocator } from './template-errors.js';
import type { MustacheStatement, Node, PathExpression, SubExpression } from './template-ast.js';
import { readProperty } from './values.js';

type HelperTable = Record<string, (...args: unknown[]) => unknown>;

interface Context {
  vars: unknown;
  helpers: HelperTable;
  locate: TemplateLocator;
}

function posOf(node: Node, ctx: Context): SourcePos | undefined {
  return node.loc ? ctx.locate(node.loc.start.line, node.loc.start.column) : ctx.locate(1, 0);
}

/** Read a path; `terminalOptional` lets the last segment be missing (helper parameters). */
function lookup(path: PathExpression, ctx: Context, terminalOptional: boolean): unknown {
  let parts = path.parts;
  let current: unknown = ctx.vars;
  if (path.data) {
    if (parts[0] !== 'root') {
      throw new TemplateError('UNDEFINED_VARIABLE', `undefined data variable '@${parts.join('.')}'`, { pos: posOf(path, ctx) });
    }
    parts = parts.slice(1);
  }
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const read = readProperty(current, part);
    if (!read.found) {
      const last = i === parts.length - 1;
      if (last && terminalOptional && current !== null && current !== undefined) return undefined;
      throw new TemplateError('UNDEFINED_VARIABLE', undefinedMessage(parts, i, path.original), {
        pos: posOf(path, ctx),
        variable: parts.slice(0, i + 1).join('.'),
      });
    }
    current = read.value;
  }
  return current;
}

function options(name: string, hash: Record<string, unknown>, ctx: Context): HelperOptions {
  return {
    name,
    hash,
    fn: () => '',
    inverse: () => '',
    data: { root: ctx.vars },
    lookupProperty: (parent, key) => readProperty(parent, key).value,
  };
}

function callHelper(node: MustacheStatement | SubExpression, name: string, ctx: Context): unknown {
  const helper = Object.prototype.hasOwnProperty.call(ctx.helpers, name) ? ctx.helpers[name] : undefined;
  if (!helper) throw new TemplateError('TEMPLATE', `unknown helper '${name}'`, { pos: posOf(node.path, ctx) });
  const params = node.params.map((p) => evaluate(p, ctx, true));
  const hash: Record<string, unknown> = {};
  for (const pair of node.hash?.pairs ?? []) hash[pair.key] = evaluate(pair.value, ctx, true);
  try {
    return helper.call(ctx.vars, ...params, options(name, hash, ctx));
  } catch (err) {
    if (err instanceof TemplateError || !(err instanceof Error)) throw err;
    if (err instanceof HelperFailure && err.undefinedVariable) {
      throw new TemplateError('UNDEFINED_VARIABLE', `undefined variable '${name}'`, { pos: posOf(node.path, ctx), variable: name });
    }
    throw new TemplateError('TEMPLATE', `helper '${name}' failed: ${err.message}`, { pos: posOf(node, ctx), cause: err });
  }
}

function evaluate(node: Node, ctx: Context, asParam: boolean): unknown {
  switch (node.type) {
    case 'StringLiteral':
    case 'NumberLiteral':
    case 'BooleanLiteral':
      return (node as hbs.AST.StringLiteral).value;
    case 'UndefinedLiteral':
      return undefined;
    case 'NullLiteral':
      return null;
    case 'PathExpression':
      return lookup(node as PathExpression, ctx, asParam);
    case 'SubExpression': {
      const sexpr = node as SubExpression;
      return callHelper(sexpr, sexpr.path.original, ctx);
    }
    default:
      throw new TemplateError('TEMPLATE', `unsupported template expression '${node.type}'`, { pos: posOf(node, ctx) });
  }
}

/** The value of a single mustache, evaluated against `vars` with `helpers`. */
export function evaluateMustache(
  mustache: MustacheStatement,
  vars: unknown,
  helpers: HelperTable,
  locate: TemplateLocator,
): unknown {
  const ctx: Context = { vars, helpers, locate };
  // handlebars reads a literal in name position (`{{true}}`, `{{"a b"}}`) as a property name
  const path: PathExpression =
    mustache.path.type === 'PathExpression'
      ? (mustache.path as PathExpression)
      : {
          type: 'PathExpression',
          data: false,
          depth: 0,
          parts: [String((mustache.path as hbs.AST.StringLiteral).value)],
          original: String((mustache.path as hbs.AST.StringLiteral).value),
          loc: mustache.path.loc,
        };
  const hasArgs = mustache.params.length > 0 || (mustache.hash?.pairs.length ?? 0) > 0;
  const simpleName = !path.data && path.parts.length === 1 && path.depth === 0 && !/^(this|\.)[./]/.test(path.original);
  if (hasArgs || (simpleName && Object.prototype.hasOwnProperty.call(helpers, path.original))) {
    return callHelper({ ...mustache, path }, path.original, ctx);
  }
  return lookup(path, ctx, false);
}
