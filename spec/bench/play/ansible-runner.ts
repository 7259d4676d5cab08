// Ansible with its best settings for this play: Debian's ansible-core (installed with apt-get
// when missing), pipelining, ControlPersist with the control sockets in the bench's temp dir,
// forks = hosts, GSSAPIAuthentication=no, strict host key checking against the bench's
// known_hosts, no retry files, no fact gathering (the play says gather_facts: false too).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTimed } from './process.js';

/** Installs ansible-core from the Debian archive if ansible-playbook is missing; returns its version line. */
export function ensureAnsible(): string {
  const probe = () => spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  let v = probe();
  if (v.error || v.status !== 0) {
    process.stderr.write('ansible-playbook not found: installing Debian\'s ansible-core with apt-get...\n');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (let attempt = 1; attempt <= 5; attempt++) {
      const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'ansible-core'], { encoding: 'utf8', env });
      if (r.status === 0) break;
      if (attempt === 5) throw new Error(`apt-get install ansible-core failed: ${r.stderr.trim().slice(-500)}`);
      spawnSync('sleep', ['5']); // the dpkg lock is often held for a moment by someone else
    }
    v = probe();
    if (v.error || v.status !== 0) throw new Error('ansible-playbook is still not runnable after installing ansible-core');
  }
  return v.stdout.split('\n')[0]!.trim();
}

/** ansible.cfg for the run; `%%` is a literal % in its INI syntax. */
export function writeAnsibleConfig(dir: string, opts: { forks: number; knownHostsFile: string; privateKeyFile: string }): string {
  const file = join(dir, 'ansible.cfg');
  const sshArgs = [
    '-o ControlMaster=auto',
    '-o ControlPersist=60s',
    '-o GSSAPIAuthentication=no',
    '-o StrictHostKeyChecking=yes',
    `-o UserKnownHostsFile=${opts.knownHostsFile}`,
    '-o BatchMode=yes',
  ].join(' ');
  writeFileSync(
    file,
    [
      '[defaults]',
      `forks = ${opts.forks}`,
      'host_key_checking = True',
      'retry_files_enabled = False',
      'gathering = explicit',
      'interpreter_python = /usr/bin/python3',
      `private_key_file = ${opts.privateKeyFile}`,
      'remote_user = root',
      'nocows = 1',
      `local_tmp = ${join(dir, 'ansible-local')}`,
      '',
      '[ssh_connection]',
      'pipelining = True',
      `ssh_args = ${sshArgs}`,
      `control_path_dir = ${join(dir, 'cp')}`,
      `control_path = ${join(dir, 'cp')}/%%C`,
      '',
    ].join('\n'),
  );
  return file;
}

export interface AnsibleRun {
  ms: number;
  changed: Map<string, number>;
  failures: string[];
}

const RECAP = /^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/;

export async function runAnsible(opts: { config: string; playbook: string; inventory: string; check: boolean; cwd: string }): Promise<AnsibleRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, ANSIBLE_CONFIG: opts.config, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0' };
  const r = await runTimed('ansible-playbook', ['-i', opts.inventory, opts.playbook, ...(opts.check ? ['--check'] : [])], { env, cwd: opts.cwd, timeoutMs: 1_200_000 });
  const changed = new Map<string, number>();
  const failures: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = RECAP.exec(line.trim());
    if (!m) continue;
    changed.set(m[1]!, Number(m[3]));
    if (m[4] !== '0' || m[5] !== '0') failures.push(`ansible: ${m[1]} unreachable=${m[4]} failed=${m[5]}`);
  }
  if (r.code !== 0) failures.push(`ansible-playbook exited ${r.code}: ${(r.stdout.split('\n').filter((l) => /fatal|FAILED|ERROR/.test(l)).slice(0, 5).join('\n') || r.stderr).slice(0, 1500)}`);
  return { ms: r.ms, changed, failures };
}

/** ansible-core's control masters outlive the run by ControlPersist: stop them (ssh -O exit). */
export async function stopControlMasters(targets: Array<{ address: string; port: number }>, controlDir: string): Promise<void> {
  await Promise.all(targets.map((t) => runTimed('ssh', ['-o', `ControlPath=${controlDir}/%C`, '-p', String(t.port), '-O', 'exit', `root@${t.address}`], { timeoutMs: 10_000 }).catch(() => undefined)));
}
