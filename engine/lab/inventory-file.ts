// The lab's inventory, as Ansible-style INI (default) or YAML. All hosts are in a group named
// after the lab, which carries the connection variables (not all:vars, so combining the lab
// inventory with another one does not make every host use the lab key). Extra groups come
// from specs: "web=1-2,4" puts hosts 1, 2 and 4 in group web; a bare "web" puts every host in it.
import { stringify } from 'yaml';
import { LabError } from './lab-error.js';

export interface LabInventoryHost {
  index: number;
  name: string;
  address: string;
}

export interface LabInventoryInput {
  labName: string;
  hosts: LabInventoryHost[];
  privateKeyFile: string;
  knownHostsFile: string;
  groups: string[];
  /** Set when the hosts have the become test users; the comment says where the password is. */
  becomePasswordFile?: string;
}

export type InventoryFormat = 'ini' | 'yaml';

export interface GroupSpec {
  name: string;
  /** Host indexes; undefined means every host. */
  indexes?: number[];
}

const GROUP_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses "web=1-2,4" or "web"; maxIndex, when given, rejects hosts the lab does not have. */
export function parseGroupSpec(spec: string, maxIndex?: number): GroupSpec {
  const [name = '', list] = spec.split('=', 2) as [string, string | undefined];
  if (!GROUP_NAME.test(name)) throw new LabError(`bad group "${spec}": a group name is letters, digits and _ (e.g. web=1-2,4)`);
  if (list === undefined) return { name };
  const indexes: number[] = [];
  for (const part of list.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!match) throw new LabError(`bad group "${spec}": "${part}" is not a host number or range like 1-3`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    if (first < 1 || last < first) throw new LabError(`bad group "${spec}": range ${part} is empty or starts below 1`);
    if (maxIndex !== undefined && last > maxIndex) throw new LabError(`bad group "${spec}": the lab has hosts 1-${maxIndex}, not ${last}`);
    for (let n = first; n <= last; n++) if (!indexes.includes(n)) indexes.push(n);
  }
  return { name, indexes };
}

function groupMembers(input: LabInventoryInput): Map<string, LabInventoryHost[]> {
  const groups = new Map<string, LabInventoryHost[]>();
  for (const spec of input.groups.map((g) => parseGroupSpec(g))) {
    if (spec.name === input.labName || spec.name === 'all' || spec.name === 'ungrouped') {
      throw new LabError(`bad group "${spec.name}": that name is taken (the lab's own group, all, ungrouped)`);
    }
    const members = groups.get(spec.name) ?? [];
    for (const host of input.hosts) {
      if ((spec.indexes === undefined || spec.indexes.includes(host.index)) && !members.includes(host)) members.push(host);
    }
    groups.set(spec.name, members.sort((a, b) => a.index - b.index));
  }
  return groups;
}

function connectionVars(input: LabInventoryInput): Record<string, string> {
  return {
    ansible_user: 'root',
    ansible_ssh_private_key_file: input.privateKeyFile,
    tsplay_known_hosts_file: input.knownHostsFile,
  };
}

function headerLines(input: LabInventoryInput): string[] {
  const lines = [`tsplay lab "${input.labName}": written by \`tsplay lab\`; rewritten by every \`tsplay lab up\``];
  if (input.becomePasswordFile) {
    lines.push('become test users on every host: tsplay-nopw (sudo NOPASSWD), tsplay-pw (sudo with a password;');
    lines.push(`root's password is the same, for su), password in ${input.becomePasswordFile}`);
  }
  return lines;
}

// INI values are read by Ansible's shlex-like parser: quote anything with spaces or quotes.
function iniValue(value: string): string {
  return /^[^\s'"#=]+$/.test(value) ? value : `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

export function renderLabInventory(input: LabInventoryInput, format: InventoryFormat): string {
  const hosts = [...input.hosts].sort((a, b) => a.index - b.index);
  const groups = groupMembers({ ...input, hosts });
  if (format === 'yaml') {
    const children: Record<string, unknown> = {
      [input.labName]: {
        hosts: Object.fromEntries(hosts.map((h) => [h.name, { ansible_host: h.address }])),
        vars: connectionVars(input),
      },
    };
    for (const [name, members] of groups) children[name] = { hosts: Object.fromEntries(members.map((h) => [h.name, null])) };
    const comment = headerLines(input).map((l) => `# ${l}\n`).join('');
    return comment + stringify({ all: { children } }, { nullStr: '' });
  }
  const out = headerLines(input).map((l) => `# ${l}`);
  out.push('', `[${input.labName}]`, ...hosts.map((h) => `${h.name} ansible_host=${h.address}`));
  out.push('', `[${input.labName}:vars]`, ...Object.entries(connectionVars(input)).map(([k, v]) => `${k}=${iniValue(v)}`));
  for (const [name, members] of groups) out.push('', `[${name}]`, ...members.map((h) => h.name));
  return out.join('\n') + '\n';
}
