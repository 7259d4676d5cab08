// `tsplay inventory`: ansible-inventory's --list, --graph and --host.
import { Command } from 'commander';
import { OptionError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { inventoryGraph, inventoryHostJson, inventoryListJson } from '../inventory/show.js';
import { defaultInventorySources } from './defaults.js';
import { closePrompts } from './prompt-secret.js';
import { openVault, withVaultOptions } from './vault-options.js';
import type { VaultFlags } from '../vault/vault-ids.js';
import { redactDeep, redactText } from '../vault/secrets.js';
import { registerInventoryPasswords } from '../vault/connection-secrets.js';
import { loadProjectConfig } from '../config/project-config.js';

interface InventoryFlags extends VaultFlags {
  inventory?: string[];
  list?: boolean;
  graph?: string | boolean;
  host?: string;
  vars?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerInventoryCommand(program: Command): void {
  const command = program
    .command('inventory')
    .description('show the inventory as tsplay reads it (like ansible-inventory)')
    .option('-i, --inventory <source>', 'inventory file or directory (repeatable)', collect)
    .option('--list', 'every group and host with their variables, as JSON')
    .option('--graph [group]', 'the group tree, from all or the named group')
    .option('--host <name>', "one host's variables, as JSON")
    .option('--vars', 'with --graph: show variables too');
  withVaultOptions(command).action(async (flags: InventoryFlags) => {
    const chosen = [flags.list, flags.graph !== undefined, flags.host !== undefined].filter(Boolean).length;
    if (chosen !== 1) throw new OptionError('tsplay inventory needs exactly one of --list, --graph or --host');
    const cwd = process.cwd();
    // vaulted group_vars/host_vars decrypt with these passwords, as in `tsplay run`
    const { prompted } = await openVault(flags, loadProjectConfig({ cwd }), cwd);
    if (prompted) closePrompts();
    const inventory = loadInventory(flags.inventory?.length ? flags.inventory : defaultInventorySources(cwd));
    registerInventoryPasswords(inventory);
    // unlike ansible-inventory, decrypted vault values and passwords print masked (docs/vault.md)
    // (masked before JSON escaping: a secret with a quote in it is still found)
    const printJson = (value: unknown) => process.stdout.write(JSON.stringify(redactDeep(value), null, 4) + '\n');
    if (flags.list) {
      printJson(inventoryListJson(inventory));
    } else if (flags.host !== undefined) {
      if (!inventory.hasHost(flags.host)) throw new OptionError(`host not found in the inventory: ${flags.host}`);
      printJson(inventoryHostJson(inventory, flags.host));
    } else {
      const group = typeof flags.graph === 'string' ? flags.graph : 'all';
      process.stdout.write(redactText(inventoryGraph(inventory, group, Boolean(flags.vars))) + '\n');
    }
  });
}
