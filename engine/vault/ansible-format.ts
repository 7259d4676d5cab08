// Ansible Vault 1.1/1.2 (AES256), byte for byte as ansible/parsing/vault does it:
// PBKDF2-HMAC-SHA256 (10000 iterations) of the password and a 32-byte salt gives 80 bytes:
// an AES-256-CTR key, an HMAC-SHA256 key and the 16-byte counter block. The ciphertext is
// PKCS7-padded AES-CTR; the HMAC covers the ciphertext and is checked (constant time)
// before anything is decrypted. Body: hex(hex(salt) "\n" hex(hmac) "\n" hex(ciphertext)).
import { createCipheriv, createDecipheriv, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { VaultAuthError } from './errors.js';

const ITERATIONS = 10000;
const KEY_LENGTH = 32;
const IV_LENGTH = 16;
const SALT_LENGTH = 32;
const BLOCK = 16;
const pbkdf2Async = promisify(pbkdf2);

interface AnsibleKeys {
  cipherKey: Buffer;
  hmacKey: Buffer;
  iv: Buffer;
}

function splitKeys(derived: Buffer): AnsibleKeys {
  return {
    cipherKey: derived.subarray(0, KEY_LENGTH),
    hmacKey: derived.subarray(KEY_LENGTH, 2 * KEY_LENGTH),
    iv: derived.subarray(2 * KEY_LENGTH, 2 * KEY_LENGTH + IV_LENGTH),
  };
}

/** Derived keys by password and salt: the same value decrypted for every host costs one PBKDF2. */
const keyCache = new Map<string, AnsibleKeys>();
const cacheKey = (password: Buffer, salt: Buffer) => `${password.toString('hex')}:${salt.toString('hex')}`;

function deriveKeysSync(password: Buffer, salt: Buffer): AnsibleKeys {
  const id = cacheKey(password, salt);
  let keys = keyCache.get(id);
  if (!keys) {
    keys = splitKeys(pbkdf2Sync(password, salt, ITERATIONS, 2 * KEY_LENGTH + IV_LENGTH, 'sha256'));
    keyCache.set(id, keys);
  }
  return keys;
}

async function deriveKeys(password: Buffer, salt: Buffer): Promise<AnsibleKeys> {
  const cached = keyCache.get(cacheKey(password, salt));
  if (cached) return cached;
  const keys = splitKeys(await pbkdf2Async(password, salt, ITERATIONS, 2 * KEY_LENGTH + IV_LENGTH, 'sha256'));
  keyCache.set(cacheKey(password, salt), keys);
  return keys;
}

/** Ansible's format error ("Vault format unhexlify error"): the body is not what Ansible writes. */
export class AnsibleVaultFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnsibleVaultFormatError';
  }
}

function unhex(text: string, what: string): Buffer {
  const clean = text.trim();
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) throw new AnsibleVaultFormatError(`Vault format unhexlify error: ${what} is not hexadecimal`);
  return Buffer.from(clean, 'hex');
}

interface AnsibleBody {
  salt: Buffer;
  hmac: Buffer;
  ciphertext: Buffer;
}

/** The body lines (header removed, newlines joined away) into salt, HMAC and ciphertext. */
export function parseAnsibleBody(body: string): AnsibleBody {
  const inner = unhex(body, 'the vault body').toString('latin1');
  const parts = inner.split('\n');
  if (parts.length < 3) throw new AnsibleVaultFormatError('Vault format error: expected salt, hmac and ciphertext');
  const [salt, hmac, ...rest] = parts;
  return { salt: unhex(salt!, 'the salt'), hmac: unhex(hmac!, 'the hmac'), ciphertext: unhex(rest.join('\n'), 'the ciphertext') };
}

function decryptWith(keys: AnsibleKeys, body: AnsibleBody): Buffer {
  const expected = createHmac('sha256', keys.hmacKey).update(body.ciphertext).digest();
  if (body.hmac.length !== expected.length || !timingSafeEqual(body.hmac, expected)) throw new VaultAuthError();
  const decipher = createDecipheriv('aes-256-ctr', keys.cipherKey, keys.iv);
  const padded = Buffer.concat([decipher.update(body.ciphertext), decipher.final()]);
  return unpad(padded);
}

/** Decrypt an Ansible body with a password (sync: loaders read YAML synchronously). */
export function decryptAnsibleBodySync(body: string, password: Buffer): Buffer {
  const parsed = parseAnsibleBody(body);
  return decryptWith(deriveKeysSync(password, parsed.salt), parsed);
}

export async function decryptAnsibleBody(body: string, password: Buffer): Promise<Buffer> {
  const parsed = parseAnsibleBody(body);
  return decryptWith(await deriveKeys(password, parsed.salt), parsed);
}

/** Encrypt into Ansible's (doubly hexlified) body, not yet wrapped at 80 columns. */
export async function encryptAnsibleBody(plaintext: Buffer, password: Buffer, salt: Buffer = randomBytes(SALT_LENGTH)): Promise<string> {
  const keys = await deriveKeys(password, salt);
  const cipher = createCipheriv('aes-256-ctr', keys.cipherKey, keys.iv);
  const ciphertext = Buffer.concat([cipher.update(pad(plaintext)), cipher.final()]);
  const hmac = createHmac('sha256', keys.hmacKey).update(ciphertext).digest();
  const inner = [salt.toString('hex'), hmac.toString('hex'), ciphertext.toString('hex')].join('\n');
  return Buffer.from(inner, 'latin1').toString('hex');
}

/** PKCS7 to AES's 16-byte block (always adds 1..16 bytes). */
function pad(data: Buffer): Buffer {
  const n = BLOCK - (data.length % BLOCK);
  return Buffer.concat([data, Buffer.alloc(n, n)]);
}

function unpad(data: Buffer): Buffer {
  const n = data.length > 0 ? data[data.length - 1]! : 0;
  // The HMAC already vouched for the bytes, so a bad padding means a bug, not an attack.
  if (n < 1 || n > BLOCK || n > data.length || !data.subarray(data.length - n).every((b) => b === n)) {
    throw new AnsibleVaultFormatError('Vault format error: invalid PKCS7 padding');
  }
  return data.subarray(0, data.length - n);
}
