// RegistryClient against a real docker-registry: a download resumed with Range after a dropped
// connection, a chunked upload resumed from the offset the registry reports, tags paginated with
// Link, manifests' bytes kept exactly, and a registry refusing plain http unless named insecure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { RegistryClient } from '../../engine/registry/client.js';
import { RegistryError } from '../../engine/registry/errors.js';
import { blobExists, fetchManifest, pushBlob, pushSyntheticImages, registrySkipReason, sha256, startProxy, startRegistry, type TestRegistry } from '../helpers/registry.js';

const skip = registrySkipReason() ?? false;

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('RegistryClient', { skip }, () => {
  let reg: TestRegistry;
  const stops: Array<() => Promise<void>> = [];
  before(async () => {
    reg = await startRegistry();
    stops.push(reg.stop);
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  test('getBlob resumes with Range after the connection drops, and the bytes are the blob', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const { digest } = await pushBlob(reg, 'res/blob', data);
    const proxy = await startProxy(reg.url, { dropOnce: { method: 'GET', pathIncludes: digest, afterBytes: 1024 * 1024 + 17 } });
    stops.push(proxy.stop);
    const client = new RegistryClient({ insecureRegistries: [proxy.host], dockerConfig: false, retryDelayMs: 10 });
    const got = await readAll(await client.getBlob({ registry: proxy.host, repository: 'res/blob' }, digest));
    assert.equal(sha256(got), digest);
    const gets = proxy.requests.filter((r) => r.method === 'GET' && r.path.includes(digest));
    assert.equal(gets.length, 2);
    assert.match(gets[1]!.range ?? '', /^bytes=\d+-$/);
    assert.ok(Number(/=(\d+)-/.exec(gets[1]!.range!)![1]) > 0, 'the second GET starts where the first stopped');
    client.close();
  });

  test('a manifest whose body is cut midway is fetched again, and its bytes are exact', async () => {
    const [image] = await pushSyntheticImages(reg, { layerSize: 1024 });
    const proxy = await startProxy(reg.url, { dropOnce: { method: 'GET', pathIncludes: `/manifests/${image!.tag}`, afterBytes: 100 } });
    stops.push(proxy.stop);
    const client = new RegistryClient({ insecureRegistries: [proxy.host], dockerConfig: false, retryDelayMs: 10 });
    const got = await client.getManifest({ registry: proxy.host, repository: image!.repository, tag: image!.tag });
    assert.equal(got.digest, image!.digest);
    assert.equal(sha256(got.bytes), image!.digest);
    assert.equal(proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/manifests/')).length, 2, 'the cut GET, then one that completed');
    client.close();
  });

  test('a chunked upload cut between chunks resumes from the offset the registry reports', async () => {
    const MiB = 1024 * 1024;
    const data = randomBytes(4 * MiB + 333);
    const digest = sha256(data);
    // the third PATCH (bytes 2 MiB..3 MiB) is cut before the registry gets any of it
    const proxy = await startProxy(reg.url, { dropOnce: { method: 'PATCH', pathIncludes: '/blobs/uploads/', afterBytes: 0, nth: 3 } });
    stops.push(proxy.stop);
    const client = new RegistryClient({ insecureRegistries: [proxy.host], dockerConfig: false, chunkThreshold: MiB, chunkSize: MiB, retryDelayMs: 10 });
    const opened: number[] = [];
    const result = await client.putBlob({ registry: proxy.host, repository: 'res/up' }, digest, data.length, (offset) => {
      opened.push(offset);
      return Readable.from([data.subarray(offset, offset + 65536), data.subarray(offset + 65536)]);
    });
    assert.equal(result, 'pushed');
    assert.ok(await blobExists(reg, 'res/up', digest));
    assert.deepEqual(opened, [0, 2 * MiB], 'opened again at the offset the registry reported');
    assert.ok(proxy.requests.some((r) => r.method === 'GET' && r.path.includes('/blobs/uploads/') && r.status === 204), 'asked the registry for the upload status');
    assert.deepEqual(
      proxy.requests.filter((r) => r.method === 'PATCH').map((r) => r.contentRange),
      [`0-${MiB - 1}`, `${MiB}-${2 * MiB - 1}`, `${2 * MiB}-${3 * MiB - 1}`, `${2 * MiB}-${3 * MiB - 1}`, `${3 * MiB}-${4 * MiB - 1}`, `${4 * MiB}-${data.length - 1}`],
    );
    // present now: nothing more is sent
    assert.equal(await client.putBlob({ registry: proxy.host, repository: 'res/up' }, digest, data.length, () => assert.fail('not opened')), 'exists');
    client.close();
  });

  test('a chunk cut midway (docker-registry then drops the session) still ends with the blob pushed', async () => {
    const data = randomBytes(3 * 1024 * 1024);
    const digest = sha256(data);
    const proxy = await startProxy(reg.url, { dropOnce: { method: 'PATCH', pathIncludes: '/blobs/uploads/', afterBytes: 1536 * 1024 } });
    stops.push(proxy.stop);
    const client = new RegistryClient({ insecureRegistries: [proxy.host], dockerConfig: false, chunkThreshold: 1024 * 1024, chunkSize: 2 * 1024 * 1024, retryDelayMs: 10 });
    assert.equal(await client.putBlob({ registry: proxy.host, repository: 'res/up2' }, digest, data.length, (offset) => Readable.from([data.subarray(offset)])), 'pushed');
    assert.ok(await blobExists(reg, 'res/up2', digest));
    client.close();
  });

  test('putBlob refuses bytes that do not match the digest, and the registry never gets the blob', async () => {
    const client = new RegistryClient({ insecureRegistries: [reg.host], dockerConfig: false, retryDelayMs: 10 });
    const data = randomBytes(200_000);
    const digest = sha256(Buffer.from('something else'));
    await assert.rejects(
      client.putBlob({ registry: reg.host, repository: 'res/bad' }, digest, data.length, () => Readable.from([data])),
      (err: unknown) => err instanceof RegistryError && err.reason === 'digest' && err.message.includes(digest) && err.message.includes('res/bad'),
    );
    assert.equal(await blobExists(reg, 'res/bad', digest), false);
    client.close();
  });

  test('manifests keep their exact bytes; tags are listed across Link pages; mounts across repositories', async () => {
    const [alpha] = await pushSyntheticImages(reg, { layerSize: 1024 });
    const client = new RegistryClient({ insecureRegistries: [reg.host], dockerConfig: false, tagsPageSize: 2 });
    const ref = { registry: reg.host, repository: alpha!.repository, tag: alpha!.tag };
    const got = await client.getManifest(ref);
    assert.equal(got.digest, alpha!.digest);
    assert.equal(sha256(got.bytes), alpha!.digest);
    assert.deepEqual(await client.headManifest(ref), { mediaType: alpha!.mediaType, digest: alpha!.digest, size: got.bytes.length });
    assert.equal(await client.headManifest({ ...ref, tag: 'nope' }), undefined);
    for (const tag of ['t1', 't2', 't3', 't4']) assert.equal(await client.putManifest({ ...ref, tag }, got.mediaType, got.bytes), alpha!.digest);
    assert.deepEqual((await client.listTags(ref)).sort(), ['t1', 't2', 't3', 't4', 'v1']);
    // same bytes, byte for byte, under the new tag
    assert.deepEqual((await fetchManifest(reg, alpha!.repository, 't3'))!.bytes, got.bytes);
    const layer = alpha!.blobs[3]!;
    assert.equal(await client.putBlob({ registry: reg.host, repository: 'other/repo' }, layer.digest, layer.size, () => assert.fail('a mount sends no bytes'), { mountFrom: alpha!.repository }), 'mounted');
    assert.ok(await client.hasBlob({ registry: reg.host, repository: 'other/repo' }, layer.digest));
    client.close();
  });

  test('5xx and 429 (Retry-After) are retried; a manifest whose bytes do not match its digest is refused', async () => {
    // a registry cannot be told to fail on demand: this tiny server plays one for the status codes only
    const body = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":"sha256:00","size":1},"layers":[]}');
    const statuses = [503, 429, 200];
    let seen = 0;
    const server = createServer((req, res) => {
      const status = statuses[Math.min(seen++, statuses.length - 1)]!;
      const lying = req.url!.includes('/lie/');
      res.writeHead(status, {
        'content-type': 'application/vnd.oci.image.manifest.v1+json',
        ...(status === 429 ? { 'retry-after': '0' } : {}),
        'docker-content-digest': lying ? sha256('other bytes') : sha256(body),
      });
      res.end(status === 200 ? body : '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new RegistryClient({ insecureRegistries: [host], dockerConfig: false, retryDelayMs: 5 });
    const got = await client.getManifest({ registry: host, repository: 'a/b', tag: 't' });
    assert.equal(seen, 3, 'two failures, then the answer');
    assert.equal(got.digest, sha256(body));
    assert.equal(got.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    await assert.rejects(client.getManifest({ registry: host, repository: 'a/lie', tag: 't' }), (err: unknown) => err instanceof RegistryError && err.reason === 'digest' && err.message.includes('a/lie'));
    await assert.rejects(client.getManifest({ registry: host, repository: 'a/b', digest: sha256('wanted') }), (err: unknown) => err instanceof RegistryError && err.reason === 'digest');
    client.close();
  });

  test('plain http only for registries named insecure', async () => {
    const client = new RegistryClient({ dockerConfig: false, retries: 0 });
    await assert.rejects(client.hasBlob({ registry: reg.host, repository: 'a/b' }, sha256('x')), (err: unknown) => err instanceof RegistryError && err.reason === 'tls' && /--insecure-registry/.test(err.message));
    client.close();
  });
});
