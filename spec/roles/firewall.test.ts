// The firewall role (roles/firewall) on four lab hosts: h1-h2 K3s servers, h3 the load
// balancer, h4 the database. Listeners inside the hosts stand for the services; connections
// are made from the other hosts. Checks: `--check --diff` predicts the first converge and
// changes nothing; after it, each part accepts only its peers; the SSH session that ran the
// role keeps working; a second converge changes nothing; rules that shut the controller out
// are rolled back by the timer and the run fails saying so; a bad variable fails before the
// host is touched, naming the role, the variable and the file. The firewalld backend cannot
// run here (no D-Bus, no systemd): its command plan is checked against a stand-in
// firewall-cmd that keeps its rules in a file.
// Needs root on Linux (the lab is made of namespaces); skipped elsewhere, run under CI.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, events, tempDir, repoRoot } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'fwall';
const ROLLBACK_SECONDS = 6;
// ufw runs inside a lab host's network namespace (never enabled on the machine itself)
const ufwSkip = existsSync('/usr/sbin/ufw') ? false : 'ufw is not installed on this machine (Debian package ufw)';

// Accepts and closes connections on every port given, until killed.
const LISTENER = `
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in sys.argv[1:]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', int(port)))
    s.listen(16)
    sel.register(s, selectors.EVENT_READ)
while True:
    for key, _ in sel.select():
        conn, _ = key.fileobj.accept()
        conn.close()
`;

interface Step {
  status: string;
  diff: string;
}

describe('firewall role on lab hosts', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const host = (n: number) => lab.hosts[n - 1]!;
  const inHost = (n: number, argv: string[]) => labExec(host(n).name, argv, labOpts());
  /** Does a TCP connection from host `from` to host `to`:port succeed within 2 s? */
  const connects = async (from: number, to: number, port: number) =>
    (await inHost(from, ['timeout', '2', 'bash', '-c', 'exec 3<>"/dev/tcp/$0/$1"', host(to).address, String(port)])).code === 0;

  const run = (playbook: string, extra: string[] = [], inventory = lab.inventoryFile) => {
    const r = tsplay(['run', playbook, '-i', inventory, '--no-retry-files', '--json', ...extra], {
      cwd: tmp.dir,
      env: { TSPLAY_ROLES_PATH: path.join(repoRoot, 'roles') },
    });
    const steps = new Map<string, Step>();
    for (const e of events(r.stdout)) {
      if (e.kind === 'host-result' && !e.loopSummary) steps.set(`${e.host} | ${e.task}`, { status: e.status, diff: JSON.stringify(e.diff ?? []) });
    }
    return { ...r, steps, all: r.stdout + r.stderr };
  };
  const changedSteps = (steps: Map<string, Step>) => [...steps].filter(([, s]) => s.status === 'changed').map(([name]) => name);

  before(async () => {
    tmp = tempDir('tsplay-firewall-');
    await labDown(labOpts()); // a lab of this name left by a killed run would block ours
    lab = await labUp(4, { ...labOpts(), groups: ['k3s_servers=1-2', 'loadbalancer=3', 'database=4'] });
    writeFileSync(
      path.join(tmp.dir, 'site.yml'),
      [
        '- hosts: all',
        '  roles:',
        '    - role: firewall',
        `      firewall_rollback_timeout: ${ROLLBACK_SECONDS}`,
        '      firewall_confirm_timeout: 3',
        '  tasks:',
        '    - name: A later task on the same connection',
        '      command: hostname',
        '      changed_when: false',
        '      check_mode: false',
        '',
      ].join('\n'),
    );
    // the services the parts stand for
    const listen = (n: number, ports: number[]) =>
      inHost(n, ['sh', '-c', 'setsid /usr/bin/python3 -c "$0" "$@" </dev/null >/dev/null 2>&1 &', LISTENER, ...ports.map(String)]);
    for (const n of [1, 2]) await listen(n, [80, 443, 6443, 10250, 8080]);
    await listen(3, [80, 443, 6443]);
    await listen(4, [3306, 8080]);
    for (let i = 0; i < 50 && !(await connects(4, 1, 6443) && await connects(1, 4, 3306)); i++) await new Promise((r) => setTimeout(r, 100));
  });
  after(async () => {
    // also when labUp failed half-way: labDown finds the hosts from the machine
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('before the role every listener answers every host (so a refusal later is the firewall)', async () => {
    assert.ok(await connects(4, 1, 6443), 'h4 → h1:6443');
    assert.ok(await connects(3, 4, 3306), 'h3 → h4:3306');
    assert.ok(await connects(3, 1, 8080), 'h3 → h1:8080');
  });

  test('--check --diff on fresh hosts predicts the first converge and touches nothing', async () => {
    const check = run('site.yml', ['--check', '--diff']);
    assert.equal(check.code, 0, check.all.slice(-3000));
    for (const n of [1, 2, 3, 4]) {
      assert.equal((await inHost(n, ['test', '-e', '/etc/tsplay/firewall.nft'])).code, 1, `--check wrote the rule file on h${n}`);
      assert.equal((await inHost(n, ['nft', 'list', 'table', 'inet', 'tsplay_firewall'])).code, 1, `--check loaded rules on h${n}`);
    }
    assert.ok(await connects(4, 1, 6443), '--check changed what h1 accepts');

    const real = run('site.yml', ['--diff']);
    assert.equal(real.code, 0, real.all.slice(-3000));
    // hosts run concurrently: compare the steps, not the order they finished in
    assert.deepEqual([...check.steps.keys()].sort(), [...real.steps.keys()].sort());
    const changed = changedSteps(real.steps);
    for (const n of [1, 2, 3, 4]) {
      for (const task of ['firewall : Write the rules (nftables)', 'firewall : Apply the rules (the rollback timer is armed until confirmed)']) {
        assert.ok(changed.includes(`${host(n).name} | ${task}`), `'${task}' did not change h${n}: ${changed.join(', ')}`);
      }
    }
    for (const [name, planned] of check.steps) {
      const done = real.steps.get(name)!;
      assert.equal(planned.status, done.status, `status of '${name}'`);
      assert.equal(planned.diff, done.diff, `diff of '${name}'`);
    }
    // the rule diff is readable: the part and the peer host are named
    const h1Diff = real.steps.get(`${host(1).name} | firewall : Write the rules (nftables)`)!.diff;
    assert.match(h1Diff, new RegExp(`ip saddr ${host(3).address.replace(/\./g, '\\.')} tcp dport 6443 accept comment \\\\"k3s_servers: Kubernetes API from the load balancer from ${host(3).name}\\\\"`));
    // the SSH session that ran the role still works: the play's later task ran on it
    for (const n of [1, 2, 3, 4]) assert.equal(real.steps.get(`${host(n).name} | A later task on the same connection`)?.status, 'ok');
  });

  test('each part accepts its peers and refuses the others', async () => {
    // K3s servers: the API from the load balancer and the other server, not from the database
    assert.ok(await connects(3, 1, 6443), 'LB h3 → h1:6443');
    assert.ok(await connects(2, 1, 6443), 'server h2 → h1:6443');
    assert.equal(await connects(4, 1, 6443), false, 'database h4 → h1:6443 connected');
    // web ports only from the load balancer; server-to-server ports only from servers
    assert.ok(await connects(3, 2, 443), 'LB h3 → h2:443');
    assert.equal(await connects(4, 2, 443), false, 'database h4 → h2:443 connected');
    assert.ok(await connects(2, 1, 10250), 'server h2 → h1:10250');
    assert.equal(await connects(3, 1, 10250), false, 'LB h3 → h1:10250 connected');
    // nothing else
    assert.equal(await connects(3, 1, 8080), false, 'h3 → h1:8080 connected');
    // database: 3306 from the K3s servers only
    assert.ok(await connects(1, 4, 3306), 'server h1 → h4:3306');
    assert.ok(await connects(2, 4, 3306), 'server h2 → h4:3306');
    assert.equal(await connects(3, 4, 3306), false, 'LB h3 → h4:3306 connected');
    assert.equal(await connects(1, 4, 8080), false, 'h1 → h4:8080 connected');
    // load balancer: its ports from anyone
    assert.ok(await connects(4, 3, 443), 'h4 → LB h3:443');
    assert.ok(await connects(1, 3, 6443), 'h1 → LB h3:6443');
    // SSH: the controller only (the hosts are not admin sources)
    assert.equal(await connects(3, 1, 22), false, 'h3 → h1:22 connected');
    // the distro's boot config loads the table, and only this table was added
    assert.match((await inHost(1, ['cat', '/etc/nftables.conf'])).stdout, /^include "\/etc\/tsplay\/firewall\.nft"$/m);
    assert.deepEqual((await inHost(1, ['nft', 'list', 'tables'])).stdout.trim().split('\n'), ['table inet tsplay_firewall']);
  });

  test('a second converge changes nothing', () => {
    const again = run('site.yml');
    assert.equal(again.code, 0, again.all.slice(-3000));
    assert.deepEqual(changedSteps(again.steps), []);
  });

  test('rules drifted on the host are put back', async () => {
    await inHost(2, ['nft', 'delete', 'table', 'inet', 'tsplay_firewall']);
    assert.ok(await connects(4, 2, 6443), 'deleting the table did not open h2');
    const r = run('site.yml', ['--limit', host(2).name]);
    assert.equal(r.code, 0, r.all.slice(-3000));
    assert.deepEqual(changedSteps(r.steps), [`${host(2).name} | firewall : Apply the rules (the rollback timer is armed until confirmed)`]);
    assert.equal(await connects(4, 2, 6443), false, 'h2 still open after the converge');
  });

  test('rules that shut the controller out are rolled back and the run fails saying so', async () => {
    const before = (await inHost(4, ['nft', 'list', 'ruleset'])).stdout;
    const started = Date.now();
    const r = run('site.yml', ['--limit', host(4).name, '-e', 'firewall_test_block_ssh=true']);
    assert.equal(r.code, 2, r.all.slice(-3000));
    assert.match(r.all, /firewall: the new rules were rolled back on fwall-h4: 'firewall : Check that a new connection reaches SSH' failed \(Timeout when waiting for search string SSH in [0-9.]+:22\)/);
    assert.ok(Date.now() - started >= ROLLBACK_SECONDS * 1000, 'the run did not wait for the rollback');
    assert.equal((await inHost(4, ['nft', 'list', 'ruleset'])).stdout, before, 'the old rules are not back');
    // the rule file matches the restored rules (a reboot loads the old ones)
    assert.match((await inHost(4, ['cat', '/etc/tsplay/firewall.nft'])).stdout, /admin: ssh from 10\.213\.\d+\.1"/);
    // the host answers a new connection, and the next converge brings the wanted rules
    const next = run('site.yml', ['--limit', host(4).name]);
    assert.equal(next.code, 0, next.all.slice(-3000));
    assert.match((await inHost(4, ['nft', 'list', 'table', 'inet', 'tsplay_firewall'])).stdout, /admin: ssh from 10\.213\.\d+\.1"/);
  });

  test('a port given as "http" fails before the host is touched, naming the role, the variable and the file', async () => {
    writeFileSync(path.join(tmp.dir, 'bad.yml'), '- hosts: database\n  vars:\n    firewall_db_port: http\n  roles:\n    - role: firewall\n');
    const stamp = (await inHost(4, ['stat', '-c', '%Y', '/etc/tsplay/firewall.nft'])).stdout;
    const r = run('bad.yml');
    assert.equal(r.code, 2, r.all.slice(-3000));
    assert.match(r.all, /role 'firewall': argument validation failed for entry point 'main': firewall_db_port: expected int, got 'http'/);
    assert.match(r.all, /bad\.yml:3:23/);
    assert.deepEqual([...r.steps.keys()].filter((k) => k.includes('firewall : ') && !k.includes('Validating arguments')), [], 'role tasks ran');
    assert.equal((await inHost(4, ['stat', '-c', '%Y', '/etc/tsplay/firewall.nft'])).stdout, stamp);

    // set in the inventory's group_vars: the role, the variable and that group_vars file are named
    const inv = path.join(tmp.dir, 'badinv');
    mkdirSync(path.join(inv, 'group_vars'), { recursive: true });
    writeFileSync(path.join(inv, 'hosts.ini'), readFileSync(lab.inventoryFile));
    writeFileSync(path.join(inv, 'group_vars', 'database.yml'), 'firewall_db_port: http\n');
    const g = run('site.yml', ['--limit', host(4).name], inv);
    assert.equal(g.code, 2, g.all.slice(-3000));
    assert.match(g.all, /group_vars\/database\.yml:1:19: role 'firewall': argument validation failed for entry point 'main': firewall_db_port: expected int/);
  });

  test('ufw backend: --check predicts the converge, peers only, rerun changes nothing, rules no longer wanted go', { skip: ufwSkip }, async () => {
    // h4 moves from nftables to ufw
    await inHost(4, ['nft', 'delete', 'table', 'inet', 'tsplay_firewall']);
    await inHost(4, ['sed', '-i', '/tsplay\\/firewall\\.nft/d', '/etc/nftables.conf']);
    const ufw = ['--limit', host(4).name, '-e', 'firewall_backend=ufw'];
    const check = run('site.yml', [...ufw, '--check', '--diff']);
    assert.equal(check.code, 0, check.all.slice(-3000));
    assert.match((await inHost(4, ['ufw', 'status'])).stdout, /Status: inactive/, '--check enabled ufw');
    const real = run('site.yml', [...ufw, '--diff']);
    assert.equal(real.code, 0, real.all.slice(-3000));
    assert.deepEqual([...check.steps.keys()].sort(), [...real.steps.keys()].sort());
    for (const [name, planned] of check.steps) {
      assert.equal(planned.status, real.steps.get(name)!.status, `status of '${name}'`);
      assert.equal(planned.diff, real.steps.get(name)!.diff, `diff of '${name}'`);
    }
    assert.ok(changedSteps(real.steps).includes(`${host(4).name} | firewall : Apply the rules (the rollback timer is armed until confirmed)`));
    const status = (await inHost(4, ['ufw', 'status', 'verbose'])).stdout;
    assert.match(status, /Status: active/);
    assert.match(status, /Default: deny \(incoming\)/);
    assert.ok(await connects(1, 4, 3306), 'server h1 → h4:3306 (ufw)');
    assert.equal(await connects(3, 4, 3306), false, 'LB h3 → h4:3306 connected (ufw)');
    assert.equal(await connects(1, 4, 8080), false, 'h1 → h4:8080 connected (ufw)');
    // ufw is active now: auto picks it, and nothing changes
    const again = run('site.yml', ['--limit', host(4).name]);
    assert.equal(again.code, 0, again.all.slice(-3000));
    assert.deepEqual(changedSteps(again.steps), []);
    assert.ok(again.steps.has(`${host(4).name} | firewall : Record the rules (ufw)`), 'auto did not pick the active ufw');
    // the database moves to 3307: the role's 3306 rules are deleted
    const moved = run('site.yml', ['--limit', host(4).name, '-e', 'firewall_db_port=3307']);
    assert.equal(moved.code, 0, moved.all.slice(-3000));
    const after = (await inHost(4, ['ufw', 'status'])).stdout;
    assert.doesNotMatch(after, /3306/);
    assert.match(after, /3307\/tcp +ALLOW +\S+ +# tsplay: database: database for K3s from fwall-h1/);
    assert.equal(await connects(1, 4, 3306), false, 'h1 → h4:3306 still open after the move');
  });
});

describe('firewall role: the firewalld plan', () => {
  // firewalld needs D-Bus and systemd, which lab hosts and CI lack; this stand-in firewall-cmd
  // keeps permanent rich rules and services in a file, so the script's queries, additions,
  // removals and its check mode are exercised for real.
  const script = path.join(repoRoot, 'roles/firewall/files/firewalld-apply.sh');
  const FAKE = `#!/bin/sh
db=$FAKE_DB; touch "$db"; echo "$*" >>"$FAKE_DB.calls"
for a in "$@"; do case "$a" in
  --query-rich-rule=*) grep -qxF "rule:\${a#*=}" "$db"; exit $? ;;
  --add-rich-rule=*) echo "rule:\${a#*=}" >>"$db"; exit 0 ;;
  --remove-rich-rule=*) grep -vxF "rule:\${a#*=}" "$db" >"$db.n"; mv "$db.n" "$db"; exit 0 ;;
  --query-service=*) grep -qxF "service:\${a#*=}" "$db"; exit $? ;;
  --remove-service=*) grep -vxF "service:\${a#*=}" "$db" >"$db.n"; mv "$db.n" "$db"; exit 0 ;;
  --reload) exit 0 ;;
esac; done
exit 0
`;
  let tmp: { dir: string; cleanup: () => void };
  before(() => {
    tmp = tempDir('tsplay-firewalld-');
    mkdirSync(path.join(tmp.dir, 'bin'));
    writeFileSync(path.join(tmp.dir, 'bin/firewall-cmd'), FAKE);
    chmodSync(path.join(tmp.dir, 'bin/firewall-cmd'), 0o755);
    writeFileSync(path.join(tmp.dir, 'db'), 'service:ssh\nservice:dhcpv6-client\n');
  });
  after(() => tmp?.cleanup());

  // the test hooks: the stand-in first on PATH, state and zone files in the temp dir
  const env = () => ({
    ...process.env,
    FW_EXTRA_PATH: path.join(tmp.dir, 'bin'),
    FAKE_DB: path.join(tmp.dir, 'db'),
    FW_RECORD: path.join(tmp.dir, 'record'),
    FW_STATE: path.join(tmp.dir, 'state'),
    FW_ZONES_DIR: path.join(tmp.dir, 'zones'),
  });
  const apply = (rules: string, check: boolean) =>
    spawnSync('sh', [script, 'arm', 'public', '60'], {
      encoding: 'utf8',
      env: { ...env(), FW_RULES: rules, FW_CHECK: check ? 'yes' : 'no' },
    });
  // stop the rollback timer the apply started (its sleep would outlive the test)
  const confirm = () => spawnSync('sh', [script, 'confirm', 'public'], { encoding: 'utf8', env: env() });
  const rules = 'admin|tcp|22|10.0.0.1|admin|ssh\ndatabase|tcp|3306|10.1.103.171|node1|database for K3s\nopen range|tcp|2000-60000|::/0|anyone|range\n';

  test('check mode lists the commands, the apply runs them once, a rerun and a removal are exact', () => {
    const db = () => readFileSync(path.join(tmp.dir, 'db'), 'utf8');
    const planned = apply(rules, true);
    assert.equal(planned.status, 0, planned.stderr);
    assert.equal(db(), 'service:ssh\nservice:dhcpv6-client\n', 'check mode changed the zone');
    const changes = planned.stdout.split('\n').filter((l) => l.startsWith('changed: '));
    assert.deepEqual(changes, [
      'changed: firewall-cmd --permanent --zone=public --add-rich-rule=rule family="ipv4" source address="10.0.0.1" port port="22" protocol="tcp" accept',
      'changed: firewall-cmd --permanent --zone=public --add-rich-rule=rule family="ipv4" source address="10.1.103.171" port port="3306" protocol="tcp" accept',
      'changed: firewall-cmd --permanent --zone=public --add-rich-rule=rule family="ipv6" source address="::/0" port port="2000-60000" protocol="tcp" accept',
      'changed: firewall-cmd --permanent --zone=public --remove-service=ssh',
      'changed: firewall-cmd --reload',
    ]);
    const done = apply(rules, false);
    assert.equal(done.status, 0, done.stderr);
    assert.equal(confirm().status, 0);
    assert.deepEqual(done.stdout.split('\n').filter((l) => l.startsWith('changed: ')), changes, 'the apply did not do what check mode planned');
    assert.match(db(), /^service:dhcpv6-client$/m);
    assert.doesNotMatch(db(), /^service:ssh$/m);
    const again = apply(rules, false);
    assert.equal(confirm().status, 0);
    assert.equal(again.stdout.includes('changed:'), false, again.stdout);
    // a rule the role no longer wants is removed, the others stay
    const fewer = apply(rules.split('\n').filter((l) => !l.startsWith('open range')).join('\n'), false);
    assert.equal(confirm().status, 0);
    assert.deepEqual(fewer.stdout.split('\n').filter((l) => l.startsWith('changed: ')), [
      'changed: firewall-cmd --permanent --zone=public --remove-rich-rule=rule family="ipv6" source address="::/0" port port="2000-60000" protocol="tcp" accept',
      'changed: firewall-cmd --reload',
    ]);
    assert.equal(existsSync(path.join(tmp.dir, 'state/timer.pid')), false, 'a rollback timer is still armed');
  });
});
