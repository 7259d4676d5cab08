// PLAY RECAP, column for column as ansible-playbook prints it (colorize/hostcolor of
// ansible/utils/color.py): hosts sorted and padded to 26, "name=%-4s" counters, a counter
// coloured only when it is not zero, the host coloured by its worst outcome.
import type { HostStats } from './events.js';
import type { Colors } from './color.js';
import { banner, DEFAULT_COLUMNS } from './banner.js';

const HOST_WIDTH = 26;

function counter(name: string, value: number, paint: ((s: string) => string) | undefined): string {
  const text = `${name}=${String(value).padEnd(4)}`;
  return value !== 0 && paint ? paint(text) : text;
}

function hostLabel(host: string, stats: HostStats, colors: Colors): string {
  const padding = ' '.repeat(Math.max(0, HOST_WIDTH - [...host].length));
  let painted: string;
  if (stats.failed !== 0 || stats.unreachable !== 0) painted = colors.error(host);
  else if (stats.changed !== 0) painted = colors.changed(host);
  else painted = colors.ok(host);
  return painted + padding;
}

/** One recap line for a host (no newline). Trailing spaces kept: Ansible prints them too. */
export function formatRecapLine(host: string, stats: HostStats, colors: Colors): string {
  return [
    hostLabel(host, stats, colors),
    ':',
    counter('ok', stats.ok, colors.ok),
    counter('changed', stats.changed, colors.changed),
    counter('unreachable', stats.unreachable, colors.unreachable),
    counter('failed', stats.failed, colors.error),
    counter('skipped', stats.skipped, colors.skip),
    counter('rescued', stats.rescued, colors.ok),
    counter('ignored', stats.ignored, colors.warn),
  ].join(' ');
}

/** The banner, a line a host (sorted by name) and the blank line Ansible ends with. */
export function formatRecap(
  stats: Record<string, HostStats>,
  colors: Colors,
  columns: number = DEFAULT_COLUMNS,
): string {
  const hosts = Object.keys(stats).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const lines = hosts.map((host) => formatRecapLine(host, stats[host]!, colors) + '\n');
  return banner('PLAY RECAP', columns) + lines.join('') + '\n';
}
