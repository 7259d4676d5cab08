// The file and system modules together on a fresh lab host: `--check --diff` shows every
// change the real run then makes, the host's overlay upper dir is unchanged by the check run,
// and a second real run changes nothing. Fixture: spec/fixtures/playbooks/suite/site.yml.
// Needs root on Linux (the lab); skipped elsewhere, run under CI.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, events, repoRoot } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'tspsuite';
const fixture = path.join(repoRoot, 'spec/fixtures/playbooks/suite');

// sshd itself records every login on the host's disk; nothing tsplay does
const LOGIN_RECORDS = new Set(['var/log/wtmp', 'var/log/btmp', 'var/log/lastlog']);

/** Every entry of a folder tree with type, mode, owner, size and content (or link target). */
function snapshot(root: string): string {
  const lines: string[] = [];
  const walk = (rel: string) => {
    const full = path.join(root, rel);
    for (const name of readdirSync(full).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      if (LOGIN_RECORDS.has(child)) continue;
      const st = lstatSync(path.join(root, child));
      const head = `${child} ${st.mode.toString(8)} ${st.uid}:${st.gid}`;
      if (st.isDirectory()) {
        lines.push(head);
        walk(child);
      } else if (st.isSymbolicLink()) {
        lines.push(`${head} -> ${readlinkSync(path.join(root, child))}`);
      } else {
        lines.push(`${head} ${st.size} ${st.isFile() ? readFileSync(path.join(root, child)).toString('base64') : ''}`);
      }
    }
  };
  walk('');
  return lines.join('\n');
}

interface Step {
  status: string;
  diff: string;
}

describe('the module suite on a fresh lab host', { skip }, () => {
  let lab: LabInfo;
  let dir: string;
  let inventory: string;
  const labOpts = () => ({ name: LAB, dir: path.join(dir, 'lab') });

  before(async () => {
    dir = makeTempDir('tsplay-suite-');
    await labDown({ name: LAB }).catch(() => undefined); // a lab left by a killed run
    lab = await labUp(1, labOpts());
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'suite@tsplay', '-f', path.join(dir, 'suite')]);
    inventory = path.join(dir, 'hosts.ini');
    writeFileSync(inventory, `s1 ansible_host=${lab.hosts[0]!.address} ansible_user=root ansible_ssh_private_key_file=${lab.privateKeyFile} tsplay_known_hosts_file=${lab.knownHostsFile}\n`);
    // a tiny package to install from the controller
    const root = path.join(dir, 'debroot');
    mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
    mkdirSync(path.join(root, 'usr/share/tsplay-suite'), { recursive: true });
    writeFileSync(path.join(root, 'DEBIAN/control'), 'Package: tsplay-suite\nVersion: 1.0-1\nArchitecture: all\nMaintainer: tsplay <tsplay@example.invalid>\nDescription: suite test package\n');
    writeFileSync(path.join(root, 'usr/share/tsplay-suite/hello.txt'), 'hello\n');
    execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, path.join(dir, 'tsplay-suite.deb')], { stdio: 'pipe' });
    // the file `replace` edits is there before the play, as such files are
    await labExec(lab.hosts[0]!.name, ['sh', '-c', 'printf "listen 8080\\nkeep me\\n" > /etc/suite-replace.conf'], labOpts());
  });
  after(async () => {
    if (lab) await labDown(labOpts());
  });

  const run = (mode: string[]) => {
    const key = readFileSync(path.join(dir, 'suite.pub'), 'utf8').trim();
    const r = tsplay(['run', 'site.yml', '-i', inventory, '-e', `suite_key='${key}'`, '-e', `suite_deb=${path.join(dir, 'tsplay-suite.deb')}`, '--no-retry-files', '--json', ...mode], { cwd: fixture });
    const steps = new Map<string, Step>();
    for (const e of events(r.stdout)) {
      if (e.kind === 'host-result' && !e.loopSummary) steps.set(`${e.task}${e.item ? ` (${e.item})` : ''}`, { status: e.status, diff: JSON.stringify(e.diff ?? []) });
    }
    return { ...r, steps };
  };

  test('check mode plans exactly what the real run does, and writes nothing', async () => {
    const upper = path.join(lab.dir, 'hosts', lab.hosts[0]!.name, 'upper');
    assert.ok(existsSync(upper), `no overlay upper dir at ${upper}`);
    const before = snapshot(upper);
    const check = run(['--check', '--diff']);
    assert.equal(check.code, 0, check.stdout.slice(-3000) + check.stderr);
    assert.equal(snapshot(upper), before, "the check run changed the host's files");
    const hostname = await labExec(lab.hosts[0]!.name, ['hostname'], labOpts());
    assert.equal(hostname.stdout.trim(), lab.hosts[0]!.name, 'the check run changed the live hostname');

    const real = run(['--diff']);
    assert.equal(real.code, 0, real.stdout.slice(-3000) + real.stderr);
    assert.deepEqual([...check.steps.keys()], [...real.steps.keys()]);
    const changed = [...real.steps].filter(([, s]) => s.status === 'changed').map(([name]) => name);
    assert.ok(changed.length >= 15, `only ${changed.length} steps changed: ${changed.join(', ')}`);
    for (const [name, planned] of check.steps) {
      const done = real.steps.get(name)!;
      assert.equal(planned.status, done.status, `status of '${name}'`);
      assert.equal(planned.diff, done.diff, `diff of '${name}'`);
    }
  });

  test('the state was reached, and a second run changes nothing', async () => {
    const inHost = (argv: string[]) => labExec(lab.hosts[0]!.name, argv, labOpts());
    assert.equal((await inHost(['id', '-un', '2345'])).stdout.trim(), 'suite');
    assert.equal((await inHost(['cat', '/srv/suite/app.env'])).stdout, 'a=1\n');
    assert.equal((await inHost(['cat', '/srv/suite/extra.env'])).stdout, 'b=2\n');
    assert.equal((await inHost(['cat', '/srv/suite/suite.conf'])).stdout, 'listen 8080\nname s1\n');
    assert.equal((await inHost(['cat', '/srv/suite/block.conf'])).stdout, '# BEGIN ANSIBLE MANAGED BLOCK\nextra 1\nextra 2\n# END ANSIBLE MANAGED BLOCK\n');
    assert.equal((await inHost(['cat', '/etc/suite-replace.conf'])).stdout, 'listen 9090\nkeep me\n');
    assert.equal((await inHost(['readlink', '/srv/suite/current.conf'])).stdout.trim(), '/srv/suite/suite.conf');
    assert.equal((await inHost(['hostname'])).stdout.trim(), 'suite-host');
    assert.equal((await inHost(['sysctl', '-n', 'net.ipv4.ip_forward'])).stdout.trim(), '1');
    assert.match((await inHost(['grep', ' /mnt/suite ', '/proc/mounts'])).stdout, /tmpfs/);
    assert.match((await inHost(['cat', '/root/.ssh/authorized_keys'])).stdout, /suite@tsplay/);
    assert.match((await inHost(['dpkg-query', '-W', 'tsplay-suite'])).stdout, /tsplay-suite\t1\.0-1/);
    assert.equal((await inHost(['sh', '-c', 'kill -0 "$(cat /run/nginx.pid)" && echo running'])).stdout.trim(), 'running');
    assert.match((await inHost(['cat', '/etc/cron.d/suite'])).stdout, /#Ansible: suite backup\n5 2 \* \* \* root \/bin\/true/);
    const again = run([]);
    assert.equal(again.code, 0, again.stderr);
    const stillChanging = [...again.steps].filter(([, s]) => s.status === 'changed').map(([name]) => name);
    assert.deepEqual(stillChanging, []);
  });
});
