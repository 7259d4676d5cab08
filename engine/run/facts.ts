// Fact gathering in one round trip: a POSIX shell probe printing key=value lines,
// mapped to Ansible's fact names. Gathered once per host and cached for the run.
import type { Connection } from '../connection/types.js';

const PROBE = String.raw`
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
command -v python3 >/dev/null 2>&1 && echo "python=$(command -v python3)"
`;

const OS_FAMILY: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Debian', linuxmint: 'Debian', raspbian: 'Debian',
  rhel: 'RedHat', centos: 'RedHat', fedora: 'RedHat', rocky: 'RedHat', almalinux: 'RedHat', ol: 'RedHat', amzn: 'RedHat',
  sles: 'Suse', opensuse: 'Suse', 'opensuse-leap': 'Suse', alpine: 'Alpine', arch: 'Archlinux',
};

const DISTRIBUTION: Record<string, string> = {
  debian: 'Debian', ubuntu: 'Ubuntu', rhel: 'RedHat', centos: 'CentOS', fedora: 'Fedora', rocky: 'Rocky',
  almalinux: 'AlmaLinux', ol: 'OracleLinux', amzn: 'Amazon', alpine: 'Alpine', arch: 'Archlinux', sles: 'SLES',
};

function unquote(value: string): string {
  return value.replace(/^"(.*)"$/, '$1').replace(/^'(.*)'$/, '$1');
}

export async function gatherFacts(conn: Connection, timeoutMs?: number): Promise<Record<string, unknown>> {
  const result = await conn.exec(PROBE, timeoutMs ? { timeoutMs } : {});
  if (result.rc !== 0) throw new Error(`fact probe failed (rc=${result.rc}): ${result.stderr.trim()}`);
  const raw: Record<string, string> = {};
  for (const line of result.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) raw[line.slice(0, eq)] = unquote(line.slice(eq + 1));
  }
  const id = raw.os_ID ?? '';
  const like = (raw.os_ID_LIKE ?? '').split(/\s+/);
  const family = OS_FAMILY[id] ?? like.map((l) => OS_FAMILY[l]).find(Boolean) ?? raw.system ?? 'Unknown';
  const version = raw.os_VERSION_ID ?? '';
  const kb = (key: string) => (raw[key] ? Math.floor(Number(raw[key]) / 1024) : 0);
  return {
    hostname: raw.hostname,
    nodename: raw.hostname,
    fqdn: raw.fqdn,
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
    python: raw.python ? { executable: raw.python } : null,
  };
}
