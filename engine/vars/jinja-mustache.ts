// Jinja expressions inside `{{ }}`: users port Ansible playbooks full of `{{ x | default('a') }}`.
// Each plain mustache of a template text is classified once (cached with the compiled template):
// a bare dotted path (`{{ x }}`, `{{ a.b }}`, same meaning in both) or anything only handlebars
// parses stays handlebars; a mustache that parses as an expression and uses a Jinja-only
// construct (filter, operator, indexing, literal, keyword) becomes a Jinja mustache. Jinja
// mustaches are replaced, in the text handed to handlebars, by a call of an internal helper
// with the mustache's index, so blocks (`{{#each}}`) keep working around them.
import type { Expr } from './expr/ast.js';
import { SyntaxFault, tokenize, type Token } from './expr/lexer.js';
import { parseExpression } from './expr/parser.js';
import { lineColOf } from './source-offset.js';
import { FORBIDDEN_PROPERTIES } from './values.js';

/** The internal helper standing for a Jinja mustache; user text may not contain the name. */
export const JINJA_HELPER = '__tsplay_jinja__';

export interface JinjaMustache {
  /** The expression source, without `{{`, `}}` and whitespace-control dashes. */
  source: string;
  /** Offset of `source` in the template text (for error columns). */
  start: number;
  tree: Expr;
}

/** A problem found while classifying: offset in the template text, and the message. */
export interface JinjaFault {
  offset: number;
  message: string;
}

export interface ClassifiedText {
  /** The text handed to handlebars: Jinja mustaches replaced by `{{__tsplay_jinja__ N}}`. */
  handlebarsText: string;
  jinja: JinjaMustache[];
  /** The first Jinja syntax or safety error (the template cannot run). */
  fault?: JinjaFault;
  /** Map a line (1-based) / column (0-based) of handlebarsText to the original text. */
  toOriginal(line: number, column: number): { line: number; column: number };
}

interface Replacement {
  origStart: number;
  origEnd: number;
  newStart: number;
  newEnd: number;
}

/** Handlebars statements that are never Jinja: blocks, partials, comments, raw output, else. */
const HANDLEBARS_OPENERS = ['{{{', '{{#', '{{/', '{{^', '{{!', '{{>', '{{&', '{{~', '{{*'];
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);
const CONSTANTS = new Set(['true', 'True', 'false', 'False', 'none', 'None', 'null']);

/**
 * Characters and words that only make sense in Jinja, used to pick the more helpful error when a
 * mustache parses in neither language. `-` and `/` are left out: handlebars paths use them
 * (`../port`, `a-b`).
 */
const JINJA_FLAVOUR = /[|(~'<>+*%]|==|!=|\b(?:and|or|not|in|is|if)\b/;

/** Offset just past the `}}` closing the mustache whose inner text starts at `from`, or -1. */
function closingBraces(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const ch = text[i];
    if (ch === "'" || ch === '"') {
      const close = skipString(text, i);
      if (close < 0) break; // unterminated: fall back to the first }}
      i = close;
    } else if (ch === '(' || ch === '[' || ch === '{') {
      depth++;
    } else if ((ch === ')' || ch === ']' || ch === '}') && depth > 0) {
      depth--;
    } else if (ch === '}' && text[i + 1] === '}') {
      return i + 2;
    }
  }
  const plain = text.indexOf('}}', from);
  return plain < 0 ? -1 : plain + 2;
}

/** Offset of the quote closing the string literal opening at `open`, or -1. */
function skipString(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** `name(.name|.digits)*`: reads the same variable in handlebars and in Jinja. */
function isPlainPath(tokens: Token[]): boolean {
  const body = tokens.filter((t) => t.type !== 'eof');
  const first = body[0];
  if (!first || first.type !== 'name' || KEYWORDS.has(first.value) || CONSTANTS.has(first.value)) return false;
  for (let i = 1; i < body.length; i += 2) {
    const dot = body[i] as Token;
    const segment = body[i + 1];
    if (dot.type !== 'op' || dot.value !== '.' || !segment || (segment.type !== 'name' && segment.type !== 'number')) return false;
    if (segment.type === 'number' && !/^\d+$/.test(segment.value)) return false;
  }
  return true;
}

/** The first read of a prototype member (`x.__proto__`, `x['constructor']`, `constructor`). */
function forbiddenAccess(expr: Expr): { name: string; at: number } | undefined {
  let found: { name: string; at: number } | undefined;
  const visit = (e: Expr | undefined): void => {
    if (!e || found) return;
    switch (e.kind) {
      case 'name':
        if (FORBIDDEN_PROPERTIES.has(e.name)) found = { name: e.name, at: e.at };
        return;
      case 'attr':
        if (FORBIDDEN_PROPERTIES.has(e.name)) found = { name: e.name, at: e.at };
        return visit(e.object);
      case 'index':
        if (e.index.kind === 'literal' && typeof e.index.value === 'string' && FORBIDDEN_PROPERTIES.has(e.index.value)) {
          found = { name: e.index.value, at: e.index.at };
        }
        return (visit(e.object), visit(e.index));
      case 'literal':
        return;
      case 'list':
        return e.items.forEach(visit);
      case 'dict':
        return e.entries.forEach(([k, v]) => (visit(k), visit(v)));
      case 'slice':
        return (visit(e.object), visit(e.start), visit(e.stop));
      case 'unary':
        return visit(e.operand);
      case 'binary':
      case 'and':
      case 'or':
        return (visit(e.left), visit(e.right));
      case 'compare':
        visit(e.first);
        return e.rest.forEach((r) => visit(r.right));
      case 'cond':
        return (visit(e.test), visit(e.then), visit(e.otherwise));
      case 'filter':
      case 'test':
        visit(e.input);
        e.args.forEach(visit);
        return Object.values(e.kwargs).forEach(visit);
    }
  };
  visit(expr);
  return found;
}

type Verdict = { kind: 'handlebars' } | { kind: 'jinja'; tree: Expr } | { kind: 'fault'; fault: JinjaFault };

/**
 * Classify one mustache. `source` is its expression text, starting at `start` in the template;
 * `parsesAsHandlebars` is asked only when neither reading is obvious.
 */
function classify(source: string, start: number, parsesAsHandlebars: () => boolean): Verdict {
  let tree: Expr | undefined;
  let syntax: SyntaxFault | undefined;
  try {
    tree = parseExpression(source);
  } catch (err) {
    if (!(err instanceof SyntaxFault)) throw err;
    syntax = err;
  }
  if (tree) {
    if (isPlainPath(tokenize(source))) return { kind: 'handlebars' };
    const forbidden = forbiddenAccess(tree);
    if (forbidden) {
      return { kind: 'fault', fault: { offset: start + forbidden.at, message: `access to '${forbidden.name}' is not allowed in templates` } };
    }
    return { kind: 'jinja', tree };
  }
  if (syntax && JINJA_FLAVOUR.test(source) && !parsesAsHandlebars()) {
    return {
      kind: 'fault',
      fault: { offset: start + syntax.offset, message: `syntax error in expression '${source.trim()}': ${syntax.message}` },
    };
  }
  return { kind: 'handlebars' }; // handlebars parses it, or reports its own error with its position
}

/**
 * Find and classify the plain mustaches of `text`. `parsesAsHandlebars(mustache)` tells
 * whether a lone mustache (`{{ ... }}`) is valid handlebars.
 */
export function classifyMustaches(text: string, parsesAsHandlebars: (mustache: string) => boolean): ClassifiedText {
  const jinja: JinjaMustache[] = [];
  const replacements: Replacement[] = [];
  let out = '';
  let copied = 0; // text before this offset is already in `out`
  let fault: JinjaFault | undefined;
  const reserved = text.indexOf(JINJA_HELPER);
  if (reserved >= 0) fault = { offset: reserved, message: `'${JINJA_HELPER}' is reserved` };

  let i = text.indexOf('{{');
  while (i >= 0) {
    let next = i + 2;
    let backslashes = 0;
    while (text[i - 1 - backslashes] === '\\') backslashes++;
    if (backslashes % 2 === 1) {
      // `\{{` is literal text for handlebars
    } else if (text.startsWith('{{{{', i)) {
      // raw block: its body is never templated
      const closer = text.indexOf('{{{{/', i + 4);
      const end = closer < 0 ? -1 : text.indexOf('}}}}', closer);
      if (end < 0) break;
      next = end + 4;
    } else if (text.startsWith('{{!--', i)) {
      const end = text.indexOf('--}}', i + 5);
      if (end < 0) break;
      next = end + 4;
    } else if (text.startsWith('{{!', i)) {
      const end = text.indexOf('}}', i + 3);
      if (end < 0) break;
      next = end + 2;
    } else if (HANDLEBARS_OPENERS.some((o) => text.startsWith(o, i)) || /^\{\{\s*else(?![\w-])/.test(text.slice(i, i + 40))) {
      // a block, partial or else: handlebars' own
    } else {
      const end = closingBraces(text, i + 2);
      if (end < 0) break; // unclosed: handlebars reports it
      next = end;
      const inner = text.slice(i + 2, end - 2);
      // Jinja's whitespace control `{{- x -}}` is handlebars' `{{~ x ~}}`
      const stripLeft = inner.startsWith('-');
      const stripRight = inner.length > (stripLeft ? 1 : 0) && inner.endsWith('-');
      const source = inner.slice(stripLeft ? 1 : 0, stripRight ? -1 : undefined);
      const start = i + 2 + (stripLeft ? 1 : 0);
      const verdict = classify(source, start, () => parsesAsHandlebars(text.slice(i, end)));
      let replacement: string | undefined;
      if (verdict.kind === 'fault') {
        fault ??= verdict.fault;
      } else if (verdict.kind === 'jinja') {
        replacement = `{{${stripLeft ? '~' : ''}${JINJA_HELPER} ${jinja.length}${stripRight ? '~' : ''}}}`;
        jinja.push({ source, start, tree: verdict.tree });
      } else if (stripLeft || stripRight) {
        replacement = `{{${stripLeft ? '~' : ''}${source}${stripRight ? '~' : ''}}}`; // same length
      }
      if (replacement !== undefined) {
        out += text.slice(copied, i);
        replacements.push({ origStart: i, origEnd: end, newStart: out.length, newEnd: out.length + replacement.length });
        out += replacement;
        copied = end;
      }
    }
    i = text.indexOf('{{', next);
  }
  if (replacements.length === 0) {
    return { handlebarsText: text, jinja, fault, toOriginal: (line, column) => ({ line, column }) };
  }
  out += text.slice(copied);
  const handlebarsText = out;
  return {
    handlebarsText,
    jinja,
    fault,
    toOriginal(line, column) {
      const offset = offsetOf(handlebarsText, line, column);
      const original = originalOffset(replacements, offset);
      const lc = lineColOf(text, original);
      return { line: lc.line + 1, column: lc.col };
    },
  };
}

/** Offset of line (1-based) / column (0-based) in `text`. */
function offsetOf(text: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) break;
    offset = nl + 1;
  }
  return offset + column;
}

/** The original offset of a handlebarsText offset; inside a placeholder, where its mustache starts. */
function originalOffset(replacements: Replacement[], offset: number): number {
  let shift = 0;
  for (const r of replacements) {
    if (offset < r.newStart) break;
    if (offset < r.newEnd) return r.origStart;
    shift = r.origEnd - r.newEnd;
  }
  return offset + shift;
}

/** The Jinja mustache index when `node` is a placeholder call (`{{__tsplay_jinja__ N}}`). */
export function placeholderIndex(node: hbs.AST.Node): number | undefined {
  if (node.type !== 'MustacheStatement') return undefined;
  const m = node as hbs.AST.MustacheStatement;
  if (m.path.type !== 'PathExpression' || (m.path as hbs.AST.PathExpression).original !== JINJA_HELPER) return undefined;
  const param = m.params[0];
  return param?.type === 'NumberLiteral' ? (param as hbs.AST.NumberLiteral).value : undefined;
}
