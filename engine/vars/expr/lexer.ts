// Tokens of the condition language (a Jinja expression subset). Positions are offsets into
// the expression text so errors can point at the column.
export type TokenType = 'number' | 'string' | 'name' | 'op' | 'eof';

export interface Token {
  type: TokenType;
  /** The operator or name text; the decoded string; the number's source text. */
  value: string;
  /** Offset of the token's first character in the expression. */
  start: number;
  end: number;
}

// Longest operators first so `//` wins over `/`, `<=` over `<`.
const OPERATORS = ['**', '//', '==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%', '~', '|', '.', ',', ':', '(', ')', '[', ']', '{', '}', '='];

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', "'": "'", '"': '"', b: '\b', f: '\f', v: '\v' };

/** Thrown for lexing/parsing problems; `offset` is the character the problem is at. */
export class SyntaxFault extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(text[i + 1] ?? '') && !isValueEnd(tokens))) {
      const m = /^(?:\d[\d_]*)?(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?/.exec(text.slice(i));
      const raw = m?.[0] ?? ch;
      i += raw.length;
      tokens.push({ type: 'number', value: raw.replace(/_/g, ''), start, end: i });
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i)) as RegExpExecArray;
      i += m[0].length;
      tokens.push({ type: 'name', value: m[0], start, end: i });
      continue;
    }
    if (ch === "'" || ch === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SyntaxFault('unterminated string', start);
        const c = text[i] as string;
        if (c === ch) {
          i++;
          break;
        }
        if (c === '\\') {
          const next = text[i + 1] ?? '';
          if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
            i += 6;
          } else if (next === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
            value += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
            i += 4;
          } else if (next in ESCAPES) {
            value += ESCAPES[next];
            i += 2;
          } else {
            value += '\\'; // Python keeps unknown escapes: '\d' is backslash-d (regexes)
            i += 1;
          }
          continue;
        }
        value += c;
        i++;
      }
      tokens.push({ type: 'string', value, start, end: i });
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new SyntaxFault(`unexpected character '${ch}'`, i);
    i += op.length;
    tokens.push({ type: 'op', value: op, start, end: i });
  }
  tokens.push({ type: 'eof', value: '', start: text.length, end: text.length });
  return tokens;
}

/** After a value (name, literal, closing bracket) a `.` is attribute access, not a number. */
function isValueEnd(tokens: Token[]): boolean {
  const last = tokens[tokens.length - 1];
  if (!last) return false;
  return last.type === 'name' || last.type === 'number' || last.type === 'string' || [')', ']', '}'].includes(last.value);
}
