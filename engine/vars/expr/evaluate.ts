// Evaluates the condition language over plain data. Names and attributes are read only as
// own properties (values.readProperty); undefined values travel as `Undefined` so that
// `x is defined`, `x | default(..)` and `x.y is defined` work, and fail only when used.
import type { SourcePos } from '../../errors.js';
import { TsplayError } from '../../errors.js';
import { ExpressionError } from '../errors.js';
import { lineColOf, offsetPos } from '../source-offset.js';
import { isMapping, pyCompare, pyEquals, pyRepr, pyStr, readProperty, setOwn, truthy, typeName } from '../values.js';
import type { Expr } from './ast.js';
import { FILTERS, type FilterContext } from './filters.js';
import { SyntaxFault } from './lexer.js';
import { parseExpression } from './parser.js';
import { TESTS } from './tests.js';

/** An undefined value, remembering why it is undefined and where that was written. */
class Undefined {
  constructor(
    readonly message: string,
    readonly variable: string,
    readonly at: number,
  ) {}
}

/** Tests that may look at an undefined value (and answer false) instead of failing. */
const TYPE_TESTS = new Set(['none', 'string', 'number', 'integer', 'float', 'boolean', 'mapping', 'iterable', 'sequence', 'list', 'true', 'false']);

/** Position of offset `at` in the expression; `base` is where the expression starts in `source`, its YAML value. */
export type OffsetLocator = (at: number) => SourcePos | undefined;

export function offsetLocator(source: string, pos: SourcePos | undefined, base = 0): OffsetLocator {
  return (at) => {
    const { line, col } = lineColOf(source, base + at);
    return offsetPos(pos, line, col);
  };
}

/** Printable path of an attribute/index chain (`a.b[0]`), for messages. */
function pathText(node: Expr): string {
  switch (node.kind) {
    case 'name':
      return node.name;
    case 'attr':
      return `${pathText(node.object)}.${node.name}`;
    case 'index':
      return `${pathText(node.object)}[${node.index.kind === 'literal' ? pyRepr(node.index.value) : '...'}]`;
    default:
      return 'value';
  }
}

class Evaluator implements FilterContext {
  constructor(
    private readonly vars: object,
    private readonly at: OffsetLocator,
  ) {}

  private fail(message: string, offset: number, cause?: unknown): ExpressionError {
    return new ExpressionError('EXPRESSION', message, { pos: this.at(offset), cause });
  }

  /** The value of `node`, which must be defined. */
  force(node: Expr): unknown {
    return this.defined(this.eval(node));
  }

  defined(value: unknown): unknown {
    if (value instanceof Undefined) {
      throw new ExpressionError('UNDEFINED_VARIABLE', value.message, { pos: this.at(value.at), variable: value.variable });
    }
    return value;
  }

  private member(object: Expr, key: string | number, label: string, at: number): unknown {
    const container = this.eval(object);
    if (container instanceof Undefined) return container;
    const read = readProperty(container, key);
    if (read.found) return read.value;
    const holder = pathText(object);
    const what = isMapping(container) ? `'${holder}' has no attribute '${key}'` : Array.isArray(container) && typeof key === 'number' ? `'${holder}' has no item ${key}` : `'${holder}' (${typeName(container)}) has no attribute '${key}'`;
    return new Undefined(`undefined variable '${label}': ${what}`, label, at);
  }

  eval(node: Expr): unknown {
    switch (node.kind) {
      case 'literal':
        return node.value;
      case 'name': {
        const read = readProperty(this.vars, node.name);
        return read.found ? read.value : new Undefined(`undefined variable '${node.name}'`, node.name, node.at);
      }
      case 'list':
        return node.items.map((item) => this.force(item));
      case 'dict': {
        const out: Record<string, unknown> = {};
        for (const [k, v] of node.entries) setOwn(out, pyStr(this.force(k)), this.force(v));
        return out;
      }
      case 'attr':
        return this.member(node.object, node.name, pathText(node), node.at);
      case 'index': {
        const key = this.force(node.index);
        if (typeof key !== 'string' && typeof key !== 'number') {
          throw this.fail(`an index must be a string or a number, not ${typeName(key)}`, node.index.at);
        }
        return this.member(node.object, key, pathText(node), node.at);
      }
      case 'slice':
        return this.slice(node);
      case 'unary': {
        const value = this.force(node.operand);
        if (node.op === 'not') return !truthy(value);
        if (typeof value !== 'number' && typeof value !== 'boolean') {
          throw this.fail(`bad operand type for unary ${node.op}: '${typeName(value)}'`, node.at);
        }
        return node.op === '-' ? -Number(value) : Number(value);
      }
      case 'binary':
        return this.binary(node.op, this.force(node.left), this.force(node.right), node.at);
      case 'compare': {
        let left = this.force(node.first);
        for (const { op, right, at } of node.rest) {
          const value = this.force(right);
          if (!this.compare(op, left, value, at)) return false;
          left = value;
        }
        return true;
      }
      case 'and': {
        const left = this.force(node.left);
        return truthy(left) ? this.eval(node.right) : left;
      }
      case 'or': {
        const left = this.force(node.left);
        return truthy(left) ? left : this.eval(node.right);
      }
      case 'cond':
        if (truthy(this.force(node.test))) return this.eval(node.then);
        return node.otherwise ? this.eval(node.otherwise) : null;
      case 'filter':
        return this.applyFilterNode(node);
      case 'test':
        return this.applyTestNode(node);
    }
  }

  private slice(node: Extract<Expr, { kind: 'slice' }>): unknown {
    const value = this.force(node.object);
    if (typeof value !== 'string' && !Array.isArray(value)) throw this.fail(`'${typeName(value)}' cannot be sliced`, node.at);
    const bound = (e: Expr | undefined) => {
      if (!e) return undefined;
      const n = this.force(e);
      if (typeof n !== 'number' || !Number.isInteger(n)) throw this.fail('slice indices must be integers', e.at);
      return n;
    };
    return value.slice(bound(node.start), bound(node.stop));
  }

  private binary(op: string, a: unknown, b: unknown, at: number): unknown {
    if (op === '~') return pyStr(a) + pyStr(b);
    const numeric = (v: unknown) => typeof v === 'number' || typeof v === 'boolean';
    const bad = () => this.fail(`unsupported operand types for ${op}: '${typeName(a)}' and '${typeName(b)}'`, at);
    if (op === '+') {
      if (numeric(a) && numeric(b)) return Number(a) + Number(b);
      if (typeof a === 'string' && typeof b === 'string') return a + b;
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
      throw bad();
    }
    if (op === '*' && (typeof a === 'string' || Array.isArray(a)) && typeof b === 'number' && Number.isInteger(b)) {
      if (a.length * Math.max(0, b) > 1_000_000) throw this.fail('result of * is too large', at);
      return typeof a === 'string' ? a.repeat(Math.max(0, b)) : Array.from({ length: Math.max(0, b) }, () => a).flat();
    }
    if (!numeric(a) || !numeric(b)) throw bad();
    const x = Number(a);
    const y = Number(b);
    switch (op) {
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '**':
        return x ** y;
      case '/':
        if (y === 0) throw this.fail('division by zero', at);
        return x / y;
      case '//':
        if (y === 0) throw this.fail('integer division by zero', at);
        return Math.floor(x / y);
      case '%':
        if (y === 0) throw this.fail('modulo by zero', at);
        return ((x % y) + y) % y; // Python: the result has the sign of the divisor
    }
    throw bad();
  }

  private compare(op: string, a: unknown, b: unknown, at: number): boolean {
    switch (op) {
      case '==':
        return pyEquals(a, b);
      case '!=':
        return !pyEquals(a, b);
      case 'in':
      case 'not in': {
        let found: boolean;
        if (typeof b === 'string') {
          if (typeof a !== 'string') throw this.fail(`'in <string>' requires a string on the left, not ${typeName(a)}`, at);
          found = b.includes(a);
        } else if (Array.isArray(b)) {
          found = b.some((item) => pyEquals(item, a));
        } else if (isMapping(b)) {
          found = (typeof a === 'string' || typeof a === 'number') && readProperty(b, String(a)).found;
        } else {
          throw this.fail(`argument of type '${typeName(b)}' is not iterable`, at);
        }
        return op === 'in' ? found : !found;
      }
    }
    let order: number;
    try {
      order = pyCompare(a, b);
    } catch (err) {
      throw this.fail(`'${op}' not supported between '${typeName(a)}' and '${typeName(b)}'`, at, err);
    }
    switch (op) {
      case '<':
        return order < 0;
      case '<=':
        return order <= 0;
      case '>':
        return order > 0;
      default:
        return order >= 0;
    }
  }

  private kwargs(node: { kwargs: Record<string, Expr> }): Record<string, unknown> {
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(node.kwargs)) out[key] = this.force(node.kwargs[key] as Expr);
    return out;
  }

  private applyFilterNode(node: Extract<Expr, { kind: 'filter' }>): unknown {
    const input = this.eval(node.input);
    if (node.name === 'default' || node.name === 'd') {
      // default(value, boolean=false): replace undefined (and None, as Ansible users expect),
      // or with boolean=true any falsy value
      const [fallback, boolean] = node.args.map((a) => this.force(a));
      const kw = this.kwargs(node);
      const falsyToo = truthy(boolean ?? kw.boolean ?? false);
      if (input instanceof Undefined || input === null || (falsyToo && !truthy(input))) return fallback ?? '';
      return input;
    }
    if (node.name === 'mandatory') {
      if (input instanceof Undefined) {
        const msg = node.args[0] ? pyStr(this.force(node.args[0])) : `Mandatory variable '${input.variable}' not defined.`;
        throw new ExpressionError('UNDEFINED_VARIABLE', msg, { pos: this.at(input.at), variable: input.variable });
      }
      return input;
    }
    const value = this.defined(input);
    const args = node.args.map((a) => this.force(a));
    return this.runFilter(node.name, value, args, this.kwargs(node), node.at);
  }

  private runFilter(name: string, value: unknown, args: unknown[], kwargs: Record<string, unknown>, at: number): unknown {
    const filter = Object.prototype.hasOwnProperty.call(FILTERS, name) ? FILTERS[name] : undefined;
    if (!filter) throw this.fail(`unknown filter '${name}'`, at);
    try {
      return filter(value, args, kwargs, this);
    } catch (err) {
      if (err instanceof TsplayError) throw err;
      throw this.fail(`filter '${name}' failed: ${(err as Error).message}`, at, err);
    }
  }

  private applyTestNode(node: Extract<Expr, { kind: 'test' }>): boolean {
    const input = this.eval(node.input);
    let verdict: boolean;
    if (node.name === 'defined' || node.name === 'undefined') {
      verdict = (input instanceof Undefined) === (node.name === 'undefined');
    } else if (input instanceof Undefined && TYPE_TESTS.has(node.name)) {
      verdict = false;
    } else {
      const value = this.defined(input);
      verdict = this.runTest(node.name, value, node.args.map((a) => this.force(a)), this.kwargs(node), node.at);
    }
    return node.negated ? !verdict : verdict;
  }

  private runTest(name: string, value: unknown, args: unknown[], kwargs: Record<string, unknown>, at: number): boolean {
    const test = Object.prototype.hasOwnProperty.call(TESTS, name) ? TESTS[name] : undefined;
    if (!test) throw this.fail(`unknown test '${name}'`, at);
    try {
      return test(value, args, kwargs);
    } catch (err) {
      if (err instanceof TsplayError) throw err;
      throw this.fail(`test '${name}' failed: ${(err as Error).message}`, at, err);
    }
  }

  // FilterContext, for select/reject/map: positions are the calling filter's
  test(name: string, value: unknown, args: unknown[]): boolean {
    if (name === 'defined') return value !== undefined;
    if (name === 'undefined') return value === undefined;
    return this.runTest(name, value, args, {}, 0);
  }

  filter(name: string, value: unknown, args: unknown[]): unknown {
    return this.runFilter(name, value, args, {}, 0);
  }
}

/** Remove one `{{ ... }}` wrapped around a whole expression; returns the text and its offset. */
export function stripMustache(expr: string): { text: string; base: number } {
  const m = /^(\s*\{\{-?)([\s\S]*?)(-?\}\}\s*)$/.exec(expr);
  if (m && !(m[2] as string).includes('{{') && !(m[2] as string).includes('}}')) {
    return { text: m[2] as string, base: (m[1] as string).length };
  }
  return { text: expr, base: 0 };
}

/** Parse `text`, turning a syntax fault into an ExpressionError at its column. */
export function parseOrThrow(text: string, at: OffsetLocator): Expr {
  try {
    return parseExpression(text);
  } catch (err) {
    if (err instanceof SyntaxFault) {
      throw new ExpressionError('EXPRESSION', `syntax error in expression '${text.trim()}': ${err.message}`, { pos: at(err.offset) });
    }
    throw err;
  }
}

/** Evaluate an already parsed expression; `at` positions its errors (offsets into its source). */
export function evaluateParsed(tree: Expr, vars: object, at: OffsetLocator): unknown {
  return new Evaluator(vars, at).force(tree);
}

/**
 * Evaluate a condition-language expression against `vars`. `pos` is where the expression
 * was written (the YAML value); errors carry it, moved to the offending column.
 */
export function evaluateExpression(expr: string, vars: object, pos?: SourcePos): unknown {
  const { text, base } = stripMustache(expr);
  const at = offsetLocator(expr, pos, base);
  const evaluator = new Evaluator(vars, at);
  return evaluator.force(parseOrThrow(text, at));
}
