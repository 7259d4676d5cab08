// One progress bar line, fitted to the terminal width so it never wraps (a wrapped bar
// line breaks the cursor arithmetic that redraws bars in place).

export interface BarChars {
  complete: string;
  incomplete: string;
}

export const unicodeBarChars: BarChars = { complete: '█', incomplete: '░' };
export const asciiBarChars: BarChars = { complete: '#', incomplete: '-' };

/** Block characters only where the locale says UTF-8; '#' and '-' elsewhere. */
export function barCharsFor(env: NodeJS.ProcessEnv): BarChars {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || '';
  return /utf-?8/i.test(locale) ? unicodeBarChars : asciiBarChars;
}

export interface ProgressLine {
  label: string;
  value: number;
  total: number;
  /** Shown after the counts when there is room, e.g. "ok=3 changed=1 failed=0 0:12". */
  suffix: string;
  /** Terminal columns. */
  columns: number;
  chars: BarChars;
}

const MAX_BAR = 30;
const MIN_BAR = 10;

function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, Math.max(0, width)).join('');
  return chars.slice(0, width - 1).join('') + '…';
}

/** "label ███░░░ 3/10 suffix", at most columns - 1 characters wide. */
export function formatProgressLine(p: ProgressLine): string {
  const width = p.columns - 1;
  if (width < 20) return '';
  const total = Math.max(0, p.total);
  const value = Math.min(Math.max(0, p.value), total);
  const counts = `${value}/${total}`;
  const len = (text: string) => [...text].length;
  // What a narrow screen gives up, in order: bar width (down to MIN_BAR), label length
  // (down to 40% of the line), then the suffix; the counts always stay.
  const room = width - counts.length - 2; // spaces around the bar
  let label = p.label;
  let suffix = p.suffix;
  const needed = () => len(label) + MIN_BAR + (suffix ? len(suffix) + 1 : 0);
  const minLabel = Math.min(len(label), Math.floor(room * 0.4));
  if (needed() > room) label = truncate(label, Math.max(minLabel, room - MIN_BAR - (suffix ? len(suffix) + 1 : 0)));
  if (needed() > room) suffix = truncate(suffix, room - MIN_BAR - len(label) - 1);
  if (len(suffix) < 8) suffix = '';
  if (needed() > room) label = truncate(label, Math.max(1, room - MIN_BAR));
  const barSize = Math.max(1, Math.min(MAX_BAR, room - len(label) - (suffix ? len(suffix) + 1 : 0)));
  const filled = total === 0 ? 0 : Math.round((value / total) * barSize);
  const bar = p.chars.complete.repeat(filled) + p.chars.incomplete.repeat(barSize - filled);
  const line = `${label} ${bar} ${counts}${suffix ? ' ' + suffix : ''}`;
  return truncate(line, width);
}

/** m:ss (h:mm:ss past an hour). */
export function formatElapsed(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
