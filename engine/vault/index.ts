// Public API of the vault: formats, keyrings, password sources, redaction.
export { VaultError } from './errors.js';
export {
  isVaultText,
  parseEnvelope,
  encryptVault,
  decryptVault,
  decryptVaultSync,
  formatEnvelope,
  DEFAULT_VAULT_ID,
  type VaultFormat,
  type VaultHeader,
  type EncryptOptions,
} from './envelope.js';
export { DEFAULT_SCRYPT, type ScryptParams } from './tsplay-format.js';
export { VaultKeyring, useVaultKeyring, activeVaultKeyring, NO_SECRETS_MESSAGE, type VaultSecret, type VaultWhere, type Decrypted } from './keyring.js';
export { parseVaultIdSpec, vaultIdSpecs, loadVaultSecrets, keyringFromFlags, type VaultIdSpec, type VaultFlags, type SecretSourceOptions } from './vault-ids.js';
export { MASK, MIN_SECRET_LENGTH, registerSecret, registerSecretsIn, redactText, redactDeep, clearSecrets, hasSecrets } from './secrets.js';
export { VaultInline, vaultYamlTag, decryptInline, parseVaultFile } from './yaml-values.js';
