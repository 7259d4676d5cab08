// The network/waiting/facts modules over SSH on lab hosts: facts name the host's real
// interface, address and gateway; wait_for and uri run FROM THE HOST (uri reaches a server
// bound to the lab bridge address, which the controller's loopback would not be);
// wait_for_connection rides out an sshd that comes back.
// Needs root on Linux (the lab is made of namespaces); skipped elsewhere, run under CI.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, tsplayAsync, events, tempDir } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'tspnet';

type Event = Record<string, any>;

describe('network modules over SSH on lab hosts', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  let server: http.Server | undefined;
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const bridgeAddress = () => lab.subnet.replace(/\.0\/24$/, '.1');
  const inventory = () => {
    const file = path.join(tmp.dir, 'inv.ini');
    writeFileSync(file, `[net]\nn1 ansible_host=${lab.hosts[0]!.address}\n\n[net:vars]\nansible_user=root\nansible_ssh_private_key_file=${lab.privateKeyFile}\ntsplay_known_hosts_file=${lab.knownHostsFile}\n`);
    return file;
  };
  const play = (name: string, tasks: string) => {
    const file = path.join(tmp.dir, name);
    writeFileSync(file, `- hosts: net\n  gather_facts: false\n  tasks:\n${tasks}`);
    return file;
  };
  const results = (stdout: string) => events(stdout).filter((e: Event) => e.kind === 'host-result');

  before(async () => {
    tmp = tempDir('tsplay-labnet-');
    await labDown(labOpts());
    lab = await labUp(1, labOpts());
    server = http.createServer((req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ from: req.socket.remoteAddress, path: req.url }));
    });
    await new Promise<void>((r) => server!.listen(18080, bridgeAddress(), r));
  });
  after(async () => {
    server?.close();
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('setup: interfaces, default_ipv4 with the bridge as gateway, mounts; ping; wait_for on sshd', () => {
    const file = play('facts.yml', `    - setup:\n    - ping:\n    - wait_for: { port: 22, timeout: 10 }\n    - wait_for: { path: /etc/hostname, search_regex: "${lab.hosts[0]!.name}" , timeout: 5 }\n`);
    const res = tsplay(['run', file, '-i', inventory(), '--json'], { cwd: tmp.dir });
    assert.equal(res.code, 0, res.stderr + res.stdout.slice(-3000));
    const [setup, ping, port, search] = results(res.stdout);
    const facts = setup.result.ansible_facts;
    assert.equal(facts.default_ipv4.address, lab.hosts[0]!.address);
    assert.equal(facts.default_ipv4.gateway, bridgeAddress());
    assert.equal(facts.default_ipv4.interface, 'eth0');
    assert.equal(facts.eth0.ipv4.address, lab.hosts[0]!.address);
    assert.ok(facts.interfaces.includes('lo'));
    assert.equal(facts.hostname, lab.hosts[0]!.name);
    assert.ok(Array.isArray(facts.mounts));
    assert.equal(ping.result.ping, 'pong');
    assert.equal(port.status, 'ok');
    assert.equal(search.status, 'ok');
  });

  test('uri runs on the host: the server sees the host address; a closed port times out wait_for', async () => {
    const file = play('uri.yml', `    - uri: { url: "http://${bridgeAddress()}:18080/hello", timeout: 5 }\n    - wait_for: { port: 18081, host: "${bridgeAddress()}", timeout: 2 }\n      ignore_errors: true\n`);
    // async: the HTTP server lives in this process and must keep answering during the run
    const res = await tsplayAsync(['run', file, '-i', inventory(), '--json'], { cwd: tmp.dir });
    assert.equal(res.code, 0, res.stderr + res.stdout.slice(-3000));
    const [uri, wait] = results(res.stdout);
    assert.equal(uri.result.status, 200);
    assert.equal(uri.result.json.from.replace(/^::ffff:/, ''), lab.hosts[0]!.address, 'the request came from the lab host');
    assert.equal(wait.status, 'failed');
    assert.equal(wait.result.msg, `Timeout when waiting for ${bridgeAddress()}:18081`);
  });

  test('wait_for_connection: ok on a live host; a host that never answers fails after its timeout', () => {
    const inv = inventory();
    const dead = lab.subnet.replace(/\.0\/24$/, '.250'); // in the lab's /24, no host: nothing answers
    writeFileSync(inv, `[net]\nn1 ansible_host=${lab.hosts[0]!.address}\nghost ansible_host=${dead}\n\n[net:vars]\nansible_user=root\nansible_ssh_private_key_file=${lab.privateKeyFile}\ntsplay_known_hosts_file=${lab.knownHostsFile}\n`);
    const file = play('wfc.yml', `    - wait_for_connection: { timeout: 3, sleep: 1, connect_timeout: 2 }\n`);
    const start = Date.now();
    const res = tsplay(['run', file, '-i', inv, '--json'], { cwd: tmp.dir });
    const byHost = Object.fromEntries(results(res.stdout).map((e: Event) => [e.host, e]));
    assert.equal(byHost.n1?.status, 'ok', res.stdout.slice(-2000));
    assert.equal(byHost.ghost?.status, 'failed', res.stdout.slice(-2000));
    assert.match(byHost.ghost.result.msg, /^timed out waiting for ping module test: /);
    assert.ok(Date.now() - start < 30_000);
    assert.equal(res.code, 2);
  });
});
