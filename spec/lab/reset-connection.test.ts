// meta: reset_connection over real SSH: the host's connection is closed and the next task
// opens a new one (a new TCP connection: another client port in $SSH_CONNECTION), and the
// play goes on. Needs root on Linux (the lab is made of namespaces); skipped elsewhere.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, events, tempDir } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'fixg';

describe('meta: reset_connection on a lab host', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });

  before(async () => {
    tmp = tempDir('tsplay-reset-');
    await labDown(labOpts());
    lab = await labUp(1, labOpts());
  });
  after(async () => {
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('the next task after reset_connection runs over a new SSH connection; the play continues', () => {
    const inventory = path.join(tmp.dir, 'hosts.ini');
    writeFileSync(
      inventory,
      `r1 ansible_host=${lab.hosts[0]!.address} ansible_user=root ansible_ssh_private_key_file=${lab.privateKeyFile} tsplay_known_hosts_file=${lab.knownHostsFile}\n`,
    );
    const playbook = path.join(tmp.dir, 'reset.yml');
    writeFileSync(
      playbook,
      [
        '- hosts: all',
        '  gather_facts: false',
        '  tasks:',
        '    - {name: first, command: "printenv SSH_CONNECTION", register: first}',
        '    - {name: same, command: "printenv SSH_CONNECTION", register: same}',
        '    - {name: reset, meta: reset_connection}',
        '    - {name: after, command: "printenv SSH_CONNECTION", register: after}',
        '    - {name: still, command: "printenv SSH_CONNECTION", register: still}',
        '',
      ].join('\n'),
    );
    const run = tsplay(['run', playbook, '-i', inventory, '--json', '--no-retry-files']);
    assert.equal(run.code, 0, run.stderr + run.stdout.slice(-2000));
    const evs = events(run.stdout);
    const port = (task: string) => {
      const r = evs.find((e) => e.kind === 'host-result' && e.task === task);
      return String(r?.result?.stdout ?? '').split(' ')[1];
    };
    const [first, same, after, still] = ['first', 'same', 'after', 'still'].map(port);
    assert.ok(first && /^\d+$/.test(first), `client port of the first task: ${first}`);
    assert.equal(same, first, 'tasks before the reset share one connection');
    assert.notEqual(after, first, 'the task after reset_connection came over a new TCP connection');
    assert.equal(still, after, 'and the connection after the reset is reused again');
    const stats = evs.find((e) => e.kind === 'recap')!.stats as Record<string, Record<string, number>>;
    assert.equal(stats.r1!.failed, 0);
    assert.equal(stats.r1!.unreachable, 0);
  });
});
