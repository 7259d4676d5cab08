// Python's textwrap.wrap, which Ansible uses for warnings: whitespace collapses to single
// spaces, lines fill greedily up to the width, words longer than a line are cut.

export function wrapText(text: string, width: number): string[] {
  const words = text.split(/\s+/).filter((w) => w !== '');
  const lines: string[] = [];
  let line = '';
  for (let word of words) {
    while ([...word].length > width) {
      // Fill what is left of the current line with the start of the long word.
      const room = line === '' ? width : width - [...line].length - 1;
      if (room <= 0) {
        lines.push(line);
        line = '';
        continue;
      }
      const chars = [...word];
      const head = chars.slice(0, room).join('');
      word = chars.slice(room).join('');
      lines.push(line === '' ? head : `${line} ${head}`);
      line = '';
    }
    if (word === '') continue;
    if (line === '') line = word;
    else if ([...line].length + 1 + [...word].length <= width) line += ` ${word}`;
    else {
      lines.push(line);
      line = word;
    }
  }
  if (line !== '') lines.push(line);
  return lines;
}
