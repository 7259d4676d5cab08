// Maps a place inside a template/expression text to a file position. Callers pass the position
// of the YAML value; the value may be a plain, quoted or block scalar (`|`, `>`), and only the
// source line tells which, so it is read here (on the error path only, never when rendering).
import { sourceLines, type SourcePos } from '../errors.js';


/** Line (0-based) and column (0-based) of `index` inside `text`. */
export function lineColOf(text: string, index: number): { line: number; col: number } {
  let line = 0;
  let lineStart = 0;
  for (let i = 0; i < index && i < text.length; i++) {
    if (text[i] === '\n') {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, col: index - lineStart };
}

/**
 * The file position of `line`/`col` (0-based, within the value's text) for a value written at
 * `pos`. Block scalars start on the line after their indicator, indented; quoted scalars one
 * column after the quote. Folded multi-line flow scalars are approximated line by line.
 */
export function offsetPos(pos: SourcePos | undefined, line: number, col: number): SourcePos | undefined {
  if (!pos) return undefined;
  const lines = sourceLines(pos.file);
  const here = lines?.[pos.line - 1];
  const indicator = here?.[pos.col - 1];
  if (lines && (indicator === '|' || indicator === '>')) {
    const firstContent = lines.slice(pos.line).find((l) => l.trim() !== '') ?? '';
    const indent = firstContent.length - firstContent.trimStart().length;
    return { file: pos.file, line: pos.line + 1 + line, col: indent + col + 1 };
  }
  const quoted = indicator === '"' || indicator === "'";
  if (line === 0) return { file: pos.file, line: pos.line, col: pos.col + col + (quoted ? 1 : 0) };
  const target = lines?.[pos.line - 1 + line];
  const indent = target === undefined ? 0 : target.length - target.trimStart().length;
  return { file: pos.file, line: pos.line + line, col: indent + col + 1 };
}
