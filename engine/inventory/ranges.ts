// Host addresses and host ranges as Ansible reads them (ansible.parsing.utils.addresses and
// expand_hostname_range): `web[01:20]`, `db-[a:f]`, `web[1:9:2]`, `10.0.0.[1:3]:2222`,
// `[fe80::1]:22`. Several ranges in one name expand as a product, left range outermost.

/** A host range could not be expanded; the caller adds the file position. */
export class HostRangeError extends Error {}

const numericRange = String.raw`\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const hexRange = String.raw`\[(?:[0-9a-f]+:[0-9a-f]+)(?::[0-9]+)?\]`;
const alphanumericRange = String.raw`\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]`;
const ipv6Part = `(?:[0-9a-f]{1,4}|${hexRange})`;
const ipv4Part = `(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|${numericRange})`;
// Python's \w is Unicode-aware; \p{L}\p{N}_ is the same set for host names.
const word = String.raw`[\p{L}\p{N}_]`;
const label = `(?:${word}|${alphanumericRange})(?:${word}|-|${alphanumericRange})*(?<![_-])`;

const BRACKETED_HOSTPORT = /^\[(.+)\]:([0-9]+)$/;
const HOSTPORT = /^((?:[^:[\]]|\[[^\]]*\])*):([0-9]+)$/;
const IPV4 = new RegExp(`^(?:${ipv4Part}\\.){3}${ipv4Part}$`, 'i');
const IPV6 = new RegExp(
  '^(?:' +
    [
      `(?:${ipv6Part}:){7}${ipv6Part}`,
      `(?:${ipv6Part}:){1,6}:`,
      `(?:${ipv6Part}:)(?::${ipv6Part}){1,6}`,
      `(?:${ipv6Part}:){2}(?::${ipv6Part}){1,5}`,
      `(?:${ipv6Part}:){3}(?::${ipv6Part}){1,4}`,
      `(?:${ipv6Part}:){4}(?::${ipv6Part}){1,3}`,
      `(?:${ipv6Part}:){5}(?::${ipv6Part}){1,2}`,
      `(?:${ipv6Part}:){6}(?::${ipv6Part})`,
      `:(?::${ipv6Part}){1,6}`,
      `${ipv6Part}?::`,
      `(?:0:){6}(?:${ipv6Part}\\.){3}${ipv6Part}`,
      `::(?:ffff:)?(?:${ipv6Part}\\.){3}${ipv6Part}`,
      `(?:0:){5}ffff:(?:${ipv6Part}\\.){3}${ipv6Part}`,
    ].join('|') +
    ')$',
  'i',
);
const HOSTNAME = new RegExp(`^${label}(?:\\.${label})*$`, 'iu');

export interface HostAddress {
  host: string;
  port?: number;
}

/**
 * Ansible's parse_address(address, allow_ranges=true): split off a `:port` (mandatory brackets
 * for IPv6) and check what is left is an IPv4/IPv6 address or a host name, ranges allowed.
 * Returns undefined when it is none of those.
 */
export function parseAddress(address: string): HostAddress | undefined {
  let rest = address;
  let port: number | undefined;
  // Both forms are tried in turn, as Ansible does: "[web[1:2]]:22" peels twice.
  for (const form of [BRACKETED_HOSTPORT, HOSTPORT]) {
    const m = form.exec(rest);
    if (m) {
      rest = m[1]!;
      port = Number(m[2]);
    }
  }
  if (IPV4.test(rest) || IPV6.test(rest) || HOSTNAME.test(rest)) return port === undefined ? { host: rest } : { host: rest, port };
  return undefined;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

export function hasRange(name: string): boolean {
  return name.includes('[');
}

/**
 * Expand every `[begin:end(:step)]` in a host name. Ends are inclusive; a leading zero in
 * `begin` pads every number to its width (and `end` must then be as wide); letters count
 * through a-zA-Z. Unlike Ansible, a range whose begin is after its end is an error rather
 * than silently naming no host at all.
 */
export function expandHostRange(name: string): string[] {
  const open = name.indexOf('[');
  if (open < 0) return [name];
  const close = name.indexOf(']', open);
  if (close < 0) throw new HostRangeError(`host range in '${name}' has no closing ']'`);
  const head = name.slice(0, open);
  const tail = name.slice(close + 1);
  const bounds = name.slice(open + 1, close).split(':');
  if (bounds.length !== 2 && bounds.length !== 3) throw new HostRangeError(`host range must be begin:end or begin:end:step: '${name}'`);
  const begin = bounds[0] || '0';
  const end = bounds[1]!;
  const stepText = bounds[2] ?? '1';
  if (!end) throw new HostRangeError(`host range must specify end value: '${name}'`);
  if (!/^[0-9]+$/.test(stepText) || Number(stepText) === 0) throw new HostRangeError(`host range step must be a positive number: '${name}'`);
  const step = Number(stepText);

  let items: string[];
  const letterBegin = begin.length === 1 ? LETTERS.indexOf(begin) : -1;
  const letterEnd = end.length === 1 ? LETTERS.indexOf(end) : -1;
  if (letterBegin >= 0 && letterEnd >= 0) {
    if (letterBegin > letterEnd) throw new HostRangeError(`host range must have begin <= end: '${name}'`);
    items = [];
    for (let i = letterBegin; i <= letterEnd; i += step) items.push(LETTERS[i]!);
  } else {
    if (!/^[0-9]+$/.test(begin) || !/^[0-9]+$/.test(end)) {
      throw new HostRangeError(`host range bounds must both be numbers or both single letters: '${name}'`);
    }
    const padded = begin.length > 1 && begin.startsWith('0');
    if (padded && begin.length !== end.length) throw new HostRangeError(`host range must specify equal-length begin and end formats: '${name}'`);
    const from = Number(begin);
    const to = Number(end);
    if (from > to) throw new HostRangeError(`host range must have begin <= end: '${name}'`);
    items = [];
    for (let i = from; i <= to; i += step) items.push(padded ? String(i).padStart(begin.length, '0') : String(i));
  }
  return items.flatMap((item) => expandHostRange(head + item + tail));
}

/**
 * A host key or INI host token: an optional port split off, then ranges expanded.
 * Text that is not a valid address is taken as it is (ranges still expanded), like Ansible.
 */
export function expandHostPattern(pattern: string): { hosts: string[]; port?: number } {
  const address = parseAddress(pattern);
  const name = address ? address.host : pattern;
  const hosts = hasRange(name) ? expandHostRange(name) : [name];
  return address?.port === undefined ? { hosts } : { hosts, port: address.port };
}
