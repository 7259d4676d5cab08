// The text envelope both formats share: one header line naming format, version, cipher
// and (optionally) the vault id, then the body wrapped at 80 columns, ending in a newline.
//   $ANSIBLE_VAULT;1.1;AES256              $ANSIBLE_VAULT;1.2;AES256;prod
//   $TSPLAY_VAULT;1.0;AES256GCM;SCRYPT     $TSPLAY_VAULT;1.0;AES256GCM;SCRYPT;prod
import { decryptAnsibleBody, decryptAnsibleBodySync, encryptAnsibleBody } from './ansible-format.js';
import { decryptTsplayBody, decryptTsplayBodySync, encryptTsplayBody, type ScryptParams } from './tsplay-format.js';

export const ANSIBLE_HEADER = '$ANSIBLE_VAULT';
export const TSPLAY_HEADER = '$TSPLAY_VAULT';
export const DEFAULT_VAULT_ID = 'default';
const WIDTH = 80;

export type VaultFormat = 'tsplay' | 'ansible';

export interface VaultHeader {
  format: VaultFormat;
  version: string;
  cipher: string;
  /** The label written in the header (1.2 / tsplay); undefined means "default". */
  vaultId?: string;
  /** The header line as written: tsplay authenticates it. */
  line: string;
}

/** Whether a text is vault data (Ansible's is_encrypted: the header at the very start). */
export function isVaultText(text: string): boolean {
  return text.startsWith(ANSIBLE_HEADER) || text.startsWith(TSPLAY_HEADER);
}

export class VaultEnvelopeError extends Error {
  constructor(message: string) {
    super(`Vault envelope format error: ${message}`);
    this.name = 'VaultEnvelopeError';
  }
}

export function parseEnvelope(text: string): { header: VaultHeader; body: string } {
  const lines = text.split(/\r?\n/);
  const line = (lines[0] ?? '').trim();
  const parts = line.split(';').map((p) => p.trim());
  const body = lines.slice(1).map((l) => l.trim()).join('');
  if (parts[0] === ANSIBLE_HEADER) {
    const [, version, cipher, vaultId] = parts;
    if (version !== '1.1' && version !== '1.2') throw new VaultEnvelopeError(`unsupported Ansible vault version '${version ?? ''}'`);
    if (cipher !== 'AES256') throw new VaultEnvelopeError(`${cipher ?? ''} cipher could not be found`);
    return { header: { format: 'ansible', version, cipher, ...(vaultId ? { vaultId } : {}), line }, body };
  }
  if (parts[0] === TSPLAY_HEADER) {
    const [, version, cipher, kdf, vaultId] = parts;
    if (version !== '1.0') throw new VaultEnvelopeError(`unsupported tsplay vault version '${version ?? ''}'`);
    if (cipher !== 'AES256GCM' || kdf !== 'SCRYPT') throw new VaultEnvelopeError(`unsupported cipher '${cipher ?? ''};${kdf ?? ''}'`);
    return { header: { format: 'tsplay', version, cipher, ...(vaultId ? { vaultId } : {}), line }, body };
  }
  throw new VaultEnvelopeError('input is not vault encrypted data');
}

/** The vault id that names the key, as the header gives it ("default" when absent). */
export function headerVaultId(header: VaultHeader): string {
  return header.vaultId ?? DEFAULT_VAULT_ID;
}

export function checkVaultId(id: string): void {
  if (id === '' || /[;\s]/.test(id)) throw new VaultEnvelopeError(`invalid vault id '${id}': it may not be empty or contain ';' or spaces`);
}

function headerLineFor(format: VaultFormat, vaultId: string | undefined): string {
  const labelled = vaultId !== undefined && vaultId !== DEFAULT_VAULT_ID;
  if (labelled) checkVaultId(vaultId);
  if (format === 'ansible') return labelled ? `${ANSIBLE_HEADER};1.2;AES256;${vaultId}` : `${ANSIBLE_HEADER};1.1;AES256`;
  return `${TSPLAY_HEADER};1.0;AES256GCM;SCRYPT${labelled ? `;${vaultId}` : ''}`;
}

/** Header, body wrapped at 80 columns, and a final newline (as Ansible writes it). */
export function formatEnvelope(headerLine: string, body: string): string {
  const lines = [headerLine];
  for (let i = 0; i < body.length; i += WIDTH) lines.push(body.slice(i, i + WIDTH));
  return lines.join('\n') + '\n';
}

export interface EncryptOptions {
  format?: VaultFormat;
  vaultId?: string;
  /** tsplay format only: scrypt cost (tests use a cheap one). */
  scrypt?: ScryptParams;
}

export async function encryptVault(plaintext: string | Buffer, password: Buffer, opts: EncryptOptions = {}): Promise<string> {
  const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
  const format = opts.format ?? 'tsplay';
  const headerLine = headerLineFor(format, opts.vaultId);
  const body = format === 'ansible' ? await encryptAnsibleBody(data, password) : await encryptTsplayBody(data, password, headerLine, opts.scrypt);
  return formatEnvelope(headerLine, body);
}

/** Decrypt with one password; throws VaultAuthError on a wrong password or altered data. */
export function decryptVaultSync(text: string, password: Buffer): Buffer {
  const { header, body } = parseEnvelope(text);
  return header.format === 'ansible' ? decryptAnsibleBodySync(body, password) : decryptTsplayBodySync(body, password, header.line);
}

export async function decryptVault(text: string, password: Buffer): Promise<Buffer> {
  const { header, body } = parseEnvelope(text);
  return header.format === 'ansible' ? decryptAnsibleBody(body, password) : decryptTsplayBody(body, password, header.line);
}
