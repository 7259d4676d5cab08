// Turns what handlebars throws into TemplateErrors that name the variable or helper and the
// file:line:col where it was written. Handlebars reports positions inside the template text
// ("- 2:4"); offsetPos adds the position of the YAML value that holds the template.
import type { SourcePos } from '../errors.js';
import { TsplayError } from '../errors.js';
import { TemplateError } from './errors.js';
import { HelperFailure } from './helpers.js';
import { offsetPos } from './source-offset.js';
import { findHelperCall, findPathContextAt, isCall, isHelperCall, pathContext, walk, type Node, type PathExpression, type Program } from './template-ast.js';
import { readProperty } from './values.js';

/** Position of template line `line` (1-based), column `column` (0-based), in the file. */
export type TemplateLocator = (line: number, column: number) => SourcePos | undefined;

export function templateLocator(pos: SourcePos | undefined): TemplateLocator {
  return (line, column) => offsetPos(pos, line - 1, column);
}

/** Message for a variable that is missing at segment `index` of `parts`. */
export function undefinedMessage(parts: string[], index: number, original: string): string {
  if (index <= 0) return `undefined variable '${parts[0] ?? original}'`;
  const holder = parts.slice(0, index).join('.');
  return `undefined variable '${parts.slice(0, index + 1).join('.')}': '${holder}' has no attribute '${parts[index]}'`;
}

function at(node: Node | undefined, locate: TemplateLocator): SourcePos | undefined {
  return node?.loc ? locate(node.loc.start.line, node.loc.start.column) : locate(1, 0);
}

/** Column (0-based) on `line` where a jison parse error's "past input" excerpt ends. */
function parseErrorColumn(text: string, line: number, excerpt: string): number {
  const past = excerpt.replace(/^\.\.\./, '');
  const lines = text.split('\n');
  const before = lines.slice(0, line - 1).join('');
  const here = lines[line - 1] ?? '';
  for (let col = 0; col <= here.length; col++) {
    if ((before + here.slice(0, col)).endsWith(past)) return col;
  }
  return 0;
}

/** Index of the first segment of `parts` missing from `vars` (-1 when all resolve), and what held it. */
function missingSegment(vars: unknown, parts: string[]): { index: number; holder: unknown } {
  let current = vars;
  for (let i = 0; i < parts.length; i++) {
    const read = readProperty(current, parts[i] as string);
    if (!read.found) return { index: i, holder: current };
    current = read.value;
  }
  return { index: -1, holder: undefined };
}

function firstMissing(vars: unknown, parts: string[]): number {
  return missingSegment(vars, parts).index;
}

function undefinedError(parts: string[], index: number, original: string, pos: SourcePos | undefined, cause: unknown): TemplateError {
  return new TemplateError('UNDEFINED_VARIABLE', undefinedMessage(parts, index, original), {
    pos,
    variable: parts.slice(0, index + 1).join('.'),
    cause,
  });
}

/**
 * A TemplateError for anything thrown while parsing, compiling or running template `text`
 * against `vars` (used to name the first missing segment of a path: handlebars checks only
 * the last one).
 */
export function toTemplateError(
  err: unknown,
  text: string,
  ast: Program | undefined,
  locate: TemplateLocator,
  vars?: unknown,
): TsplayError {
  if (err instanceof TsplayError) return err; // already positioned (e.g. a lazily templated variable)
  if (err instanceof HelperFailure && err.undefinedVariable) {
    const call = ast ? findHelperCall(ast, err.helper) : undefined;
    return undefinedError([err.helper], 0, err.helper, at(call, locate), err);
  }
  if (err instanceof HelperFailure) {
    const call = ast ? findHelperCall(ast, err.helper) : undefined;
    return new TemplateError('TEMPLATE', `helper '${err.helper}' failed: ${err.message}`, { pos: at(call, locate), cause: err });
  }
  const message = err instanceof Error ? err.message : String(err);
  const notDefined = /^"(.*)" not defined in ([\s\S]*) - (\d+):(\d+)$/.exec(message);
  if (notDefined) {
    const [, name = '', holder = '', line, column] = notDefined;
    const pos = locate(Number(line), Number(column));
    const hit = ast ? findPathContextAt(ast, Number(line), Number(column)) : undefined;
    if (hit && hit.parent && isCall(hit.parent) && hit.parent.path === hit.path && isHelperCall(hit.parent)) {
      return new TemplateError('TEMPLATE', `unknown helper '${hit.path.original}'`, { pos, cause: err });
    }
    const parts = hit?.path.parts ?? [name];
    let index = parts.lastIndexOf(name);
    if (!hit || hit.context === 'root') {
      // A root that exists in vars means a plain path: report its first missing segment.
      const missing = hit && !hit.path.data ? firstMissing(vars, parts) : -1;
      if (missing > 0 && missing <= index) index = missing;
      return undefinedError(parts, Math.max(0, index), name, pos, err);
    }
    // read from a block param or the current item, whose values are not at hand here: the
    // holder handlebars saw tells which segment was missing
    const heldByItem = index === 0; // then `holder` describes the current item itself
    if ((holder === 'undefined' || holder === 'null') && index > 0) index--;
    const error = undefinedError(parts, Math.max(0, index), name, pos, err);
    if (hit.context === 'item' && index === 0 && vars && readProperty(vars, parts[0]!).found) {
      const item = heldByItem ? `, here ${holder}` : '';
      error.message += ` (inside {{#each}} or {{#with}} a plain name is read from the current item${item}; write @root.${parts.join('.')} for the variable)`;
    }
    return error;
  }
  // handlebars does not guard the middle of a helper parameter's path (`default a.b 5`, a undefined)
  // ... nor a path through a string or number (`'x' in 'a string'`; that message holds the value)
  const unreadable =
    /^Cannot read properties of (?:undefined|null) \(reading '.*'\)$/.test(message) ||
    /^Cannot use 'in' operator to search for /.test(message);
  if (unreadable && ast) {
    // only paths read from the template's variables can be checked here; a path through a
    // block param or the current item that reads the segment the error names is the next best
    const reading = /\(reading '(.*)'\)$/.exec(message)?.[1];
    let hit: { parts: string[]; index: number; node: Node } | undefined;
    let relative: { parts: string[]; index: number; node: Node } | undefined;
    walk(ast, (node, parents) => {
      if (hit || node.type !== 'PathExpression') return;
      const path = node as PathExpression;
      const context = pathContext(path, parents);
      if (context !== 'root') {
        const at = reading === undefined ? -1 : path.parts.indexOf(reading);
        if (!relative && at > 0) relative = { parts: path.parts, index: at - 1, node };
        return;
      }
      const parts = path.data ? path.parts.slice(1) : path.parts;
      const { index, holder } = missingSegment(vars, parts);
      const throughPrimitive = index > 0 && holder !== null && typeof holder !== 'object';
      if (index >= 0 && (index < parts.length - 1 || throughPrimitive)) hit = { parts, index, node };
    });
    const found = hit ?? relative;
    if (found) return undefinedError(found.parts, found.index, found.parts.join('.'), at(found.node, locate), err);
    return new TemplateError('TEMPLATE', `template error: a path reads an attribute of a value that has none${reading ? ` ('${reading}')` : ''}`, { pos: locate(1, 0) });
  }
  const missingHelper = /^Missing helper: "(.*)"$/.exec(message);
  if (missingHelper) {
    const call = ast ? findHelperCall(ast, missingHelper[1] ?? '') : undefined;
    return new TemplateError('TEMPLATE', `unknown helper '${missingHelper[1]}'`, { pos: at(call, locate), cause: err });
  }
  const parse = /^Parse error on line (\d+):\n(.*)\n-*\^\n([\s\S]*)$/.exec(message);
  if (parse) {
    const line = Number(parse[1]);
    const column = parseErrorColumn(text, line, parse[2] ?? '');
    return new TemplateError('TEMPLATE', `template syntax error: ${parse[3]}`, { pos: locate(line, column), cause: err });
  }
  const located = /^([\s\S]*) - (\d+):(\d+)$/.exec(message);
  if (located) {
    return new TemplateError('TEMPLATE', `template error: ${located[1]}`, {
      pos: locate(Number(located[2]), Number(located[3])),
      cause: err,
    });
  }
  return new TemplateError('TEMPLATE', `template error: ${message}`, { pos: locate(1, 0), cause: err });
}
