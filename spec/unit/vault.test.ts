// Vault formats, fixtures made by ansible-vault, tamper detection, wrong passwords, password
// sources and the redaction registry.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  VaultKeyring,
  VaultError,
  useVaultKeyring,
  encryptVault,
  decryptVault,
  decryptVaultSync,
  parseEnvelope,
  parseVaultIdSpec,
  vaultIdSpecs,
  loadVaultSecrets,
  registerSecret,
  redactText,
  redactDeep,
  clearSecrets,
  MASK,
  type VaultSecret,
} from '../../engine/vault/index.js';
import { loadYamlFile, parseYaml } from '../../engine/load/yaml.js';
import { ExitCode, TsplayError } from '../../engine/errors.js';
import { createReporter } from '../../engine/report/select.js';
import type { RunEvent } from '../../engine/report/events.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/vault');
const FIXTURE_PASSWORD = 'fixture-vault-pass';
const PROD_PASSWORD = 'prod-fixture-pass';
const CHEAP = { log2N: 10, r: 8, p: 1 };
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsplay-vault-unit-'));
after(() => {
  rmSync(tmp, { recursive: true, force: true });
  useVaultKeyring(undefined);
  clearSecrets();
});

const secret = (password: string, id = 'default'): VaultSecret => ({ id, password: Buffer.from(password), source: 'test' });
const hasAnsibleVault = spawnSync('ansible-vault', ['--version'], { stdio: 'ignore' }).status === 0;

/** The error a function throws, asserted to be a VaultError. */
function vaultErrorOf(fn: () => unknown): VaultError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VaultError, `expected a VaultError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('files made by ansible-vault (spec/fixtures/vault)', () => {
  test('an encrypted vars file (1.1) decrypts and parses', () => {
    useVaultKeyring([secret(FIXTURE_PASSWORD)]);
    assert.deepEqual(loadYamlFile(path.join(fixtures, 'secrets.yml')), {
      db_password: 'S3cret-from-ansible-vault',
      api_token: 'tok-0123456789',
      port: 5432,
    });
  });

  test('a 1.2 file labelled prod: the prod secret is used whatever its position', () => {
    useVaultKeyring([secret(FIXTURE_PASSWORD), secret(PROD_PASSWORD, 'prod')]);
    assert.deepEqual(loadYamlFile(path.join(fixtures, 'secrets-prod.yml')), { deploy_key: 'prod-only-secret-value' });
    const text = readFileSync(path.join(fixtures, 'secrets-prod.yml'), 'utf8');
    const result = new VaultKeyring([secret(FIXTURE_PASSWORD, 'dev'), secret(PROD_PASSWORD, 'prod')]).decryptSync(text);
    assert.equal(result.vaultId, 'prod');
    assert.equal(parseEnvelope(text).header.vaultId, 'prod');
  });

  test('an encrypt_string value (!vault |) decrypts to its string', () => {
    useVaultKeyring([secret(FIXTURE_PASSWORD)]);
    assert.deepEqual(loadYamlFile(path.join(fixtures, 'inline.yml')), { db_admin_password: 'Inline-S3cret-value' });
  });

  test('a wrong password: exit code 4, the file named, no plaintext in the message', () => {
    useVaultKeyring([secret('not-the-password')]);
    const file = path.join(fixtures, 'secrets.yml');
    const err = vaultErrorOf(() => loadYamlFile(file));
    assert.equal(err.exitCode, ExitCode.parse);
    assert.match(err.message, /Decryption failed \(no vault secrets were found that could decrypt\) on .*secrets\.yml/);
    assert.doesNotMatch(err.format(), /S3cret/);
  });

  test('a wrong password for an inline value names its file, line and column', () => {
    useVaultKeyring([secret('not-the-password')]);
    const err = vaultErrorOf(() => loadYamlFile(path.join(fixtures, 'inline.yml')));
    assert.equal(err.pos?.line, 1);
    assert.equal(err.pos?.col, 27); // the block scalar's `|`
    assert.match(err.format(), /inline\.yml:1:27: Decryption failed/);
  });

  test('no password at all: Ansible\'s message', () => {
    useVaultKeyring(undefined);
    const err = vaultErrorOf(() => loadYamlFile(path.join(fixtures, 'secrets.yml')));
    assert.match(err.message, /Attempting to decrypt but no vault secrets found/);
  });
});

describe('Ansible format written by tsplay', () => {
  test('1.1 and 1.2 round-trip, headers as ansible-vault writes them, 80 columns', async () => {
    const plain = 'password: "p@ss w0rd"\nlist: [1, 2]\n';
    const v11 = await encryptVault(plain, Buffer.from('pw-one'), { format: 'ansible' });
    const v12 = await encryptVault(plain, Buffer.from('pw-one'), { format: 'ansible', vaultId: 'prod' });
    assert.equal(v11.split('\n')[0], '$ANSIBLE_VAULT;1.1;AES256');
    assert.equal(v12.split('\n')[0], '$ANSIBLE_VAULT;1.2;AES256;prod');
    for (const text of [v11, v12]) {
      assert.ok(text.endsWith('\n'));
      const body = text.split('\n').slice(1, -1);
      assert.ok(body.slice(0, -1).every((l) => l.length === 80) && body.at(-1)!.length <= 80);
      assert.equal((await decryptVault(text, Buffer.from('pw-one'))).toString(), plain);
      assert.equal(decryptVaultSync(text, Buffer.from('pw-one')).toString(), plain);
    }
  });

  test('every length pads correctly (PKCS7 at block boundaries)', async () => {
    for (const n of [0, 1, 15, 16, 17, 32]) {
      const text = await encryptVault('x'.repeat(n), Buffer.from('pw'), { format: 'ansible' });
      assert.equal(decryptVaultSync(text, Buffer.from('pw')).toString(), 'x'.repeat(n));
    }
  });

  test('a changed ciphertext byte fails the HMAC check (as a wrong password)', async () => {
    const text = await encryptVault('secret: value-1234\n', Buffer.from('pw'), { format: 'ansible' });
    const tampered = flipBodyHex(text);
    const err = vaultErrorOf(() => new VaultKeyring([secret('pw')]).decryptSync(tampered, { file: 'x.yml' }));
    assert.match(err.message, /Decryption failed.*on x\.yml/);
  });

  test('ansible-vault decrypts what tsplay writes', { skip: !hasAnsibleVault && 'ansible-vault not on PATH' }, async () => {
    const pwFile = path.join(tmp, 'ansible-pw');
    writeFileSync(pwFile, 'interop-pass\n');
    for (const vaultId of [undefined, 'prod']) {
      const file = path.join(tmp, `interop-${vaultId ?? 'default'}.yml`);
      writeFileSync(file, await encryptVault('answer: forty-two\n', Buffer.from('interop-pass'), { format: 'ansible', ...(vaultId ? { vaultId } : {}) }));
      const r = spawnSync('ansible-vault', ['view', '--vault-id', `${vaultId ?? 'default'}@${pwFile}`, file], { encoding: 'utf8', env: { ...process.env, PAGER: 'cat' } });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'answer: forty-two\n');
    }
  });
});

/** Change one bit of the ciphertext inside an Ansible body, keeping the envelope well-formed. */
function flipBodyHex(text: string): string {
  const [header, ...body] = text.trimEnd().split('\n');
  const [salt, hmac, cipherHex] = Buffer.from(body.join(''), 'hex').toString('latin1').split('\n');
  const cipher = Buffer.from(cipherHex!, 'hex');
  cipher[0] = cipher[0]! ^ 1;
  const inner = Buffer.from([salt, hmac, cipher.toString('hex')].join('\n'), 'latin1').toString('hex');
  return `${header}\n${inner}\n`;
}

describe('tsplay format', () => {
  test('round-trips, with the header and an 80-column base64 body', async () => {
    const plain = Buffer.from('binary\u0000ok \u00e9\n', 'utf8');
    const text = await encryptVault(plain, Buffer.from('pw'), { vaultId: 'dev', scrypt: CHEAP });
    assert.equal(text.split('\n')[0], '$TSPLAY_VAULT;1.0;AES256GCM;SCRYPT;dev');
    assert.ok(text.split('\n').every((l) => l.length <= 80));
    assert.deepEqual(await decryptVault(text, Buffer.from('pw')), plain);
    assert.deepEqual(decryptVaultSync(text, Buffer.from('pw')), plain);
  });

  test('default scrypt cost is N=2^15, r=8, p=1 and stays well under a second', async () => {
    const started = Date.now();
    const text = await encryptVault('x: 1\n', Buffer.from('pw'));
    const body = Buffer.from(text.split('\n').slice(1).join(''), 'base64');
    assert.deepEqual([...body.subarray(0, 4)], [1, 15, 8, 1]);
    assert.ok(Date.now() - started < 5000);
  });

  test('tampering anywhere is detected: ciphertext, tag, scrypt parameters, the header label', async () => {
    const keyring = new VaultKeyring([secret('pw'), secret('pw', 'dev')]);
    const text = await encryptVault('token: abcdefgh\n', Buffer.from('pw'), { vaultId: 'dev', scrypt: CHEAP });
    assert.equal(keyring.decryptSync(text).plaintext.toString(), 'token: abcdefgh\n');
    const [header, ...rest] = text.trimEnd().split('\n');
    const body = Buffer.from(rest.join(''), 'base64');
    const rebuild = (h: string, b: Buffer) => `${h}\n${b.toString('base64')}\n`;
    const flipped = (offset: number) => {
      const copy = Buffer.from(body);
      copy[offset] = copy[offset]! ^ 1;
      return copy;
    };
    const cases = {
      ciphertext: rebuild(header!, flipped(33)),
      tag: rebuild(header!, flipped(body.length - 1)),
      salt: rebuild(header!, flipped(5)),
      'scrypt r': rebuild(header!, flipped(2)),
      label: rebuild(header!.replace(/;dev$/, ';prod'), body),
    };
    for (const [what, changed] of Object.entries(cases)) {
      const err = vaultErrorOf(() => keyring.decryptSync(changed, { file: 'f.yml' }));
      assert.match(err.message, /Decryption failed|format error/, what);
    }
  });

  test('absurd scrypt parameters are refused before any key is derived', async () => {
    const text = await encryptVault('a: b\n', Buffer.from('pw'), { scrypt: CHEAP });
    const [header, ...rest] = text.trimEnd().split('\n');
    const body = Buffer.from(rest.join(''), 'base64');
    body[1] = 40; // N = 2^40
    const err = vaultErrorOf(() => new VaultKeyring([secret('pw')]).decryptSync(`${header}\n${body.toString('base64')}\n`));
    assert.match(err.message, /scrypt parameters out of range/);
  });

  test('an encrypted file and an inline value in YAML, with positions kept', async () => {
    useVaultKeyring([secret('pw')]);
    const value = await encryptVault('inline-secret-1', Buffer.from('pw'), { scrypt: CHEAP });
    const yaml = `a: 1\nb: !vault |\n${value.trimEnd().split('\n').map((l) => '  ' + l).join('\n')}\nc: [x]\n`;
    const parsed = parseYaml(yaml, path.join(tmp, 'inline.yml')) as Record<string, unknown>;
    assert.deepEqual(parsed, { a: 1, b: 'inline-secret-1', c: ['x'] });
    const file = path.join(tmp, 'whole.yml');
    writeFileSync(file, await encryptVault('user: admin\npassword: whole-file-secret\n', Buffer.from('pw'), { scrypt: CHEAP }));
    assert.deepEqual(loadYamlFile(file), { user: 'admin', password: 'whole-file-secret' });
  });

  test('a YAML error inside an encrypted file gives line and column but no decrypted code frame', async () => {
    useVaultKeyring([secret('pw')]);
    const file = path.join(tmp, 'broken.yml');
    writeFileSync(file, await encryptVault('ok: fine\npassword: "unclosed-hidden-text\n', Buffer.from('pw'), { scrypt: CHEAP }));
    assert.throws(
      () => loadYamlFile(file),
      (err: unknown) => {
        assert.ok(err instanceof TsplayError);
        assert.match(err.message, /of the decrypted content of/);
        assert.doesNotMatch(err.format(), /unclosed-hidden-text/);
        return true;
      },
    );
  });
});

describe('password sources', () => {
  test('--vault-id label@source, a bare source, and an empty source', () => {
    assert.deepEqual(parseVaultIdSpec('prod@/etc/pw'), { id: 'prod', source: '/etc/pw' });
    assert.deepEqual(parseVaultIdSpec('/etc/pw'), { id: 'default', source: '/etc/pw' });
    assert.deepEqual(parseVaultIdSpec('dev@prompt'), { id: 'dev', source: 'prompt' });
    assert.throws(() => parseVaultIdSpec('prod@'), VaultError);
    assert.deepEqual(
      vaultIdSpecs({ vaultId: ['a@x'], vaultPasswordFile: ['y'], askVaultPass: true }, { ANSIBLE_VAULT_PASSWORD_FILE: 'z' }),
      [
        { id: 'a', source: 'x' },
        { id: 'default', source: 'y' },
        { id: 'default', source: 'prompt' },
        { id: 'default', source: 'z' },
      ],
    );
  });

  test('a file (stripped), a script, a client script given its vault id, and a prompt', async () => {
    const file = path.join(tmp, 'pw.txt');
    writeFileSync(file, '  file-pass \n\n');
    const script = path.join(tmp, 'pw.sh');
    writeFileSync(script, '#!/bin/sh\necho script-pass\n');
    chmodSync(script, 0o755);
    const client = path.join(tmp, 'vault-client.sh');
    writeFileSync(client, '#!/bin/sh\n[ "$1" = --vault-id ] && echo "client-pass-for-$2"\n');
    chmodSync(client, 0o755);
    const prompts: string[] = [];
    const secrets = await loadVaultSecrets(
      [
        { id: 'default', source: file },
        { id: 'default', source: script },
        { id: 'prod', source: client },
        { id: 'dev', source: 'prompt' },
      ],
      { prompt: async (text) => (prompts.push(text), 'typed-pass') },
    );
    assert.deepEqual(
      secrets.map((s) => [s.id, s.password.toString()]),
      [
        ['default', 'file-pass'],
        ['default', 'script-pass'],
        ['prod', 'client-pass-for-prod'],
        ['dev', 'typed-pass'],
      ],
    );
    assert.deepEqual(prompts, ['Vault password (dev): ']);
  });

  test('a missing file, an empty password, and unconfirmed new passwords are errors', async () => {
    const empty = path.join(tmp, 'empty.txt');
    writeFileSync(empty, '\n');
    await assert.rejects(loadVaultSecrets([{ id: 'default', source: path.join(tmp, 'nope') }], { prompt: async () => '' }), /was not found/);
    await assert.rejects(loadVaultSecrets([{ id: 'default', source: empty }], { prompt: async () => '' }), /Invalid vault password/);
    let n = 0;
    await assert.rejects(
      loadVaultSecrets([{ id: 'default', source: 'prompt' }], { prompt: async () => `pass-${n++}`, confirmNew: true }),
      /Passwords do not match/,
    );
  });

  test('several secrets: encrypting needs --encrypt-vault-id', () => {
    const keyring = new VaultKeyring([secret('a', 'dev'), secret('b', 'prod')]);
    assert.throws(() => keyring.encryptSecret(), /Specify the vault-id to encrypt with --encrypt-vault-id/);
    assert.equal(keyring.encryptSecret('prod').password.toString(), 'b');
  });
});

describe('redaction registry', () => {
  test('registered values are masked, longest first, in text and in nested values', () => {
    clearSecrets();
    registerSecret('abcd1234');
    registerSecret('abcd1234-longer');
    assert.equal(redactText('x abcd1234-longer y abcd1234 z'), `x ${MASK} y ${MASK} z`);
    const event = { kind: 'host-result', result: { cmd: ['echo', 'pre-abcd1234-post'] }, diff: [{ after: 'pw=abcd1234\n' }] };
    const masked = redactDeep(event);
    assert.deepEqual(masked, { kind: 'host-result', result: { cmd: ['echo', `pre-${MASK}-post`] }, diff: [{ after: `pw=${MASK}\n` }] });
    assert.equal(event.diff[0]!.after, 'pw=abcd1234\n', 'the original event is not changed');
  });

  test('short values are not masked; multi-line secrets are masked line by line and JSON-escaped', () => {
    clearSecrets();
    registerSecret('abc');
    registerSecret('line-one-secret\nline-two-secret');
    registerSecret('quote"back\\slash');
    assert.equal(redactText('abc'), 'abc');
    assert.equal(redactText('+line-two-secret'), `+${MASK}`);
    assert.equal(redactText(JSON.stringify({ v: 'quote"back\\slash' })), `{"v":"${MASK}"}`);
    assert.equal(redactText('a.b*c'), 'a.b*c', 'regex characters in secrets are literal');
  });

  test('decrypted values are registered when YAML is loaded', async () => {
    clearSecrets();
    useVaultKeyring([secret('pw')]);
    const file = path.join(tmp, 'reg.yml');
    writeFileSync(file, await encryptVault('api_key: registered-on-load\nport: 5432\n', Buffer.from('pw'), { scrypt: CHEAP }));
    loadYamlFile(file);
    assert.equal(redactText('key=registered-on-load port=5432'), `key=${MASK} port=5432`);
  });

  test('every reporter (plain lines with --diff -vvv, --json) gets masked events', () => {
    clearSecrets();
    registerSecret('reporter-secret-99');
    const event: RunEvent = {
      kind: 'host-result',
      taskId: 't1',
      task: 'render',
      host: 'h1',
      status: 'changed',
      msg: 'wrote reporter-secret-99',
      diff: [{ before: '', after: 'password=reporter-secret-99\n', afterHeader: '/etc/app.conf' }],
      result: { changed: true, content: 'x reporter-secret-99 y' },
      time: 0,
    };
    for (const json of [false, true]) {
      let text = '';
      const out = { write: (chunk: string) => ((text += chunk), true), isTTY: false };
      const reporter = createReporter({ json, out: out as never, err: out, verbosity: 3, diff: true, env: { NO_COLOR: '1' } });
      reporter.onEvent?.({ kind: 'task-start', taskId: 't1', name: 'render', hosts: ['h1'], handler: false, time: 0 });
      reporter.onEvent?.(event);
      assert.ok(text.includes(MASK), `json=${json}: ${text}`);
      assert.ok(!text.includes('reporter-secret-99'), `json=${json}: ${text}`);
      if (!json) assert.match(text, /^\+password=\*{8}$/m);
    }
  });
});
