// Ansible's banner: a blank line, the title, a space and stars out to the screen width
// (79 columns off a terminal, so the line is 80 characters long).

export const DEFAULT_COLUMNS = 79;

/** Ansible's Display.columns: max(79, terminal width - 1); 79 when not a terminal. */
export function displayColumns(stream: { isTTY?: boolean; columns?: number }): number {
  if (stream.isTTY && typeof stream.columns === 'number' && stream.columns > 0) {
    return Math.max(DEFAULT_COLUMNS, stream.columns - 1);
  }
  return DEFAULT_COLUMNS;
}

/** "\nTITLE ****...\n"; at least three stars however long the title is. */
export function banner(title: string, columns: number = DEFAULT_COLUMNS): string {
  const text = title.trim();
  const stars = Math.max(3, columns - [...text].length);
  return `\n${text} ${'*'.repeat(stars)}\n`;
}
