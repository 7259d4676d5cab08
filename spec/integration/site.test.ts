// playbooks/site.yml and its stage playbooks against inventory/prod and inventory/lab, as an
// operator meets them before touching a host: they load and validate (syntax check, vault,
// role argument specs with the inventory's variables), and a --check run against prod fails
// only at connecting — never at loading or validation (issue 6).
//
// The --check runs go to the seed's real addresses (10.1.103.x), so they run in a fresh network
// namespace holding only a downed `lo` (`unshare --net`): every connect fails at once with
// ENETUNREACH and no packet leaves the machine. That needs root on Linux; skipped elsewhere.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { renderLabInventory } from '../../engine/lab/inventory-file.js';
import { labPaths, resolveLabConfig } from '../../engine/lab/config.js';
import { cliEnv, cliPath, repoRoot, tsplay, type CliResult } from '../helpers/cli.js';

const PROD_PASSWORD = 'spec/fixtures/prod-vault-password.txt';
const LAB_PASSWORD = 'inventory/lab/vault-password.txt';
const STAGES = ['01-prepare.yml', '02-firewall.yml', '03-database.yml', '04-loadbalancer.yml', '05-dns.yml'];
const PLAYBOOKS = ['site.yml', ...STAGES].map((p) => `playbooks/${p}`);

// The prod hosts and the addresses they must be reached at (the seed's nodes; placeholders for the rest).
const PROD_HOSTS: Record<string, string> = {
  node1: '10.1.103.171',
  node2: '10.1.103.172',
  node3: '10.1.103.173',
  lb1: '10.1.103.180',
  db1: '10.1.103.181',
  dns1: '10.1.103.182',
  registry1: '10.1.103.183',
};
// The hosts each stage's plays target, in prod and in the lab (same groups, lab hosts).
const SITE = ['node1', 'node2', 'node3', 'lb1', 'db1', 'dns1', 'registry1'];
const PROD_STAGE_HOSTS: Record<string, string[]> = {
  '01-prepare.yml': SITE,
  '02-firewall.yml': SITE,
  '03-database.yml': ['db1'],
  '04-loadbalancer.yml': ['lb1'],
  '05-dns.yml': SITE,
};
const LAB_SITE = ['tsplab-h1', 'tsplab-h2', 'tsplab-h3', 'tsplab-h4', 'tsplab-h5', 'tsplab-h6'];
const LAB_STAGE_HOSTS: Record<string, string[]> = {
  '01-prepare.yml': LAB_SITE,
  '02-firewall.yml': LAB_SITE,
  '03-database.yml': ['tsplab-h5'],
  '04-loadbalancer.yml': ['tsplab-h4'],
  '05-dns.yml': LAB_SITE,
};

const canIsolate =
  process.platform !== 'linux'
    ? 'the network namespace needs Linux'
    : process.getuid?.() !== 0
      ? 'unshare --net needs root'
      : spawnSync('unshare', ['--net', '--', 'true']).status !== 0
        ? 'unshare --net does not work here'
        : false;

/** tsplay in a new, empty network namespace: nothing it sends can leave the machine. */
function tsplayIsolated(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn('unshare', ['--net', '--', process.execPath, cliPath, ...args], { cwd: repoRoot, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** "host : ok=0 changed=0 unreachable=1 failed=0 ..." lines of the recap, by host. */
function recap(stdout: string): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  const section = stdout.slice(stdout.lastIndexOf('PLAY RECAP'));
  for (const line of section.split('\n')) {
    const m = /^(\S+)\s+:\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    out.set(m[1]!, Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((c) => [c[1]!, Number(c[2])])));
  }
  return out;
}

/** The hosts each play targets, from --list-hosts: every host of every play, once. */
function listedHosts(stdout: string): string[] {
  const hosts = new Set<string>();
  for (const m of stdout.matchAll(/hosts \(\d+\):\n((?: {6}\S+\n?)+)/g)) for (const h of m[1]!.trim().split(/\s+/)) hosts.add(h);
  return [...hosts].sort();
}

describe('the site playbooks load and validate against both inventories', () => {
  // site.yml imports every stage, so one run covers them all (each stage alone: the --check suite).
  for (const [inventory, password] of [
    ['inventory/prod', PROD_PASSWORD],
    ['inventory/lab', LAB_PASSWORD],
  ] as const) {
    test(`--syntax-check passes with -i ${inventory}`, () => {
      const r = tsplay(['run', 'playbooks/site.yml', '-i', inventory, '--syntax-check', '--vault-password-file', password]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /playbook: playbooks\/site\.yml/);
      assert.doesNotMatch(r.stdout + r.stderr, /ERROR|WARNING/);
    });
  }

  test('site.yml imports every stage in order, and each play targets the same groups in prod and in the lab', () => {
    const plays = (inventory: string, password: string) => {
      const r = tsplay(['run', 'playbooks/site.yml', '-i', inventory, '--list-hosts', '--list-tasks', '--vault-password-file', password]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      return r.stdout
        .split(/\n(?=  play #)/)
        .slice(1)
        .map((text) => ({ name: /play #\d+ \([^)]*\): ([^\t\n]+)/.exec(text)![1], hosts: listedHosts(text), text }));
    };
    const prod = plays('inventory/prod', PROD_PASSWORD);
    const lab = plays('inventory/lab', LAB_PASSWORD);
    const names = ['Prepare every host', 'Prepare the K3s nodes', 'Firewall', 'Database for the K3s datastore', 'NGINX L4 load balancer', 'DNS record for the Rancher hostname'];
    assert.deepEqual(prod.map((p) => p.name), names);
    assert.deepEqual(lab.map((p) => p.name), names);
    const stageOfPlay = ['01-prepare.yml', '01-prepare.yml', '02-firewall.yml', '03-database.yml', '04-loadbalancer.yml', '05-dns.yml'];
    stageOfPlay.forEach((stage, i) => {
      const prodHosts = i === 1 ? ['node1', 'node2', 'node3'] : PROD_STAGE_HOSTS[stage]!;
      const labHosts = i === 1 ? ['tsplab-h1', 'tsplab-h2', 'tsplab-h3'] : LAB_STAGE_HOSTS[stage]!;
      assert.deepEqual(prod[i]!.hosts, [...prodHosts].sort(), `prod: ${names[i]}`);
      assert.deepEqual(lab[i]!.hosts, [...labHosts].sort(), `lab: ${names[i]}`);
    });
    for (const [i, role] of [[2, 'firewall'], [3, 'mysql'], [4, 'nginx-lb'], [5, 'dns']] as const) {
      assert.match(prod[i]!.text, new RegExp(`\\n +${role} : `), `no task of role ${role} in ${names[i]}`);
    }
  });

  test('the secrets are vaulted: no password, no load (exit 4 naming the vault file); a wrong one neither', () => {
    for (const inventory of ['inventory/prod', 'inventory/lab']) {
      const file = `${inventory}/group_vars/all/vault.yml`;
      const text = readFileSync(path.join(repoRoot, file), 'utf8');
      assert.match(text, /^\$TSPLAY_VAULT;1\.0;/);
      assert.doesNotMatch(text, /vault_mysql_root_password|vault_k3s_token/);
      const none = tsplay(['run', 'playbooks/site.yml', '-i', inventory, '--syntax-check'], { env: { TSPLAY_VAULT_PASSWORD_FILE: undefined, ANSIBLE_VAULT_PASSWORD_FILE: undefined } });
      assert.equal(none.code, 4, none.stdout + none.stderr);
      assert.match(none.stderr, new RegExp(`${file.replace(/\//g, '\\/').replace('.', '\\.')}`));
    }
    const wrong = tsplay(['run', 'playbooks/site.yml', '-i', 'inventory/prod', '--syntax-check', '--vault-password-file', LAB_PASSWORD]);
    assert.equal(wrong.code, 4, wrong.stdout + wrong.stderr);
  });

  test('inventory/lab/hosts.yml is what `tsplay lab inventory` writes for lab tsplab with the site groups', () => {
    const lab = resolveLabConfig({ name: 'tsplab', dir: '/var/lib/tsplay-lab' });
    const paths = labPaths(lab);
    const expected = renderLabInventory(
      {
        labName: 'tsplab',
        hosts: [1, 2, 3, 4, 5, 6].map((n) => ({ index: n, name: `tsplab-h${n}`, address: `10.213.0.${10 + n}` })),
        privateKeyFile: paths.privateKey,
        knownHostsFile: paths.knownHosts,
        groups: ['k3s_servers=1-3', 'loadbalancer=4', 'database=5', 'dns=6', 'registry=6'],
      },
      'yaml',
    );
    const withoutComments = (s: string) => s.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    assert.equal(withoutComments(readFileSync(path.join(repoRoot, 'inventory/lab/hosts.yml'), 'utf8')), withoutComments(expected));
  });
});

describe('--check against inventory/prod fails only at connecting', { skip: canIsolate }, () => {
  // site.yml stops after its first play (every host unreachable); each stage alone also has its
  // role's argument specs checked against the prod variables before the first connection.
  for (const playbook of PLAYBOOKS) {
    test(`${playbook}: exit 3, every host UNREACHABLE (network unreachable), nothing failed`, async () => {
      const stage = path.basename(playbook);
      const expectedHosts = stage === 'site.yml' ? SITE : PROD_STAGE_HOSTS[stage]!;
      const r = await tsplayIsolated(['run', playbook, '-i', 'inventory/prod', '--check', '--no-retry-files', '--vault-password-file', PROD_PASSWORD]);
      const all = r.stdout + r.stderr;
      assert.equal(r.code, 3, all);
      assert.doesNotMatch(all, /ERROR \[|FAILED!|fatal: \[[^\]]+\]: FAILED/, 'a load or validation error');
      const hosts = recap(r.stdout);
      assert.deepEqual([...hosts.keys()].sort(), [...expectedHosts].sort());
      for (const host of expectedHosts) {
        assert.deepEqual({ unreachable: hosts.get(host)!.unreachable, failed: hosts.get(host)!.failed }, { unreachable: 1, failed: 0 }, host);
        // reached for at the inventory's address, and refused by the empty namespace, not by a timeout
        assert.match(r.stdout, new RegExp(`fatal: \\[${host}\\]: UNREACHABLE! .*connect to host ${PROD_HOSTS[host]!.replace(/\./g, '\\.')} port 22: Network is unreachable`), host);
      }
    });
  }

  test('a bad variable is still caught before connecting (the check above can fail)', async () => {
    const r = await tsplayIsolated(['run', 'playbooks/04-loadbalancer.yml', '-i', 'inventory/prod', '--check', '--no-retry-files', '--vault-password-file', PROD_PASSWORD, '-e', 'nginx_lb_max_fails=http']);
    assert.notEqual(r.code, 3, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /ERROR \[ARGUMENT_SPEC\].*role 'nginx-lb'.*nginx_lb_max_fails/);
    assert.doesNotMatch(r.stdout, /UNREACHABLE/);
  });
});
