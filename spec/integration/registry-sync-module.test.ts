// The registry_sync module against real registries on loopback (Debian's docker-registry): a plain
// http source holding the synthetic images, and a target with TLS (its own CA) and htpasswd, as
// the registry-sync role deploys it. Check mode lists the missing images and pushes nothing; a
// converge copies them with their digests unchanged; a second run changes nothing; a bundle
// (tsplay registry save) loads the same way; the password shows nowhere; bad arguments fail at load.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { makeTempDir } from '../helpers/temp-dir.js';
import { repoRoot } from '../helpers/cli.js';
import { localModuleContext, runModule } from '../helpers/module-context.js';
import { MT, pushSyntheticImages, sha256, registrySkipReason, startRegistry, type SyntheticImage, type TestRegistry } from '../helpers/registry.js';
import { RegistryClient } from '../../engine/registry/client.js';
import { saveBundle } from '../../engine/registry/bundle/save.js';
import type { ModuleResult } from '../../engine/modules/types.js';

const skip = registrySkipReason() ?? (spawnSync('htpasswd', ['-h']).error ? 'needs htpasswd (apache2-utils)' : undefined);
const PASSWORD = 'Target-pw-51c2-"quoted"';

/** GET on a target (TLS with its own CA, htpasswd) with curl: independent of engine/registry. */
function curlGet(reg: TestRegistry, urlPath: string, accept?: string): { status: number; body: Buffer } {
  const out = spawnSync(
    'curl',
    ['-sS', '--cacert', reg.caFile!, '-u', `${reg.credentials!.username}:${reg.credentials!.password}`, ...(accept ? ['-H', `Accept: ${accept}`] : []), '-w', '\n%{http_code}', `${reg.url}${urlPath}`],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(out.status, 0, String(out.stderr));
  const text = out.stdout as Buffer;
  const cut = text.lastIndexOf(0x0a);
  return { status: Number(text.subarray(cut + 1).toString()), body: text.subarray(0, cut) };
}

/** The repositories a registry holds (its catalog). */
function catalog(reg: TestRegistry): string[] {
  return (JSON.parse(curlGet(reg, '/v2/_catalog').body.toString('utf8')) as { repositories: string[] }).repositories;
}

/** sha256 of the manifest bytes a target serves for repo:tag (undefined when it has none). */
function targetDigest(reg: TestRegistry, repository: string, tag: string): string | undefined {
  const got = curlGet(reg, `/v2/${repository}/manifests/${tag}`, [MT.dockerList, MT.ociIndex, MT.dockerManifest, MT.ociManifest].join(', '));
  return got.status === 200 ? sha256(got.body) : undefined;
}

describe('registry_sync module', { skip }, () => {
  let source: TestRegistry;
  let images: SyntheticImage[];
  const targets: TestRegistry[] = [];
  const results: ModuleResult[] = [];

  const newTarget = async () => {
    const reg = await startRegistry({ auth: 'htpasswd', tls: true, users: { pusher: PASSWORD } });
    targets.push(reg);
    return reg;
  };
  const argsFor = (target: TestRegistry, extra: Record<string, unknown> = {}) => ({
    images: images.map((i) => i.listLine),
    source: source.host,
    target: target.host,
    insecure: [source.host],
    ca_file: target.caFile,
    username: 'pusher',
    password: PASSWORD,
    ...extra,
  });
  const run = async (args: Record<string, unknown>, check: boolean, base?: string) => {
    const r = await runModule('registry_sync', args, localModuleContext({ check, diff: true, ...(base ? { base } : {}) }));
    results.push(r);
    return r;
  };

  before(async () => {
    source = await startRegistry({ auth: 'none' });
    images = await pushSyntheticImages(source, { layerSize: 8 * 1024 });
  });
  after(async () => {
    await source?.stop();
    for (const t of targets) await t.stop();
  });

  test('check mode lists the missing images and pushes nothing; converge copies them with their digests; a rerun changes nothing', async () => {
    const target = await newTarget();
    const wanted = images.map((i) => `${target.host}/${i.targetRepository}:${i.tag}`).sort();

    const check = await run(argsFor(target), true);
    assert.equal(check.failed, undefined, String(check.msg));
    assert.equal(check.changed, true);
    assert.deepEqual([...(check.missing as string[])].sort(), wanted);
    assert.deepEqual(check.present, []);
    assert.deepEqual(check.copied, []);
    assert.match(String(check.msg), /5 missing \(would be copied\), 0 present/);
    assert.deepEqual(catalog(target), [], 'check mode pushed something');
    // the diff adds one line an image, with the digest it will have
    assert.equal(check.diff?.length, 1);
    for (const image of images) assert.ok(check.diff![0]!.after.includes(`${target.host}/${image.targetRepository}:${image.tag}@${image.digest}\n`), check.diff![0]!.after);
    assert.equal(check.diff![0]!.before, '');

    const converge = await run(argsFor(target), false);
    assert.equal(converge.failed, undefined, String(converge.msg));
    assert.equal(converge.changed, true);
    assert.deepEqual([...(converge.copied as string[])].sort(), wanted);
    assert.deepEqual(converge.missing, check.missing, 'check mode predicted the images to copy');
    assert.deepEqual(converge.diff, check.diff, 'check mode predicted the diff');
    assert.ok((converge.bytes as number) > 0);
    assert.deepEqual(converge.namespaces, ['rancher']);
    for (const image of images) {
      assert.equal(targetDigest(target, image.targetRepository, image.tag), image.digest, `${image.targetRepository}:${image.tag} has the source's digest`);
    }
    assert.deepEqual((catalog(target)).sort(), [...new Set(images.map((i) => i.targetRepository))].sort());

    const again = await run(argsFor(target), false);
    assert.equal(again.changed, false, String(again.msg));
    assert.equal(again.diff, undefined);
    assert.deepEqual(again.copied, []);
    assert.equal((again.present as string[]).length, images.length);
    const checkAgain = await run(argsFor(target), true);
    assert.equal(checkAgain.changed, false);
    assert.deepEqual(checkAgain.missing, []);
  });

  test('a list file beside the task (files/), one image missing from the source: that one fails, the others are copied', async () => {
    const target = await newTarget();
    const base = makeTempDir('tsplay-regsync-');
    mkdirSync(path.join(base, 'files'));
    writeFileSync(path.join(base, 'files', 'images.txt'), `# two of the synthetic images and one the source lacks\n${images[0]!.listLine}\n${images[2]!.listLine}\nrancher/nowhere:v9\n`);
    const r = await run(argsFor(target, { images: 'images.txt' }), false, base);
    assert.equal(r.failed, true);
    assert.equal(r.changed, true);
    assert.deepEqual([...(r.copied as string[])].sort(), [`${target.host}/${images[0]!.targetRepository}:${images[0]!.tag}`, `${target.host}/${images[2]!.targetRepository}:${images[2]!.tag}`].sort());
    assert.deepEqual((r.failed_images as Array<{ target: string }>).map((f) => f.target), [`${target.host}/rancher/nowhere:v9`]);
    assert.match(String(r.msg), /1 failed, 2 copied, 0 present: .*rancher\/nowhere:v9/);

    const missingFile = await run(argsFor(target, { images: 'absent.txt' }), false, base);
    assert.equal(missingFile.failed, true);
    assert.match(String(missingFile.msg), /Could not find or access 'absent\.txt'/);
    const badLine = path.join(base, 'files', 'bad.txt');
    writeFileSync(badLine, 'rancher/alpha:v1\nUPPER/Case:v1\n');
    const bad = await run(argsFor(target, { images: badLine }), false, base);
    assert.equal(bad.failed, true);
    assert.match(String(bad.msg), new RegExp(`${badLine.replace(/[.]/g, '\\.')}:2:1: `));
  });

  test('a target whose CA is not trusted fails, pointing at ca_file', async () => {
    const target = await newTarget();
    const r = await run(argsFor(target, { ca_file: undefined }), true);
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /TLS failed: .*\(trust its CA with ca_file, or name it with insecure\)/);
  });

  test('wrong credentials fail with the registry named, and the password is nowhere', async () => {
    const target = await newTarget();
    const r = await run(argsFor(target, { password: 'not-the-password-1' }), true);
    assert.equal(r.failed, true);
    assert.match(String(r.msg), new RegExp(target.host.replace(/[.]/g, '\\.')));
    assert.ok(!String(r.msg).includes('not-the-password-1'));
  });

  test('bundle: check mode lists what the target lacks, a load pushes it with the same digests, a second load changes nothing', async () => {
    const target = await newTarget();
    const dir = makeTempDir('tsplay-regsync-bundle-');
    const bundle = path.join(dir, 'images.tar');
    const client = new RegistryClient({ insecureRegistries: [source.host], dockerConfig: false });
    try {
      const saved = await saveBundle({ client, images: images.map((i) => i.listLine), from: source.host, output: bundle, compression: 'none' });
      assert.equal(saved.failed.length, 0);
    } finally {
      client.close();
    }
    const args = { bundle, target: target.host, ca_file: target.caFile, username: 'pusher', password: PASSWORD };
    const check = await run(args, true);
    assert.equal(check.failed, undefined, String(check.msg));
    assert.equal(check.changed, true);
    assert.equal((check.missing as string[]).length, images.length);
    assert.deepEqual(catalog(target), []);

    const load = await run(args, false);
    assert.equal(load.failed, undefined, String(load.msg));
    assert.equal(load.changed, true);
    assert.equal(load.format, 'oci-layout');
    assert.deepEqual([...(load.copied as string[])].sort(), [...(check.missing as string[])].sort());
    assert.deepEqual(load.diff, check.diff, 'check mode predicted the diff');
    for (const image of images) assert.equal(targetDigest(target, image.targetRepository, image.tag), image.digest);

    const again = await run(args, false);
    assert.equal(again.changed, false, String(again.msg));
    assert.equal((again.present as string[]).length, images.length);
  });

  test('the password never appears in a result', () => {
    assert.ok(results.length >= 8);
    for (const r of results) {
      const text = JSON.stringify(r);
      assert.ok(!text.includes(PASSWORD) && !text.includes(JSON.stringify(PASSWORD).slice(1, -1)), text);
    }
  });

  test('bad arguments fail when the playbook loads, naming the task and the argument', () => {
    const dir = makeTempDir('tsplay-regsync-load-');
    const play = (task: string) => {
      writeFileSync(path.join(dir, 'play.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - name: sync\n${task}`);
      return spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot, 'engine/cli/main.ts'), 'run', path.join(dir, 'play.yml'), '--no-retry-files'], {
        cwd: repoRoot,
        encoding: 'utf8',
        env: { ...process.env, NO_COLOR: '1' },
      });
    };
    const noTarget = play('      registry_sync: { images: [busybox], source: docker.io }\n');
    assert.equal(noTarget.status, 4, noTarget.stdout + noTarget.stderr);
    assert.match(noTarget.stdout + noTarget.stderr, /play\.yml:5:\d+.*target/s);
    const badParallel = play('      registry_sync: { images: [busybox], source: docker.io, target: "r:5000", parallel: many }\n');
    assert.equal(badParallel.status, 4);
    assert.match(badParallel.stdout + badParallel.stderr, /parallel/);
    const neither = play('      registry_sync: { target: "r:5000" }\n');
    assert.equal(neither.status, 4, neither.stdout + neither.stderr);
    assert.match(neither.stdout + neither.stderr, /bundle/);
    assert.match(neither.stdout + neither.stderr, /source/);
    const both = play('      registry_sync: { images: [busybox], source: docker.io, bundle: x.tar, target: "r:5000" }\n');
    assert.equal(both.status, 4);
    assert.match(both.stdout + both.stderr, /mutually exclusive: bundle, source/);
  });
});
