// known_hosts as OpenSSH reads and writes it: plain and hashed (`|1|salt|hash`) host fields,
// `[host]:port` for non-22 ports, comma lists and `*`/`?`/`!` patterns, @revoked markers.
// ssh2 reads none of this (with no hostVerifier it trusts any key), so the engine does.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { matchPattern } from './ssh-config.js';

export interface KnownHostEntry {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** The host field as written (comma list, patterns, or one hashed name). */
  hosts: string;
  keyType: string;
  /** The raw public key blob (what the server presents). */
  key: Buffer;
}

/** A stored key that differs from the presented one, for the "changed" message. */
export interface StoredKey {
  file: string;
  line: number;
  keyType: string;
  fingerprint: string;
}

export type HostKeyCheck =
  | { status: 'match'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypes: StoredKey[] }
  | { status: 'changed'; stored: StoredKey[] }
  | { status: 'revoked'; entry: KnownHostEntry };

/** `SHA256:base64-without-padding` of a key blob, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside a public key blob (its first SSH string), e.g. `ssh-ed25519`. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const len = key.readUInt32BE(0);
  if (len <= 0 || 4 + len > key.length) return 'unknown';
  return key.subarray(4, 4 + len).toString('latin1');
}

/** The name OpenSSH looks up and records: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Parse known_hosts text. Lines that cannot be read are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]!.startsWith('@')) {
      const m = fields.shift()!;
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: OpenSSH ignores the line
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) continue;
    const key = Buffer.from(b64, 'base64');
    // the blob names its own type; a line whose type field disagrees is corrupt
    if (keyTypeOf(key) !== keyType) continue;
    entries.push({ file, line: i + 1, ...(marker ? { marker } : {}), hosts, keyType, key });
  }
  return entries;
}

/** Does a known_hosts host field match one of the names? Hashed, patterns and negations. */
export function hostFieldMatches(field: string, names: readonly string[]): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt64, hash64] = field.split('|');
    if (!salt64 || !hash64) return false;
    const salt = Buffer.from(salt64, 'base64');
    return names.some((name) => createHmac('sha1', salt).update(name).digest('base64') === hash64);
  }
  const patterns = field.split(',');
  let matched = false;
  for (const name of names) {
    let positive = false;
    let negated = false;
    for (const p of patterns) {
      if (p.startsWith('!')) {
        if (matchPattern(p.slice(1), name)) negated = true;
      } else if (matchPattern(p, name)) positive = true;
    }
    if (negated) return false; // a negated match excludes the line for this host
    if (positive) matched = true;
  }
  return matched;
}

/** Read every known_hosts file that exists; a missing file is simply empty. */
export function loadKnownHosts(files: readonly string[]): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    entries.push(...parseKnownHosts(text, file));
  }
  return entries;
}

function storedKey(e: KnownHostEntry): StoredKey {
  return { file: e.file, line: e.line, keyType: e.keyType, fingerprint: fingerprintSha256(e.key) };
}

/**
 * Check a presented host key against the entries for any of `names` (e.g. `[name]:2222` and
 * `[10.0.0.5]:2222`). Revoked wins; then a stored key of the same type decides match or
 * changed; a host known only with other key types is unknown (OpenSSH would ask).
 * @cert-authority lines are not applied: tsplay does not verify host certificates.
 */
export function checkHostKey(entries: readonly KnownHostEntry[], names: readonly string[], key: Buffer): HostKeyCheck {
  const type = keyTypeOf(key);
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const forHost = entries.filter((e) => e.marker === undefined && hostFieldMatches(e.hosts, names));
  const same = forHost.find((e) => e.key.equals(key));
  if (same) return { status: 'match', entry: same };
  const sameType = forHost.filter((e) => e.keyType === type);
  if (sameType.length > 0) return { status: 'changed', stored: sameType.map(storedKey) };
  return { status: 'unknown', otherTypes: forHost.map(storedKey) };
}

/** Key types known for a host, to offer those host key algorithms first as OpenSSH does. */
export function knownKeyTypes(entries: readonly KnownHostEntry[], names: readonly string[]): string[] {
  const types = new Set<string>();
  for (const e of entries) if (e.marker === undefined && hostFieldMatches(e.hosts, names)) types.add(e.keyType);
  return [...types];
}

/** `|1|salt|hash` for a name, as `ssh-keygen -H` writes it (random 20-byte salt unless given). */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

/**
 * Append `name keytype base64` to a known_hosts file. Written atomically (a temp file in the
 * same folder, fsync, rename) so a crash never leaves a truncated file; a new file is 0600
 * and a new folder 0700. Synchronous on purpose: many hosts recording at once in one
 * process then cannot interleave their read-modify-write.
 */
export function recordHostKey(file: string, name: string, key: Buffer, opts: { hash?: boolean } = {}): void {
  const dir = dirname(file);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let old = '';
  let mode = 0o600;
  try {
    old = readFileSync(file, 'utf8');
    mode = statSync(file).mode & 0o7777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const host = opts.hash ? hashHostName(name) : name;
  const line = `${host} ${keyTypeOf(key)} ${key.toString('base64')}\n`;
  const text = old === '' || old.endsWith('\n') ? old + line : `${old}\n${line}`;
  const tmp = join(dir, `.${basename(file)}.tsplay-${process.pid}-${randomBytes(4).toString('hex')}`);
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
