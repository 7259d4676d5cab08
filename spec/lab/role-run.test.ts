// `tsplay role run` over real SSH on a lab host: a scaffolded role, with become, converges a
// root-owned file; --check before it changes nothing; the second run reports no change.
// Needs root on Linux (the lab is made of namespaces); skipped elsewhere, run under CI.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, tempDir } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'rolecli';

describe('tsplay role run on a lab host', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });

  before(async () => {
    tmp = tempDir('tsplay-rolelab-');
    await labDown(labOpts()); // a lab of this name left by a killed run would block ours
    lab = await labUp(1, labOpts());
    const init = tsplay(['role', 'init', 'motd', '--path', 'roles'], { cwd: tmp.dir });
    assert.equal(init.code, 0, init.stderr);
    appendFileSync(path.join(tmp.dir, 'roles/motd/meta/argument_specs.yml'), '      motd_mode:\n        type: str\n        default: "0644"\n        choices: ["0644", "0600"]\n');
    appendFileSync(path.join(tmp.dir, 'roles/motd/defaults/main.yml'), 'motd_mode: "0644"\n');
    appendFileSync(
      path.join(tmp.dir, 'roles/motd/tasks/main.yml'),
      '- name: Write the message of the day\n  copy:\n    content: "{{ motd_greeting }} on {{ inventory_hostname }}\\n"\n    dest: /etc/motd.tsplay\n    mode: "{{ motd_mode }}"\n',
    );
  });
  after(async () => {
    // also when labUp failed half-way: labDown finds the hosts from the machine
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('check, converge, converge again; the spec rejects a bad choice before the host is touched', async () => {
    const host = lab.hosts[0]!;
    const args = ['role', 'run', 'motd', '-i', lab.inventoryFile, '-b', '-e', 'motd_greeting=Welcome'];
    const check = tsplay([...args, '--check', '--diff'], { cwd: tmp.dir });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, new RegExp(`changed: \\[${host.name}\\]`));
    assert.equal((await labExec(host.name, ['test', '-e', '/etc/motd.tsplay'], labOpts())).code, 1, '--check wrote the file');

    const first = tsplay(args, { cwd: tmp.dir });
    assert.equal(first.code, 0, first.stdout + first.stderr);
    const cat = await labExec(host.name, ['stat', '-c', '%a %U', '/etc/motd.tsplay'], labOpts());
    assert.equal(cat.stdout.trim(), '644 root');
    assert.equal((await labExec(host.name, ['cat', '/etc/motd.tsplay'], labOpts())).stdout, `Welcome on ${host.name}\n`);

    const again = tsplay(args, { cwd: tmp.dir });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`${host.name} +: ok=\\d+ +changed=0 `));

    const bad = tsplay([...args, '-e', 'motd_mode=0777'], { cwd: tmp.dir });
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stdout + bad.stderr, /motd_mode: value must be one of: '0644', '0600'; got '0777'/);
    assert.equal((await labExec(host.name, ['stat', '-c', '%a', '/etc/motd.tsplay'], labOpts())).stdout.trim(), '644');
  });
});
