// --diff output: a unified diff like Ansible's (difflib.unified_diff, 3 lines of context,
// "--- before: /path" / "+++ after: /path" headers, "\ No newline at end of file").
import { structuredPatch } from 'diff';
import type { FileDiff } from '../modules/types.js';
import type { Colors } from './color.js';

export const DIFF_CONTEXT = 3;

/** difflib's range format: "3" for one line, "3,4" otherwise, "2,0" for an empty range. */
function formatRange(start: number, length: number): string {
  if (length === 1) return String(start);
  // jsdiff numbers an empty range from the line after it; unified diff from the line before.
  return `${length === 0 ? start - 1 : start},${length}`;
}

/**
 * The unified diff of one before/after pair, one line per "\n", ending with "\n".
 * Identical texts give "" (Ansible prints nothing for them).
 */
export function renderDiff(d: FileDiff, colors: Colors): string {
  const before = d.before ?? '';
  const after = d.after ?? '';
  if (before === after) return '';
  const patch = structuredPatch('before', 'after', before, after, '', '', { context: DIFF_CONTEXT });
  if (patch.hunks.length === 0) return '';

  const lines: string[] = [
    colors.diffRemove(d.beforeHeader !== undefined ? `--- before: ${d.beforeHeader}` : '--- before'),
    colors.diffAdd(d.afterHeader !== undefined ? `+++ after: ${d.afterHeader}` : '+++ after'),
  ];
  for (const hunk of patch.hunks) {
    lines.push(
      colors.diffLines(
        `@@ -${formatRange(hunk.oldStart, hunk.oldLines)} +${formatRange(hunk.newStart, hunk.newLines)} @@`,
      ),
    );
    let previous = ' ';
    for (const line of hunk.lines) {
      // The marker belongs to the line above it, and takes its colour (as in Ansible).
      const sign = line.startsWith('\\') ? previous : line[0];
      if (sign === '+') lines.push(colors.diffAdd(line));
      else if (sign === '-') lines.push(colors.diffRemove(line));
      else lines.push(line);
      previous = sign ?? ' ';
    }
  }
  return lines.join('\n') + '\n';
}

/** Several diffs of one result, each followed by a blank line like Ansible's _get_diff. */
export function renderDiffs(diffs: readonly FileDiff[], colors: Colors): string {
  return diffs
    .map((d) => renderDiff(d, colors))
    .filter((text) => text !== '')
    .map((text) => text + '\n')
    .join('');
}
