// `tsplay lab up [N] | down | status | inventory`: throwaway hosts on this machine (engine/lab).
import { writeFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { OptionError } from '../errors.js';
import { type InventoryFormat, labDown, labInventory, labStatus, labUp } from '../lab/lab.js';

interface LabFlags {
  name?: string;
  dir?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function withLabOptions(command: Command): Command {
  return command
    .option('--name <name>', 'lab name: bridge <name>0, hosts <name>-h1... (default TSPLAY_LAB_NAME or tsplab)')
    .option('--dir <dir>', 'state dir: keys, host layers, inventory (default TSPLAY_LAB_DIR or /var/lib/tsplay-lab)');
}

function labOptions(flags: LabFlags): { name?: string; dir?: string } {
  return { ...(flags.name ? { name: flags.name } : {}), ...(flags.dir ? { dir: flags.dir } : {}) };
}

function parseCount(value: string): number {
  if (!/^\d+$/.test(value)) throw new OptionError(`tsplay lab up takes a number of hosts, not "${value}"`);
  return Number(value);
}

const GROUP_HELP = 'inventory group: NAME=1-2,4 (hosts 1, 2 and 4) or NAME (every host); repeatable';

export function registerLabCommand(program: Command): void {
  const lab = program
    .command('lab')
    .description('throwaway lab hosts on this machine (Linux, root): network namespaces, an overlay root and a real sshd each');

  withLabOptions(lab.command('up'))
    .description('bring the lab to N hosts (default 3): creates missing ones, removes those numbered above N')
    .argument('[count]', 'number of hosts', '3')
    .option('--users', 'also create the become test users tsplay-nopw (sudo NOPASSWD) and tsplay-pw (sudo password)')
    .option('--group <spec>', GROUP_HELP, collect)
    .option('--nat', "let the hosts reach the machine's Debian package mirrors (and DNS) through NAT, nothing else")
    .action(async (count: string, flags: LabFlags & { users?: boolean; group?: string[]; nat?: boolean }) => {
      const info = await labUp(parseCount(count), {
        ...labOptions(flags),
        ...(flags.users ? { users: true } : {}),
        ...(flags.nat ? { nat: true } : {}),
        ...(flags.group ? { groups: flags.group } : {}),
      });
      const out: string[] = [];
      const first = info.hosts[0]?.address;
      const last = info.hosts[info.hosts.length - 1]?.address;
      out.push(`lab ${info.name} up: ${info.hosts.length} host${info.hosts.length === 1 ? '' : 's'}, ${first}${last !== first ? ` - ${last}` : ''} (${info.subnet} on ${info.bridge})`);
      if (info.created.length) out.push(`created: ${info.created.join(' ')}`);
      if (info.removed.length) out.push(`removed: ${info.removed.join(' ')}`);
      if (info.becomeUsers) out.push(`become users: ${info.becomeUsers.nopasswd} (NOPASSWD), ${info.becomeUsers.password} (password in ${info.becomeUsers.passwordFile})`);
      out.push(`inventory: ${info.inventoryFile}`);
      out.push(`try: tsplay run PLAYBOOK -i ${info.inventoryFile}`);
      process.stdout.write(out.join('\n') + '\n');
    });

  withLabOptions(lab.command('down'))
    .description('remove every lab host, the bridge, the blackhole route (when no other lab is up) and the state dir')
    .action(async (flags: LabFlags) => {
      const result = await labDown(labOptions(flags));
      process.stdout.write(
        result.removed.length ? `lab ${result.name} down: removed ${result.removed.join(' ')}\n` : `lab ${result.name} is down (nothing to remove)\n`,
      );
    });

  withLabOptions(lab.command('status'))
    .description('lab hosts, their addresses, and whether their sshd answers')
    .option('--json', 'print the status as JSON')
    .action(async (flags: LabFlags & { json?: boolean }) => {
      const status = await labStatus(labOptions(flags));
      if (flags.json) {
        process.stdout.write(JSON.stringify(status, null, 2) + '\n');
        return;
      }
      if (!status.up || !status.info) {
        process.stdout.write(`lab ${status.name} is down (no state in ${status.dir})\n`);
        return;
      }
      const info = status.info;
      const rows = [['HOST', 'ADDRESS', 'SSHD'], ...status.hosts.map((h) => [h.name, h.address, h.sshd ? 'up' : h.netns ? 'not answering' : 'missing'])];
      const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => r[col]!.length)));
      const table = rows.map((r) => r.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd());
      process.stdout.write(
        [`lab ${info.name}: ${info.hosts.length} hosts on ${info.subnet} (bridge ${info.bridge}), state in ${info.dir}`, ...table, `inventory: ${info.inventoryFile}`].join('\n') + '\n',
      );
    });

  withLabOptions(lab.command('inventory'))
    .description("print the lab's inventory (INI or YAML), or write it to a file")
    .addOption(new Option('--format <format>', 'inventory format').choices(['ini', 'yaml']).default('ini'))
    .option('--group <spec>', `${GROUP_HELP}; replaces the groups given at up`, collect)
    .option('-o, --output <file>', 'write the inventory to this file instead of printing it')
    .action((flags: LabFlags & { format: InventoryFormat; group?: string[]; output?: string }) => {
      const text = labInventory({ ...labOptions(flags), format: flags.format, ...(flags.group ? { groups: flags.group } : {}) });
      if (flags.output) {
        writeFileSync(flags.output, text);
        process.stdout.write(`inventory written to ${flags.output}\n`);
      } else {
        process.stdout.write(text);
      }
    });
}
