// INI inventory values go through Python's ast.literal_eval in Ansible: `8080` is a number,
// `True` a boolean, `"a b"` or `'x'` a string, `[1, 2]` a list; anything that is not a
// Python literal (`yes`, `true`, `0755`, `web01.example.com`) stays the text written.

const NOT_A_LITERAL = Symbol('not a literal');

/** Ansible's INI _parse_value: the Python literal's value, or the text itself. */
export function parseIniValue(text: string): unknown {
  const value = new LiteralParser(text.replace(/^[ \t]+/, '')).parseAll();
  return value === NOT_A_LITERAL ? text : value;
}

class LiteralParser {
  private i = 0;
  constructor(private readonly s: string) {}

  parseAll(): unknown {
    try {
      const value = this.expression();
      this.skipSpace();
      if (this.i !== this.s.length) return NOT_A_LITERAL;
      return value;
    } catch (err) {
      if (err === NOT_A_LITERAL) return NOT_A_LITERAL;
      throw err;
    }
  }

  private fail(): never {
    throw NOT_A_LITERAL;
  }

  /** Whitespace and a trailing `# comment` are not part of the value (Python's tokenizer). */
  private skipSpace(): void {
    for (;;) {
      while (this.i < this.s.length && /[ \t\f\r\n]/.test(this.s[this.i]!)) this.i++;
      if (this.s[this.i] === '#') {
        while (this.i < this.s.length && this.s[this.i] !== '\n') this.i++;
        continue;
      }
      return;
    }
  }

  private expression(): unknown {
    this.skipSpace();
    const c = this.s[this.i];
    if (c === undefined) this.fail();
    if (c === '[') return this.sequence(']');
    if (c === '(') return this.tuple();
    if (c === '{') return this.braces();
    if (c === '-' || c === '+') {
      this.i++;
      const operand = this.expression();
      if (typeof operand !== 'number') this.fail();
      return c === '-' ? -operand : operand;
    }
    if (/[0-9.]/.test(c)) return this.number();
    if (/[A-Za-z_]/.test(c) || c === '"' || c === "'") return this.nameOrString();
    return this.fail();
  }

  /** `[a, b]`: items separated by commas, a trailing comma allowed. */
  private sequence(close: string): unknown[] {
    this.i++; // the opening bracket
    const items: unknown[] = [];
    for (;;) {
      this.skipSpace();
      if (this.s[this.i] === close) {
        this.i++;
        return items;
      }
      items.push(this.expression());
      this.skipSpace();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) this.fail();
    }
  }

  /** `(1, 2)` and `(1,)` are tuples (lists here); `(1)` is just 1. */
  private tuple(): unknown {
    this.i++;
    this.skipSpace();
    if (this.s[this.i] === ')') {
      this.i++;
      return [];
    }
    const items = [this.expression()];
    let sawComma = false;
    for (;;) {
      this.skipSpace();
      const c = this.s[this.i];
      if (c === ')') {
        this.i++;
        return sawComma ? items : items[0];
      }
      if (c !== ',') this.fail();
      this.i++;
      sawComma = true;
      this.skipSpace();
      if (this.s[this.i] === ')') continue;
      items.push(this.expression());
    }
  }

  /** `{}` and `{k: v}` are dicts; `{a, b}` is a set (a list here). */
  private braces(): unknown {
    this.i++;
    this.skipSpace();
    if (this.s[this.i] === '}') {
      this.i++;
      return {};
    }
    const firstKey = this.expression();
    this.skipSpace();
    if (this.s[this.i] !== ':') {
      // a set
      const items = [firstKey];
      for (;;) {
        this.skipSpace();
        if (this.s[this.i] === '}') {
          this.i++;
          return items;
        }
        if (this.s[this.i] !== ',') this.fail();
        this.i++;
        this.skipSpace();
        if (this.s[this.i] === '}') continue;
        items.push(this.expression());
      }
    }
    const out: Record<string, unknown> = {};
    let key = firstKey;
    for (;;) {
      this.i++; // ':'
      const value = this.expression();
      if (key !== null && typeof key === 'object') this.fail(); // unhashable key
      Object.defineProperty(out, pyKey(key), { value, enumerable: true, writable: true, configurable: true });
      this.skipSpace();
      if (this.s[this.i] === ',') {
        this.i++;
        this.skipSpace();
      }
      if (this.s[this.i] === '}') {
        this.i++;
        return out;
      }
      key = this.expression();
      this.skipSpace();
      if (this.s[this.i] !== ':') this.fail();
    }
  }

  private number(): number {
    const rest = this.s.slice(this.i);
    const m =
      /^0[xX](?:_?[0-9a-fA-F])+/.exec(rest) ??
      /^0[oO](?:_?[0-7])+/.exec(rest) ??
      /^0[bB](?:_?[01])+/.exec(rest) ??
      /^(?:(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*|[0-9](?:_?[0-9])*\.?)(?:[eE][+-]?[0-9](?:_?[0-9])*)?/.exec(rest);
    if (!m || m[0] === '.') this.fail();
    const text = m[0].replace(/_/g, '');
    this.i += m[0].length;
    // complex numbers (1j) and names glued to a number (1abc) are not literals we keep
    if (/^[A-Za-z0-9_]/.test(this.s.slice(this.i))) this.fail();
    if (/^0[xob]/i.test(text)) {
      const radix = { x: 16, o: 8, b: 2 }[text[1]!.toLowerCase() as 'x' | 'o' | 'b'];
      return parseInt(text.slice(2), radix);
    }
    const isFloat = /[.eE]/.test(text);
    // Python 3 rejects 0755 (leading zeros in a decimal integer): it stays a string.
    if (!isFloat && /^0[0-9]/.test(text) && !/^0+$/.test(text)) this.fail();
    const value = Number(text);
    if (!isFloat && !Number.isSafeInteger(value)) this.fail(); // would lose digits: keep the text
    return value;
  }

  private nameOrString(): unknown {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.i));
    const word = m ? m[0] : '';
    const after = this.s[this.i + word.length];
    if (word && (after === '"' || after === "'") && /^(?:[rRuUbBfF]|[rR][bB]|[bB][rR])$/.test(word)) {
      if (/[fF]/.test(word)) this.fail(); // f-strings are not literals
      this.i += word.length;
      return this.strings(/[rR]/.test(word));
    }
    if (!word) return this.strings(false);
    this.i += word.length;
    if (word === 'True') return true;
    if (word === 'False') return false;
    if (word === 'None') return null;
    return this.fail();
  }

  /** One string literal, or several side by side ('a' "b" is 'ab', as in Python). */
  private strings(raw: boolean): string {
    let out = this.stringLiteral(raw);
    for (;;) {
      const save = this.i;
      this.skipSpace();
      const m = /^(?:[rRuUbB]|[rR][bB]|[bB][rR])?(?=["'])/.exec(this.s.slice(this.i));
      if (!m) {
        this.i = save;
        return out;
      }
      this.i += m[0].length;
      out += this.stringLiteral(/[rR]/.test(m[0]));
    }
  }

  private stringLiteral(raw: boolean): string {
    const quote = this.s[this.i]!;
    const triple = this.s.startsWith(quote.repeat(3), this.i);
    const delim = triple ? quote.repeat(3) : quote;
    this.i += delim.length;
    let out = '';
    for (;;) {
      if (this.i >= this.s.length) this.fail();
      if (this.s.startsWith(delim, this.i)) {
        this.i += delim.length;
        return out;
      }
      const c = this.s[this.i]!;
      if (c === '\n' && !triple) this.fail();
      if (c === '\\') {
        const next = this.s[this.i + 1];
        if (next === undefined) this.fail();
        if (raw) {
          out += c + next;
          this.i += 2;
          continue;
        }
        this.i += 2;
        out += this.escape(next);
        continue;
      }
      out += c;
      this.i++;
    }
  }

  private escape(c: string): string {
    const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' };
    if (c === 'x' || c === 'u' || c === 'U') {
      const len = c === 'x' ? 2 : c === 'u' ? 4 : 8;
      const hex = this.s.slice(this.i, this.i + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(hex)) this.fail();
      this.i += len;
      return String.fromCodePoint(parseInt(hex, 16));
    }
    if (/[0-7]/.test(c)) {
      const m = /^[0-7]{0,2}/.exec(this.s.slice(this.i))!;
      this.i += m[0].length;
      return String.fromCharCode(parseInt(c + m[0], 8));
    }
    return simple[c] ?? '\\' + c; // Python keeps unknown escapes as written
  }
}

function pyKey(key: unknown): string {
  if (key === true) return 'True';
  if (key === false) return 'False';
  if (key === null) return 'None';
  return String(key);
}
