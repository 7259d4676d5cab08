// The lab's network: a bridge in the root namespace, one named netns a host joined to it by a
// veth pair, and a blackhole route for the whole lab range so lab addresses never leave the
// machine, even with the lab down. No NAT and no forwarding are set up.
import { existsSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { bridgeAddress, type HostNames, LAB_RANGE, LAB_RANGE_PREFIX, type LabConfig } from './config.js';
import { LabError } from './lab-error.js';
import { run } from './system.js';

const ip = (args: string[], allowFailure = false) => run('ip', args, { allowFailure });

interface IpAddrInfo {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

async function labAddressesInUse(): Promise<{ ifname: string; local: string }[]> {
  const { stdout } = await ip(['-j', '-4', 'addr', 'show']);
  const links = JSON.parse(stdout || '[]') as IpAddrInfo[];
  return links.flatMap((link) =>
    (link.addr_info ?? []).filter((a) => a.local.startsWith(LAB_RANGE_PREFIX)).map((a) => ({ ifname: link.ifname, local: a.local })),
  );
}

/** The /24 of a lab: its bridge's if it exists, 0 for the default lab, else the lowest one no other lab uses. */
export async function chooseSubnet(lab: LabConfig, isDefaultLab: boolean): Promise<number> {
  const inUse = await labAddressesInUse();
  const own = inUse.find((a) => a.ifname === lab.bridge);
  if (own) return Number(own.local.split('.')[2]);
  const taken = new Set(inUse.map((a) => Number(a.local.split('.')[2])));
  if (isDefaultLab) {
    if (taken.has(0)) throw new LabError(`10.213.0.0/24 is already used by ${inUse.find((a) => a.local.startsWith('10.213.0.'))?.ifname}: cannot make the default lab`);
    return 0;
  }
  for (let subnet = 1; subnet < 255; subnet++) if (!taken.has(subnet)) return subnet;
  throw new LabError('no free /24 left in 10.213.0.0/16 for another lab');
}

async function linkExists(name: string, netns?: string): Promise<boolean> {
  const args = netns ? ['-n', netns, 'link', 'show', name] : ['link', 'show', name];
  return (await ip(args, true)).code === 0;
}

/** Refuses to run when the machine already routes part of 10.213.0.0/16 somewhere real. */
export async function checkLabRangeIsFree(): Promise<void> {
  const { stdout } = await ip(['-j', 'route', 'show', 'root', LAB_RANGE]);
  const routes = JSON.parse(stdout || '[]') as { dst: string; dev?: string; type?: string }[];
  const labBridge = /^[a-z][a-z0-9]{0,9}0$/;
  const foreign = routes.filter((r) => r.type !== 'blackhole' && !(r.dev && labBridge.test(r.dev) && r.dst.startsWith(LAB_RANGE_PREFIX)));
  if (foreign.length > 0) {
    const first = foreign[0]!;
    throw new LabError(`${first.dst} is routed${first.dev ? ` via ${first.dev}` : ''} on this machine: the lab range ${LAB_RANGE} would clash with it`);
  }
}

export async function ensureBridge(lab: LabConfig, subnet: number): Promise<void> {
  if (!(await linkExists(lab.bridge))) {
    await ip(['link', 'add', lab.bridge, 'type', 'bridge']);
  }
  const address = `${bridgeAddress(subnet)}/24`;
  const { stdout } = await ip(['-j', '-4', 'addr', 'show', 'dev', lab.bridge]);
  const has = (JSON.parse(stdout || '[]') as IpAddrInfo[]).some((l) => (l.addr_info ?? []).some((a) => `${a.local}/${a.prefixlen}` === address));
  if (!has) await ip(['addr', 'add', address, 'dev', lab.bridge]);
  // Packets from lab hosts are never forwarded beyond the machine, even if forwarding is on globally.
  const forwarding = `/proc/sys/net/ipv4/conf/${lab.bridge}/forwarding`;
  if (existsSync(forwarding)) writeFileSync(forwarding, '0');
  await ip(['link', 'set', lab.bridge, 'up']);
}

export async function ensureBlackholeRoute(): Promise<void> {
  const { stdout } = await ip(['-j', 'route', 'show', 'exact', LAB_RANGE, 'type', 'blackhole']);
  if ((JSON.parse(stdout || '[]') as unknown[]).length === 0) await ip(['route', 'add', 'blackhole', LAB_RANGE]);
}

/** Removes the blackhole route once no lab is up any more (another lab's bridge still needs it). */
export async function removeBlackholeRouteIfUnused(): Promise<void> {
  if ((await labAddressesInUse()).length > 0) return;
  await ip(['route', 'del', 'blackhole', LAB_RANGE], true);
}

export async function removeBridge(lab: LabConfig): Promise<void> {
  if (await linkExists(lab.bridge)) await ip(['link', 'del', lab.bridge]);
}

export async function netnsNames(): Promise<string[]> {
  const { stdout } = await ip(['-j', 'netns', 'list'], true);
  if (!stdout.trim()) return [];
  return (JSON.parse(stdout) as { name: string }[]).map((n) => n.name);
}

export async function netnsExists(name: string): Promise<boolean> {
  return existsSync(`/run/netns/${name}`);
}

/** netns, veth pair (root side named like the host, `eth0` inside), address, lo, default route via the bridge. */
export async function createHostNetwork(lab: LabConfig, subnet: number, host: HostNames): Promise<void> {
  await ip(['netns', 'add', host.name]);
  await ip(['link', 'add', host.name, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', host.name]);
  await ip(['link', 'set', host.name, 'master', lab.bridge, 'up']);
  await ip(['-n', host.name, 'addr', 'add', `${host.address}/24`, 'dev', 'eth0']);
  await ip(['-n', host.name, 'link', 'set', 'lo', 'up']);
  await ip(['-n', host.name, 'link', 'set', 'eth0', 'up']);
  await ip(['-n', host.name, 'route', 'add', 'default', 'via', bridgeAddress(subnet)]);
}

/** Deletes the host's veth and netns; missing pieces are fine (down is idempotent). */
export async function removeHostNetwork(name: string): Promise<void> {
  if (await linkExists(name)) await ip(['link', 'del', name], true);
  if (await netnsExists(name)) await ip(['netns', 'del', name], true);
}

/** `ip netns add` bind-mounts /run/netns onto itself; once no netns is left, undo that so the mount table is as before. */
export async function tidyNetnsDir(): Promise<void> {
  const dir = '/run/netns';
  if (!existsSync(dir) || readdirSync(dir).length > 0) return;
  const mounted = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .some((line) => line.split(' ')[4] === dir);
  if (mounted) await run('umount', [dir], { allowFailure: true });
  try {
    rmdirSync(dir);
  } catch {
    // still mounted or in use by someone else: leave it
  }
}
