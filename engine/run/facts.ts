// Fact gathering in one round trip: a POSIX shell probe printing key=value lines, mapped to
// Ansible's fact names. Gathered once per host and cached for the run; the setup module runs
// the same probe on demand (with a subset and through become).
import type { Connection, ExecResult } from '../connection/types.js';

/** Which optional parts of the probe run; the minimal part (platform, os, user...) always does. */
export interface FactSubsets {
  /** Interfaces, addresses, default routes (Ansible's `network` subset). */
  network: boolean;
  /** Mounts with their sizes (part of Ansible's `hardware` subset). */
  hardware: boolean;
}

export const ALL_SUBSETS: FactSubsets = { network: true, hardware: true };

const PROBE_BODY = String.raw`
echo "hostname=$(uname -n)"
echo "fqdn=$(hostname -f 2>/dev/null || uname -n)"
echo "system=$(uname -s)"
echo "kernel=$(uname -r)"
echo "machine=$(uname -m)"
if [ -r /etc/os-release ]; then
  sed -n 's/^\(ID\|ID_LIKE\|NAME\|VERSION_ID\|VERSION_CODENAME\|PRETTY_NAME\)=/os_\1=/p' /etc/os-release
fi
echo "vcpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)"
[ -r /proc/meminfo ] && awk '/^MemTotal:/{print "memtotal_kb=" $2} /^MemFree:/{print "memfree_kb=" $2} /^SwapTotal:/{print "swaptotal_kb=" $2}' /proc/meminfo
echo "user_id=$(id -un)"
echo "user_uid=$(id -u)"
echo "user_gid=$(id -g)"
echo "user_dir=$HOME"
if [ -d /run/systemd/system ]; then echo service_mgr=systemd
elif command -v openrc >/dev/null 2>&1 || [ -d /run/openrc ]; then echo service_mgr=openrc
else echo service_mgr=sysvinit; fi
for p in apt-get dnf yum zypper apk pacman; do
  if command -v "$p" >/dev/null 2>&1; then echo "pkg_mgr=$p"; break; fi
done
for p in python3 python; do
  if command -v "$p" >/dev/null 2>&1; then
    echo "python=$(command -v "$p")"
    echo "python_version=$("$p" --version 2>&1 | head -n 1)"
    break
  fi
done
if [ "$tsplay_net" = 1 ]; then
  # link facts from /sys (read with the shell's own read: no process per interface)
  for d in /sys/class/net/*; do
    [ -e "$d" ] || continue
    mac=; mtu=; flags=; type=; kind=
    read -r mac < "$d/address" 2>/dev/null
    read -r mtu < "$d/mtu" 2>/dev/null
    read -r flags < "$d/flags" 2>/dev/null
    read -r type < "$d/type" 2>/dev/null
    if [ -d "$d/bridge" ]; then kind=bridge; elif [ -d "$d/bonding" ]; then kind=bonding; fi
    printf 'link=%s\t%s\t%s\t%s\t%s\t%s\n' "${'$'}{d##*/}" "$mac" "$mtu" "$flags" "$type" "$kind"
  done
  if command -v ip >/dev/null 2>&1; then
    ip -o addr show 2>/dev/null | sed 's/^/addr=/'
    ip -4 route show default 2>/dev/null | sed -n '1s/^/route4=/p'
    ip -6 route show default 2>/dev/null | sed -n '1s/^/route6=/p'
  fi
fi
if [ "$tsplay_hw" = 1 ]; then
  [ -r /proc/mounts ] && sed 's/^/mount=/' /proc/mounts
  # df can hang on a dead network mount: bounded where timeout exists
  if command -v timeout >/dev/null 2>&1; then timeout 10 df -P -k 2>/dev/null; else df -P -k 2>/dev/null; fi | sed '1d; s/^/df=/'
fi
exit 0
`;

/** The probe for the given subsets, as one script. */
export function factProbeScript(subsets: FactSubsets = ALL_SUBSETS): string {
  return `tsplay_net=${subsets.network ? 1 : 0}\ntsplay_hw=${subsets.hardware ? 1 : 0}\n${PROBE_BODY}`;
}

const OS_FAMILY: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Debian', linuxmint: 'Debian', raspbian: 'Debian',
  rhel: 'RedHat', centos: 'RedHat', fedora: 'RedHat', rocky: 'RedHat', almalinux: 'RedHat', ol: 'RedHat', amzn: 'RedHat',
  sles: 'Suse', opensuse: 'Suse', 'opensuse-leap': 'Suse', alpine: 'Alpine', arch: 'Archlinux',
};

const DISTRIBUTION: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', rhel: 'RedHat', centos: 'CentOS', fedora: 'Fedora', rocky: 'Rocky',
  almalinux: 'AlmaLinux', ol: 'OracleLinux', amzn: 'Amazon', alpine: 'Alpine', arch: 'Archlinux', sles: 'SLES',
};

// ARPHRD_* numbers in /sys/class/net/*/type that Ansible names
const LINK_TYPES: Record<string, string> = { '1': 'ether', '772': 'loopback', '512': 'ppp', '776': 'tunnel' };
const IFF_UP = 0x1;
const IFF_PROMISC = 0x100;

function unquote(value: string): string {
  return value.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
}

/** /proc/mounts writes space, tab, newline and backslash as \ooo. */
function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

function ipv4ToInt(address: string): number {
  return address.split('.').reduce((n, part) => (n * 256 + Number(part)) >>> 0, 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => (n >>> shift) & 255).join('.');
}

interface Ipv4Info {
  address: string;
  broadcast?: string;
  netmask: string;
  network: string;
  prefix: string;
}

function ipv4Info(cidr: string, broadcast: string | undefined): Ipv4Info {
  const [address = '', prefixText = '32'] = cidr.split('/');
  const prefix = Number(prefixText);
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const info: Ipv4Info = { address, netmask: intToIpv4(mask), network: intToIpv4((ipv4ToInt(address) & mask) >>> 0), prefix: String(prefix) };
  if (broadcast) info.broadcast = broadcast;
  return info;
}

/** The word after `key` in a list of words (`brd 10.0.0.255`). */
function after(words: string[], key: string): string | undefined {
  const at = words.indexOf(key);
  return at >= 0 ? words[at + 1] : undefined;
}

type Interface = Record<string, unknown> & { device: string; ipv4?: Ipv4Info; ipv4_secondaries?: Ipv4Info[]; ipv6?: Array<Record<string, string>> };

/** Interfaces from `link=` (/sys) and `addr=` (ip -o addr) records, keyed by device. */
function parseInterfaces(links: string[], addrs: string[]): Map<string, Interface> {
  const interfaces = new Map<string, Interface>();
  const get = (device: string): Interface => {
    let iface = interfaces.get(device);
    if (!iface) interfaces.set(device, (iface = { device }));
    return iface;
  };
  for (const line of links) {
    const [device = '', mac = '', mtu = '', flags = '', type = '', kind = ''] = line.split('\t');
    if (!device) continue;
    const iface = get(device);
    const flagBits = parseInt(flags, 16) || 0;
    iface.active = (flagBits & IFF_UP) !== 0;
    iface.promisc = (flagBits & IFF_PROMISC) !== 0;
    if (mtu) iface.mtu = Number(mtu);
    iface.type = kind || LINK_TYPES[type] || 'unknown';
    if (mac && iface.type !== 'loopback') iface.macaddress = mac;
  }
  for (const line of addrs) {
    // "2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\       valid_lft ..."
    const words = line.replace(/\\.*$/, '').trim().split(/\s+/);
    const device = (words[1] ?? '').replace(/@.*$/, '');
    const family = words[2];
    const cidr = words[3];
    if (!device || !cidr) continue;
    const iface = get(device);
    if (family === 'inet') {
      const info = ipv4Info(cidr, after(words, 'brd'));
      if (!iface.ipv4 && !words.includes('secondary')) iface.ipv4 = info;
      else (iface.ipv4_secondaries ??= []).push(info);
    } else if (family === 'inet6') {
      const [address = '', prefix = '128'] = cidr.split('/');
      (iface.ipv6 ??= []).push({ address, prefix, scope: after(words, 'scope') ?? 'global' });
    }
  }
  return interfaces;
}

/** default_ipv4/default_ipv6 from `default via GW dev IF ...`: the interface's primary address and link facts. */
function defaultRoute(route: string | undefined, interfaces: Map<string, Interface>, family: 4 | 6): Record<string, unknown> {
  if (!route) return {};
  const words = route.trim().split(/\s+/);
  const device = after(words, 'dev');
  if (!device) return {};
  const iface = interfaces.get(device);
  const out: Record<string, unknown> = { interface: device, alias: device };
  const gateway = after(words, 'via');
  if (gateway) out.gateway = gateway;
  if (family === 4 && iface?.ipv4) Object.assign(out, iface.ipv4);
  if (family === 6) {
    const global = iface?.ipv6?.find((a) => a.scope === 'global') ?? iface?.ipv6?.[0];
    if (global) Object.assign(out, global);
  }
  if (iface?.macaddress) out.macaddress = iface.macaddress;
  if (iface?.mtu !== undefined) out.mtu = iface.mtu;
  if (iface?.type) out.type = iface.type;
  return out;
}

/** Mounts Ansible lists (a device path or a network source), with sizes from df -P. */
function parseMounts(mountLines: string[], dfLines: string[]): Array<Record<string, unknown>> {
  const sizes = new Map<string, { total: number; available: number; used: number }>();
  for (const line of dfLines) {
    const m = /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+%|-)\s+(\/.*)$/.exec(line);
    if (m) sizes.set(m[6]!, { total: Number(m[2]) * 1024, used: Number(m[3]) * 1024, available: Number(m[4]) * 1024 });
  }
  const mounts: Array<Record<string, unknown>> = [];
  for (const line of mountLines) {
    const [rawDevice = '', rawMount = '', fstype = '', options = ''] = line.split(' ');
    const device = unescapeOctal(rawDevice);
    const mount = unescapeOctal(rawMount);
    // Ansible's rule: skip virtual filesystems (proc, tmpfs, overlay...) unless a network source
    if ((!device.startsWith('/') && !device.startsWith('\\') && !device.includes(':/')) || fstype === 'none') continue;
    const entry: Record<string, unknown> = { mount, device, fstype, options };
    const size = sizes.get(mount);
    if (size) {
      entry.size_total = size.total;
      entry.size_available = size.available;
      entry.block_size = 1024;
      entry.block_total = size.total / 1024;
      entry.block_available = size.available / 1024;
      entry.block_used = size.used / 1024;
    }
    mounts.push(entry);
  }
  return mounts;
}

/** Facts (Ansible's names, without the ansible_ prefix) from the probe's output. */
export function parseFacts(stdout: string, subsets: FactSubsets = ALL_SUBSETS): Record<string, unknown> {
  const raw: Record<string, string> = {};
  const records: Record<'link' | 'addr' | 'mount' | 'df', string[]> = { link: [], addr: [], mount: [], df: [] };
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key in records) records[key as keyof typeof records].push(value);
    else raw[key] = unquote(value);
  }
  const id = raw.os_ID ?? '';
  const like = (raw.os_ID_LIKE ?? '').split(/\s+/);
  const family = OS_FAMILY[id] ?? like.map((l) => OS_FAMILY[l]).find(Boolean) ?? raw.system ?? 'Unknown';
  const version = raw.os_VERSION_ID ?? '';
  const kb = (key: string) => (raw[key] ? Math.floor(Number(raw[key]) / 1024) : 0);
  const fqdn = raw.fqdn ?? raw.hostname ?? '';
  const shortName = (raw.hostname ?? '').split('.')[0] ?? '';
  const facts: Record<string, unknown> = {
    hostname: shortName,
    nodename: raw.hostname,
    fqdn,
    domain: fqdn.includes('.') ? fqdn.slice(fqdn.indexOf('.') + 1) : '',
    system: raw.system,
    kernel: raw.kernel,
    architecture: raw.machine,
    machine: raw.machine,
    distribution: DISTRIBUTION[id] ?? (raw.os_NAME || raw.system),
    distribution_version: version,
    distribution_major_version: version.split('.')[0] ?? '',
    distribution_release: raw.os_VERSION_CODENAME ?? '',
    os_family: family,
    processor_vcpus: Number(raw.vcpus ?? 1),
    memtotal_mb: kb('memtotal_kb'),
    memfree_mb: kb('memfree_kb'),
    swaptotal_mb: kb('swaptotal_kb'),
    user_id: raw.user_id,
    user_uid: Number(raw.user_uid),
    user_gid: Number(raw.user_gid),
    user_dir: raw.user_dir,
    service_mgr: raw.service_mgr,
    pkg_mgr: raw.pkg_mgr?.replace(/-get$/, '') ?? 'unknown',
    python: raw.python ? pythonFact(raw.python, raw.python_version ?? '') : null,
  };
  if (subsets.network) {
    const interfaces = parseInterfaces(records.link, records.addr);
    facts.interfaces = [...interfaces.keys()];
    for (const [device, iface] of interfaces) facts[device.replace(/[-:.]/g, '_')] = iface;
    facts.all_ipv4_addresses = [...interfaces.values()].filter((i) => i.type !== 'loopback' && i.device !== 'lo').flatMap((i) => [i.ipv4, ...(i.ipv4_secondaries ?? [])].filter(Boolean).map((a) => a!.address));
    facts.all_ipv6_addresses = [...interfaces.values()].filter((i) => i.type !== 'loopback' && i.device !== 'lo').flatMap((i) => (i.ipv6 ?? []).map((a) => a.address));
    facts.default_ipv4 = defaultRoute(stdout.match(/^route4=(.*)$/m)?.[1], interfaces, 4);
    facts.default_ipv6 = defaultRoute(stdout.match(/^route6=(.*)$/m)?.[1], interfaces, 6);
  }
  if (subsets.hardware) facts.mounts = parseMounts(records.mount, records.df);
  return facts;
}

function pythonFact(executable: string, versionText: string): Record<string, unknown> {
  const m = /(\d+)\.(\d+)\.(\d+)/.exec(versionText);
  if (!m) return { executable };
  return { executable, version: { major: Number(m[1]), minor: Number(m[2]), micro: Number(m[3]) }, type: 'CPython' };
}

/** Run the probe through `exec` (the connection, or HostOps.run for become) and map its output. */
export async function gatherFactsWith(exec: (script: string) => Promise<ExecResult>, subsets: FactSubsets = ALL_SUBSETS): Promise<Record<string, unknown>> {
  const result = await exec(factProbeScript(subsets));
  if (result.rc !== 0) throw new Error(`fact probe failed (rc=${result.rc}): ${result.stderr.trim()}`);
  return parseFacts(result.stdout, subsets);
}

export async function gatherFacts(conn: Connection, timeoutMs?: number): Promise<Record<string, unknown>> {
  return gatherFactsWith((script) => conn.exec(script, timeoutMs ? { timeoutMs } : {}));
}
