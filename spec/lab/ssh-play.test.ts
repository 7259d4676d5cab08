// Playbooks over real SSH on lab hosts (issue 3's "what must hold"): the keyword playbook on
// three hosts, become with and without a sudo password, a jump host, host key policies, sshd
// killed mid-run, a server allowing two sessions, and hostile file names.
// Needs root on Linux (the lab is made of namespaces); skipped elsewhere, run under CI.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes, createHash } from 'node:crypto';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { SshConnection } from '../../engine/connection/ssh.js';
import { tsplay, tsplayAsync, events, tempDir, repoRoot, recap } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'tspplay';


describe('playbooks over SSH on lab hosts', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const addr = (n: number) => lab.hosts[n - 1]!.address;
  const hostName = (n: number) => lab.hosts[n - 1]!.name;
  const common = () => `ansible_user=root\nansible_ssh_private_key_file=${lab.privateKeyFile}\ntsplay_known_hosts_file=${lab.knownHostsFile}\n`;
  const inHost = async (n: number, argv: string[]) => labExec(hostName(n), argv, labOpts());
  const write = (name: string, text: string) => {
    const file = path.join(tmp.dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };

  before(async () => {
    tmp = tempDir('tsplay-sshplay-');
    // a lab of this name left up by a killed run (its state dir long gone) would block ours
    await labDown(labOpts());
    lab = await labUp(4, { ...labOpts(), users: true });
  });
  after(async () => {
    // also when labUp failed half-way: labDown finds the hosts from the machine, not from `lab`
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('the engine core keyword playbook passes again over SSH on three hosts', async () => {
    const fixture = path.join(repoRoot, 'spec/fixtures/playbooks/keywords');
    const inventory = write('kw.ini', `[web]\nh1 ansible_host=${addr(1)}\nh2 ansible_host=${addr(2)}\n\n[db]\nh3 ansible_host=${addr(3)} db_port=3306\n\n[all:vars]\n${common()}`);
    const root = path.join(tmp.dir, 'kw-root'); // on the hosts: their own /tmp; delegate_to localhost writes here
    mkdirSync(root);
    const args = ['run', 'site.yml', '-i', inventory, '-e', `root=${root}`, '--no-retry-files', '--json'];
    const first = tsplay(args, { cwd: fixture });
    assert.equal(first.code, 0, first.stderr + first.stdout.slice(-3000));
    const stats = recap(events(first.stdout));
    for (const h of ['h1', 'h2', 'h3']) {
      assert.equal(stats[h]!.failed, 0);
      assert.equal(stats[h]!.rescued, 1);
      assert.equal(stats[h]!.ignored, 1);
      assert.ok(stats[h]!.changed > 10, `${h} changed=${stats[h]!.changed}`);
    }
    const hello = await inHost(1, ['cat', `${root}/h1/hello.txt`]);
    assert.equal(hello.stdout, 'hello h1\n');
    assert.equal((await inHost(3, ['test', '-e', `${root}/h3/post.txt`])).code, 1, 'end_host stopped h3 on the lab too');
    assert.equal(readFileSync(path.join(root, 'delegated-h2.txt'), 'utf8'), 'delegated for h2\n', 'delegate_to localhost wrote on the controller');
    assert.equal(existsSync(path.join(root, 'h1')), false, 'a host task wrote on the controller');
    const second = tsplay(args, { cwd: fixture });
    assert.equal(second.code, 0, second.stderr);
    for (const [h, s] of Object.entries(recap(events(second.stdout)))) assert.equal(s.changed, 0, `${h} changed on the second run`);
  });

  test('become: sudo without and with a password converge a root-owned file; the password shows nowhere', async () => {
    const password = readFileSync(lab.becomeUsers!.passwordFile, 'utf8').trim();
    const inventory = write(
      'become.ini',
      `[nopw]\nb1 ansible_host=${addr(1)} ansible_user=${lab.becomeUsers!.nopasswd}\n\n[pw]\nb2 ansible_host=${addr(2)} ansible_user=${lab.becomeUsers!.password}\n\n[all:vars]\nansible_ssh_private_key_file=${lab.privateKeyFile}\ntsplay_known_hosts_file=${lab.knownHostsFile}\n`,
    );
    const secrets = write('secrets.yml', `ansible_become_password: "${password}"\n`);
    const playbook = write(
      'become.yml',
      `- hosts: all\n  gather_facts: false\n  become: true\n  tasks:\n    - name: who am I\n      command: id -un\n      register: who\n      changed_when: false\n    - assert:\n        that: who.stdout == 'root'\n    - name: root-owned file\n      copy:\n        content: "secret config {{ inventory_hostname }}\\n"\n        dest: /root/become-{{ inventory_hostname }}.conf\n        owner: root\n        mode: "0600"\n    - name: slow enough to be watched\n      command: sleep 1\n`,
    );
    // watch every process list (the machine's and the hosts') while the run goes on
    let seen = '';
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const n of [1, 2]) {
          const ps = await inHost(n, ['ps', '-eo', 'args']);
          if (ps.stdout.includes(password)) seen += `host ${n}: ${ps.stdout}\n`;
        }
        const local = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
        if (local.includes(password)) seen += `controller: ${local}\n`;
      }
    })();
    const run = await tsplayAsync(['run', playbook, '-i', inventory, '-e', `@${secrets}`, '--no-retry-files', '-vvv']);
    const json = await tsplayAsync(['run', playbook, '-i', inventory, '-e', `@${secrets}`, '--no-retry-files', '--json']);
    watching = false;
    await watcher;
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(json.code, 0, json.stderr);
    for (const n of [1, 2]) {
      const stat = await inHost(n, ['stat', '-c', '%U %a', `/root/become-b${n}.conf`]);
      assert.equal(stat.stdout.trim(), 'root 600');
    }
    assert.equal(run.stdout.includes(password) || run.stderr.includes(password), false, 'password in the output');
    assert.equal(json.stdout.includes(password), false, 'password in the --json events');
    assert.equal(seen, '', 'password seen in a process list');
  });

  test('become_user and become_method su over SSH', () => {
    const password = readFileSync(lab.becomeUsers!.passwordFile, 'utf8').trim();
    const inventory = write('su.ini', `s1 ansible_host=${addr(1)} ansible_user=${lab.becomeUsers!.password}\n\n[all:vars]\nansible_ssh_private_key_file=${lab.privateKeyFile}\ntsplay_known_hosts_file=${lab.knownHostsFile}\n`);
    const secrets = write('su-secrets.yml', `ansible_become_password: "${password}"\n`);
    const playbook = write(
      'su.yml',
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: su to root\n      become: true\n      become_method: su\n      command: id -un\n      register: su_who\n      changed_when: false\n    - name: sudo to another user\n      become: true\n      become_user: ${lab.becomeUsers!.nopasswd}\n      command: id -un\n      register: sudo_who\n      changed_when: false\n    - assert:\n        that:\n          - su_who.stdout == 'root'\n          - sudo_who.stdout == '${lab.becomeUsers!.nopasswd}'\n`,
    );
    const r = tsplay(['run', playbook, '-i', inventory, '-e', `@${secrets}`, '--no-retry-files', '-v']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).includes(password), false, 'the password was printed');
  });

  test('-k and -K: the SSH and become passwords asked for, read from standard input off a terminal', () => {
    const password = readFileSync(lab.becomeUsers!.passwordFile, 'utf8').trim();
    // no key file: the only way in is the password
    const inventory = write('pwonly.ini', `p2 ansible_host=${addr(2)} ansible_user=${lab.becomeUsers!.password} tsplay_known_hosts_file=${lab.knownHostsFile}\n`);
    const playbook = write('pwonly.yml', `- hosts: all\n  gather_facts: false\n  become: true\n  tasks:\n    - command: id -un\n      register: who\n      changed_when: false\n    - assert:\n        that: who.stdout == 'root'\n`);
    const withoutPassword = tsplay(['run', playbook, '-i', inventory, '--no-retry-files']);
    assert.equal(withoutPassword.code, 3, 'logged in without a password?\n' + withoutPassword.stdout);
    const r = tsplay(['run', playbook, '-i', inventory, '--no-retry-files', '-k', '-K'], { input: `${password}\n${password}\n` });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal((r.stdout + r.stderr).includes(password), false, 'the password was printed');
  });

  test('a jump host: targets the controller cannot reach converge through one bastion', async () => {
    const bridge = `${lab.subnet.split('/')[0]!.replace(/\.0$/, '.1')}`;
    for (const n of [2, 3]) {
      const rule = await labExec(hostName(n), ['sh', '-c', `nft add table inet tspjump && nft add chain inet tspjump in '{ type filter hook input priority 0; }' && nft add rule inet tspjump in ip saddr ${bridge} tcp dport 22 drop`], labOpts());
      assert.equal(rule.code, 0, rule.stderr);
    }
    try {
      const direct = write('direct.ini', `[targets]\nt2 ansible_host=${addr(2)}\nt3 ansible_host=${addr(3)}\n\n[all:vars]\n${common()}ansible_ssh_timeout=2\n`);
      const viaJump = write('jump.ini', `[targets]\nt2 ansible_host=${addr(2)}\nt3 ansible_host=${addr(3)}\n\n[all:vars]\n${common()}tsplay_jump_host=root@${addr(1)}\n`);
      const playbook = write('jump.yml', `- hosts: targets\n  gather_facts: false\n  tasks:\n    - copy:\n        content: "via bastion\\n"\n        dest: /root/jumped.txt\n`);
      const blocked = tsplay(['run', playbook, '-i', direct, '--no-retry-files']);
      assert.equal(blocked.code, 3, 'the targets should be unreachable directly\n' + blocked.stdout);
      const through = tsplay(['run', playbook, '-i', viaJump, '--no-retry-files']);
      assert.equal(through.code, 0, through.stdout + through.stderr);
      for (const n of [2, 3]) assert.equal((await inHost(n, ['cat', '/root/jumped.txt'])).stdout, 'via bastion\n');
    } finally {
      for (const n of [2, 3]) await labExec(hostName(n), ['nft', 'delete', 'table', 'inet', 'tspjump'], labOpts());
    }
  });

  test('host keys: a changed key is refused with both fingerprints; unknown keys recorded under accept-new, refused under strict', async () => {
    const keyDir = path.join(tmp.dir, 'otherkey');
    mkdirSync(keyDir);
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(keyDir, 'k')]);
    const otherPub = readFileSync(path.join(keyDir, 'k.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const stored = execFileSync('ssh-keygen', ['-lf', path.join(keyDir, 'k.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const realLine = readFileSync(lab.knownHostsFile, 'utf8').split('\n').find((l) => l.includes(addr(1)))!;
    writeFileSync(path.join(keyDir, 'real.pub'), realLine.split(/\s+/).slice(1).join(' ') + '\n');
    const presented = execFileSync('ssh-keygen', ['-lf', path.join(keyDir, 'real.pub')], { encoding: 'utf8' }).split(' ')[1]!;
    const playbook = write('keys.yml', `- hosts: all\n  gather_facts: false\n  tasks:\n    - command: "true"\n`);
    const hostsFor = (known: string, extra = '') =>
      write(`keys-${randomBytes(3).toString('hex')}.ini`, `k1 ansible_host=${addr(1)} ansible_user=root ansible_ssh_private_key_file=${lab.privateKeyFile} tsplay_known_hosts_file=${known} ${extra}\n`);

    const changedFile = write('known-changed', `${addr(1)} ${otherPub}\n`);
    const changed = tsplay(['run', playbook, '-i', hostsFor(changedFile), '--no-retry-files']);
    assert.equal(changed.code, 3, changed.stdout);
    assert.match(changed.stdout, /UNREACHABLE/);
    assert.ok(changed.stdout.includes(stored), `stored fingerprint ${stored} missing:\n${changed.stdout}`);
    assert.ok(changed.stdout.includes(presented), `presented fingerprint ${presented} missing:\n${changed.stdout}`);
    assert.equal(readFileSync(changedFile, 'utf8'), `${addr(1)} ${otherPub}\n`, 'a changed key was overwritten');

    const strictFile = write('known-strict', '');
    const strict = tsplay(['run', playbook, '-i', hostsFor(strictFile, 'tsplay_host_key_checking=strict'), '--no-retry-files']);
    assert.equal(strict.code, 3, strict.stdout);
    assert.equal(readFileSync(strictFile, 'utf8'), '', 'strict recorded a key');

    const newFile = write('known-new', '');
    const acceptNew = tsplay(['run', playbook, '-i', hostsFor(newFile), '--no-retry-files']);
    assert.equal(acceptNew.code, 0, acceptNew.stdout);
    assert.ok(readFileSync(newFile, 'utf8').includes(realLine.split(/\s+/)[2]!), 'accept-new did not record the key');
  });

  test('hostile file names survive copy, file and stat, and nothing in them runs', async () => {
    // no '/' (a name is one path segment); the commands would touch /root/pwned1 and /root/pwned2
    const names = ['with space', "single'quote", 'double"quote', '$(touch pwned1)', '`touch pwned2`', 'new\nline', 'ünïcödé ✓', '-dash', 'semi;colon &amp', "it's \"$HOME\" \\n"];
    const vars = write('names.yml', `names:\n${names.map((n) => `  - ${JSON.stringify(n)}`).join('\n')}\n`);
    const inventory = write('names.ini', `n1 ansible_host=${addr(4)}\n\n[all:vars]\n${common()}`);
    const playbook = write(
      'names-play.yml',
      `- hosts: all\n  gather_facts: false\n  vars_files: [${vars}]\n  tasks:\n    - file: path=/root/names state=directory\n    - name: copy\n      copy:\n        content: "{{ item }}\\n"\n        dest: "/root/names/{{ item }}"\n      loop: "{{ names }}"\n    - name: touch a sibling\n      file:\n        path: "/root/names/{{ item }}.touched"\n        state: touch\n      loop: "{{ names }}"\n    - name: stat\n      stat:\n        path: "/root/names/{{ item }}"\n      loop: "{{ names }}"\n      register: st\n    - assert:\n        that: item.stat.exists and item.stat.isreg\n      loop: "{{ st.results }}"\n`,
    );
    const r = tsplay(['run', playbook, '-i', inventory, '--no-retry-files']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const listing = await inHost(4, ['find', '/root/names', '-mindepth', '1', '-print0']);
    const found = listing.stdout.split('\0').filter(Boolean).map((p) => p.slice('/root/names/'.length)).sort();
    assert.deepEqual(found, [...names, ...names.map((n) => `${n}.touched`)].sort());
    for (const name of names) assert.equal((await inHost(4, ['cat', `/root/names/${name}`])).stdout, `${name}\n`);
    const pwned = await inHost(4, ['find', '/', '-xdev', '-name', 'pwned[12]', '-print']);
    assert.equal(pwned.stdout, '', `a name ran as a command: ${pwned.stdout}`);
  });

  test('a server with MaxSessions 2 completes many parallel operations', async () => {
    await inHost(3, ['sh', '-c', 'echo "MaxSessions 2" > /etc/ssh/sshd_config.d/tsplay-max.conf && pkill -HUP -x sshd']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const conn = new SshConnection(hostName(3), { ansible_host: addr(3), ansible_user: 'root', ansible_ssh_private_key_file: lab.privateKeyFile, tsplay_known_hosts_file: lab.knownHostsFile });
      try {
        const results = await Promise.all(Array.from({ length: 30 }, (_, i) => conn.exec(`echo op${i}`)));
        results.forEach((res, i) => assert.equal(res.stdout, `op${i}\n`));
        assert.ok(conn.channelLimit <= 2, `channel limit stayed at ${conn.channelLimit}`);
      } finally {
        await conn.close();
      }
      const inventory = write('max.ini', `m3 ansible_host=${addr(3)}\n\n[all:vars]\n${common()}`);
      const playbook = write('max.yml', `- hosts: all\n  gather_facts: true\n  tasks:\n    - copy:\n        content: "{{ item }}"\n        dest: "/root/max-{{ item }}"\n      with_sequence: start=0 end=24\n    - stat: path=/root/max-{{ item }}\n      loop: [0, 5, 24]\n`);
      const r = tsplay(['run', playbook, '-i', inventory, '--no-retry-files']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      await inHost(3, ['sh', '-c', 'rm -f /etc/ssh/sshd_config.d/tsplay-max.conf && pkill -HUP -x sshd']);
    }
  });

  // last: it kills a host's sshd
  test('sshd killed mid-run: that host is unreachable within seconds, the others finish, no file is left truncated', async () => {
    const files = path.join(tmp.dir, 'big');
    mkdirSync(path.join(files, 'files'), { recursive: true });
    const a = randomBytes(4 << 20);
    const b = randomBytes(4 << 20);
    writeFileSync(path.join(files, 'files', 'a.bin'), a);
    writeFileSync(path.join(files, 'files', 'b.bin'), b);
    const sha = (buf: Buffer) => createHash('sha256').update(buf).digest('hex');
    const inventory = write('big/hosts.ini', `k1 ansible_host=${addr(1)}\nk2 ansible_host=${addr(2)}\n\n[all:vars]\n${common()}`);
    const playbook = write('big/site.yml', `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: rewrite a big file again and again\n      copy:\n        src: "{{ item }}"\n        dest: /root/big.bin\n      loop: [a.bin, b.bin, a.bin, b.bin, a.bin, b.bin, a.bin, b.bin, a.bin, b.bin, a.bin, b.bin]\n`);
    // inside k2, once its first item is written, wait for the next upload's temp file and kill
    // every sshd (the listener and the session) while that upload is in flight
    const killer = labExec(
      hostName(2),
      ['sh', '-c', `i=0; while [ ! -e /root/big.bin ]; do sleep 0.01; done
        until ls -a /root | grep -q '^[.]tsplay-tmp'; do i=$((i+1)); [ $i -lt 200000 ] || exit 9; done
        pkill -KILL -x sshd`],
      { ...labOpts(), timeoutMs: 60_000 },
    );
    const running = tsplayAsync(['run', playbook, '-i', inventory, '--no-retry-files', '--json']);
    const killed = await killer;
    const killedAt = Date.now();
    assert.equal(killed.code, 0, 'no upload to k2 was seen in flight: ' + killed.stderr);
    const r = await running;
    const evs = events(r.stdout);
    const unreachable = evs.find((e) => e.kind === 'host-result' && e.host === 'k2' && e.status === 'unreachable');
    assert.ok(unreachable, 'k2 was not reported unreachable\n' + r.stdout.slice(-2000));
    assert.ok(unreachable.time - killedAt < 10_000, `reported ${unreachable.time - killedAt} ms after the kill`);
    assert.equal(r.code, 3, r.stderr);
    const stats = recap(evs);
    assert.equal(stats.k1!.failed + stats.k1!.unreachable, 0, 'k1 was stopped by k2');
    const k1Items = evs.filter((e) => e.kind === 'host-result' && e.host === 'k1' && e.item);
    assert.equal(k1Items.length, 12, 'k1 finished every item');
    const content = await labExec(hostName(2), ['sha256sum', '/root/big.bin'], labOpts());
    const digest = content.stdout.split(' ')[0];
    assert.ok(digest === sha(a) || digest === sha(b), 'the file on k2 is neither the old nor the new version');
    // the partial upload's temp file is removed on k2 itself (the controller lost the host):
    // the guard waits 2 s after the loss, so give it until 6 s
    let leftovers: string[] = [];
    for (let i = 0; i < 30; i++) {
      leftovers = (await inHost(2, ['ls', '-a', '/root'])).stdout.split('\n').filter((n) => n.startsWith('.tsplay'));
      if (leftovers.length === 0 || Date.now() - killedAt > 6_000) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.deepEqual(leftovers, [], 'temporary files left behind on k2');
  });
});
