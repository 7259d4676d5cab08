// The 512-byte tar header (POSIX ustar), pax extended records for what ustar cannot hold (long
// names, sizes of 8 GiB and more), and GNU's base-256 numbers, which GNU tar, bsdtar and Go's
// archive/tar (docker save) all read and write.

export const BLOCK = 512;

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'pax' | 'pax-global' | 'gnu-longname' | 'gnu-longlink' | 'other';

export interface TarHeader {
  name: string;
  size: number;
  type: TarEntryType;
  mode: number;
  mtime: number; // seconds since the epoch
  linkname: string;
}

/** The largest size an 11-digit octal field holds: 8 GiB - 1. */
const MAX_OCTAL_SIZE = 0o77777777777;

const TYPE_FLAGS: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file', // contiguous file: a plain file to every modern reader
  '5': 'directory',
  '2': 'symlink',
  '1': 'hardlink',
  x: 'pax',
  g: 'pax-global',
  L: 'gnu-longname',
  K: 'gnu-longlink',
};

function readString(block: Buffer, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

/** An octal field, or a base-256 one (high bit of the first byte set), as GNU tar writes big sizes. */
export function readNumber(block: Buffer, offset: number, length: number): number {
  const field = block.subarray(offset, offset + length);
  if (field[0]! & 0x80) {
    // base-256, big-endian; a negative value (0xff lead) is never a valid size or mtime here
    if (field[0] === 0xff) return NaN;
    let value = field[0]! & 0x7f;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^[\0 ]+/, '');
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) return NaN;
  return parseInt(text, 8);
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum;
}

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** Parses one header block; undefined when its checksum is wrong (not a tar, or a corrupt one). */
export function decodeHeader(block: Buffer): TarHeader | undefined {
  const stored = readNumber(block, 148, 8);
  if (Number.isNaN(stored) || stored !== checksum(block)) return undefined;
  const size = readNumber(block, 124, 12);
  const mtime = readNumber(block, 136, 12);
  if (Number.isNaN(size)) return undefined;
  let name = readString(block, 0, 100);
  // ustar splits long paths into prefix/name; old v7 and GNU headers have no prefix field
  if (block.toString('latin1', 257, 262) === 'ustar') {
    const prefix = readString(block, 345, 155);
    if (prefix && block.toString('latin1', 263, 265) === '00') name = `${prefix}/${name}`;
  }
  const flag = String.fromCharCode(block[156]!);
  return {
    name,
    size,
    type: TYPE_FLAGS[flag] ?? 'other',
    mode: readNumber(block, 100, 8) || 0,
    mtime: Number.isNaN(mtime) ? 0 : mtime,
    linkname: readString(block, 157, 100),
  };
}

/** Parses pax records ("LEN key=value\n"); the length counts itself and the newline. */
export function decodePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const length = parseInt(data.toString('latin1', pos, space), 10);
    if (!Number.isFinite(length) || length <= 0 || pos + length > data.length) break;
    const record = data.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1);
    pos += length;
  }
  return records;
}

export function encodePax(records: Record<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const body = ` ${key}=${value}\n`;
    const bodyLength = Buffer.byteLength(body);
    // the length prefix counts its own digits: grow it until it is stable
    let length = bodyLength + String(bodyLength).length;
    if (String(length).length + bodyLength !== length) length = bodyLength + String(length).length;
    parts.push(Buffer.from(`${length}${body}`, 'utf8'));
  }
  return Buffer.concat(parts);
}

function writeString(block: Buffer, offset: number, length: number, value: string): void {
  block.write(value, offset, length, 'utf8');
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(value.toString(8).padStart(length - 1, '0') + '\0', offset, length, 'latin1');
}

function writeBase256(block: Buffer, offset: number, length: number, value: number): void {
  let rest = value;
  for (let i = length - 1; i > 0; i--) {
    block[offset + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  block[offset] = 0x80;
}

/** Splits a path into ustar's prefix (≤155 bytes) and name (≤100 bytes) at a slash, if it can. */
function splitUstarPath(name: string): { prefix: string; name: string } | undefined {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] !== '/') continue;
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(rest) > 100) return undefined;
    if (Buffer.byteLength(prefix) <= 155 && rest !== '') return { prefix, name: rest };
  }
  return undefined;
}

const FLAG_OF: Partial<Record<TarEntryType, string>> = { file: '0', directory: '5', symlink: '2', hardlink: '1', pax: 'x' };

export interface HeaderInput {
  name: string;
  size: number;
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  mode?: number;
  mtime?: number;
  linkname?: string;
}

function encodeBlock(input: { name: string; prefix: string; size: number; flag: string; mode: number; mtime: number; linkname: string }): Buffer {
  const block = Buffer.alloc(BLOCK);
  writeString(block, 0, 100, input.name);
  writeOctal(block, 100, 8, input.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  if (input.size > MAX_OCTAL_SIZE) writeBase256(block, 124, 12, input.size);
  else writeOctal(block, 124, 12, input.size);
  writeOctal(block, 136, 12, input.mtime);
  block.write(input.flag, 156, 1, 'latin1');
  writeString(block, 157, 100, input.linkname);
  block.write('ustar\u000000', 257, 8, 'latin1');
  writeString(block, 265, 32, 'root');
  writeString(block, 297, 32, 'root');
  writeString(block, 345, 155, input.prefix);
  block.write(checksum(block).toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
  return block;
}

/**
 * The header blocks of one entry: a pax header first when the name or link target does not fit
 * ustar or the size needs more than 11 octal digits (the size field then also carries base-256,
 * for readers without pax), then the ustar header.
 */
export function encodeHeader(input: HeaderInput): Buffer {
  const mode = input.mode ?? (input.type === 'directory' ? 0o755 : 0o644);
  const mtime = input.mtime ?? 0;
  const linkname = input.linkname ?? '';
  const pax: Record<string, string> = {};
  const split = splitUstarPath(input.name);
  if (!split) pax.path = input.name;
  if (Buffer.byteLength(linkname) > 100) pax.linkpath = linkname;
  if (input.size > MAX_OCTAL_SIZE) pax.size = String(input.size);
  const blocks: Buffer[] = [];
  const ustarName = split ?? { prefix: '', name: truncateUtf8(input.name.split('/').pop() ?? input.name, 100) };
  if (Object.keys(pax).length > 0) {
    const data = encodePax(pax);
    const paxName = truncateUtf8(`PaxHeaders.0/${ustarName.name}`, 100);
    blocks.push(encodeBlock({ name: paxName, prefix: '', size: data.length, flag: FLAG_OF.pax!, mode: 0o644, mtime, linkname: '' }));
    blocks.push(data, Buffer.alloc(padding(data.length)));
  }
  blocks.push(
    encodeBlock({ name: ustarName.name, prefix: ustarName.prefix, size: input.size, flag: FLAG_OF[input.type]!, mode, mtime, linkname: truncateUtf8(linkname, 100) }),
  );
  return Buffer.concat(blocks);
}

/** Bytes of zero padding after `size` bytes of data, up to the next block boundary. */
export function padding(size: number): number {
  const rest = size % BLOCK;
  return rest === 0 ? 0 : BLOCK - rest;
}

function truncateUtf8(text: string, bytes: number): string {
  let out = text;
  while (Buffer.byteLength(out) > bytes) out = out.slice(0, -1);
  return out;
}
