// Recursive-descent parser for the condition language, with Jinja's precedence, lowest first:
//   x if c else y  <  or  <  and  <  not  <  comparisons, in, not in  <  + -  <  ~  <
//   * / // %  <  unary - +  <  **  <  filters `|f(...)`, tests `is t(...)`, `.attr`, `[i]`.
// There is no call syntax except filter and test arguments: nothing can invoke a function.
import type { CompareOp, Expr } from './ast.js';
import { SyntaxFault, tokenize, type Token } from './lexer.js';

const COMPARE_OPS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const CONSTANTS: Record<string, unknown> = {
  true: true, True: true, false: false, False: false, none: null, None: null, null: null,
};
const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else']);

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.pos++;
    return t;
  }
  private isOp(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'op' && t.value === value;
  }
  private isName(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.type === 'name' && t.value === value;
  }
  private expectOp(value: string): Token {
    const t = this.peek();
    if (t.type !== 'op' || t.value !== value) throw new SyntaxFault(`expected '${value}' but found ${describe(t)}`, t.start);
    return this.next();
  }

  parseAll(): Expr {
    const expr = this.expression();
    const t = this.peek();
    if (t.type !== 'eof') throw new SyntaxFault(`unexpected ${describe(t)}`, t.start);
    return expr;
  }

  expression(): Expr {
    const value = this.or();
    if (this.isName('if')) {
      const at = this.next().start;
      const test = this.or();
      let otherwise: Expr | undefined;
      if (this.isName('else')) {
        this.next();
        otherwise = this.expression();
      }
      return { kind: 'cond', test, then: value, otherwise, at };
    }
    return value;
  }

  private or(): Expr {
    let left = this.and();
    while (this.isName('or')) {
      const at = this.next().start;
      left = { kind: 'or', left, right: this.and(), at };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isName('and')) {
      const at = this.next().start;
      left = { kind: 'and', left, right: this.not(), at };
    }
    return left;
  }

  private not(): Expr {
    if (this.isName('not')) {
      const at = this.next().start;
      return { kind: 'unary', op: 'not', operand: this.not(), at };
    }
    return this.compare();
  }

  private compare(): Expr {
    const first = this.math1();
    const rest: Array<{ op: CompareOp; right: Expr; at: number }> = [];
    for (;;) {
      const t = this.peek();
      let op: CompareOp | undefined;
      if (t.type === 'op' && COMPARE_OPS.has(t.value)) {
        op = t.value as CompareOp;
        this.next();
      } else if (this.isName('in')) {
        op = 'in';
        this.next();
      } else if (this.isName('not') && this.isName('in', 1)) {
        op = 'not in';
        this.next();
        this.next();
      } else {
        break;
      }
      rest.push({ op, right: this.math1(), at: t.start });
    }
    return rest.length === 0 ? first : { kind: 'compare', first, rest, at: first.at };
  }

  private math1(): Expr {
    let left = this.concat();
    while (this.isOp('+') || this.isOp('-')) {
      const t = this.next();
      left = { kind: 'binary', op: t.value as '+' | '-', left, right: this.concat(), at: t.start };
    }
    return left;
  }

  private concat(): Expr {
    let left = this.math2();
    while (this.isOp('~')) {
      const t = this.next();
      left = { kind: 'binary', op: '~', left, right: this.math2(), at: t.start };
    }
    return left;
  }

  private math2(): Expr {
    let left = this.pow();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//') || this.isOp('%')) {
      const t = this.next();
      left = { kind: 'binary', op: t.value as '*' | '/' | '//' | '%', left, right: this.pow(), at: t.start };
    }
    return left;
  }

  private pow(): Expr {
    let left = this.unary();
    while (this.isOp('**')) {
      const t = this.next();
      left = { kind: 'binary', op: '**', left, right: this.unary(), at: t.start };
    }
    return left;
  }

  /** Jinja: `-x | abs` is `(-x) | abs`, so the operand of a sign takes no filters itself. */
  private unary(withFilters = true): Expr {
    let node: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      const t = this.next();
      node = { kind: 'unary', op: t.value as '-' | '+', operand: this.unary(false), at: t.start };
    } else {
      node = this.postfix(this.primary());
    }
    return withFilters ? this.postfixFilters(node) : node;
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.type) {
      case 'number': {
        const value = Number(t.value);
        if (Number.isNaN(value)) throw new SyntaxFault(`invalid number '${t.value}'`, t.start);
        return { kind: 'literal', value, at: t.start };
      }
      case 'string': {
        // adjacent string literals concatenate, as in Python
        let value = t.value;
        while (this.peek().type === 'string') value += this.next().value;
        return { kind: 'literal', value, at: t.start };
      }
      case 'name':
        if (Object.prototype.hasOwnProperty.call(CONSTANTS, t.value)) return { kind: 'literal', value: CONSTANTS[t.value], at: t.start };
        if (KEYWORDS.has(t.value)) throw new SyntaxFault(`unexpected '${t.value}'`, t.start);
        return { kind: 'name', name: t.value, at: t.start };
      case 'op':
        if (t.value === '(') {
          const inner = this.expression();
          if (this.isOp(',')) {
            // a tuple: treated as a list
            const items = [inner];
            while (this.isOp(',')) {
              this.next();
              if (this.isOp(')')) break;
              items.push(this.expression());
            }
            this.expectOp(')');
            return { kind: 'list', items, at: t.start };
          }
          this.expectOp(')');
          return inner;
        }
        if (t.value === '[') {
          const items: Expr[] = [];
          while (!this.isOp(']')) {
            items.push(this.expression());
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp(']');
          return { kind: 'list', items, at: t.start };
        }
        if (t.value === '{') {
          const entries: Array<[Expr, Expr]> = [];
          while (!this.isOp('}')) {
            const key = this.expression();
            this.expectOp(':');
            entries.push([key, this.expression()]);
            if (!this.isOp(',')) break;
            this.next();
          }
          this.expectOp('}');
          return { kind: 'dict', entries, at: t.start };
        }
        break;
    }
    throw new SyntaxFault(`unexpected ${describe(t)}`, t.start);
  }

  private postfix(node: Expr): Expr {
    for (;;) {
      if (this.isOp('.')) {
        this.next();
        const t = this.next();
        if (t.type !== 'name' && t.type !== 'number') throw new SyntaxFault(`expected an attribute name after '.' but found ${describe(t)}`, t.start);
        if (this.isOp('(')) {
          throw new SyntaxFault(`method calls are not supported ('${t.value}(...)'): use a filter or test, e.g. x is match('...') or x | lower`, t.start);
        }
        node = t.type === 'number' ? { kind: 'index', object: node, index: { kind: 'literal', value: Number(t.value), at: t.start }, at: t.start } : { kind: 'attr', object: node, name: t.value, at: t.start };
      } else if (this.isOp('[')) {
        const open = this.next();
        let start: Expr | undefined;
        if (!this.isOp(':')) start = this.expression();
        if (this.isOp(':')) {
          this.next();
          const stop = this.isOp(']') ? undefined : this.expression();
          this.expectOp(']');
          node = { kind: 'slice', object: node, start, stop, at: open.start };
        } else {
          this.expectOp(']');
          node = { kind: 'index', object: node, index: start as Expr, at: open.start };
        }
      } else if (this.isOp('(')) {
        throw new SyntaxFault('function calls are not supported: use a filter (x | name(args))', this.peek().start);
      } else {
        return node;
      }
    }
  }

  /** Filters and tests bind to the value on their left, as in Jinja. */
  private postfixFilters(node: Expr): Expr {
    for (;;) {
      if (this.isOp('|')) {
        this.next();
        const name = this.filterName();
        const { args, kwargs } = this.isOp('(') ? this.arguments() : { args: [], kwargs: {} };
        node = this.postfix({ kind: 'filter', name: name.value, input: node, args, kwargs, at: name.start });
      } else if (this.isName('is')) {
        this.next();
        let negated = false;
        if (this.isName('not')) {
          this.next();
          negated = true;
        }
        const name = this.testName();
        let args: Expr[] = [];
        let kwargs: Record<string, Expr> = {};
        if (this.isOp('(')) {
          ({ args, kwargs } = this.arguments());
        } else if (startsOperand(this.peek())) {
          args = [this.unaryNoFilter()]; // Jinja: `x is divisibleby 3`, `x is sameas none`
        }
        node = { kind: 'test', name: name.value, input: node, args, kwargs, negated, at: name.start };
      } else {
        return node;
      }
    }
  }

  private unaryNoFilter(): Expr {
    return this.postfix(this.primary());
  }

  private filterName(): Token {
    const t = this.next();
    if (t.type !== 'name') throw new SyntaxFault(`expected a filter name after '|' but found ${describe(t)}`, t.start);
    return t;
  }

  private testName(): Token {
    const t = this.next();
    // `is none`, `is true`, `is false`, `is defined`, `is in(...)`: names and constants alike
    if (t.type !== 'name') throw new SyntaxFault(`expected a test name after 'is' but found ${describe(t)}`, t.start);
    return t;
  }

  private arguments(): { args: Expr[]; kwargs: Record<string, Expr> } {
    this.expectOp('(');
    const args: Expr[] = [];
    const kwargs: Record<string, Expr> = Object.create(null);
    while (!this.isOp(')')) {
      if (this.peek().type === 'name' && this.isOp('=', 1)) {
        const key = this.next().value;
        this.next();
        kwargs[key] = this.expression();
      } else {
        if (Object.keys(kwargs).length > 0) throw new SyntaxFault('positional argument after keyword argument', this.peek().start);
        args.push(this.expression());
      }
      if (!this.isOp(',')) break;
      this.next();
    }
    this.expectOp(')');
    return { args, kwargs };
  }
}

function startsOperand(t: Token): boolean {
  if (t.type === 'number' || t.type === 'string') return true;
  if (t.type === 'name') return !KEYWORDS.has(t.value);
  return t.type === 'op' && (t.value === '[' || t.value === '{');
}

function describe(t: Token): string {
  if (t.type === 'eof') return 'end of expression';
  if (t.type === 'string') return 'a string';
  return `'${t.value}'`;
}

const cache = new Map<string, Expr | SyntaxFault>();

/** Parse `text` (cached); throws SyntaxFault with the offset of the problem. */
export function parseExpression(text: string): Expr {
  let result = cache.get(text);
  if (!result) {
    try {
      result = new Parser(tokenize(text)).parseAll();
    } catch (err) {
      if (!(err instanceof SyntaxFault)) throw err;
      result = err;
    }
    if (cache.size > 10000) cache.clear();
    cache.set(text, result);
  }
  if (result instanceof SyntaxFault) throw result;
  return result;
}
