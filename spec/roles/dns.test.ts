// The dns role on lab hosts with real name servers: host 1 serves the zone (BIND), host 2 is
// the load balancer, host 3 the client (and the dnsmasq server). Queries go from host 3 to the
// server with dig, as a user checks a record. Needs root on Linux (the lab is made of
// namespaces) and, on the machine, the Debian packages bind9, bind9-utils, bind9-dnsutils and
// dnsmasq-base (the lab hosts see the machine's files; dnsmasq-base has no service, so the
// test gives host 3 a small init script standing in for the dnsmasq package's).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, tempDir, events, repoRoot, type CliResult } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'dnsd';
const HOSTNAME = 'rancher.agilefast.com';

// a stand-in for the dnsmasq package's sysvinit script (dnsmasq-base ships none); --no-resolv:
// the lab has no upstream, and nothing is to be forwarded anywhere
const DNSMASQ_INIT = `#!/bin/sh
### BEGIN INIT INFO
# Provides:          dnsmasq
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: dnsmasq (the dns role spec's stand-in for the dnsmasq package's script)
### END INIT INFO
PIDFILE=/run/dnsmasq.pid
case "$1" in
  start) exec start-stop-daemon --start --oknodo --quiet --pidfile "$PIDFILE" --exec /usr/sbin/dnsmasq -- \\
           --pid-file="$PIDFILE" --conf-file=/dev/null --conf-dir=/etc/dnsmasq.d,.dpkg-dist --no-resolv ;;
  stop) start-stop-daemon --stop --oknodo --quiet --retry 5 --pidfile "$PIDFILE" --exec /usr/sbin/dnsmasq; rm -f "$PIDFILE" ;;
  restart|force-reload) "$0" stop; "$0" start ;;
  status) exec start-stop-daemon --status --pidfile "$PIDFILE" --exec /usr/sbin/dnsmasq ;;
  *) echo "Usage: $0 {start|stop|restart|status}" >&2; exit 1 ;;
esac
`;

/** What a run did, task by task and host by host (statuses and diffs): the report to compare. */
function report(res: CliResult): string[] {
  return events(res.stdout)
    .filter((e) => e.kind === 'host-result')
    .map((e) => `${e.task} | ${e.host}${e.item !== undefined ? ` (${e.item})` : ''} | ${e.status}${e.diff ? ` | ${JSON.stringify(e.diff)}` : ''}`)
    .sort(); // hosts of one task answer in any order
}

function recapChanged(res: CliResult): Record<string, number> {
  const recap = events(res.stdout).find((e) => e.kind === 'recap');
  assert.ok(recap, `no recap in:\n${res.stdout}\n${res.stderr}`);
  return Object.fromEntries(Object.entries(recap.stats as Record<string, { changed: number }>).map(([h, s]) => [h, s.changed]));
}

describe('dns role on lab hosts', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const host = (n: number) => lab.hosts[n - 1]!;
  const env = () => ({ TSPLAY_ROLES_PATH: path.join(repoRoot, 'roles') });

  /** An inventory of the lab's hosts in the role's groups; lbAddress overrides the balancer's ansible_host. */
  function inventory(file: string, opts: { dns: number; lbAddress?: string }): string {
    const line = (n: number, address = host(n).address) => `${host(n).name} ansible_host=${address}`;
    const text = [
      '[dns]', line(opts.dns),
      '[loadbalancer]', line(2, opts.lbAddress),
      '[clients]', line(3),
      '[all:vars]', 'ansible_user=root', `ansible_ssh_private_key_file=${lab.privateKeyFile}`, `tsplay_known_hosts_file=${lab.knownHostsFile}`, '',
    ].join('\n');
    const full = path.join(tmp.dir, file);
    writeFileSync(full, text);
    return full;
  }

  function play(file: string, hosts: string, params: Record<string, unknown> = {}): string {
    const full = path.join(tmp.dir, file);
    writeFileSync(full, `- hosts: ${hosts}\n  roles:\n    - role: dns\n${Object.entries(params).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}\n`).join('')}`);
    return full;
  }

  const run = (playbook: string, inv: string, ...extra: string[]) => tsplay(['run', playbook, '-i', inv, '--json', ...extra], { cwd: tmp.dir, env: env() });

  async function dig(server: string, name: string, type = 'A'): Promise<string> {
    const res = await labExec(host(3).name, ['dig', '+short', '+time=2', '+tries=2', `@${server}`, name, type], labOpts());
    assert.equal(res.code, 0, `dig @${server} ${name}: ${res.stdout}${res.stderr}`);
    return res.stdout.trim();
  }

  before(async () => {
    for (const bin of ['/usr/sbin/named', '/usr/bin/named-checkzone', '/usr/bin/dig', '/usr/sbin/dnsmasq']) {
      assert.ok(existsSync(bin), `${bin} is missing: install the Debian packages bind9 bind9-utils bind9-dnsutils dnsmasq-base`);
    }
    tmp = tempDir('tsplay-dns-role-');
    mkdirSync(path.join(tmp.dir, 'lab'));
    await labDown(labOpts()); // a lab of this name left by a killed run would block ours
    lab = await labUp(3, labOpts());
  });
  after(async () => {
    // also when labUp failed half-way: labDown finds the hosts from the machine
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('an unknown dns_mode fails before any task, naming the role, the variable and the file', async () => {
    const inv = inventory('bad.ini', { dns: 1 });
    const res = run(play('bad.yml', 'dns', { dns_mode: 'powerdns' }), inv);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    const out = res.stdout + res.stderr;
    assert.match(out, /role 'dns': argument validation failed for entry point 'main': dns_mode: value must be one of: 'bind9', 'dnsmasq', 'hosts'; got 'powerdns'/);
    // the place the bad value was written: the play's role parameters
    assert.match(out, /bad\.yml:\d+:\d+: role 'dns'/);
    assert.deepEqual(report(res).filter((r) => r.startsWith('dns : ')), [], 'tasks of the role ran');
    assert.equal((await labExec(host(1).name, ['test', '-e', '/etc/bind/db.agilefast.com'], labOpts())).code, 1);
  });

  test('bind9: --check predicts the converge; dig answers the balancer; the rerun changes nothing', async () => {
    const inv = inventory('bind9.ini', { dns: 1 });
    const site = play('bind9.yml', 'dns');
    const check = run(site, inv, '--check', '--diff');
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal((await labExec(host(1).name, ['test', '-e', '/etc/bind/db.agilefast.com'], labOpts())).code, 1, '--check wrote the zone');

    const first = run(site, inv, '--diff');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(report(check), report(first));
    assert.ok(recapChanged(first)[host(1).name]! > 0);

    assert.equal(await dig(host(1).address, HOSTNAME), host(2).address);
    // named answers on the host's address, authoritatively, with the zone's name server
    assert.equal(await dig(host(1).address, 'agilefast.com', 'NS'), 'ns1.agilefast.com.');
    assert.equal(await dig(host(1).address, 'ns1.agilefast.com'), host(1).address);

    const again = run(site, inv);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(recapChanged(again), { [host(1).name]: 0 });
  });

  test('bind9: a new balancer address in the inventory is served after one converge, with a higher serial', async () => {
    const site = play('bind9.yml', 'dns');
    const serialBefore = Number((await dig(host(1).address, 'agilefast.com', 'SOA')).split(' ')[2]);
    assert.ok(serialBefore >= 2026010101, `serial ${serialBefore}`);
    // an address in the lab's subnet where no host is: only ever published, never contacted
    const moved = host(2).address.replace(/\.\d+$/, '.250');
    const inv = inventory('bind9-moved.ini', { dns: 1, lbAddress: moved });

    const check = run(site, inv, '--check', '--diff');
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const converge = run(site, inv, '--diff');
    assert.equal(converge.code, 0, converge.stdout + converge.stderr);
    assert.deepEqual(report(check), report(converge));
    const zoneWrite = report(converge).find((r) => r.startsWith('dns : Write the zone |'));
    assert.match(zoneWrite ?? '', /\| changed \|/, report(converge).join('\n'));
    assert.ok(events(converge.stdout).some((e) => e.kind === 'host-result' && /reload named/.test(e.task) && e.status === 'changed'), 'named was not reloaded');

    assert.equal(await dig(host(1).address, HOSTNAME), moved);
    const serialAfter = Number((await dig(host(1).address, 'agilefast.com', 'SOA')).split(' ')[2]);
    assert.ok(serialAfter > serialBefore, `serial ${serialBefore} -> ${serialAfter}`);

    const again = run(site, inv);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(recapChanged(again), { [host(1).name]: 0 });
    assert.equal(Number((await dig(host(1).address, 'agilefast.com', 'SOA')).split(' ')[2]), serialAfter, 'the rerun raised the serial');
  });

  test('bind9: a zone named-checkzone rejects never replaces the live one', async () => {
    const zoneBefore = await labExec(host(1).name, ['cat', '/etc/bind/db.agilefast.com'], labOpts());
    const soaBefore = await dig(host(1).address, 'agilefast.com', 'SOA');
    const inv = inventory('bind9-bad-record.ini', { dns: 1 });
    // an underscore is not allowed in a host name: named (check-names) refuses such a zone
    const site = play('bind9-bad-record.yml', 'dns', { dns_extra_records: [{ name: 'bad_name.agilefast.com', address: host(3).address }] });
    const res = run(site, inv);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    const failed = events(res.stdout).find((e) => e.kind === 'host-result' && e.status === 'failed');
    assert.equal(failed?.task, 'dns : Write the zone');
    assert.match(JSON.stringify(failed?.result), /bad owner name \(check-names\)/);
    assert.equal((await labExec(host(1).name, ['cat', '/etc/bind/db.agilefast.com'], labOpts())).stdout, zoneBefore.stdout);
    assert.equal(await dig(host(1).address, 'agilefast.com', 'SOA'), soaBefore);
  });

  test('dnsmasq: a host record on the dns host, restarted on change; the rerun changes nothing', async () => {
    const init = await labExec(host(3).name, ['sh', '-c', 'cat > /etc/init.d/dnsmasq && chmod 755 /etc/init.d/dnsmasq'], { ...labOpts(), input: DNSMASQ_INIT });
    assert.equal(init.code, 0, init.stderr);
    const inv = inventory('dnsmasq.ini', { dns: 3 });
    const site = play('dnsmasq.yml', 'dns', {
      dns_mode: 'dnsmasq',
      dns_dnsmasq_packages: ['dnsmasq-base'],
      dns_extra_records: [{ name: 'registry.agilefast.com', address: host(1).address }],
    });
    const check = run(site, inv, '--check', '--diff');
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const first = run(site, inv, '--diff');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(report(check), report(first));

    assert.equal(await dig(host(3).address, HOSTNAME), host(2).address);
    assert.equal(await dig(host(3).address, 'registry.agilefast.com'), host(1).address);

    const again = run(site, inv);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(recapChanged(again), { [host(3).name]: 0 });
  });

  test('hosts: every host of the play resolves the name from /etc/hosts; the rerun changes nothing', async () => {
    const inv = inventory('hosts.ini', { dns: 1 });
    const site = play('hosts.yml', 'all', { dns_mode: 'hosts' });
    const check = run(site, inv, '--check', '--diff');
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const first = run(site, inv, '--diff');
    assert.equal(first.code, 0, first.stdout + first.stderr);
    assert.deepEqual(report(check), report(first));
    for (const n of [1, 2, 3]) {
      // files only: the name must come from /etc/hosts (and no query leaves for the machine's resolver)
      const res = await labExec(host(n).name, ['getent', '-s', 'files', 'hosts', HOSTNAME], labOpts());
      assert.equal(res.stdout.trim().split(/\s+/)[0], host(2).address, `${host(n).name}: ${res.stdout}${res.stderr}`);
    }
    const again = run(site, inv);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(recapChanged(again), { [host(1).name]: 0, [host(2).name]: 0, [host(3).name]: 0 });
  });
});
