// `tsplay inventory`: ansible-inventory's --list, --graph and --host.
import { Command } from 'commander';
import { OptionError } from '../errors.js';
import { loadInventory } from '../inventory/load.js';
import { inventoryGraph, inventoryHostJson, inventoryListJson } from '../inventory/show.js';
import { defaultInventorySources } from './defaults.js';

interface InventoryFlags {
  inventory?: string[];
  list?: boolean;
  graph?: string | boolean;
  host?: string;
  vars?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerInventoryCommand(program: Command): void {
  program
    .command('inventory')
    .description('show the inventory as tsplay reads it (like ansible-inventory)')
    .option('-i, --inventory <source>', 'inventory file or directory (repeatable)', collect)
    .option('--list', 'every group and host with their variables, as JSON')
    .option('--graph [group]', 'the group tree, from all or the named group')
    .option('--host <name>', "one host's variables, as JSON")
    .option('--vars', 'with --graph: show variables too')
    .action((flags: InventoryFlags) => {
      const chosen = [flags.list, flags.graph !== undefined, flags.host !== undefined].filter(Boolean).length;
      if (chosen !== 1) throw new OptionError('tsplay inventory needs exactly one of --list, --graph or --host');
      const inventory = loadInventory(flags.inventory?.length ? flags.inventory : defaultInventorySources(process.cwd()));
      if (flags.list) {
        process.stdout.write(JSON.stringify(inventoryListJson(inventory), null, 4) + '\n');
      } else if (flags.host !== undefined) {
        if (!inventory.hasHost(flags.host)) throw new OptionError(`host not found in the inventory: ${flags.host}`);
        process.stdout.write(JSON.stringify(inventoryHostJson(inventory, flags.host), null, 4) + '\n');
      } else {
        const group = typeof flags.graph === 'string' ? flags.graph : 'all';
        process.stdout.write(inventoryGraph(inventory, group, Boolean(flags.vars)) + '\n');
      }
    });
}
