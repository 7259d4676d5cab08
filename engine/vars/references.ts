// Which variables a template or condition reads, for the static pre-flight check ("undefined
// variable 'x'" before any host is contacted). Only root names are reported, and only reads
// that fail when the name is undefined: guarded reads (`default`, `{{#if x}}`, `is defined`,
// `x is defined and x > 1`) are left out.
import type { SourcePos } from '../errors.js';
import type { Expr } from './expr/ast.js';
import { offsetLocator, parseOrThrow, stripMustache } from './expr/evaluate.js';
import { placeholderIndex, type JinjaMustache } from './jinja-mustache.js';
import { analyseTemplate } from './template.js';
import { isHelperCall, type BlockStatement, type CallNode, type Node, type PathExpression, type Program } from './template-ast.js';

/** Block helpers whose body runs with a different `this`: bare names inside are not root variables. */
const CONTEXT_CHANGING = new Set(['each', 'with']);

interface TemplateWalk {
  /** Root names that resolve against the root context here (false inside each/with). */
  rootContext: boolean;
  /** Block parameter names in scope (`as |item|`). */
  blockParams: Set<string>;
  /** Root names guarded by an enclosing `{{#if name}}`. */
  guarded: Set<string>;
  /** The template's Jinja mustaches (`{{ x | default(1) }}`), by placeholder index. */
  jinja: readonly JinjaMustache[];
}

/**
 * Root variable names template `text` reads unguarded, in order of first use. A name passed
 * only as the first argument of `default`, or used as (or inside) `{{#if name}}`, is guarded;
 * block params, `this`, `../` and @data (except @root.x) are not variables. Jinja mustaches
 * follow expressionReferences (`x | default(1)`, `x is defined and x` are guarded); inside
 * `{{#each}}`/`{{#with}}` their names may be the item's members, so none is reported there.
 * Throws the template's syntax error (positioned with `pos`).
 */
export function templateReferences(text: string, pos?: SourcePos): string[] {
  if (!text.includes('{{')) return [];
  const found = new Set<string>();
  const { ast, jinja } = analyseTemplate(text, pos);
  visitProgram(ast, { rootContext: true, blockParams: new Set(), guarded: new Set(), jinja }, found);
  return [...found];
}

function visitJinja(mustache: JinjaMustache, walk: TemplateWalk, found: Set<string>): void {
  if (!walk.rootContext) return;
  visitExpr(mustache.tree, new Set([...walk.guarded, ...walk.blockParams, 'this']), found);
}

function rootName(path: PathExpression, walk: TemplateWalk): string | undefined {
  if (path.data) return path.parts[0] === 'root' ? path.parts[1] : undefined;
  if (path.depth > 0 || path.parts.length === 0) return undefined;
  const first = path.parts[0] as string;
  if (walk.blockParams.has(first)) return undefined;
  if (!walk.rootContext) return undefined;
  return first;
}

function visitExpression(node: Node, walk: TemplateWalk, found: Set<string>, guarded = false): void {
  if (node.type === 'PathExpression') {
    const name = rootName(node as PathExpression, walk);
    if (name !== undefined && !guarded && !walk.guarded.has(name)) found.add(name);
  } else if (node.type === 'SubExpression') {
    visitCall(node as CallNode, walk, found);
  }
}

function visitCall(node: CallNode, walk: TemplateWalk, found: Set<string>): void {
  const helperName = node.path.type === 'PathExpression' ? (node.path as PathExpression).original : undefined;
  // A bare `{{ name }}` reads the variable; with arguments the path names a helper.
  if (!isHelperCall(node) && node.type !== 'BlockStatement') visitExpression(node.path, walk, found);
  node.params.forEach((param, i) => {
    const guardedParam = (helperName === 'default' && i === 0) || (node.type === 'BlockStatement' && (helperName === 'if' || helperName === 'unless') && i === 0);
    visitExpression(param, walk, found, guardedParam);
  });
  for (const pair of node.hash?.pairs ?? []) visitExpression(pair.value, walk, found);
}

function visitProgram(program: Program | undefined, walk: TemplateWalk, found: Set<string>): void {
  for (const statement of program?.body ?? []) {
    const jinjaIndex = placeholderIndex(statement);
    if (jinjaIndex !== undefined) visitJinja(walk.jinja[jinjaIndex] as JinjaMustache, walk, found);
    else if (statement.type === 'MustacheStatement') visitCall(statement as CallNode, walk, found);
    else if (statement.type === 'BlockStatement') visitBlock(statement as BlockStatement, walk, found);
  }
}

function visitBlock(block: BlockStatement, walk: TemplateWalk, found: Set<string>): void {
  visitCall(block, walk, found);
  const name = block.path.original;
  const inner: TemplateWalk = {
    rootContext: walk.rootContext && !CONTEXT_CHANGING.has(name),
    blockParams: new Set([...walk.blockParams, ...(block.program?.blockParams ?? [])]),
    guarded: walk.guarded,
    jinja: walk.jinja,
  };
  const condition = block.params[0];
  const conditionName = condition?.type === 'PathExpression' ? rootName(condition as PathExpression, walk) : undefined;
  const withGuard = (base: TemplateWalk): TemplateWalk =>
    conditionName === undefined ? base : { ...base, guarded: new Set([...base.guarded, conditionName]) };
  // `{{#if x}}` guards x in its body; `{{#unless x}}` in its else branch.
  visitProgram(block.program, name === 'if' ? withGuard(inner) : inner, found);
  visitProgram(block.inverse, name === 'unless' ? withGuard(walk) : walk, found);
}

/** Root name of an attribute/index chain (`a.b[0]` → a). */
function chainRoot(expr: Expr): string | undefined {
  if (expr.kind === 'name') return expr.name;
  if (expr.kind === 'attr' || expr.kind === 'index' || expr.kind === 'slice') return chainRoot(expr.object);
  return undefined;
}

/** Root names certainly defined when `expr` is true (`x is defined and y.z is defined`). */
function definedWhenTrue(expr: Expr): Set<string> {
  if (expr.kind === 'test' && ((expr.name === 'defined' && !expr.negated) || (expr.name === 'undefined' && expr.negated))) {
    const root = chainRoot(expr.input);
    return new Set(root === undefined ? [] : [root]);
  }
  if (expr.kind === 'and') return new Set([...definedWhenTrue(expr.left), ...definedWhenTrue(expr.right)]);
  if (expr.kind === 'unary' && expr.op === 'not') return definedWhenFalse(expr.operand);
  return new Set();
}

/** Root names certainly defined when `expr` is false (`x is undefined or ...`). */
function definedWhenFalse(expr: Expr): Set<string> {
  if (expr.kind === 'test' && ((expr.name === 'undefined' && !expr.negated) || (expr.name === 'defined' && expr.negated))) {
    const root = chainRoot(expr.input);
    return new Set(root === undefined ? [] : [root]);
  }
  if (expr.kind === 'or') return new Set([...definedWhenFalse(expr.left), ...definedWhenFalse(expr.right)]);
  if (expr.kind === 'unary' && expr.op === 'not') return definedWhenTrue(expr.operand);
  return new Set();
}

function visitExpr(expr: Expr, guarded: Set<string>, found: Set<string>): void {
  const visit = (e: Expr, g = guarded) => visitExpr(e, g, found);
  switch (expr.kind) {
    case 'literal':
      return;
    case 'name':
      if (!guarded.has(expr.name)) found.add(expr.name);
      return;
    case 'list':
      return expr.items.forEach((e) => visit(e));
    case 'dict':
      return expr.entries.forEach(([k, v]) => (visit(k), visit(v)));
    case 'attr':
      return visit(expr.object);
    case 'index':
      return (visit(expr.object), visit(expr.index));
    case 'slice':
      visit(expr.object);
      if (expr.start) visit(expr.start);
      if (expr.stop) visit(expr.stop);
      return;
    case 'unary':
      return visit(expr.operand);
    case 'binary':
      return (visit(expr.left), visit(expr.right));
    case 'compare':
      visit(expr.first);
      return expr.rest.forEach((r) => visit(r.right));
    case 'and':
      visit(expr.left);
      return visit(expr.right, new Set([...guarded, ...definedWhenTrue(expr.left)]));
    case 'or':
      visit(expr.left);
      return visit(expr.right, new Set([...guarded, ...definedWhenFalse(expr.left)]));
    case 'cond':
      visit(expr.test);
      visit(expr.then, new Set([...guarded, ...definedWhenTrue(expr.test)]));
      if (expr.otherwise) visit(expr.otherwise, new Set([...guarded, ...definedWhenFalse(expr.test)]));
      return;
    case 'filter': {
      const root = chainRoot(expr.input);
      const safe = (expr.name === 'default' || expr.name === 'd') && root !== undefined;
      if (!safe) visit(expr.input);
      else if (expr.input.kind !== 'name') visitIndexes(expr.input, guarded, found);
      expr.args.forEach((e) => visit(e));
      return Object.values(expr.kwargs).forEach((e) => visit(e));
    }
    case 'test': {
      const root = chainRoot(expr.input);
      if (!((expr.name === 'defined' || expr.name === 'undefined') && root !== undefined)) visit(expr.input);
      else if (expr.input.kind !== 'name') visitIndexes(expr.input, guarded, found);
      expr.args.forEach((e) => visit(e));
      return Object.values(expr.kwargs).forEach((e) => visit(e));
    }
  }
}

/** In a guarded chain `a[b].c is defined`, the index expressions (b) are still read. */
function visitIndexes(expr: Expr, guarded: Set<string>, found: Set<string>): void {
  if (expr.kind === 'attr') visitIndexes(expr.object, guarded, found);
  if (expr.kind === 'index') {
    visitExpr(expr.index, guarded, found);
    visitIndexes(expr.object, guarded, found);
  }
}

/**
 * Root names condition `expr` reads that must be defined, in order of first use. Names only
 * tested with `is defined`/`is undefined` or given a `| default(...)` are left out, as are
 * names guarded by an earlier `is defined` in an `and` (or `is undefined` in an `or`).
 * Throws the expression's syntax error (positioned with `pos`).
 */
export function expressionReferences(expr: string, pos?: SourcePos): string[] {
  const { text, base } = stripMustache(expr);
  const tree = parseOrThrow(text, offsetLocator(expr, pos, base));
  const found = new Set<string>();
  visitExpr(tree, new Set(), found);
  return [...found];
}
