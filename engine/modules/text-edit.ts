// The text edits of lineinfile, blockinfile and replace as pure functions over the file's
// text, following Ansible's algorithms step by step (so a playbook written for Ansible edits
// the same lines). Python regular expressions and replacement templates are translated to
// JavaScript here, once, so every module reads them the same way.

/** A regexp argument could not be compiled; the message names it. */
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatternError';
  }
}

/**
 * A Python `re` pattern as a JavaScript RegExp: `(?P<n>...)` named groups, `(?P=n)`
 * back-references, leading inline flags `(?i)`, `\A` and `\Z` anchors.
 */
export function pythonRegExp(pattern: string, flags = ''): RegExp {
  let source = pattern;
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source);
  const wanted = new Set(flags.split(''));
  if (inline) {
    source = source.slice(inline[0].length);
    for (const f of inline[1]!) if (f === 'i' || f === 'm' || f === 's') wanted.add(f);
  }
  source = source
    .replace(/\(\?P<([A-Za-z_][A-Za-z0-9_]*)>/g, '(?<$1>')
    .replace(/\(\?P=([A-Za-z_][A-Za-z0-9_]*)\)/g, '\\k<$1>')
    .replace(/(^|[^\\])((?:\\\\)*)\\A/g, '$1$2(?<![\\s\\S])')
    .replace(/(^|[^\\])((?:\\\\)*)\\Z/g, '$1$2(?![\\s\\S])');
  try {
    return new RegExp(source, [...wanted].join(''));
  } catch (err) {
    throw new PatternError(`invalid regular expression ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
}

/** Python's match.expand(template): `\1`, `\g<1>`, `\g<name>`, and the escapes `\n \t \\`. */
export function expandTemplate(template: string, groups: ReadonlyArray<string | undefined>, named: Record<string, string | undefined> = {}): string {
  return template.replace(/\\(?:g<([^>]*)>|(\d{1,2})|(.))/gs, (_all, gname: string | undefined, num: string | undefined, ch: string | undefined) => {
    if (gname !== undefined) {
      if (/^\d+$/.test(gname)) return groups[Number(gname)] ?? '';
      if (!(gname in named)) throw new PatternError(`unknown group name in replacement: ${gname}`);
      return named[gname] ?? '';
    }
    if (num !== undefined) {
      if (Number(num) >= groups.length) throw new PatternError(`invalid group reference ${num} in replacement`);
      return groups[Number(num)] ?? '';
    }
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', f: '\f', v: '\v', a: '\x07', b: '\b', '\\': '\\' };
    return escapes[ch!] ?? `\\${ch}`;
  });
}

function expandMatch(template: string, m: RegExpExecArray | RegExpMatchArray): string {
  return expandTemplate(template, [...m], m.groups ?? {});
}

/** Lines with their endings kept (Python's splitlines(True) for \n, \r\n and \r). */
export function splitLinesKeepEnds(text: string): string[] {
  return text.match(/[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$/g) ?? [];
}

const stripEol = (line: string): string => line.replace(/[\r\n]+$/, '');
const endsWithEol = (line: string): boolean => /[\r\n]$/.test(line);

export interface EditOutcome {
  text: string;
  changed: boolean;
  msg: string;
  /** lineinfile absent: how many lines matched. */
  found?: number;
}

export interface LineInFileEdit {
  line?: string;
  regexp?: string;
  search_string?: string;
  state: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  backrefs?: boolean;
  firstmatch?: boolean;
}

/** lineinfile's present()/absent() over a file's text (Ansible's algorithm, linesep "\n"). */
export function editLineInFile(text: string, e: LineInFileEdit): EditOutcome {
  const lines = splitLinesKeepEnds(text);
  if (e.state === 'absent') {
    const re = e.regexp !== undefined ? pythonRegExp(e.regexp) : undefined;
    const matches = (l: string): boolean =>
      re ? re.test(l.replace(/\n$/, '')) : e.search_string !== undefined ? l.includes(e.search_string) : stripEol(l) === e.line;
    const kept = lines.filter((l) => !matches(l));
    const found = lines.length - kept.length;
    return { text: kept.join(''), changed: found > 0, msg: found > 0 ? `${found} line(s) removed` : '', found };
  }

  const line = e.line ?? '';
  const re = e.regexp !== undefined ? pythonRegExp(e.regexp) : undefined;
  const insertPattern =
    e.insertafter !== undefined && e.insertafter !== 'BOF' && e.insertafter !== 'EOF'
      ? pythonRegExp(e.insertafter)
      : e.insertbefore !== undefined && e.insertbefore !== 'BOF'
        ? pythonRegExp(e.insertbefore)
        : undefined;
  // index[0]: the line regexp/search_string (or the exact line) matched; index[1]: the insert point
  let matchIndex = -1;
  let insertIndex = -1;
  let match: RegExpExecArray | null = null;
  let found = false;
  let exactLineMatch = false;
  if (re || e.search_string !== undefined) {
    for (let i = 0; i < lines.length; i++) {
      const cur = lines[i]!.replace(/\n$/, '');
      const m = re ? re.exec(cur) : cur.includes(e.search_string!) ? ([] as unknown as RegExpExecArray) : null;
      if (m) {
        matchIndex = i;
        match = re ? m : null;
        found = true;
        if (e.firstmatch) break;
      }
    }
  }
  if (!found) {
    for (let i = 0; i < lines.length; i++) {
      const cur = lines[i]!;
      if (stripEol(cur) === line) {
        matchIndex = i;
        exactLineMatch = true;
      } else if (insertPattern && insertPattern.test(cur.replace(/\n$/, ''))) {
        if (e.insertafter !== undefined) {
          insertIndex = i + 1;
          if (e.firstmatch) break;
        }
        if (e.insertbefore !== undefined) {
          insertIndex = i;
          if (e.firstmatch) break;
        }
      }
    }
  }

  const added = (): EditOutcome => ({ text: lines.join(''), changed: true, msg: 'line added' });
  const unchanged = (): EditOutcome => ({ text, changed: false, msg: '' });
  const withEol = line + '\n';

  if (matchIndex !== -1) {
    let newLine = e.backrefs && match ? expandMatch(line, match) : line;
    if (!newLine.endsWith('\n')) newLine += '\n';
    if (e.regexp === undefined && e.search_string === undefined && !found && !exactLineMatch) {
      // unreachable in practice (a match without a pattern is an exact match), kept for parity
      return unchanged();
    }
    if (lines[matchIndex] !== newLine) {
      lines[matchIndex] = newLine;
      return { text: lines.join(''), changed: true, msg: 'line replaced' };
    }
    return unchanged();
  }
  if (e.backrefs) return unchanged(); // without a match the backrefs cannot be filled: do nothing
  if (e.insertbefore === 'BOF' || e.insertafter === 'BOF') {
    lines.unshift(withEol);
    return added();
  }
  if (e.insertafter === 'EOF' || insertIndex === -1) {
    if (lines.length > 0 && !endsWithEol(lines[lines.length - 1]!)) lines.push('\n');
    lines.push(withEol);
    return added();
  }
  if (e.insertafter !== undefined) {
    if (lines.length === insertIndex) {
      if (stripEol(lines[insertIndex - 1]!) === line) return unchanged();
      if (!endsWithEol(lines[insertIndex - 1]!)) lines[insertIndex - 1] += '\n';
      lines.push(withEol);
      return added();
    }
    if (stripEol(lines[insertIndex]!) === line) return unchanged();
    lines.splice(insertIndex, 0, withEol);
    return added();
  }
  // insertbefore matched
  if (insertIndex > 0 && stripEol(lines[insertIndex - 1]!) === line) return unchanged();
  lines.splice(insertIndex, 0, withEol);
  return added();
}

export interface BlockInFileEdit {
  block: string;
  state: 'present' | 'absent';
  marker: string;
  marker_begin: string;
  marker_end: string;
  insertafter?: string;
  insertbefore?: string;
  append_newline?: boolean;
  prepend_newline?: boolean;
}

/** blockinfile over a file's text (null: the file does not exist yet). */
export function editBlockInFile(original: string | null, e: BlockInFileEdit): EditOutcome {
  const lines = splitLinesKeepEnds(original ?? '');
  const marker0 = e.marker.replace(/\{mark\}/g, e.marker_begin);
  const marker1 = e.marker.replace(/\{mark\}/g, e.marker_end);
  let blockLines: string[] = [];
  if (e.state === 'present' && e.block !== '') {
    const block = e.block.endsWith('\n') ? e.block : `${e.block}\n`;
    blockLines = [`${marker0}\n`, ...splitLinesKeepEnds(block), `${marker1}\n`];
  }
  const insertPattern =
    e.insertafter !== undefined && e.insertafter !== 'EOF'
      ? pythonRegExp(e.insertafter)
      : e.insertbefore !== undefined && e.insertbefore !== 'BOF'
        ? pythonRegExp(e.insertbefore)
        : undefined;
  let n0: number | undefined;
  let n1: number | undefined;
  lines.forEach((l, i) => {
    if (stripEol(l) === marker0) n0 = i;
    if (stripEol(l) === marker1) n1 = i;
  });
  let at: number;
  if (n0 === undefined || n1 === undefined) {
    if (insertPattern) {
      let hit: number | undefined;
      lines.forEach((l, i) => {
        if (insertPattern.test(l.replace(/\n$/, ''))) hit = i;
      });
      at = hit === undefined ? lines.length : e.insertafter !== undefined ? hit + 1 : hit;
    } else if (e.insertbefore !== undefined) {
      at = 0; // BOF
    } else {
      at = lines.length; // EOF
    }
  } else if (n0 < n1) {
    lines.splice(n0, n1 - n0 + 1);
    at = n0;
  } else {
    lines.splice(n1, n0 - n1 + 1);
    at = n1;
  }
  if (blockLines.length > 0) {
    // Ansible's optional blank lines around a newly placed block
    if (e.prepend_newline && at > 0 && stripEol(lines[at - 1]!) !== '') blockLines.unshift('\n');
    if (e.append_newline && at < lines.length && stripEol(lines[at]!) !== '') blockLines.push('\n');
    if (at > 0 && !endsWithEol(lines[at - 1]!)) lines[at - 1] += '\n';
  }
  lines.splice(at, 0, ...blockLines);
  const result = lines.join('');
  if (original === result) return { text: result, changed: false, msg: '' };
  if (original === null) return { text: result, changed: true, msg: 'File created' };
  if (blockLines.length === 0) return { text: result, changed: true, msg: 'Block removed' };
  return { text: result, changed: true, msg: 'Block inserted' };
}

export interface ReplaceEdit {
  regexp: string;
  replace: string;
  after?: string;
  before?: string;
}

/**
 * replace over a file's text: re.subn(regexp, replace, section) with MULTILINE, where the
 * section is the text between `after` and `before` (DOTALL) when they are given.
 */
export function editReplace(text: string, e: ReplaceEdit): EditOutcome & { sectionMissing?: string } {
  let start = 0;
  let end = text.length;
  if (e.after !== undefined || e.before !== undefined) {
    const pattern =
      e.after !== undefined && e.before !== undefined
        ? `${e.after}(?P<subsection>.*?)${e.before}`
        : e.after !== undefined
          ? `${e.after}(?P<subsection>.*)`
          : `(?P<subsection>.*?)${e.before}`;
    const re = pythonRegExp(pattern, 'sd');
    const m = re.exec(text);
    const span = (m as RegExpExecArray & { indices?: { groups?: Record<string, [number, number]> } } | null)?.indices?.groups?.subsection;
    if (!m || !span) return { text, changed: false, msg: `Pattern for before/after params did not match the given file: ${pattern}`, sectionMissing: pattern };
    [start, end] = span;
  }
  const section = text.slice(start, end);
  const re = pythonRegExp(e.regexp, 'mg');
  let count = 0;
  const replaced = section.replace(re, (...all: unknown[]) => {
    count++;
    const last = all[all.length - 1];
    const hasGroups = typeof last === 'object' && last !== null;
    const groups = (hasGroups ? all.slice(0, -3) : all.slice(0, -2)) as Array<string | undefined>;
    return expandTemplate(e.replace, groups, hasGroups ? (last as Record<string, string | undefined>) : {});
  });
  const result = text.slice(0, start) + replaced + text.slice(end);
  if (count > 0 && result !== text) return { text: result, changed: true, msg: `${count} replacements made` };
  return { text, changed: false, msg: '' };
}
