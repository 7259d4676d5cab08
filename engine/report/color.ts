// ANSI colours the way ansible-playbook paints them (its default COLOR_* settings),
// switched on and off by NO_COLOR / FORCE_COLOR / the stream being a terminal.

/** Ansible's colour names mapped to the SGR codes of ansible/utils/color.py. */
export const ansiCodes = {
  green: '0;32',
  yellow: '0;33',
  red: '0;31',
  brightRed: '1;31',
  cyan: '0;36',
  blue: '0;34',
  purple: '0;35',
  brightPurple: '1;35',
  darkGray: '1;30',
  white: '1;37',
} as const;

export type AnsiColor = keyof typeof ansiCodes;

/** Painters named after what they paint; each is the identity when colour is off. */
export interface Colors {
  readonly enabled: boolean;
  paint(color: AnsiColor, text: string): string;
  /** COLOR_OK */
  ok(text: string): string;
  /** COLOR_CHANGED */
  changed(text: string): string;
  /** COLOR_ERROR (failed, fatal) */
  error(text: string): string;
  /** COLOR_UNREACHABLE */
  unreachable(text: string): string;
  /** COLOR_SKIP (skipping, ...ignoring) */
  skip(text: string): string;
  /** COLOR_WARN ([WARNING], ignored= in the recap) */
  warn(text: string): string;
  /** COLOR_DEBUG (task path) */
  debug(text: string): string;
  /** COLOR_VERBOSE (NOTIFIED HANDLER) */
  verbose(text: string): string;
  /** COLOR_DIFF_ADD */
  diffAdd(text: string): string;
  /** COLOR_DIFF_REMOVE */
  diffRemove(text: string): string;
  /** COLOR_DIFF_LINES (@@ hunk headers) */
  diffLines(text: string): string;
}

export interface ColorStream {
  isTTY?: boolean;
}

/**
 * NO_COLOR (any non-empty value) wins, so a user can always switch colour off; then
 * FORCE_COLOR ("0"/"false" off, anything else on, even off a TTY); then TERM=dumb; then
 * colour only on a terminal.
 */
export function colorEnabled(stream: ColorStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/**
 * Like Ansible's stringc: every line is wrapped on its own, so a multi-line message
 * never leaves a colour running into the next line (or under progress bars).
 */
function paintLines(code: string, text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? line : `\u001b[${code}m${line}\u001b[0m`))
    .join('\n');
}

export function colorsFromFlag(enabled: boolean): Colors {
  const paint = (color: AnsiColor, text: string): string => (enabled ? paintLines(ansiCodes[color], text) : text);
  const painter = (color: AnsiColor) => (text: string) => paint(color, text);
  return {
    enabled,
    paint,
    ok: painter('green'),
    changed: painter('yellow'),
    error: painter('red'),
    unreachable: painter('brightRed'),
    skip: painter('cyan'),
    warn: painter('brightPurple'),
    debug: painter('darkGray'),
    verbose: painter('blue'),
    diffAdd: painter('green'),
    diffRemove: painter('red'),
    diffLines: painter('cyan'),
  };
}

export function createColors(stream: ColorStream, env: NodeJS.ProcessEnv = process.env): Colors {
  return colorsFromFlag(colorEnabled(stream, env));
}

/** Colours off: for tests, logs and the JSON reporter. */
export const noColors: Colors = colorsFromFlag(false);

// CSI sequences (colours, cursor movement, erase) and the two-byte ESC 7 / ESC 8.
const ansiPattern = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b[78]/g;

export function stripAnsi(text: string): string {
  return text.replace(ansiPattern, '');
}

/** Width on screen, ignoring escape sequences (wide characters count as one). */
export function visibleLength(text: string): number {
  return [...stripAnsi(text)].length;
}
