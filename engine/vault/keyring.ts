// The vault passwords of a run and how a piece of vault text is decrypted with them:
// the secret whose id the header names first, then every other one (Ansible's order).
import type { SourcePos } from '../errors.js';
import { VaultAuthError, VaultError } from './errors.js';
import { decryptVault, decryptVaultSync, headerVaultId, isVaultText, parseEnvelope, type VaultHeader } from './envelope.js';

export interface VaultSecret {
  /** The vault id (label); "default" when none was given. */
  id: string;
  password: Buffer;
  /** Where it came from, for messages: "prompt", a file path, a script. Never the password. */
  source: string;
}

/** Where vault text was found, for error messages: a file, and the value's position inline. */
export interface VaultWhere {
  file?: string;
  pos?: SourcePos;
}

export interface Decrypted {
  plaintext: Buffer;
  vaultId: string;
  header: VaultHeader;
}

export const NO_SECRETS_MESSAGE = 'Attempting to decrypt but no vault secrets found';

export class VaultKeyring {
  /** Plaintext by vault text, so a value used by every host is decrypted once. */
  private readonly decrypted = new Map<string, string>();

  constructor(readonly secrets: readonly VaultSecret[]) {}

  get empty(): boolean {
    return this.secrets.length === 0;
  }

  /** Candidates in order: the header's id first, then the others as given. */
  private candidates(text: string, where: VaultWhere): { header: VaultHeader; order: VaultSecret[] } {
    let header: VaultHeader;
    try {
      header = parseEnvelope(text).header;
    } catch (err) {
      throw new VaultError(`${(err as Error).message}${describe(where)}`, where.pos);
    }
    if (this.empty) throw new VaultError(`${NO_SECRETS_MESSAGE}${describe(where)} (give --vault-id, --vault-password-file or --ask-vault-pass)`, where.pos);
    const wanted = headerVaultId(header);
    const order = [...this.secrets.filter((s) => s.id === wanted), ...this.secrets.filter((s) => s.id !== wanted)];
    return { header, order };
  }

  /** Decrypt synchronously (YAML loading is synchronous). Throws VaultError, exit code 4. */
  decryptSync(text: string, where: VaultWhere = {}): Decrypted {
    const { header, order } = this.candidates(text, where);
    for (const secret of order) {
      try {
        return { plaintext: decryptVaultSync(text, secret.password), vaultId: secret.id, header };
      } catch (err) {
        if (!(err instanceof VaultAuthError)) throw formatError(err, where);
      }
    }
    throw failed(where);
  }

  async decrypt(text: string, where: VaultWhere = {}): Promise<Decrypted> {
    const { header, order } = this.candidates(text, where);
    for (const secret of order) {
      try {
        return { plaintext: await decryptVault(text, secret.password), vaultId: secret.id, header };
      } catch (err) {
        if (!(err instanceof VaultAuthError)) throw formatError(err, where);
      }
    }
    throw failed(where);
  }

  /** Decrypt to UTF-8 text, cached per keyring. */
  decryptText(text: string, where: VaultWhere = {}): string {
    let plain = this.decrypted.get(text);
    if (plain === undefined) {
      plain = this.decryptSync(text, where).plaintext.toString('utf8');
      this.decrypted.set(text, plain);
    }
    return plain;
  }

  /**
   * The secret new data is encrypted with: --encrypt-vault-id's, else the only one;
   * several without a choice is an error, as in ansible-vault.
   */
  encryptSecret(encryptVaultId?: string): VaultSecret {
    if (encryptVaultId !== undefined) {
      const found = this.secrets.find((s) => s.id === encryptVaultId);
      if (!found) throw new VaultError(`Did not find a match for --encrypt-vault-id=${encryptVaultId} in the known vault-ids ${this.ids().join(', ')}`);
      return found;
    }
    if (this.empty) throw new VaultError('A vault password is required to encrypt (give --vault-id, --vault-password-file or --ask-vault-pass)');
    const ids = new Set(this.ids());
    if (ids.size > 1) throw new VaultError(`The vault-ids ${[...ids].join(',')} are available to encrypt. Specify the vault-id to encrypt with --encrypt-vault-id`);
    return this.secrets[0]!;
  }

  private ids(): string[] {
    return this.secrets.map((s) => s.id);
  }
}

function describe(where: VaultWhere): string {
  return where.file ? ` on ${where.file}` : '';
}

function failed(where: VaultWhere): VaultError {
  return new VaultError(`Decryption failed (no vault secrets were found that could decrypt)${describe(where)}`, where.pos);
}

function formatError(err: unknown, where: VaultWhere): VaultError {
  return new VaultError(`There was a vault format error${where.file ? ` in ${where.file}` : ''}: ${(err as Error).message}`, where.pos);
}

/**
 * The keyring loaders use. The CLI sets it from --vault-id & co before loading anything;
 * loaders read YAML synchronously and deep in the call tree, so it is process-wide state
 * rather than a parameter threaded through every loader.
 */
let active: VaultKeyring = new VaultKeyring([]);

export function useVaultKeyring(keyring: VaultKeyring | readonly VaultSecret[] | undefined): void {
  active = keyring instanceof VaultKeyring ? keyring : new VaultKeyring(keyring ?? []);
}

export function activeVaultKeyring(): VaultKeyring {
  return active;
}

export { isVaultText };
