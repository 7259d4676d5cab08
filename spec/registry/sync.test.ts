// `tsplay registry sync` against real registries (Debian's docker-registry on 127.0.0.1): digests
// unchanged, each blob once, nothing re-sent on a second run or after a kill, corrupt blobs refused,
// token/htpasswd/TLS auth, and no secret in any output. Requests are counted by a recording proxy.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/cli.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import {
  blobExists,
  fetchManifest,
  pushBulkImages,
  pushSyntheticImages,
  registrySkipReason,
  startProxy,
  startRegistry,
  type SyntheticImage,
  type TestProxy,
  type TestRegistry,
} from '../helpers/registry.js';
import { startTokenServer } from '../helpers/token-server.js';

const skip = registrySkipReason() ?? false;
const mainTs = path.join(repoRoot, 'engine/cli/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI from source, asynchronously: the proxies live in this process and must keep serving. */
function sync(args: string[], opts: { killWhen?: () => boolean } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', mainTs, 'registry', 'sync', ...args], {
      cwd: repoRoot,
      env: { ...process.env, NO_COLOR: '1', DOCKER_CONFIG: path.join(work, 'no-docker-config') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timer: NodeJS.Timeout | undefined;
    if (opts.killWhen) {
      timer = setInterval(() => {
        if (opts.killWhen!()) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 5);
    }
    child.on('close', (code) => {
      if (timer) clearInterval(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function listFile(name: string, images: SyntheticImage[]): string {
  const file = path.join(work, name);
  writeFileSync(file, '# test list\n' + images.map((i) => i.listLine).join('\n') + '\n');
  return file;
}

const writes = (requests: TestProxy['requests']) => requests.filter((r) => r.method !== 'GET' && r.method !== 'HEAD');

async function assertCopied(target: { url: string; credentials?: { username: string; password: string } }, images: SyntheticImage[], prefix = ''): Promise<void> {
  for (const image of images) {
    const repo = prefix + image.targetRepository;
    const got = await fetchManifest(target, repo, image.tag);
    assert.ok(got, `${repo}:${image.tag} is in the target`);
    assert.equal(got.digest, image.digest, `${repo}:${image.tag} keeps its digest`);
    for (const child of image.children) assert.ok(await fetchManifest(target, repo, child), `${repo}@${child} (a list entry) is in the target`);
    for (const blob of image.blobs) assert.ok(await blobExists(target, repo, blob.digest), `blob ${blob.digest} is in ${repo}`);
  }
}

let work: string;
let source: TestRegistry;
let images: SyntheticImage[];
const stops: Array<() => Promise<void>> = [];

describe('tsplay registry sync', { skip }, () => {
  before(async () => {
    work = makeTempDir('tsplay-sync-');
    source = await startRegistry();
    stops.push(source.stop);
    images = await pushSyntheticImages(source);
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
  });

  const common = () => ['--from', source.host, '--insecure-registry', source.host];

  test('copies every image with identical digests, mounts shared blobs, and a second sync sends no blob', async () => {
    const target = await startRegistry();
    stops.push(target.stop);
    const proxy = await startProxy(target.url);
    stops.push(proxy.stop);
    const list = listFile('all.txt', images);
    const first = await sync(['--images', list, ...common(), '--to', proxy.host, '--insecure-registry', proxy.host, '--json', '--parallel', '3']);
    assert.equal(first.code, 0, first.stderr + first.stdout);
    const report = JSON.parse(first.stdout.trim().split('\n').pop()!);
    assert.equal(report.event, 'report');
    assert.equal(report.copied, 5);
    assert.equal(report.failed, 0);
    // alpha shares a layer with beta and another with busybox: each goes over the wire once, then is mounted
    assert.equal(report.blobs.mounted, 2);
    const uniqueBlobs = new Set(images.flatMap((i) => i.blobs.map((b) => b.digest)));
    assert.equal(report.blobs.pushed, uniqueBlobs.size);
    assert.deepEqual(new Set(proxy.committedBlobs()).size, proxy.committedBlobs().length, 'no blob committed twice');
    // the existence check of a blob is made once per target repository (not again inside the upload)
    const repoBlobs = new Set(images.flatMap((i) => i.blobs.map((b) => `${i.targetRepository}@${b.digest}`)));
    assert.equal(proxy.requests.filter((r) => r.method === 'HEAD' && r.path.includes('/blobs/')).length, repoBlobs.size, 'one blob HEAD per repository and blob');
    await assertCopied(target, images);

    const mark = proxy.requests.length;
    const second = await sync(['--images', list, ...common(), '--to', proxy.host, '--insecure-registry', proxy.host]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /SYNC RECAP: copied=0 already-present=5 failed=0/);
    assert.deepEqual(writes(proxy.requests.slice(mark)), [], 'the second sync writes nothing');
    assert.equal(proxy.requests.slice(mark).filter((r) => r.path.includes('/blobs/')).length, 0, 'not even a blob HEAD');
    // the whole warm check against the target: one HEAD of each tag (its digest is compared with the source's)
    assert.deepEqual(
      proxy.requests.slice(mark).map((r) => `${r.method} ${r.path}`).sort(),
      images.map((i) => `HEAD /v2/${i.targetRepository}/manifests/${i.tag}`).sort(),
    );
  });

  test('--platform keeps one platform of a manifest list: a new list, and says so', async () => {
    const target = await startRegistry();
    stops.push(target.stop);
    const lists = images.filter((i) => i.children.length > 0);
    const run = await sync(['--images', listFile('lists.txt', lists), ...common(), '--to', target.host, '--insecure-registry', target.host, '--platform', 'linux/amd64']);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    for (const image of lists) {
      const got = await fetchManifest(target, image.targetRepository, image.tag);
      assert.ok(got);
      assert.notEqual(got.digest, image.digest, 'a filtered list is a new list');
      const manifests = (JSON.parse(got.bytes.toString()) as { manifests: Array<{ digest: string; platform: { architecture: string } }> }).manifests;
      assert.deepEqual(manifests.map((m) => m.platform.architecture), ['amd64']);
      assert.match(run.stdout, new RegExp(`filtered by platform from ${image.digest}`));
      // the other platform's manifest was not copied
      const other = image.children.find((c) => c !== manifests[0]!.digest)!;
      assert.equal(await fetchManifest(target, image.targetRepository, other), undefined);
    }
  });

  test('--dry-run lists what would move and writes nothing', async () => {
    const target = await startRegistry();
    stops.push(target.stop);
    const proxy = await startProxy(target.url);
    stops.push(proxy.stop);
    const run = await sync(['--images', listFile('dry.txt', images), ...common(), '--to', proxy.host, '--insecure-registry', proxy.host, '--dry-run']);
    assert.equal(run.code, 0, run.stderr);
    for (const image of images) assert.match(run.stdout, new RegExp(`would copy: ${source.host}/${image.repository}:${image.tag} -> ${proxy.host}/${image.targetRepository}:${image.tag}`));
    assert.match(run.stdout, /would copy: .*rancher\/alpha:v1 \(4 blobs missing\)/);
    assert.match(run.stdout, /dry run: nothing was copied/);
    assert.deepEqual(writes(proxy.requests), []);
  });

  test('a sync killed midway and restarted finishes without re-sending completed blobs', async () => {
    const big = await pushBulkImages(source, { count: 4, layers: 3, layerSize: 512 * 1024, namespace: 'big' });
    const target = await startRegistry();
    stops.push(target.stop);
    const slow = await startProxy(target.url, { bytesPerSecond: 2 * 1024 * 1024 });
    stops.push(slow.stop);
    const list = listFile('big.txt', big);
    const killed = await sync(['--images', list, ...common(), '--to', slow.host, '--insecure-registry', slow.host, '--parallel', '1'], {
      killWhen: () => slow.committedBlobs().length >= 3,
    });
    assert.notEqual(killed.code, 0, 'the first run was killed');
    const done = new Set(slow.committedBlobs());
    assert.ok(done.size >= 3 && done.size < 16, `killed midway (${done.size} of 16 blobs committed)`);

    const fast = await startProxy(target.url);
    stops.push(fast.stop);
    const rerun = await sync(['--images', list, ...common(), '--to', fast.host, '--insecure-registry', fast.host]);
    assert.equal(rerun.code, 0, rerun.stderr + rerun.stdout);
    const resent = fast.committedBlobs().filter((d) => done.has(d));
    assert.deepEqual(resent, [], 'no completed blob is sent again');
    const sizes = new Map(big.flatMap((i) => i.blobs.map((b) => [b.digest, b.size] as const)));
    const expectedBytes = [...sizes].filter(([d]) => !done.has(d)).reduce((sum, [, size]) => sum + size, 0);
    const blobBytes = fast.requests.filter((r) => r.path.includes('/blobs/uploads/')).reduce((sum, r) => sum + r.bytesIn, 0);
    assert.equal(blobBytes, expectedBytes, 'the restart sends exactly the blobs the first run had not finished');
    await assertCopied(target, big);
  });

  test('a blob that does not match its digest is refused, reported, and never pushed', async () => {
    const alpha = images.find((i) => i.repository === 'rancher/alpha')!;
    const bad = alpha.blobs[3]!.digest; // alpha's own layer (not shared)
    const corrupting = await startProxy(source.url, { corruptBlobs: [bad] });
    stops.push(corrupting.stop);
    const target = await startRegistry();
    stops.push(target.stop);
    const run = await sync(['--images', listFile('corrupt.txt', images), '--from', corrupting.host, '--insecure-registry', corrupting.host, '--to', target.host, '--insecure-registry', target.host]);
    assert.equal(run.code, 2, run.stderr + run.stdout);
    assert.match(run.stdout, new RegExp(`FAILED: ${corrupting.host}/rancher/alpha:v1 -> .*blob ${bad} of ${corrupting.host}/rancher/alpha: .*does not match its digest`));
    assert.match(run.stdout, /SYNC RECAP: copied=4 already-present=0 failed=1/);
    assert.equal(await blobExists(target, 'rancher/alpha', bad), false, 'the corrupt blob is not in the target');
    assert.equal(await fetchManifest(target, 'rancher/alpha', 'v1'), undefined);
  });

  test('token auth works with docker config.json credentials; wrong ones fail clearly; no secret is printed', async () => {
    const password = 'Tok3n-Pass-71f3';
    const tokens = await startTokenServer({ users: { alice: password } });
    stops.push(tokens.stop);
    const target = await startRegistry({ auth: 'token', tokenServer: tokens, users: { alice: password } });
    stops.push(target.stop);
    const config = (pass: string) => {
      const dir = makeTempDir('tsplay-docker-config-');
      const file = path.join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ auths: { [target.host]: { auth: Buffer.from(`alice:${pass}`).toString('base64') } } }));
      return file;
    };
    const some = images.filter((i) => i.repository !== 'busybox').slice(0, 2);
    const args = ['--images', listFile('token.txt', some), ...common(), '--to', target.host, '--insecure-registry', target.host];
    const ok = await sync([...args, '--docker-config', config(password)]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.ok(tokens.issued.length > 0, 'tokens were issued');
    await assertCopied(target, some);

    const wrong = await sync([...args, '--docker-config', config('not-the-password')]);
    assert.equal(wrong.code, 2);
    assert.match(wrong.stdout, /the token server refused the credentials from .*config\.json/);
    const none = await sync(args);
    assert.equal(none.code, 2);
    assert.match(none.stdout, /requires authentication and no credentials are known for it/);

    const output = [ok, wrong, none].map((r) => r.stdout + r.stderr).join('\n');
    for (const secret of [password, 'not-the-password', Buffer.from(`alice:${password}`).toString('base64'), ...tokens.issued.map((t) => t.split('.')[2]!)]) {
      assert.ok(!output.includes(secret), 'no password, auth string or token in the output');
    }
  });

  test('htpasswd (Basic) over TLS: trusted with --ca-file, refused with a hint without it', async () => {
    const password = 'Basic-Pass-93a1';
    const target = await startRegistry({ auth: 'htpasswd', tls: true, users: { bob: password } });
    stops.push(target.stop);
    const dir = makeTempDir('tsplay-docker-config-');
    const config = path.join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ auths: { [`https://${target.host}`]: { username: 'bob', password } } }));
    const one = images.slice(0, 1);
    const args = ['--images', listFile('tls.txt', one), ...common(), '--to', target.host, '--docker-config', config];
    const untrusted = await sync(args);
    assert.equal(untrusted.code, 2);
    assert.match(untrusted.stdout, /TLS failed: .*--ca-file/);
    const ok = await sync([...args, '--ca-file', target.caFile!]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /copied=1/);
    assert.ok(!(untrusted.stdout + untrusted.stderr + ok.stdout + ok.stderr).includes(password));
  });
});
