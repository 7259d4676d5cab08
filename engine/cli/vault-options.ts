// The vault options shared by the commands that load vault data (run, inventory): the same
// flags as ansible-playbook/ansible-inventory, the project config's vault settings when no
// flag is given, and the keyring every loader then decrypts with.
import type { Command } from 'commander';
import { keyringFromFlags, vaultIdSpecs, type VaultFlags } from '../vault/vault-ids.js';
import { useVaultKeyring, type VaultKeyring } from '../vault/keyring.js';
import type { ProjectConfig } from '../config/project-config.js';
import { promptSecret } from './prompt-secret.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Add --vault-id, --vault-password-file and -J/--ask-vault-pass to `command`. */
export function withVaultOptions(command: Command): Command {
  return command
    .option('--vault-id <label@source>', "a vault id and its password source: a file, an executable script or 'prompt' (repeatable)", collect)
    .option('--vault-password-file <file>', 'vault password file, or an executable script printing it (repeatable)', collect)
    .option('-J, --ask-vault-pass', 'ask for the vault password');
}

/**
 * Read the vault passwords the flags name (else the project config's vault_identity_list /
 * vault_password_file) and make them the keyring loaders decrypt with. `prompted`: a password
 * was asked for, so the caller closes the prompts when it has asked for everything.
 */
export async function openVault(flags: VaultFlags, config: Pick<ProjectConfig, 'vaultIdentityList' | 'vaultPasswordFiles'>, cwd: string): Promise<{ vault: VaultKeyring; prompted: boolean }> {
  const given = flags.vaultId?.length || flags.vaultPasswordFile?.length || flags.askVaultPass;
  const vaultFlags: VaultFlags = given ? flags : { ...flags, vaultId: config.vaultIdentityList ?? [], vaultPasswordFile: config.vaultPasswordFiles ?? [] };
  const prompted = vaultIdSpecs(vaultFlags).some((s) => s.source === 'prompt');
  const vault = await keyringFromFlags(vaultFlags, { prompt: promptSecret, cwd });
  useVaultKeyring(vault);
  return { vault, prompted };
}
