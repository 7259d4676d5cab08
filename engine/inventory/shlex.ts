// Python's shlex.split(line, comments=True) in POSIX mode, which Ansible uses to cut an INI
// host line into the host and its key=value pairs. Quotes group words and are removed;
// an unquoted `#` starts a comment even inside a word (`pass=ab#c` is `pass=ab`).

export class ShlexError extends Error {
  constructor(
    message: string,
    /** 0-based offset in the line where the problem starts. */
    readonly offset: number,
  ) {
    super(message);
  }
}

export interface ShlexToken {
  text: string;
  /** 0-based offset of the token's first character in the line. */
  offset: number;
}

export function shlexSplit(line: string): ShlexToken[] {
  const tokens: ShlexToken[] = [];
  let text = '';
  let start = -1;
  let i = 0;
  const begin = () => {
    if (start < 0) start = i;
  };
  const finish = () => {
    if (start >= 0) tokens.push({ text, offset: start });
    text = '';
    start = -1;
  };
  while (i < line.length) {
    const c = line[i]!;
    if (/\s/.test(c)) {
      finish();
      i++;
    } else if (c === '#') {
      break;
    } else if (c === '\\') {
      begin();
      if (i + 1 >= line.length) throw new ShlexError('No escaped character', i);
      text += line[i + 1];
      i += 2;
    } else if (c === "'") {
      begin();
      const close = line.indexOf("'", i + 1);
      if (close < 0) throw new ShlexError('No closing quotation', i);
      text += line.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      begin();
      const open = i;
      i++;
      for (;;) {
        if (i >= line.length) throw new ShlexError('No closing quotation', open);
        const d = line[i]!;
        if (d === '"') {
          i++;
          break;
        }
        // inside double quotes a backslash escapes only `"` and `\`
        if (d === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) {
          text += line[i + 1];
          i += 2;
          continue;
        }
        text += d;
        i++;
      }
    } else {
      begin();
      text += c;
      i++;
    }
  }
  finish();
  return tokens;
}
