import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { hostPatternsMatch, parseJumpChain, parseSshConfig, resolveSshConfig } from '../../engine/connection/ssh-config.js';
import { jumpFromSshArgs, resolveSshTarget } from '../../engine/connection/ssh-options.js';
import { TsplayError } from '../../engine/errors.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const CONFIG = `
# a comment
Host bastion
    HostName 10.9.0.1
    User jumper
    Port 2200

Host web? !web9 db*.prod
  HostName %h.internal
  User deploy
  IdentityFile ~/.ssh/deploy_key
  IdentityFile "/keys/with space"
  ProxyJump bastion
  StrictHostKeyChecking yes

Match exec "false"
  User should-not-apply

Host *
  User=fallback
  Port = 2222
  ConnectTimeout 7
  ServerAliveInterval 3
  UserKnownHostsFile ~/kh1 /etc/kh2
  HashKnownHosts yes
  IdentityFile ~/.ssh/id_all
`;

describe('ssh config', () => {
  const config = parseSshConfig(CONFIG);

  test('host patterns: *, ?, negation, several per line', () => {
    assert.ok(hostPatternsMatch(['web?'], 'web1'));
    assert.ok(!hostPatternsMatch(['web?'], 'web10'));
    assert.ok(!hostPatternsMatch(['web?', '!web9'], 'web9'));
    assert.ok(hostPatternsMatch(['a', 'db*.prod'], 'db12.prod'));
    assert.ok(!hostPatternsMatch(['!web1'], 'web2'), 'only a negation matches nothing');
  });

  test('first value wins; IdentityFile accumulates in order; %h and ~ expand', () => {
    const c = resolveSshConfig(config, 'web1');
    assert.equal(c.hostName, 'web1.internal');
    assert.equal(c.user, 'deploy');
    assert.equal(c.port, 2222, 'from Host * since the specific block sets no Port');
    assert.deepEqual(c.identityFiles, [join(homedir(), '.ssh/deploy_key'), '/keys/with space', join(homedir(), '.ssh/id_all')]);
    assert.deepEqual(c.proxyJump, [{ host: 'bastion' }]);
    assert.equal(c.strictHostKeyChecking, 'strict');
    assert.equal(c.connectTimeoutSec, 7);
    assert.equal(c.serverAliveIntervalSec, 3);
    assert.deepEqual(c.userKnownHostsFiles, [join(homedir(), 'kh1'), '/etc/kh2']);
    assert.equal(c.hashKnownHosts, true);
  });

  test('a negated host falls through to Host *; Match blocks are not applied', () => {
    const c = resolveSshConfig(config, 'web9');
    assert.equal(c.hostName, undefined);
    assert.equal(c.user, 'fallback');
    assert.equal(c.proxyJump, undefined);
  });

  test('ProxyJump chains, users, ports, IPv6 and none', () => {
    assert.deepEqual(parseJumpChain('a@j1:2201, j2 ,ssh://b@[fe80::1]:22'), [
      { host: 'j1', user: 'a', port: 2201 },
      { host: 'j2' },
      { host: 'fe80::1', user: 'b', port: 22 },
    ]);
    assert.deepEqual(parseJumpChain('none'), []);
  });

  test('Include is followed relative to ~/.ssh or absolute, with a glob', () => {
    const dir = makeTempDir('tsplay-sshcfg-');
    mkdirSync(join(dir, 'conf.d'));
    writeFileSync(join(dir, 'conf.d', '10-a.conf'), 'Host inc1\n  User from-include\n');
    writeFileSync(join(dir, 'conf.d', 'skip.txt'), 'Host inc1\n  User wrong\n');
    const c = parseSshConfig(`Include ${dir}/conf.d/*.conf\nHost *\n  User last\n`);
    assert.equal(resolveSshConfig(c, 'inc1').user, 'from-include');
    assert.equal(resolveSshConfig(c, 'other').user, 'last');
  });

  test('jump host from ansible_ssh_common_args (-J and -o ProxyJump=)', () => {
    assert.equal(jumpFromSshArgs('-o StrictHostKeyChecking=no -J ops@bastion:2200'), 'ops@bastion:2200');
    assert.equal(jumpFromSshArgs(`-o 'ProxyJump=j1,j2'`), 'j1,j2');
    assert.equal(jumpFromSshArgs('-oProxyJump=j3'), 'j3');
    assert.equal(jumpFromSshArgs('-o ControlMaster=auto'), undefined);
  });
});

describe('resolveSshTarget: inventory variables over ~/.ssh/config', () => {
  const dir = makeTempDir('tsplay-sshcfg-');
  const configPath = join(dir, 'config');
  writeFileSync(configPath, CONFIG);

  test('ssh config applies to the name ssh is given (ansible_host), including the jump host', () => {
    const t = resolveSshTarget('frontend', { ansible_host: 'web1' }, { configPath });
    assert.equal(t.inventoryHost, 'frontend');
    assert.equal(t.host, 'web1.internal');
    assert.equal(t.user, 'deploy');
    assert.equal(t.port, 2222);
    assert.equal(t.hostKeyPolicy, 'strict');
    assert.equal(t.connectTimeoutMs, 7000);
    assert.equal(t.keepaliveIntervalMs, 3000);
    assert.equal(t.jumps.length, 1);
    assert.equal(t.jumps[0]!.host, '10.9.0.1');
    assert.equal(t.jumps[0]!.user, 'jumper');
    assert.equal(t.jumps[0]!.port, 2200);
    assert.deepEqual(t.knownHostsFiles, [join(homedir(), 'kh1'), '/etc/kh2', '/etc/ssh/ssh_known_hosts']);
  });

  test('Ansible variables win over the config file', () => {
    const t = resolveSshTarget('web1', {
      ansible_port: 2022,
      ansible_user: 'ops',
      ansible_ssh_private_key_file: '/k/id',
      ansible_password: ' secret ',
      ansible_ssh_timeout: 3,
      ansible_ssh_host_key_checking: false,
      tsplay_known_hosts_file: '/tmp/kh',
      tsplay_jump_host: 'root@127.0.0.1:2200',
      ansible_ssh_max_sessions: 2,
    }, { configPath });
    assert.equal(t.port, 2022);
    assert.equal(t.user, 'ops');
    assert.equal(t.identityFiles[0], '/k/id');
    assert.equal(t.password, ' secret ', 'a password is taken verbatim');
    assert.equal(t.connectTimeoutMs, 3000);
    assert.equal(t.hostKeyPolicy, 'off');
    assert.deepEqual(t.knownHostsFiles, ['/tmp/kh', '/etc/ssh/ssh_known_hosts']);
    assert.deepEqual(t.jumps.map((j) => [j.user, j.host, j.port]), [['root', '127.0.0.1', 2200]]);
    assert.equal(t.maxSessions, 2);
  });

  test('defaults: local user, port 22, accept-new, OpenSSH default keys, no config file', () => {
    const t = resolveSshTarget('plain', {}, { configPath: join(dir, 'missing') });
    assert.equal(t.user, userInfo().username);
    assert.equal(t.port, 22);
    assert.equal(t.host, 'plain');
    assert.equal(t.hostKeyPolicy, 'accept-new');
    assert.equal(t.maxSessions, 8);
    assert.equal(t.connectTimeoutMs, 10_000);
    assert.ok(t.identityFiles.includes(join(homedir(), '.ssh', 'id_ed25519')));
    assert.equal(t.password, undefined);
  });

  test('bad values are clear errors', () => {
    assert.throws(() => resolveSshTarget('h', { ansible_port: 'abc' }, { configPath }), (e: unknown) => e instanceof TsplayError && /ansible_port/.test(e.message));
    assert.throws(() => resolveSshTarget('h', { ansible_ssh_host_key_checking: 'maybe' }, { configPath }), /accept-new, strict or off/);
  });
});
