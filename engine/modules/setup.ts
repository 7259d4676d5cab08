// setup: gather facts now (Ansible's fact gathering as a task), in the same one-round-trip
// probe the runner uses, through become when the task has it. gather_subset picks the
// optional parts; filter narrows what is returned. The result's gatheredFacts replace the
// host's cached facts layer, so later tasks see them as ansible_* variables.
import { minimatch } from 'minimatch';
import { defineModule } from './types.js';
import { gatherFactsWith, type FactSubsets } from '../run/facts.js';

export interface SetupArgs {
  gather_subset?: string | string[];
  filter?: string | string[];
  gather_timeout?: number;
  fact_path?: string;
}

// what Ansible's gather_subset accepts; tsplay collects network (interfaces, routes) and
// hardware (mounts) as optional parts, everything else belongs to the always-gathered minimum
const OPTIONAL = new Set(['network', 'hardware']);
const KNOWN = ['all', 'min', 'minimal', 'hardware', 'network', 'virtual', 'ohai', 'facter', 'apparmor', 'caps', 'cmdline', 'date_time',
  'distribution', 'dns', 'env', 'fips', 'local', 'lsb', 'pkg_mgr', 'platform', 'python', 'selinux', 'service_mgr', 'ssh_pub_keys', 'user',
  'devices', 'dmi', 'mounts', 'interfaces', 'default_ipv4', 'default_ipv6', 'all_ipv4_addresses', 'all_ipv6_addresses'];

const ONE = `\\s*!?(${KNOWN.join('|')})\\s*`;
const SUBSET_ITEM = { type: 'string', pattern: `^${ONE}$` };
const SUBSET_LIST_TEXT = { type: 'string', pattern: `^${ONE}(,${ONE})*$` };

function list(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(',')).map((s) => s.trim()).filter(Boolean);
}

/** Ansible's subset arithmetic for the parts tsplay gathers: additions, then `!` exclusions. */
export function subsetsFor(spec: string[]): FactSubsets {
  const wanted = new Set<string>();
  const terms = spec.length === 0 ? ['all'] : spec;
  for (const term of terms) {
    if (term.startsWith('!')) continue;
    if (term === 'all') for (const s of OPTIONAL) wanted.add(s);
    else if (term === 'mounts') wanted.add('hardware');
    else if (/^(interfaces|default_ipv[46]|all_ipv[46]_addresses)$/.test(term)) wanted.add('network');
    else if (OPTIONAL.has(term)) wanted.add(term);
  }
  for (const term of terms) {
    if (!term.startsWith('!')) continue;
    const name = term.slice(1);
    if (name === 'all') for (const s of OPTIONAL) if (!terms.includes(s)) wanted.delete(s);
    if (OPTIONAL.has(name)) wanted.delete(name);
  }
  return { network: wanted.has('network'), hardware: wanted.has('hardware') };
}

/** Keep facts whose ansible_-prefixed name matches one of the shell-style patterns. */
export function filterFacts(facts: Record<string, unknown>, patterns: string[]): Record<string, unknown> {
  if (patterns.length === 0 || patterns.includes('*')) return facts;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(facts)) {
    const prefixed = key.startsWith('ansible_') ? key : `ansible_${key}`;
    if (patterns.some((p) => minimatch(prefixed, p) || minimatch(key, p))) out[key] = value;
  }
  return out;
}

export default defineModule<SetupArgs>({
  name: 'setup',
  aliases: ['ansible.builtin.setup', 'gather_facts', 'ansible.builtin.gather_facts'],
  freeForm: 'kv',
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      gather_subset: { anyOf: [SUBSET_LIST_TEXT, { type: 'array', items: SUBSET_ITEM }] },
      filter: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      gather_timeout: { type: 'integer', minimum: 1 },
      // local facts (*.fact files): accepted for compatibility, not collected
      fact_path: { type: 'string' },
    },
  },
  async run(args, ctx) {
    const subsets = subsetsFor(list(args.gather_subset));
    const timeoutMs = args.gather_timeout !== undefined ? args.gather_timeout * 1000 : ctx.timeoutMs;
    let gathered: Record<string, unknown>;
    try {
      gathered = await gatherFactsWith((script) => ctx.ops.run(script, timeoutMs !== undefined ? { timeoutMs } : {}), subsets);
    } catch (err) {
      return { changed: false, failed: true, msg: err instanceof Error ? err.message : String(err) };
    }
    const returned = filterFacts(gathered, list(args.filter));
    // a filtered or partial gather adds to what the host already had, as Ansible's fact cache does
    const merged = { ...(ctx.facts ?? {}), ...returned };
    return { changed: false, ansible_facts: returned, gatheredFacts: merged };
  },
});
