// Opt-in NAT for a lab (`labUp(n, { nat: true })`): lab hosts may reach the machine's Debian
// package registry (the hosts named in its apt sources, TCP 80/443) and its DNS resolvers
// (port 53), nothing else. One nftables table per lab (`ip tsplay_nat_<name>`) holds the
// masquerade and a forward filter; forwarding is switched on for the lab bridge and the
// uplink (replies arrive there). `down` deletes the table and, when no NAT lab is left,
// restores the uplink's forwarding setting, recorded in the table's comment so a lost
// state dir cannot lose it.
import { lookup } from 'node:dns/promises';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { LAB_RANGE_PREFIX, type LabConfig } from './config.js';
import { LabError } from './lab-error.js';
import { run, resolveTool } from './system.js';

const TABLE_PREFIX = 'tsplay_nat_';

export function natTableName(lab: LabConfig): string {
  return `${TABLE_PREFIX}${lab.name}`;
}

interface NatRecord {
  uplink: string;
  /** The uplink's forwarding value before the first NAT lab turned it on. */
  uplinkForwarding: string;
}

function forwardingFile(dev: string): string {
  return `/proc/sys/net/ipv4/conf/${dev}/forwarding`;
}

function readForwarding(dev: string): string {
  return readFileSync(forwardingFile(dev), 'utf8').trim();
}

function setForwarding(dev: string, value: string): void {
  if (existsSync(forwardingFile(dev))) writeFileSync(forwardingFile(dev), value);
}

/** The device of the machine's IPv4 default route: where NATed packets leave. */
async function uplinkDevice(): Promise<string> {
  const { stdout } = await run('ip', ['-j', '-4', 'route', 'show', 'default']);
  const routes = JSON.parse(stdout || '[]') as { dev?: string }[];
  const dev = routes.find((r) => r.dev)?.dev;
  if (!dev) throw new LabError('lab NAT needs an IPv4 default route on this machine: none found');
  return dev;
}

/** Host names of the package registries in the machine's apt sources (one-line and deb822 formats). */
export function aptSourceHosts(root = '/etc/apt'): string[] {
  const files = [path.join(root, 'sources.list')];
  const dir = path.join(root, 'sources.list.d');
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) if (/\.(list|sources)$/.test(f)) files.push(path.join(dir, f));
  const hosts = new Set<string>();
  for (const file of files) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      if (/^\s*#/.test(line)) continue;
      for (const m of line.matchAll(/\bhttps?:\/\/([^/\s:\]]+)/g)) hosts.add(m[1]!.toLowerCase());
    }
  }
  return [...hosts].sort();
}

/** The machine's IPv4 resolvers (what the hosts' /etc/resolv.conf, seen through the overlay, names). */
export function resolvers(file = '/etc/resolv.conf'): string[] {
  if (!existsSync(file)) return [];
  const out = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1])
    .filter((a): a is string => a !== undefined);
  return [...new Set(out)];
}

async function addressesOf(hosts: string[]): Promise<string[]> {
  const all = new Set<string>();
  for (const host of hosts) {
    try {
      for (const a of await lookup(host, { all: true, family: 4 })) all.add(a.address);
    } catch {
      // a source that does not resolve is simply not reachable from the lab
    }
  }
  return [...all].sort();
}

async function nft(args: string[], input?: string, allowFailure = false) {
  return run('nft', args, { ...(input !== undefined ? { input } : {}), allowFailure });
}

async function natTables(): Promise<string[]> {
  const { stdout, code } = await nft(['list', 'tables', 'ip'], undefined, true);
  if (code !== 0) return [];
  return [...stdout.matchAll(/^table ip (\S+)$/gm)].map((m) => m[1]!).filter((name) => name.startsWith(TABLE_PREFIX));
}

// nft's JSON output leaves table comments out (1.0.6): the text form has them
async function tableRecord(name: string): Promise<NatRecord | undefined> {
  const { stdout, code } = await nft(['list', 'table', 'ip', name], undefined, true);
  if (code !== 0) return undefined;
  const m = /^\s*comment "uplink=(\S+) forwarding=(\d)"$/m.exec(stdout);
  return m ? { uplink: m[1]!, uplinkForwarding: m[2]! } : undefined;
}

/** The nftables script for one lab's table (replacing any previous version of it). */
export function natRuleset(opts: { table: string; bridge: string; subnet: string; uplink: string; registry: string[]; resolvers: string[]; record: NatRecord }): string {
  const { table, bridge, subnet, uplink } = opts;
  const set = (addrs: string[]) => (addrs.length ? `elements = { ${addrs.join(', ')} }` : '');
  const lines = [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    `  comment "uplink=${opts.record.uplink} forwarding=${opts.record.uplinkForwarding}"`,
    `  set registry { type ipv4_addr; ${set(opts.registry)} }`,
    `  set resolvers { type ipv4_addr; ${set(opts.resolvers)} }`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    `    iifname "${bridge}" oifname "${uplink}" ip saddr ${subnet} ip daddr @registry tcp dport { 80, 443 } accept`,
    `    iifname "${bridge}" oifname "${uplink}" ip saddr ${subnet} ip daddr @resolvers udp dport 53 accept`,
    `    iifname "${bridge}" oifname "${uplink}" ip saddr ${subnet} ip daddr @resolvers tcp dport 53 accept`,
    `    iifname "${bridge}" oifname != "${bridge}" drop`,
    `    iifname "${uplink}" oifname "${bridge}" ct state established,related accept`,
    `    oifname "${bridge}" iifname != "${bridge}" drop`,
    // the uplink forwards only because of us: nothing new may be forwarded from it
    ...(opts.record.uplinkForwarding === '0' ? [`    iifname "${uplink}" ct state != { established, related } drop`] : []),
    `  }`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    ip saddr ${subnet} oifname "${uplink}" masquerade`,
    `  }`,
    `}`,
  ];
  return lines.join('\n') + '\n';
}

/** Turn NAT on for a lab whose bridge exists (call after ensureBridge, which turns bridge forwarding off). */
export async function enableLabNat(lab: LabConfig, subnet: number): Promise<void> {
  if (resolveTool('nft') === 'nft') throw new LabError('lab NAT needs nft, not found on this machine: install it with `apt-get install nftables`');
  const table = natTableName(lab);
  const uplink = await uplinkDevice();
  // the value before any NAT lab: from our own table, another NAT lab's, or the machine now
  let record = await tableRecord(table);
  if (!record) {
    for (const other of await natTables()) {
      const r = await tableRecord(other);
      if (r && r.uplink === uplink) record = r;
    }
  }
  record ??= { uplink, uplinkForwarding: readForwarding(uplink) };
  const registry = await addressesOf(aptSourceHosts());
  if (registry.length === 0) throw new LabError('lab NAT: no package registry found in /etc/apt/sources.list(.d) that resolves to an IPv4 address');
  await nft(['-f', '-'], natRuleset({ table, bridge: lab.bridge, subnet: `${LAB_RANGE_PREFIX}${subnet}.0/24`, uplink, registry, resolvers: resolvers(), record }));
  setForwarding(lab.bridge, '1');
  setForwarding(uplink, '1');
}

/** Remove a lab's NAT table (if any); the last NAT lab down restores the uplink's forwarding. */
export async function disableLabNat(lab: LabConfig): Promise<void> {
  if (resolveTool('nft') === 'nft') return; // no nft: no table can exist
  const table = natTableName(lab);
  const record = await tableRecord(table);
  if (!record) {
    await nft(['delete', 'table', 'ip', table], undefined, true);
    return;
  }
  await nft(['delete', 'table', 'ip', table]);
  const others = (await natTables()).filter((t) => t !== table);
  if (others.length === 0) setForwarding(record.uplink, record.uplinkForwarding);
}

/** Whether a lab has NAT on (its table exists). */
export async function labNatEnabled(lab: LabConfig): Promise<boolean> {
  return (await natTables()).includes(natTableName(lab));
}
