// `tsplay registry save` / `tsplay registry load` against real registries (Debian's docker-registry
// on loopback): a bundle carries images across an air gap with their digests unchanged; a docker
// save archive (rancher-images.tar.gz) loads as docker load + push would; a damaged bundle is
// refused, naming the blob, before anything is pushed.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { makeTempDir } from '../helpers/temp-dir.js';
import { repoRoot } from '../helpers/cli.js';
import { fetchManifest, MT, pushSyntheticImages, registrySkipReason, sha256, startProxy, startRegistry, type SyntheticImage, type TestRegistry } from '../helpers/registry.js';
import { readTar } from '../../engine/registry/bundle/tar-reader.js';
import { readArchiveBytes } from '../../engine/registry/bundle/compression.js';
import { encodeHeader, padding } from '../../engine/registry/bundle/tar-header.js';

const skip = registrySkipReason() ?? (spawnSync('tar', ['--version']).status !== 0 ? 'needs GNU tar' : undefined);
const hasZstd = spawnSync('zstd', ['--version']).status === 0;

/** The same without blocking the event loop: for runs through an in-process proxy. */
function tsplayAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'engine/cli/main.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', DOCKER_CONFIG: makeTempDir('tsplay-dockercfg-') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The CLI from source (no build needed), as a user runs it. */
function tsplay(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'engine/cli/main.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DOCKER_CONFIG: makeTempDir('tsplay-dockercfg-') },
    timeout: 120_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

async function blobBytes(reg: TestRegistry, repository: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${reg.url}/v2/${repository}/blobs/${digest}`);
  assert.equal(res.status, 200, `blob ${digest} in ${repository}`);
  return Buffer.from(await res.arrayBuffer());
}

async function bundleEntries(file: string): Promise<Array<{ name: string; dataOffset: number; size: number }>> {
  const out: Array<{ name: string; dataOffset: number; size: number }> = [];
  for await (const entry of readTar(readArchiveBytes(file))) out.push({ name: entry.header.name, dataOffset: entry.dataOffset, size: entry.header.size });
  return out;
}

describe('tsplay registry save / load', { skip }, () => {
  let source: TestRegistry;
  let images: SyntheticImage[];
  const registries: TestRegistry[] = [];

  before(async () => {
    source = await startRegistry();
    registries.push(source);
    images = await pushSyntheticImages(source, { layerSize: 48 * 1024 });
  });
  after(async () => {
    await Promise.all(registries.map((r) => r.stop()));
  });

  async function emptyRegistry(): Promise<TestRegistry> {
    const reg = await startRegistry();
    registries.push(reg);
    return reg;
  }

  function writeList(dir: string, lines: string[]): string {
    const file = path.join(dir, 'rancher-images.txt');
    writeFileSync(file, lines.join('\n') + '\n');
    return file;
  }

  test('save then load into an empty registry: every image under the same manifest digest', async () => {
    const dir = makeTempDir('tsplay-bundle-');
    const list = writeList(dir, images.map((i) => i.listLine));
    const bundle = path.join(dir, hasZstd ? 'bundle.tar.zst' : 'bundle.tar.gz');
    const saved = tsplay(['registry', 'save', '--images', list, '--from', source.host, '-o', bundle, '--insecure-registry', source.host]);
    assert.equal(saved.code, 0, saved.stderr + saved.stdout);
    assert.match(saved.stdout, /SAVE RECAP: saved=5 failed=0/);
    const magic = readFileSync(bundle).subarray(0, hasZstd ? 4 : 2);
    assert.deepEqual(magic, hasZstd ? Buffer.from([0x28, 0xb5, 0x2f, 0xfd]) : Buffer.from([0x1f, 0x8b]));

    // an OCI layout, each blob once: every distinct config/layer/manifest digest, no more
    const entries = await bundleEntries(bundle);
    const names = entries.map((e) => e.name);
    assert.ok(names.includes('oci-layout') && names.includes('index.json'), names.join(' '));
    const blobNames = names.filter((n) => n.startsWith('blobs/sha256/') && n.length > 'blobs/sha256/'.length);
    const expected = new Set(images.flatMap((i) => [...i.blobs.map((b) => b.digest), i.digest, ...i.children]).map((d) => `blobs/sha256/${d.slice(7)}`));
    assert.deepEqual(new Set(blobNames), expected);
    assert.equal(blobNames.length, expected.size);

    const target = await emptyRegistry();
    const loaded = tsplay(['registry', 'load', bundle, '--to', target.host, '--insecure-registry', target.host]);
    assert.equal(loaded.code, 0, loaded.stderr + loaded.stdout);
    assert.match(loaded.stdout, /OCI image layout.*5 images/);
    assert.match(loaded.stdout, /LOAD RECAP: loaded=5 failed=0/);
    for (const image of images) {
      const got = await fetchManifest(target, image.targetRepository, image.tag);
      assert.ok(got, `${image.targetRepository}:${image.tag} in the target`);
      assert.equal(got.digest, image.digest, `${image.listLine}: same manifest digest after save + load`);
      for (const child of image.children) assert.equal((await fetchManifest(target, image.targetRepository, child))?.digest, child);
    }
    // the Rancher mapping, as sync: a name without a namespace goes under rancher/
    assert.ok(await fetchManifest(target, 'rancher/busybox', '1.31'));
    assert.match(loaded.stdout, /loaded: busybox:1\.31 -> 127\.0\.0\.1:\d+\/rancher\/busybox:1\.31/);
    // alpha, beta and busybox share layers: sent once, mounted into the other repositories
    assert.match(loaded.stdout, /mounted=[1-9]/);

    // loading again pushes nothing new
    const again = tsplay(['registry', 'load', bundle, '--to', target.host, '--insecure-registry', target.host]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, /pushed=[1-9]/);
  });

  test('--platform keeps one platform of a manifest list: a new, smaller list', async () => {
    const dir = makeTempDir('tsplay-bundle-');
    const multi = images.find((i) => i.repository === 'rancher/multi')!;
    const list = writeList(dir, [multi.listLine]);
    const bundle = path.join(dir, 'multi.tar');
    const saved = tsplay(['registry', 'save', '--images', list, '--from', source.host, '-o', bundle, '--platform', 'linux/arm64', '--insecure-registry', source.host]);
    assert.equal(saved.code, 0, saved.stderr + saved.stdout);
    const target = await emptyRegistry();
    const loaded = tsplay(['registry', 'load', bundle, '--to', target.host, '--insecure-registry', target.host]);
    assert.equal(loaded.code, 0, loaded.stderr + loaded.stdout);
    const got = await fetchManifest(target, 'rancher/multi', 'v3');
    assert.ok(got);
    const index = JSON.parse(got.bytes.toString()) as { manifests: Array<{ digest: string; platform: { architecture: string } }> };
    assert.deepEqual(index.manifests.map((m) => m.platform.architecture), ['arm64']);
    assert.notEqual(got.digest, multi.digest);
    assert.equal(index.manifests[0]!.digest, multi.children[1]);
    // the same list `tsplay registry sync --platform` makes
    const synced = await emptyRegistry();
    const sync = tsplay(['registry', 'sync', '--images', list, '--from', source.host, '--to', synced.host, '--platform', 'linux/arm64', '--insecure-registry', source.host, '--insecure-registry', synced.host]);
    assert.equal(sync.code, 0, sync.stderr + sync.stdout);
    assert.equal((await fetchManifest(synced, 'rancher/multi', 'v3'))?.digest, got.digest);
  });

  test('a bundle with a corrupted blob is refused, naming the blob, and nothing is pushed', async () => {
    const dir = makeTempDir('tsplay-bundle-');
    const alpha = images.find((i) => i.repository === 'rancher/alpha')!;
    const list = writeList(dir, [alpha.listLine]);
    const bundle = path.join(dir, 'alpha.tar');
    const saved = tsplay(['registry', 'save', '--images', list, '--from', source.host, '-o', bundle, '--insecure-registry', source.host]);
    assert.equal(saved.code, 0, saved.stderr + saved.stdout);
    const layer = alpha.blobs[2]!; // a layer of its own
    const entry = (await bundleEntries(bundle)).find((e) => e.name === `blobs/sha256/${layer.digest.slice(7)}`)!;
    assert.ok(entry, 'the layer is in the bundle');
    const fd = openSync(bundle, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, entry.dataOffset + 100);
    byte[0] = byte[0]! ^ 0xff;
    writeSync(fd, byte, 0, 1, entry.dataOffset + 100);
    closeSync(fd);

    const target = await emptyRegistry();
    const loaded = tsplay(['registry', 'load', bundle, '--to', target.host, '--insecure-registry', target.host]);
    assert.equal(loaded.code, 1, loaded.stdout);
    assert.match(loaded.stderr, new RegExp(`blob ${layer.digest} is corrupt`));
    assert.equal(await fetchManifest(target, 'rancher/alpha', 'v1'), undefined);
    const catalog = (await (await fetch(`${target.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, []);
  });

  for (const layout of ['legacy', 'oci'] as const) {
    const what = layout === 'legacy' ? 'docker ≤ 24, as rancher-save-images.sh wrote it' : 'docker ≥ 25: blobs/sha256 and index.json';
    test(`a docker save archive (.tar.gz; ${what}) loads like docker load + push`, async () => {
      const dir = makeTempDir('tsplay-bundle-');
      const archive = buildDockerSaveArchive(dir, { layout });
      const target = await emptyRegistry();
      const loaded = tsplay(['registry', 'load', archive.file, '--to', target.host, '--insecure-registry', target.host]);
      assert.equal(loaded.code, 0, loaded.stderr + loaded.stdout);
      assert.match(loaded.stdout, /docker save archive \(gzip\), 2 images/);
      const layerDigests: Record<string, string[]> = {};
      for (const image of archive.images) {
        const got = await fetchManifest(target, image.targetRepository, image.tag);
        assert.ok(got, `${image.targetRepository}:${image.tag}`);
        const manifest = JSON.parse(got.bytes.toString()) as { mediaType: string; config: { digest: string; mediaType: string }; layers: Array<{ digest: string; mediaType: string; size: number }> };
        assert.equal(manifest.mediaType, MT.dockerManifest);
        // the config is the saved one, byte for byte: its digest is the image ID docker showed
        assert.equal(manifest.config.digest, image.configDigest);
        assert.equal(manifest.config.mediaType, MT.dockerConfig);
        assert.deepEqual(await blobBytes(target, image.targetRepository, manifest.config.digest), image.config);
        // layers: gzip-compressed; the registry's bytes hash to the layer digest, and unpack to the diff_id
        assert.equal(manifest.layers.length, image.diffIds.length);
        for (const [i, layer] of manifest.layers.entries()) {
          assert.equal(layer.mediaType, MT.dockerLayer);
          const bytes = await blobBytes(target, image.targetRepository, layer.digest);
          assert.equal(sha256(bytes), layer.digest);
          assert.equal(bytes.length, layer.size);
          assert.equal(sha256(gunzipSync(bytes)), image.diffIds[i]);
        }
        layerDigests[image.tag] = manifest.layers.map((l) => l.digest);
      }
      // the layer both images share is compressed once: one digest for both
      assert.equal(layerDigests['1.31']![0], layerDigests['v1']![0]);
    });
  }

  test('a docker save archive whose layer does not match its diff_id is refused, naming the layer', async () => {
    const dir = makeTempDir('tsplay-bundle-');
    const archive = buildDockerSaveArchive(dir, { corruptLayerOf: 'busybox' });
    const target = await emptyRegistry();
    const loaded = tsplay(['registry', 'load', archive.file, '--to', target.host, '--insecure-registry', target.host]);
    assert.equal(loaded.code, 1, loaded.stdout);
    assert.match(loaded.stderr, /layer [0-9a-f]{64}\/layer\.tar is corrupt: its content hashes to sha256:[0-9a-f]{64}, but the image config says sha256:/);
    const catalog = (await (await fetch(`${target.url}/v2/_catalog`)).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, []);
  });

  test('a blob that arrives damaged stops the save, names the blob, and leaves no half-written bundle', async () => {
    const dir = makeTempDir('tsplay-bundle-');
    const alpha = images.find((i) => i.repository === 'rancher/alpha')!;
    const layer = alpha.blobs[3]!;
    const proxy = await startProxy(source.url, { corruptBlobs: [layer.digest] });
    try {
      const list = writeList(dir, [alpha.listLine]);
      const bundle = path.join(dir, 'alpha.tar.gz');
      const saved = await tsplayAsync(['registry', 'save', '--images', list, '--from', proxy.host, '-o', bundle, '--insecure-registry', proxy.host]);
      assert.equal(saved.code, 1, saved.stdout);
      assert.match(saved.stderr, new RegExp(`blob ${layer.digest}`));
      assert.equal(existsSync(bundle), false);
    } finally {
      await proxy.stop();
    }
  });

  test('an image missing from the source is reported, the others are saved (exit 2)', async () => {
    const dir = makeTempDir('tsplay-bundle-');
    const list = writeList(dir, ['busybox:1.31', 'rancher/nope:v0']);
    const bundle = path.join(dir, 'partial.tar');
    const saved = tsplay(['registry', 'save', '--images', list, '--from', source.host, '-o', bundle, '--insecure-registry', source.host]);
    assert.equal(saved.code, 2, saved.stderr + saved.stdout);
    assert.match(saved.stdout, /FAILED: rancher\/nope:v0/);
    assert.match(saved.stdout, /SAVE RECAP: saved=1 failed=1/);
    const names = (await bundleEntries(bundle)).map((e) => e.name);
    assert.ok(names.includes('index.json'));
  });
});

/** One layer tar: what `docker save` puts in <id>/layer.tar (uncompressed). */
function layerTar(files: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    parts.push(encodeHeader({ name, size: data.length, type: 'file', mode: 0o644, mtime: 1_700_000_000 }), data, Buffer.alloc(padding(data.length)));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/**
 * A `docker save busybox:1.31 rancher/app:v1 | gzip` archive in the format docker ≤ 24 writes
 * (daemon/tarexport "legacy" layout, what rancher-save-images.sh produced for Rancher v2.3):
 *   <v1id>/VERSION ("1.0"), <v1id>/json (the v1 compatibility config), <v1id>/layer.tar (the
 *   uncompressed layer), one dir a layer of each image; a layer already written for another image
 *   is a symlink `<v1id>/layer.tar -> ../<first v1id>/layer.tar`, as tarexport's saveLayer does;
 *   <config sha256 hex>.json (the image config, whose sha256 is the image ID; rootfs.diff_ids are
 *   the layer.tar digests); manifest.json `[{Config, RepoTags, Layers}]`; repositories
 *   `{name: {tag: top v1id}}`. docker tars that directory in lexical order (filepath.Walk).
 * layout 'oci' is what docker ≥ 25 writes: an OCI image layout (oci-layout; index.json naming
 *   each image with io.containerd.image.name and org.opencontainers.image.ref.name; blobs/sha256/
 *   holding configs, uncompressed layer tars — each once — and OCI manifests whose layers are
 *   application/vnd.oci.image.layer.v1.tar) plus the same manifest.json and repositories, whose
 *   Config and Layers paths are blobs/sha256/<hex>.
 * The two images share their first layer.
 */
function buildDockerSaveArchive(dir: string, opts: { corruptLayerOf?: string; layout?: 'legacy' | 'oci' } = {}) {
  const oci = opts.layout === 'oci';
  const blob = (bytes: Buffer): string => {
    mkdirSync(path.join(root, 'blobs/sha256'), { recursive: true });
    const name = `blobs/sha256/${sha256(bytes).slice(7)}`;
    writeFileSync(path.join(root, name), bytes);
    return name;
  };
  const indexEntries: unknown[] = [];
  const root = path.join(dir, 'docker-save');
  mkdirSync(root);
  const shared = layerTar({ 'bin/busybox': randomBytes(40_000) });
  const specs = [
    { name: 'busybox', tag: '1.31', targetRepository: 'rancher/busybox', layers: [shared, layerTar({ 'etc/passwd': Buffer.from('root:x:0:0::/root:/bin/sh\n') })] },
    { name: 'rancher/app', tag: 'v1', targetRepository: 'rancher/app', layers: [shared, layerTar({ 'app/data.bin': randomBytes(70_000) }), layerTar({ 'app/empty': Buffer.alloc(0) })] },
  ];
  const written = new Map<string, string>(); // diff_id → "<v1id>/layer.tar"
  const manifest: Array<{ Config: string; RepoTags: string[]; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  const images = specs.map((spec) => {
    const diffIds = spec.layers.map((l) => sha256(l));
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Cmd: ['sh'], Env: ['PATH=/usr/bin:/bin'] },
        created: '2020-03-01T00:00:00Z',
        history: spec.layers.map(() => ({ created: '2020-03-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file' })),
        rootfs: { type: 'layers', diff_ids: diffIds },
      }),
    );
    const configDigest = sha256(config);
    const layerPaths: string[] = [];
    if (oci) {
      const configPath = blob(config);
      for (const layer of spec.layers) layerPaths.push(blob(layer));
      const ociManifest = Buffer.from(JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: configDigest, size: config.length },
        layers: spec.layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha256(l), size: l.length })),
      }));
      blob(ociManifest);
      const fullName = spec.name.includes('/') ? `docker.io/${spec.name}:${spec.tag}` : `docker.io/library/${spec.name}:${spec.tag}`;
      indexEntries.push({ mediaType: MT.ociManifest, digest: sha256(ociManifest), size: ociManifest.length, annotations: { 'io.containerd.image.name': fullName, 'org.opencontainers.image.ref.name': spec.tag } });
      manifest.push({ Config: configPath, RepoTags: [`${spec.name}:${spec.tag}`], Layers: layerPaths });
      (repositories[spec.name] ??= {})[spec.tag] = configDigest.slice(7);
      return { tag: spec.tag, targetRepository: spec.targetRepository, config, configDigest, diffIds };
    }
    writeFileSync(path.join(root, `${configDigest.slice(7)}.json`), config);
    let parent = '';
    for (const [i, layer] of spec.layers.entries()) {
      // v1 IDs are a chain: a hash of the parent and the layer, so a shared layer gets a new dir
      const v1id = createHash('sha256').update(`${parent} ${diffIds[i]} ${spec.name}`).digest('hex');
      const layerDir = path.join(root, v1id);
      mkdirSync(layerDir);
      writeFileSync(path.join(layerDir, 'VERSION'), '1.0');
      writeFileSync(path.join(layerDir, 'json'), JSON.stringify({ id: v1id, ...(parent ? { parent } : {}), created: '2020-03-01T00:00:00Z' }));
      const first = written.get(diffIds[i]!);
      if (first) symlinkSync(`../${first}`, path.join(layerDir, 'layer.tar'));
      else {
        const bytes = Buffer.from(layer);
        if (opts.corruptLayerOf === spec.name && i === spec.layers.length - 1) bytes[600] = bytes[600]! ^ 0xff;
        writeFileSync(path.join(layerDir, 'layer.tar'), bytes);
        written.set(diffIds[i]!, `${v1id}/layer.tar`);
      }
      layerPaths.push(`${v1id}/layer.tar`);
      parent = v1id;
    }
    manifest.push({ Config: `${configDigest.slice(7)}.json`, RepoTags: [`${spec.name}:${spec.tag}`], Layers: layerPaths });
    (repositories[spec.name] ??= {})[spec.tag] = parent;
    return { tag: spec.tag, targetRepository: spec.targetRepository, config, configDigest, diffIds };
  });
  if (oci) {
    writeFileSync(path.join(root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(path.join(root, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: indexEntries }));
  }
  writeFileSync(path.join(root, 'manifest.json'), JSON.stringify(manifest));
  writeFileSync(path.join(root, 'repositories'), JSON.stringify(repositories));
  const file = path.join(dir, 'rancher-images.tar.gz');
  const r = spawnSync('tar', ['-czf', file, '--sort=name', '--owner=0', '--group=0', '-C', root, ...readdirSync(root).sort()], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return { file, images };
}
