// Vault data in YAML: `!vault |` tagged scalars and whole vault-encrypted files. Both are
// decrypted when the YAML is loaded, before any templating, with the run's keyring; every
// decrypted value is registered for redaction (secrets.ts).
import { ParseError, type SourcePos } from '../errors.js';
import { activeVaultKeyring } from './keyring.js';
import { VaultError } from './errors.js';
import { isVaultText } from './envelope.js';
import { registerSecret, registerSecretsIn } from './secrets.js';

/** What the YAML parser makes of a `!vault` scalar; turned into plaintext with its position known. */
export class VaultInline {
  constructor(readonly text: string) {}
}

/** The custom tag for the yaml package (`customTags`). */
export const vaultYamlTag = {
  tag: '!vault',
  resolve: (text: string) => new VaultInline(text),
};

/** An inline `!vault` value: plaintext string, registered as a secret. Errors name file:line:col. */
export function decryptInline(value: VaultInline, pos?: SourcePos): string {
  const text = value.text.trim() + '\n';
  if (!isVaultText(text)) throw new VaultError('input is not vault encrypted data: a !vault value must start with $ANSIBLE_VAULT or $TSPLAY_VAULT', pos);
  const plain = activeVaultKeyring().decryptText(text, { ...(pos ? { file: pos.file, pos } : {}) });
  registerSecret(plain);
  return plain;
}

/**
 * A whole vault-encrypted YAML file: decrypt, parse the plaintext under the file's name (so
 * positions are the plaintext's), and register every string value as a secret. A syntax
 * error in the plaintext is reported by line and column without a code frame, which would
 * print the decrypted lines.
 */
export function parseVaultFile(text: string, file: string, parse: (text: string, file: string) => unknown): unknown {
  const plain = activeVaultKeyring().decryptText(text, { file });
  let value: unknown;
  try {
    value = parse(plain, file);
  } catch (err) {
    if (err instanceof ParseError && err.pos) {
      const { line, col } = err.pos;
      throw new ParseError(err.code, `${err.message} (line ${line}, column ${col} of the decrypted content of ${file})`);
    }
    throw err;
  }
  registerSecretsIn(value);
  return value;
}
