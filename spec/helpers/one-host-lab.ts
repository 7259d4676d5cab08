// One lab host (with the become test users) for a spec's describe block: brought up before its
// tests — after taking down a lab of the same name that a killed run may have left — and down
// after them, with the ssh connections the tests opened. Call it inside `describe`.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import path from 'node:path';
import { labDown, labExec, labUp, type LabInfo } from '../../engine/lab/lab.js';
import { SshConnection } from '../../engine/connection/ssh.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

export interface OneHostLab {
  lab(): LabInfo;
  host(): LabInfo['hosts'][number];
  /** Run a shell command inside the host (not over ssh); it must succeed; its stdout. */
  inHost(cmd: string): Promise<string>;
  /** A new ssh connection to the host as `user`, closed after the tests. */
  connect(user?: string): SshConnection;
}

export function useOneHostLab(name: string, tempPrefix: string): OneHostLab {
  let lab: LabInfo | undefined;
  let dir: string | undefined;
  const open: SshConnection[] = [];
  const labOpts = () => ({ name, dir: path.join(dir!, 'lab') });
  before(async () => {
    dir = makeTempDir(tempPrefix);
    await labDown(labOpts());
    lab = await labUp(1, { ...labOpts(), users: true });
  });
  after(async () => {
    await Promise.all(open.map((c) => c.close()));
    // also when labUp failed half-way: labDown finds the hosts from the machine, not from `lab`
    if (dir) await labDown(labOpts());
    if (dir) removeTempDir(dir);
  });
  const current = () => {
    assert.ok(lab, 'the lab is up');
    return lab;
  };
  const host = () => current().hosts[0]!;
  return {
    lab: current,
    host,
    inHost: async (cmd) => {
      const r = await labExec(host().name, ['sh', '-c', cmd], labOpts());
      assert.equal(r.code, 0, `${cmd}: ${r.stderr}`);
      return r.stdout;
    },
    connect: (user = 'root') => {
      const l = current();
      const c = new SshConnection(host().name, {
        ansible_host: host().address,
        ansible_user: user,
        ansible_ssh_private_key_file: l.privateKeyFile,
        tsplay_known_hosts_file: l.knownHostsFile,
      });
      open.push(c);
      return c;
    },
  };
}
