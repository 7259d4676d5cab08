// Packages and services on real lab hosts over SSH, through the CLI (issue 4):
// - a .deb built here with dpkg-deb is copied from the controller and installed on a host
//   with no route out (lab 'tsppkg', no NAT);
// - nginx (installed on the machine, so every host sees it) is started, enabled with
//   update-rc.d, reported ok when running, and stopped, on a sysvinit host;
// - apt installs a real Debian package from the package registry through the lab's opt-in
//   NAT (lab 'tsppkgnat'), which lets nothing else out.
// Needs root on Linux; skipped elsewhere, run under CI. Build first: npx tsc -p .
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, events, tempDir, recap } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;

type Event = Record<string, any>;

function isInstalledOnMachine(pkg: string): boolean {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' }).includes('install ok installed');
  } catch {
    return false;
  }
}

function labSuite(name: string, nat: boolean, body: (ctx: { lab: () => LabInfo; play: (file: string, yaml: string, extra?: string[]) => { code: number; stdout: string; stderr: string; evs: Event[] }; inHost: (argv: string[]) => Promise<{ code: number; stdout: string }>; dir: () => string }) => void) {
  describe(`${name} lab${nat ? ' with NAT' : ''}`, { skip }, () => {
    let lab: LabInfo;
    let tmp: { dir: string; cleanup: () => void };
    const labOpts = () => ({ name, dir: path.join(tmp.dir, 'lab') });
    before(async () => {
      tmp = tempDir(`tsplay-${name}-`);
      await labDown(labOpts());
      lab = await labUp(1, { ...labOpts(), ...(nat ? { nat: true } : {}) });
    });
    after(async () => {
      if (tmp) await labDown(labOpts());
      tmp?.cleanup();
    });
    const play = (file: string, yaml: string, extra: string[] = []) => {
      const inventory = path.join(tmp.dir, 'hosts.ini');
      const h = lab.hosts[0]!;
      writeFileSync(inventory, `[lab]\nh1 ansible_host=${h.address}\n\n[lab:vars]\nansible_user=root\nansible_ssh_private_key_file=${lab.privateKeyFile}\ntsplay_known_hosts_file=${lab.knownHostsFile}\n`);
      const playbook = path.join(tmp.dir, file);
      writeFileSync(playbook, yaml);
      const res = tsplay(['run', playbook, '-i', inventory, '--no-retry-files', '--json', ...extra], { cwd: tmp.dir });
      return { ...res, evs: events(res.stdout) };
    };
    body({
      lab: () => lab,
      play,
      inHost: (argv) => labExec(lab.hosts[0]!.name, argv, { ...labOpts(), timeoutMs: 120_000 }),
      dir: () => tmp.dir,
    });
  });
}

const taskResults = (evs: Event[]) => evs.filter((e) => e.kind === 'host-result');

labSuite('tsppkg', false, ({ play, inHost, dir }) => {
  test('apt deb: a .deb built on the controller is copied over and installed on a host with no route out', async () => {
    const root = path.join(dir(), 'debroot');
    mkdirSync(path.join(root, 'DEBIAN'), { recursive: true });
    mkdirSync(path.join(root, 'usr/share/tsplay-hello'), { recursive: true });
    writeFileSync(path.join(root, 'DEBIAN/control'), 'Package: tsplay-hello\nVersion: 1.0-1\nArchitecture: all\nMaintainer: tsplay <tsplay@example.invalid>\nDescription: test package\n');
    writeFileSync(path.join(root, 'usr/share/tsplay-hello/hello.txt'), 'hello from a deb\n');
    mkdirSync(path.join(dir(), 'files'));
    execFileSync('dpkg-deb', ['--build', '--root-owner-group', root, path.join(dir(), 'files', 'tsplay-hello.deb')], { stdio: 'pipe' });
    assert.notEqual((await inHost(['sh', '-c', 'getent hosts deb.debian.org >/dev/null 2>&1 && timeout 3 bash -c "exec 3<>/dev/tcp/deb.debian.org/80" && echo out'])).stdout.trim(), 'out', 'the host has no route out');

    const yaml = `- hosts: lab\n  gather_facts: false\n  tasks:\n    - apt:\n        deb: tsplay-hello.deb\n`;
    const checked = play('deb.yml', yaml, ['--check', '--diff']);
    assert.equal(checked.code, 0, checked.stderr + checked.stdout.slice(-2000));
    assert.equal(recap(checked.evs).h1!.changed, 1);
    assert.equal((await inHost(['dpkg-query', '-W', 'tsplay-hello'])).code, 1, 'check mode installed nothing');
    assert.equal((await inHost(['sh', '-c', 'ls -d /tmp/.tsplay-pkg.* 2>/dev/null'])).stdout, '', 'the staged copy is gone');

    const first = play('deb.yml', yaml, ['--diff']);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
    assert.equal(recap(first.evs).h1!.changed, 1);
    const diff = JSON.stringify(taskResults(first.evs).at(-1)!.diff);
    assert.match(diff, /tsplay-hello 1\.0-1/);
    assert.equal((await inHost(['cat', '/usr/share/tsplay-hello/hello.txt'])).stdout, 'hello from a deb\n');

    const second = play('deb.yml', yaml);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(recap(second.evs).h1!.changed, 0);

    const removeYaml = `- hosts: lab\n  gather_facts: false\n  tasks:\n    - apt:\n        name: tsplay-hello\n        state: absent\n        purge: true\n`;
    const removed = play('rm.yml', removeYaml);
    assert.equal(recap(removed.evs).h1!.changed, 1, removed.stdout.slice(-2000));
    assert.equal((await inHost(['test', '-e', '/usr/share/tsplay-hello/hello.txt'])).code, 1);
    assert.equal(recap(play('rm.yml', removeYaml).evs).h1!.changed, 0);
  });

  test('service: nginx on a sysvinit host is started and enabled, ok when running, then stopped', { skip: existsSync('/etc/init.d/nginx') ? false : 'nginx is not installed on this machine (apt-get install nginx-light)' }, async () => {
    const running = async () => (await inHost(['sh', '-c', '/etc/init.d/nginx status >/dev/null 2>&1 && echo yes || echo no'])).stdout.trim();
    const enabled = async () => (await inHost(['sh', '-c', 'ls /etc/rc2.d/ | grep -q "^S..nginx$" && echo yes || echo no'])).stdout.trim();
    // start from a stopped, disabled nginx whatever the machine's links are
    await inHost(['sh', '-c', '/etc/init.d/nginx stop >/dev/null 2>&1; update-rc.d nginx disable >/dev/null 2>&1; true']);
    assert.equal(await running(), 'no');
    assert.equal(await enabled(), 'no');

    const yaml = `- hosts: lab\n  tasks:\n    - service:\n        name: nginx\n        state: started\n        enabled: true\n`;
    const checked = play('svc.yml', yaml, ['--check', '--diff']);
    assert.equal(checked.code, 0, checked.stderr + checked.stdout.slice(-2000));
    assert.equal(recap(checked.evs).h1!.changed, 1);
    assert.equal(await running(), 'no', 'check mode started nothing');
    assert.equal(await enabled(), 'no');

    const first = play('svc.yml', yaml, ['--diff']);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-2000));
    assert.equal(recap(first.evs).h1!.changed, 1);
    const shownDiff = (evs: Event[]) => taskResults(evs).filter((e) => e.task !== 'Gathering Facts' && e.diff).at(-1)?.diff;
    assert.ok(shownDiff(first.evs), 'the run shows a diff');
    assert.deepEqual(shownDiff(checked.evs), shownDiff(first.evs), 'check mode showed the same diff');
    assert.match(JSON.stringify(shownDiff(first.evs)), /state: stopped.*enabled: false.*state: started.*enabled: true/);
    assert.equal(await running(), 'yes');
    assert.equal(await enabled(), 'yes');
    assert.equal((await inHost(['bash', '-c', 'exec 3<>/dev/tcp/127.0.0.1/80 && echo open'])).stdout.trim(), 'open', 'nginx listens in the host');

    const second = play('svc.yml', yaml);
    assert.equal(recap(second.evs).h1!.changed, 0, 'ok when already running and enabled');

    const restart = play('restart.yml', `- hosts: lab\n  gather_facts: false\n  tasks:\n    - service: name=nginx state=restarted\n    - service: name=nginx state=reloaded\n`);
    assert.equal(recap(restart.evs).h1!.changed, 2, 'restarted and reloaded always change');
    assert.equal(await running(), 'yes');

    const stop = `- hosts: lab\n  gather_facts: false\n  tasks:\n    - service:\n        name: nginx\n        state: stopped\n        enabled: false\n`;
    const stopped = play('stop.yml', stop);
    assert.equal(recap(stopped.evs).h1!.changed, 1, stopped.stdout.slice(-2000));
    assert.equal(await running(), 'no');
    assert.equal(await enabled(), 'no');
    assert.equal(recap(play('stop.yml', stop).evs).h1!.changed, 0);
  });
});

labSuite('tsppkgnat', true, ({ play, inHost }) => {
  const pkg = ['sl', 'cowsay', 'figlet'].find((p) => !isInstalledOnMachine(p));
  test(`apt installs ${pkg ?? 'a package'} from the Debian registry through the lab's NAT`, { skip: pkg ? false : 'sl, cowsay and figlet are all installed on this machine' }, async () => {
    assert.equal((await inHost(['sh', '-c', 'timeout 5 bash -c "exec 3<>/dev/tcp/1.1.1.1/443" 2>/dev/null && echo open || echo closed'])).stdout.trim(), 'closed', 'NAT lets only the registry out');
    const yaml = `- hosts: lab\n  gather_facts: false\n  tasks:\n    - apt:\n        name: ${pkg}\n        update_cache: true\n        cache_valid_time: 3600\n        install_recommends: false\n`;
    const checked = play('apt.yml', yaml, ['--check', '--diff']);
    assert.equal(checked.code, 0, checked.stderr + checked.stdout.slice(-3000));
    assert.equal(recap(checked.evs).h1!.changed, 1);
    assert.equal((await inHost(['dpkg-query', '-W', pkg!])).code, 1, 'check mode installed nothing');

    const first = play('apt.yml', yaml, ['--diff']);
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
    assert.equal(recap(first.evs).h1!.changed, 1);
    assert.match((await inHost(['dpkg-query', '-W', '-f=${Status}', pkg!])).stdout, /install ok installed/);
    assert.equal(isInstalledOnMachine(pkg!), false, 'the machine itself is untouched');

    const second = play('apt.yml', yaml);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(recap(second.evs).h1!.changed, 0);
  });
});
