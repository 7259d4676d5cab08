// Free-form module arguments, read as Ansible reads them:
//   command: ls -l chdir=/tmp        → {_raw_params: 'ls -l', chdir: '/tmp'}   (freeForm 'raw')
//   debug: msg="hi there" verbosity=1 → {msg: 'hi there', verbosity: '1'}      (key=value)
// Splitting respects quotes and Jinja blocks ("{{ a b }}" is one word). Values stay strings
// here; schema validation converts them ("1" → 1) where the module wants another type.
import { sourceLines, type SourcePos } from '../errors.js';

export interface Token {
  text: string;
  /** Offsets in the original string. */
  start: number;
  end: number;
}

export class FreeFormError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
  }
}

/** Split on whitespace outside quotes and {{ }}, {% %}, {# #}. Throws FreeFormError when unbalanced. */
export function splitArgs(text: string): Token[] {
  const tokens: Token[] = [];
  let start = -1;
  let quote: string | undefined;
  let quoteAt = 0;
  let jinjaDepth = 0;
  let jinjaAt = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const pair = text.slice(i, i + 2);
    if (start < 0) {
      if (/\s/.test(ch)) continue;
      start = i;
    }
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (pair === '{{' || pair === '{%' || pair === '{#') {
      if (jinjaDepth === 0) jinjaAt = i;
      jinjaDepth++;
      i++;
      continue;
    }
    if (jinjaDepth > 0 && (pair === '}}' || pair === '%}' || pair === '#}')) {
      jinjaDepth--;
      i++;
      continue;
    }
    if (jinjaDepth > 0) continue;
    if (ch === '"' || ch === "'") {
      quote = ch;
      quoteAt = i;
      continue;
    }
    if (/\s/.test(ch)) {
      tokens.push({ text: text.slice(start, i), start, end: i });
      start = -1;
    }
  }
  if (quote) throw new FreeFormError(`unbalanced ${quote === '"' ? 'double' : 'single'} quote in arguments`, quoteAt);
  if (jinjaDepth > 0) throw new FreeFormError('unbalanced Jinja block in arguments (missing "}}"?)', jinjaAt);
  if (start >= 0) tokens.push({ text: text.slice(start), start, end: text.length });
  return tokens;
}

/** Strip one pair of matching outer quotes, as Ansible's unquote does. */
export function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value[value.length - 1] === value[0]) return value.slice(1, -1);
  return value;
}

/** "key=value" → [key, value]; undefined when the token is not an option (bare word, "a b=c" in quotes, "=x"). */
export function splitKeyValue(token: string): [string, string] | undefined {
  const eq = token.indexOf('=');
  if (eq <= 0) return undefined;
  const key = token.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) return undefined;
  return [key, decodeEscapes(unquote(token.slice(eq + 1)))];
}

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

/** Backslash escapes in an option value, as Ansible's parse_kv decodes them (msg="say \"hi\""). */
export function decodeEscapes(value: string): string {
  return value.replace(/\\([ntr\\"'])/g, (_, ch: string) => ESCAPES[ch]!);
}

export interface FreeFormResult {
  args: Record<string, unknown>;
  /** Offset in the string where each argument's key was written. */
  offsets: Map<string, number>;
  /** Words that are not key=value (kv modules: an error for the caller to report). */
  bareWords: Token[];
}

/** Keys that name the command itself: never peeled off a command line ("echo cmd=x" stays). */
const COMMAND_KEYS = new Set(['_raw_params', 'cmd', 'argv', 'free_form']);

/**
 * Parse a free-form string. `raw`: key=value words whose key is one of `optionNames` are
 * options, everything else (kept as written) is `_raw_params`. `kv`: every word must be key=value.
 */
export function parseFreeForm(text: string, style: 'raw' | 'kv', optionNames: Iterable<string>): FreeFormResult {
  const options = new Set([...optionNames].filter((k) => !COMMAND_KEYS.has(k)));
  const args: Record<string, unknown> = {};
  const offsets = new Map<string, number>();
  const bareWords: Token[] = [];
  const peeled: Token[] = [];
  for (const token of splitArgs(text)) {
    const kv = splitKeyValue(token.text);
    if (kv && (style === 'kv' || options.has(kv[0]))) {
      args[kv[0]] = kv[1];
      offsets.set(kv[0], token.start);
      peeled.push(token);
    } else if (style === 'kv') {
      bareWords.push(token);
    }
  }
  if (style === 'raw') {
    // cut the options out of the original text so the command keeps its spacing and newlines
    let rest = '';
    let from = 0;
    for (const token of peeled) {
      rest += text.slice(from, token.start);
      from = token.end;
      while (from < text.length && (text[from] === ' ' || text[from] === '\t')) from++;
    }
    rest = (rest + text.slice(from)).trim();
    if (rest !== '') {
      args._raw_params = rest;
      const firstNonSpace = text.search(/\S/);
      offsets.set('_raw_params', firstNonSpace < 0 ? 0 : firstNonSpace);
    }
  }
  return { args, offsets, bareWords };
}


/**
 * Where offset `offset` of a scalar string starting at `valuePos` was written. Exact for
 * single-line plain and quoted scalars; falls back to the scalar's start otherwise.
 */
export function positionInScalar(valuePos: SourcePos, scalar: string, offset: number): SourcePos {
  const firstLine = scalar.split('\n')[0] ?? '';
  if (offset > firstLine.length) return valuePos;
  const written = sourceLines(valuePos.file)?.[valuePos.line - 1]?.slice(valuePos.col - 1);
  if (written === undefined) return valuePos;
  if (written.startsWith(firstLine)) return { ...valuePos, col: valuePos.col + offset };
  if ((written[0] === '"' || written[0] === "'") && written.slice(1).startsWith(firstLine)) return { ...valuePos, col: valuePos.col + 1 + offset };
  return valuePos;
}
