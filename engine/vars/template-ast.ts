// Small utilities over handlebars' parsed AST (hbs.AST): walking it, finding the node an
// error refers to, and spotting a template that is exactly one mustache.
import type Handlebars from 'handlebars';
import { FORBIDDEN_PROPERTIES } from './values.js';

export type Node = hbs.AST.Node;
export type Program = hbs.AST.Program;
export type PathExpression = hbs.AST.PathExpression;
export type MustacheStatement = hbs.AST.MustacheStatement;
export type SubExpression = hbs.AST.SubExpression;
export type BlockStatement = hbs.AST.BlockStatement;

/** A call site: mustache, block or sub-expression. */
export type CallNode = MustacheStatement | SubExpression | BlockStatement;

/** Every node below `node`, depth first; `visit` sees each node with the blocks enclosing it. */
export function walk(node: Node | undefined | null, visit: (node: Node, parents: Node[]) => void, parents: Node[] = []): void {
  if (!node) return;
  visit(node, parents);
  const inner = [...parents, node];
  const n = node as unknown as Record<string, unknown>;
  switch (node.type) {
    case 'Program':
      for (const s of (node as Program).body) walk(s, visit, inner);
      break;
    case 'MustacheStatement':
    case 'SubExpression':
    case 'BlockStatement':
    case 'DecoratorBlock':
    case 'Decorator':
    case 'PartialStatement':
    case 'PartialBlockStatement':
      walk((n.path ?? n.name) as Node, visit, inner);
      for (const p of (n.params as Node[] | undefined) ?? []) walk(p, visit, inner);
      walk(n.hash as Node | undefined, visit, inner);
      walk(n.program as Node | undefined, visit, inner);
      walk(n.inverse as Node | undefined, visit, inner);
      break;
    case 'Hash':
      for (const pair of (node as hbs.AST.Hash).pairs) walk(pair.value, visit, inner);
      break;
  }
}

export function isCall(node: Node): node is CallNode {
  return node.type === 'MustacheStatement' || node.type === 'SubExpression' || node.type === 'BlockStatement';
}

/** A call with arguments, or a sub-expression: its path names a helper, not a variable. */
export function isHelperCall(node: CallNode): boolean {
  return node.type === 'SubExpression' || node.params.length > 0 || (node.hash?.pairs.length ?? 0) > 0;
}

/** The path expression that starts at template line `line` (1-based), column `column` (0-based). */
export function findPathAt(ast: Program, line: number, column: number): { path: PathExpression; parent?: Node } | undefined {
  let found: { path: PathExpression; parent?: Node } | undefined;
  walk(ast, (node, parents) => {
    if (found || node.type !== 'PathExpression') return;
    if (node.loc?.start.line === line && node.loc.start.column === column) {
      found = { path: node as PathExpression, parent: parents[parents.length - 1] };
    }
  });
  return found;
}

/**
 * What a path is read from where it stands: the template's variables ('root': outside any
 * {{#each}}/{{#with}} body, or `@root.x`), a block param (`as |p|` → 'block param'), the
 * current item of an each/with body ('item'), or something else (`../x`, other @data).
 */
export type PathContext = 'root' | 'block param' | 'item' | 'other';

export function pathContext(path: PathExpression, parents: Node[]): PathContext {
  if (path.data) return path.parts[0] === 'root' ? 'root' : 'other';
  if (path.depth > 0) return 'other';
  let context: PathContext = 'root';
  for (let i = 0; i < parents.length; i++) {
    const node = parents[i]!;
    if (node.type === 'Program' && ((node as Program).blockParams ?? []).includes(path.parts[0] ?? '')) return 'block param';
    if (node.type !== 'BlockStatement') continue;
    const block = node as BlockStatement;
    // inside the block's body (not its parameters, nor {{else}}): each and with change the context
    const name = block.path.type === 'PathExpression' ? (block.path as PathExpression).original : '';
    if (parents[i + 1] === block.program && (name === 'each' || name === 'with')) context = 'item';
  }
  return context;
}

/** The path at template line `line` (1-based), column `column` (0-based), with what it is read from. */
export function findPathContextAt(ast: Program, line: number, column: number): { path: PathExpression; parent?: Node; context: PathContext } | undefined {
  let found: { path: PathExpression; parent?: Node; context: PathContext } | undefined;
  walk(ast, (node, parents) => {
    if (found || node.type !== 'PathExpression') return;
    if (node.loc?.start.line === line && node.loc.start.column === column) {
      found = { path: node as PathExpression, parent: parents[parents.length - 1], context: pathContext(node as PathExpression, parents) };
    }
  });
  return found;
}

/** The first call of helper `name` (for errors raised inside a helper). */
export function findHelperCall(ast: Program, name: string): CallNode | undefined {
  let found: CallNode | undefined;
  walk(ast, (node) => {
    if (!found && isCall(node) && node.path.type === 'PathExpression' && (node.path as PathExpression).original === name) {
      found = node;
    }
  });
  return found;
}

/** The first path segment that reaches for a prototype member (constructor, __proto__, ...). */
export function findForbiddenSegment(ast: Program): { segment: string; node: PathExpression } | undefined {
  let found: { segment: string; node: PathExpression } | undefined;
  walk(ast, (node) => {
    if (found || node.type !== 'PathExpression') return;
    const path = node as PathExpression;
    const segment = path.parts.find((p) => FORBIDDEN_PROPERTIES.has(p));
    if (segment !== undefined) found = { segment, node: path };
  });
  return found;
}

/**
 * The mustache when the template is exactly one `{{ ... }}` with only spaces or tabs around
 * it. A newline around it is content (`content: "{{ line }}\n"` must keep its newline).
 */
export function singleMustache(ast: Program): MustacheStatement | undefined {
  let mustache: MustacheStatement | undefined;
  for (const statement of ast.body) {
    if (statement.type === 'ContentStatement') {
      if (!/^[ \t]*$/.test((statement as hbs.AST.ContentStatement).value)) return undefined;
    } else if (statement.type === 'MustacheStatement' && !mustache) {
      mustache = statement as MustacheStatement;
    } else {
      return undefined;
    }
  }
  return mustache;
}

/** The handlebars module's type (its environment). */
export type HandlebarsEnv = typeof Handlebars;
