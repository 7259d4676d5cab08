// add_host: add a host (and its groups and variables) to the run's inventory, so later
// plays can target it. Runs on the controller; Ansible reports it as changed.
import { defineModule } from './types.js';

export interface AddHostArgs {
  name?: string;
  hostname?: string;
  host?: string;
  groups?: string | string[];
  group?: string | string[];
  groupname?: string | string[];
  [hostVar: string]: unknown;
}

const GROUPS = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

/** `groups: a,b` or a list, as Ansible takes it. */
export function groupList(value: string | string[] | undefined): string[] {
  const items = value === undefined ? [] : Array.isArray(value) ? value : String(value).split(',');
  return items.map((g) => String(g).trim()).filter(Boolean);
}

/** `name: web1:2222` sets the port, as in Ansible (an IPv6 address keeps its colons). */
function splitPort(name: string): { host: string; port?: number } {
  const bracketed = /^\[(.+)\]:(\d+)$/.exec(name);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2]) };
  const m = /^([^:]+):(\d+)$/.exec(name);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: name };
}

export default defineModule<AddHostArgs>({
  name: 'add_host',
  aliases: ['ansible.builtin.add_host'],
  freeForm: 'kv',
  controllerOnly: true,
  schema: {
    type: 'object',
    properties: {
      name: { type: 'string', minLength: 1 },
      hostname: { type: 'string', minLength: 1 },
      host: { type: 'string', minLength: 1 },
      groups: GROUPS,
      group: GROUPS,
      groupname: GROUPS,
    },
    // every other key is a host variable: it must be a valid variable name
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
    oneOf: [{ required: ['name'] }, { required: ['hostname'] }, { required: ['host'] }],
  },
  async run(args, ctx) {
    const { name, hostname, host, groups, group, groupname, ...hostVars } = args;
    const { host: hostName, port } = splitPort(String(name ?? hostname ?? host));
    const groupNames = groupList(groups ?? group ?? groupname);
    const vars: Record<string, unknown> = { ...hostVars };
    if (port !== undefined && vars.ansible_port === undefined && vars.ansible_ssh_port === undefined) vars.ansible_port = port;
    ctx.inventory.addHost(hostName, groupNames, vars);
    return { changed: true, add_host: { host_name: hostName, groups: groupNames, host_vars: vars } };
  },
});
