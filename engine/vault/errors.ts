// Vault errors: bad passwords, damaged or foreign envelopes, missing password sources.
// They are bad input like a YAML error (exit code 4): nothing has been run when they fire.
import { ExitCode, TsplayError, type ErrorCode, type SourcePos } from '../errors.js';

// 'VAULT' is not (yet) in errors.ts's ErrorCode union; the code string is stable either way.
const VAULT_CODE: ErrorCode = 'VAULT';

export class VaultError extends TsplayError {
  constructor(message: string, pos?: SourcePos, exitCode: number = ExitCode.parse) {
    super(VAULT_CODE, message, { ...(pos ? { pos } : {}), exitCode });
    this.name = 'VaultError';
  }
}

/** The ciphertext does not authenticate under this key: wrong password or tampered data. */
export class VaultAuthError extends Error {
  constructor() {
    super('vault data did not authenticate (wrong password or altered data)');
    this.name = 'VaultAuthError';
  }
}
