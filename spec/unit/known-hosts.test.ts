import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkHostKey,
  fingerprintSha256,
  hashHostName,
  hostFieldMatches,
  keyTypeOf,
  knownHostName,
  loadKnownHosts,
  parseKnownHosts,
  recordHostKey,
} from '../../engine/connection/known-hosts.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const haveKeygen = !spawnSync('ssh-keygen', ['-?']).error;

function keygen(args: string[]): string {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A fresh public key: [blob, path of the .pub file]. */
function newKey(dir: string, name: string, type = 'ed25519'): [Buffer, string] {
  keygen(['-q', '-t', type, '-N', '', '-C', name, '-f', join(dir, name)]);
  const pub = join(dir, `${name}.pub`);
  return [Buffer.from(readFileSync(pub, 'utf8').split(' ')[1]!, 'base64'), pub];
}

describe('known_hosts', { skip: haveKeygen ? false : 'ssh-keygen is not installed' }, () => {
  const dir = makeTempDir('tsplay-kh-');
  const [edKey, edPub] = newKey(dir, 'ed');
  const [rsaKey, rsaPub] = newKey(dir, 'rsa', 'rsa');
  const [otherEd] = newKey(dir, 'ed2');

  test('fingerprints are exactly what ssh-keygen -lf prints', () => {
    for (const [key, pub] of [[edKey, edPub], [rsaKey, rsaPub]] as const) {
      const printed = keygen(['-lf', pub]).split(' ')[1];
      assert.equal(fingerprintSha256(key), printed);
    }
    assert.equal(keyTypeOf(edKey), 'ssh-ed25519');
    assert.equal(keyTypeOf(rsaKey), 'ssh-rsa');
  });

  test('names: host on port 22, [host]:port otherwise', () => {
    assert.equal(knownHostName('web1', 22), 'web1');
    assert.equal(knownHostName('10.0.0.5', 2222), '[10.0.0.5]:2222');
  });

  test('a recorded key is found by ssh-keygen -F, and a hashed one too', () => {
    const file = join(dir, 'sub', 'known_hosts');
    recordHostKey(file, '[127.0.0.1]:2222', edKey);
    recordHostKey(file, 'web1.example', rsaKey, { hash: true });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700);
    assert.match(keygen(['-F', '[127.0.0.1]:2222', '-f', file]), /ssh-ed25519/);
    assert.match(keygen(['-F', 'web1.example', '-f', file]), /ssh-rsa/);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('web1.example'), 'the hashed entry does not reveal the name');
    assert.match(text, /^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-rsa /m);
  });

  test('entries hashed by ssh-keygen -H are matched', () => {
    const file = join(dir, 'hashed_by_keygen');
    writeFileSync(file, `db1.example,10.1.2.3 ${keyLine(edKey)}\n[db2.example]:2200 ${keyLine(rsaKey)}\n`);
    keygen(['-H', '-f', file]);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes('db1.example'));
    const entries = loadKnownHosts([file]);
    assert.equal(checkHostKey(entries, ['db1.example'], edKey).status, 'match');
    assert.equal(checkHostKey(entries, ['10.1.2.3'], edKey).status, 'match');
    assert.equal(checkHostKey(entries, ['[db2.example]:2200'], rsaKey).status, 'match');
    assert.equal(checkHostKey(entries, ['db2.example'], rsaKey).status, 'unknown', 'port 22 is a different name');
  });

  test('our hash equals the HMAC ssh-keygen would compute for the same salt', () => {
    const hashed = hashHostName('web9', Buffer.alloc(20, 7));
    assert.ok(hostFieldMatches(hashed, ['web9']));
    assert.ok(!hostFieldMatches(hashed, ['web8']));
  });

  test('match, changed (with the stored fingerprint and line), unknown', () => {
    const text = [
      '# comment',
      '',
      `web1,10.0.0.1 ${keyLine(edKey)}`,
      `web1 ${keyLine(rsaKey)}`,
      `garbage line`,
    ].join('\n');
    const entries = parseKnownHosts(text, '/kh');
    assert.equal(entries.length, 2);
    assert.equal(checkHostKey(entries, ['web1'], edKey).status, 'match');
    assert.equal(checkHostKey(entries, ['nope', '10.0.0.1'], edKey).status, 'match', 'the address matches too');
    const changed = checkHostKey(entries, ['web1'], otherEd);
    assert.equal(changed.status, 'changed');
    assert.ok(changed.status === 'changed');
    assert.deepEqual(changed.stored, [{ file: '/kh', line: 3, keyType: 'ssh-ed25519', fingerprint: fingerprintSha256(edKey) }]);
    const unknown = checkHostKey(entries, ['web2'], edKey);
    assert.equal(unknown.status, 'unknown');
  });

  test('a host known only with another key type is unknown, not changed', () => {
    const entries = parseKnownHosts(`web1 ${keyLine(rsaKey)}\n`, '/kh');
    const res = checkHostKey(entries, ['web1'], edKey);
    assert.equal(res.status, 'unknown');
    assert.ok(res.status === 'unknown' && res.otherTypes.length === 1);
  });

  test('patterns, negation; @cert-authority ignored; @revoked refuses', () => {
    const entries = parseKnownHosts(
      [`*.example,!bad.example ${keyLine(edKey)}`, `@cert-authority *.example ${keyLine(otherEd)}`, `@revoked * ${keyLine(rsaKey)}`, `@bogus x ${keyLine(edKey)}`].join('\n'),
      '/kh',
    );
    assert.equal(entries.length, 3);
    assert.equal(checkHostKey(entries, ['a.example'], edKey).status, 'match');
    assert.equal(checkHostKey(entries, ['bad.example'], edKey).status, 'unknown');
    assert.equal(checkHostKey(entries, ['a.example'], otherEd).status, 'changed', 'a CA line does not vouch for a plain key');
    assert.equal(checkHostKey(entries, ['anything'], rsaKey).status, 'revoked');
  });

  test('recording appends and keeps what was there (no newline at the end is fine)', () => {
    const file = join(dir, 'append');
    writeFileSync(file, `old ${keyLine(edKey)}`, { mode: 0o644 });
    recordHostKey(file, 'new', rsaKey);
    const lines = readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[0], `old ${keyLine(edKey)}`);
    assert.equal(lines[1], `new ${keyLine(rsaKey)}`);
    assert.equal(statSync(file).mode & 0o777, 0o644, 'an existing file keeps its mode');
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('tsplay')), [], 'no temp file left');
  });
});

function keyLine(key: Buffer): string {
  return `${keyTypeOf(key)} ${key.toString('base64')}`;
}
