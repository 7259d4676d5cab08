// Image references as docker parses them, WWW-Authenticate challenges, docker config.json
// credentials, and Rancher's name mapping for `tsplay registry sync`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatReference, parseReference } from '../../engine/registry/reference.js';
import { parseWwwAuthenticate, readDockerConfigCredentials, TokenCache } from '../../engine/registry/auth.js';
import { mapImage, RANCHER_MAPPING, readImageList } from '../../engine/registry/image-list.js';
import { RegistryError } from '../../engine/registry/errors.js';
import { ParseError } from '../../engine/errors.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const D = 'sha256:' + 'ab'.repeat(32);

describe('parseReference (docker rules)', () => {
  const cases: Array<[string, Record<string, string>]> = [
    ['busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['busybox:1.31', { registry: 'docker.io', repository: 'library/busybox', tag: '1.31' }],
    ['rancher/rancher-agent:v2.3.6', { registry: 'docker.io', repository: 'rancher/rancher-agent', tag: 'v2.3.6' }],
    ['docker.io/busybox', { registry: 'docker.io', repository: 'library/busybox', tag: 'latest' }],
    ['index.docker.io/rancher/rancher', { registry: 'docker.io', repository: 'rancher/rancher', tag: 'latest' }],
    ['localhost/foo', { registry: 'localhost', repository: 'foo', tag: 'latest' }],
    ['localhost:5000/foo/bar:t', { registry: 'localhost:5000', repository: 'foo/bar', tag: 't' }],
    ['reg.example.com:5000/a/b/c:1.0', { registry: 'reg.example.com:5000', repository: 'a/b/c', tag: '1.0' }],
    ['127.0.0.1:5000/busybox', { registry: '127.0.0.1:5000', repository: 'busybox', tag: 'latest' }],
    [`quay.io/coreos/etcd@${D}`, { registry: 'quay.io', repository: 'coreos/etcd', digest: D }],
    [`rancher/x:v1@${D}`, { registry: 'docker.io', repository: 'rancher/x', tag: 'v1', digest: D }],
    ['my_ns/a__b.c-d:TAG_1.x', { registry: 'docker.io', repository: 'my_ns/a__b.c-d', tag: 'TAG_1.x' }],
  ];
  for (const [text, expected] of cases) {
    test(text, () => assert.deepEqual({ ...parseReference(text) }, expected));
  }

  test('a default registry replaces docker.io, without library/', () => {
    assert.deepEqual({ ...parseReference('busybox:1', { defaultRegistry: 'mirror:5000' }) }, { registry: 'mirror:5000', repository: 'busybox', tag: '1' });
  });

  for (const bad of ['', 'Busybox', 'foo/Bar', 'foo:bad tag', 'foo@sha256:abc', 'foo::1', '-foo', 'foo//bar', `foo@sha256:${'AB'.repeat(32)}`]) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => parseReference(bad), (err: unknown) => err instanceof RegistryError && err.reason === 'reference' && /invalid image reference/.test(err.message));
    });
  }

  test('formatReference round-trips', () => {
    assert.equal(formatReference(parseReference(`reg:5000/a/b:v1@${D}`)), `reg:5000/a/b:v1@${D}`);
    assert.equal(formatReference(parseReference('busybox')), 'docker.io/library/busybox:latest');
  });
});

describe('parseWwwAuthenticate', () => {
  test('Bearer with realm, service and scope', () => {
    assert.deepEqual(parseWwwAuthenticate('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/busybox:pull' } },
    ]);
  });
  test('Basic realm, a scope with spaces, escapes and an error param', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm="tsplay \\"test\\""'), [{ scheme: 'basic', params: { realm: 'tsplay "test"' } }]);
    const [bearer] = parseWwwAuthenticate('Bearer realm="http://127.0.0.1:1/token", service="svc", scope="repository:a:pull repository:b:pull,push", error="insufficient_scope"');
    assert.equal(bearer!.params.scope, 'repository:a:pull repository:b:pull,push');
    assert.equal(bearer!.params.error, 'insufficient_scope');
  });
  test('several challenges in one header, and unquoted values', () => {
    assert.deepEqual(parseWwwAuthenticate('Basic realm=x, Bearer realm="y",service=z'), [
      { scheme: 'basic', params: { realm: 'x' } },
      { scheme: 'bearer', params: { realm: 'y', service: 'z' } },
    ]);
  });
  test('empty header: no challenge', () => assert.deepEqual(parseWwwAuthenticate(''), []));
});

describe('credentials and tokens', () => {
  test("docker's config.json: base64 auth, username/password, URL keys, Docker Hub's index", () => {
    const file = path.join(makeTempDir('tsplay-docker-config-'), 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hubuser:hub:pass').toString('base64') },
          'reg.local:5000': { auth: Buffer.from('u:p').toString('base64') },
          'https://other.local/': { username: 'o', password: 'q' },
          'empty.local': {},
        },
      }),
    );
    const creds = readDockerConfigCredentials(file);
    assert.deepEqual(creds.get('docker.io'), { username: 'hubuser', password: 'hub:pass' });
    assert.deepEqual(creds.get('reg.local:5000'), { username: 'u', password: 'p' });
    assert.deepEqual(creds.get('other.local'), { username: 'o', password: 'q' });
    assert.equal(creds.has('empty.local'), false);
    assert.equal(readDockerConfigCredentials(path.join(path.dirname(file), 'missing.json')).size, 0);
  });

  test('tokens are cached per scope set and dropped once expired', async () => {
    const cache = new TokenCache();
    const key = TokenCache.key('reg', ['repository:b:pull', 'repository:a:pull,push']);
    assert.equal(key, TokenCache.key('reg', ['repository:a:pull,push', 'repository:b:pull']));
    cache.set(key, 'tok', 1); // 1 s lifetime: renewed 0.1 s early
    assert.equal(cache.get(key), 'tok');
    assert.equal(cache.get(TokenCache.key('reg', ['repository:a:pull'])), undefined);
    await new Promise((r) => setTimeout(r, 950));
    assert.equal(cache.get(key), undefined);
  });
});

describe("Rancher's name mapping (rancher-load-images.sh)", () => {
  const map = (line: string, mapping = RANCHER_MAPPING, from = 'docker.io', to = 'reg.local:5000') => {
    const { source, target } = mapImage(line, from, to, mapping);
    return [formatReference(source), formatReference(target)];
  };
  test('names with a namespace keep it; names without one go under rancher/', () => {
    assert.deepEqual(map('rancher/rancher-agent:v2.3.6'), ['docker.io/rancher/rancher-agent:v2.3.6', 'reg.local:5000/rancher/rancher-agent:v2.3.6']);
    assert.deepEqual(map('busybox'), ['docker.io/library/busybox:latest', 'reg.local:5000/rancher/busybox:latest']);
    assert.deepEqual(map('minio/minio:RELEASE.2020'), ['docker.io/minio/minio:RELEASE.2020', 'reg.local:5000/minio/minio:RELEASE.2020']);
  });
  test('a registry named in the line is the source and is dropped from the target', () => {
    assert.deepEqual(map('quay.io/coreos/etcd:v3.4.3'), ['quay.io/coreos/etcd:v3.4.3', 'reg.local:5000/coreos/etcd:v3.4.3']);
  });
  test('a private source registry: no library/, and the digest is kept', () => {
    assert.deepEqual(map(`busybox@${D}`, RANCHER_MAPPING, '127.0.0.1:5000'), [`127.0.0.1:5000/busybox@${D}`, `reg.local:5000/rancher/busybox@${D}`]);
  });
  test('--default-namespace, --namespace-map, --prefix and a target path', () => {
    assert.deepEqual(map('busybox:1', { defaultNamespace: '', namespaceMap: {}, prefix: '' })[1], 'reg.local:5000/busybox:1');
    assert.deepEqual(map('rancher/x:1', { defaultNamespace: 'rancher', namespaceMap: { rancher: 'mirror' }, prefix: '' })[1], 'reg.local:5000/mirror/x:1');
    assert.deepEqual(map('busybox:1', { defaultNamespace: 'rancher', namespaceMap: {}, prefix: 'airgap' })[1], 'reg.local:5000/airgap/rancher/busybox:1');
    assert.deepEqual(map('busybox:1', RANCHER_MAPPING, 'docker.io', 'reg.local:5000/team')[1], 'reg.local:5000/team/rancher/busybox:1');
  });
  test('the list: comments and blank lines skipped, duplicates once, a bad line named by file:line:col', () => {
    const file = path.join(makeTempDir('tsplay-list-'), 'rancher-images.txt');
    writeFileSync(file, '# Rancher v2.3.6\n\nbusybox:1.31\nrancher/rancher:v2.3.6  # the server\nbusybox:1.31\n');
    const entries = readImageList(file, 'docker.io', 'reg:5000');
    assert.deepEqual(entries.map((e) => [e.line, formatReference(e.target)]), [[3, 'reg:5000/rancher/busybox:1.31'], [4, 'reg:5000/rancher/rancher:v2.3.6']]);
    writeFileSync(file, 'busybox\n  Rancher/Bad:1\n');
    assert.throws(() => readImageList(file, 'docker.io', 'reg:5000'), (err: unknown) => err instanceof ParseError && err.pos?.line === 2 && err.pos.col === 3 && /lowercase/.test(err.message));
  });
});
