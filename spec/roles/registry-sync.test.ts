// The registry-sync role on a one-host lab: h1 (group registry) gets Debian's docker-registry
// from the role, with TLS (a CA and certificate the role generates; the CA is fetched to the
// controller) and htpasswd; the controller is the sync's side: a source registry on its loopback
// holds synthetic images, and the role's registry_sync task copies them to h1's lab address.
// --check --diff on the fresh host predicts the deploy; --check with the image list lists the
// missing images and pushes nothing; the converge copies them with identical digests; the second
// converge changes nothing; the password shows in no output (--diff -vvv, --json); a bad variable
// fails at load naming the role, the variable and the file. Harbor cannot run here: its projects
// are created against a stand-in for the two Harbor API calls the role makes (HEAD and POST
// /api/v2.0/projects) — the plan and the calls are tested, not Harbor.
// Needs root on Linux (the lab) and the Debian packages docker-registry, apache2-utils and
// openssl on the machine (lab hosts see the machine's packages); skipped otherwise.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, tsplayAsync, tempDir, events, repoRoot, type CliResult, recap, hostResults as results } from '../helpers/cli.js';
import { MT, pushSyntheticImages, sha256, startRegistry, type SyntheticImage, type TestRegistry } from '../helpers/registry.js';

const which = (cmd: string) => spawnSync('/bin/sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip =
  process.platform !== 'linux'
    ? 'the lab needs Linux'
    : process.getuid?.() !== 0
      ? 'the lab needs root'
      : !existsSync('/usr/bin/docker-registry') || !which('htpasswd') || !which('openssl') || !which('curl')
        ? 'needs the Debian packages docker-registry, apache2-utils, openssl and curl'
        : false;

const LAB = 'regk';
const PASSWORD = 'Reg-pw-3e9d-"quoted"-\\slash';
const HARBOR_PASSWORD = 'Harbor-admin-pw-77f1';
const VAULT_PASSWORD = 'vault-pw-for-the-registry-spec';

/** A stand-in for Harbor's project API: HEAD /api/v2.0/projects?project_name=X and POST /api/v2.0/projects. */
async function fakeHarbor(user: string, password: string) {
  const projects = new Set<string>(['library']);
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    calls.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.headers.authorization !== `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`) {
      res.writeHead(401).end();
      return;
    }
    if (req.method === 'HEAD' && url.pathname === '/api/v2.0/projects') {
      res.writeHead(projects.has(url.searchParams.get('project_name') ?? '') ? 200 : 404).end();
      return;
    }
    if (req.method === 'POST' && url.pathname === '/api/v2.0/projects') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        const name = (JSON.parse(body) as { project_name: string }).project_name;
        if (projects.has(name)) return void res.writeHead(409).end();
        projects.add(name);
        res.writeHead(201).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    projects,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('registry-sync role on a lab host', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  let source: TestRegistry;
  let images: SyntheticImage[];
  let registry = '';
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const outputs: Array<{ what: string; out: string }> = [];

  const run = (what: string, extra: string[]): CliResult => {
    const r = tsplay(['run', 'site.yml', '-i', lab.inventoryFile, '--vault-password-file', 'vault-pass', '--no-retry-files', ...extra], {
      cwd: tmp.dir,
      env: { TSPLAY_ROLES_PATH: path.join(repoRoot, 'roles') },
    });
    outputs.push({ what, out: r.stdout + r.stderr });
    return r;
  };
  // for runs that talk to a server of this process (the Harbor stand-in): the event loop must stay free
  const runAsync = async (what: string, extra: string[]): Promise<CliResult> => {
    const r = await tsplayAsync(['run', 'site.yml', '-i', lab.inventoryFile, '--vault-password-file', 'vault-pass', '--no-retry-files', ...extra], {
      cwd: tmp.dir,
      env: { TSPLAY_ROLES_PATH: path.join(repoRoot, 'roles') },
    });
    outputs.push({ what, out: r.stdout + r.stderr });
    return r;
  };
  const onHost = async (script: string) => {
    const r = await labExec(lab.hosts[0]!.name, ['sh', '-c', script], { ...labOpts(), timeoutMs: 60_000 });
    return { code: r.code, out: r.stdout + r.stderr };
  };
  const caFile = () => path.join(tmp.dir, 'registry-ca', `${lab.hosts[0]!.name}-ca.crt`);
  /** GET on h1's registry from the controller, with curl: independent of engine/registry. */
  const get = (urlPath: string, opts: { login?: boolean; accept?: string } = {}): { status: number; body: Buffer } => {
    const args = ['-sS', '--cacert', caFile(), '-w', '\n%{http_code}', `https://${registry}${urlPath}`];
    if (opts.login !== false) args.unshift('-u', `pusher:${PASSWORD}`);
    if (opts.accept) args.unshift('-H', `Accept: ${opts.accept}`);
    const out = spawnSync('curl', args, { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(out.status, 0, String(out.stderr));
    const cut = (out.stdout as Buffer).lastIndexOf(0x0a);
    return { status: Number((out.stdout as Buffer).subarray(cut + 1).toString()), body: (out.stdout as Buffer).subarray(0, cut) };
  };
  const catalog = () => (JSON.parse(get('/v2/_catalog').body.toString('utf8')) as { repositories: string[] }).repositories;

  before(async () => {
    tmp = tempDir('tsplay-regsync-role-');
    await labDown(labOpts());
    lab = await labUp(1, { ...labOpts(), groups: ['registry=1'] });
    registry = `${lab.hosts[0]!.address}:5000`;
    source = await startRegistry({ auth: 'none' });
    images = await pushSyntheticImages(source, { layerSize: 8 * 1024 });

    writeFileSync(path.join(tmp.dir, 'vault-pass'), `${VAULT_PASSWORD}\n`, { mode: 0o600 });
    const secrets: string[] = [];
    for (const [name, value] of [
      ['registry_sync_password', PASSWORD],
      ['registry_sync_harbor_password', HARBOR_PASSWORD],
    ] as const) {
      const enc = tsplay(['vault', 'encrypt_string', '--vault-password-file', 'vault-pass', '--name', name, value], { cwd: tmp.dir });
      assert.equal(enc.code, 0, enc.stderr);
      secrets.push(enc.stdout);
    }
    writeFileSync(path.join(tmp.dir, 'secrets.yml'), secrets.join(''));
    writeFileSync(path.join(tmp.dir, 'images.txt'), `# synthetic images on the controller's source registry\n${images.map((i) => i.listLine).join('\n')}\n`);
    writeFileSync(
      path.join(tmp.dir, 'site.yml'),
      [
        '- name: Private registry',
        '  hosts: registry',
        '  vars_files: ["{{ secrets_file | default(\'secrets.yml\') }}"]',
        '  vars:',
        '    registry_sync_deploy: true',
        '    registry_sync_username: pusher',
        `    registry_sync_source: "${source.host}"`,
        '    registry_sync_source_insecure: true',
        '    registry_sync_images_file: "{{ images_file | default(\'\') }}"',
        '    registry_sync_harbor: "{{ harbor_url is defined }}"',
        '    registry_sync_harbor_url: "{{ harbor_url | default(\'\') }}"',
        '    registry_sync_harbor_username: admin',
        '  roles: [registry-sync]',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await source?.stop();
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('--check --diff on the fresh host predicts the deploy; the registry answers with TLS and htpasswd', async () => {
    const h1 = lab.hosts[0]!.name;
    const check = run('deploy --check --diff --json', ['--check', '--diff', '--json']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal((await onHost('test -e /etc/docker/registry/tls/ca.crt')).code, 1, '--check generated a CA');
    assert.ok(!existsSync(caFile()), '--check fetched a CA');

    const converge = run('deploy --diff --json', ['--diff', '--json']);
    assert.equal(converge.code, 0, converge.stdout + converge.stderr);
    const predicted = results(events(check.stdout));
    const happened = results(events(converge.stdout));
    assert.deepEqual([...predicted.keys()], [...happened.keys()], 'the same tasks, hosts and items');
    // what check mode cannot do on a fresh host: fetch a CA not made yet, ask a registry not started yet
    const unknowable = new Set([`${h1} | registry-sync : Copy the CA certificate to the controller | `, `${h1} | registry-sync : Check the registry answers GET /v2/ (200, or 401 asking for a login) | `]);
    for (const [key, real] of happened) {
      const guess = predicted.get(key)!;
      if (unknowable.has(key)) {
        assert.equal(guess.status, 'skipped', key);
        continue;
      }
      assert.equal(guess.status, real.status, `${key}: --check said ${guess.status}, the converge ${real.status}`);
      assert.deepEqual(guess.diff ?? null, real.diff ?? null, `${key}: the diffs differ`);
    }
    const changed = [...happened.values()].filter((e) => e.status === 'changed').map((e) => e.task);
    for (const task of ['Generate the registry\'s CA', 'Generate the registry\'s certificate', 'Set the registry user\'s password (htpasswd, bcrypt)', 'Write the registry\'s configuration', 'Start the registry and enable it at boot', 'Copy the CA certificate to the controller']) {
      assert.ok(changed.includes(`registry-sync : ${task}`), `${task} changed (changed: ${changed.join(', ')})`);
    }
    assert.equal(happened.get(`${h1} | registry-sync : Check the registry answers GET /v2/ (200, or 401 asking for a login) | `)?.status, 'ok');

    // from the controller, over the lab network, verifying the certificate against the fetched CA
    assert.equal(get('/v2/', { login: false }).status, 401);
    assert.equal(get('/v2/').status, 200);
    const wrong = spawnSync('curl', ['-sS', '--cacert', caFile(), '-u', 'pusher:wrong-password', '-o', '/dev/null', '-w', '%{http_code}', `https://${registry}/v2/`], { encoding: 'utf8' });
    assert.equal(wrong.stdout, '401');
    const san = spawnSync('openssl', ['x509', '-noout', '-ext', 'subjectAltName'], { input: (await onHost('cat /etc/docker/registry/tls/server.crt')).out, encoding: 'utf8' });
    assert.match(san.stdout, new RegExp(`IP Address:${lab.hosts[0]!.address.replace(/\./g, '\\.')}`));
    assert.match(san.stdout, new RegExp(`DNS:${h1}`));
    const perms = await onHost('stat -c "%n %U:%G %a" /etc/docker/registry/tls/ca.key /etc/docker/registry/tls/server.key /etc/docker/registry/htpasswd');
    assert.match(perms.out, /ca\.key root:root 600/);
    assert.match(perms.out, /server\.key root:docker-registry 640/);
    assert.match(perms.out, /htpasswd root:docker-registry 640/);
    const htpasswd = await onHost('cat /etc/docker/registry/htpasswd');
    assert.match(htpasswd.out, /^pusher:\$2y\$10\$/);
  });

  test('--check lists the missing images and pushes nothing; the converge copies them with their digests; a rerun changes nothing', () => {
    const h1 = lab.hosts[0]!.name;
    const syncTask = 'registry-sync : Sync the images of the list into the registry';
    const check = run('sync --check --diff --json', ['--check', '--diff', '--json', '-e', 'images_file=images.txt']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const planned = results(events(check.stdout)).get(`${h1} | ${syncTask} | `);
    assert.ok(planned, [...results(events(check.stdout)).keys()].join('\n'));
    assert.equal(planned.status, 'changed');
    const wanted = images.map((i) => `${registry}/${i.targetRepository}:${i.tag}`).sort();
    assert.deepEqual([...planned.result.missing].sort(), wanted);
    for (const image of images) assert.ok(JSON.stringify(planned.diff).includes(`${registry}/${image.targetRepository}:${image.tag}@${image.digest}`));
    assert.deepEqual(catalog(), [], '--check pushed images');

    const converge = run('sync --diff --json', ['--diff', '--json', '-e', 'images_file=images.txt']);
    assert.equal(converge.code, 0, converge.stdout + converge.stderr);
    const done = results(events(converge.stdout)).get(`${h1} | ${syncTask} | `)!;
    assert.equal(done.status, 'changed');
    assert.deepEqual([...done.result.copied].sort(), wanted);
    assert.deepEqual(done.diff, planned.diff, '--check predicted the diff');
    for (const image of images) {
      const got = get(`/v2/${image.targetRepository}/manifests/${image.tag}`, { accept: [MT.dockerList, MT.ociIndex, MT.dockerManifest, MT.ociManifest].join(', ') });
      assert.equal(got.status, 200);
      assert.equal(sha256(got.body), image.digest, `${image.targetRepository}:${image.tag} keeps its digest`);
    }
    assert.equal(recap(events(converge.stdout))[h1]!.changed, 1, 'only the sync changed');

    const again = run('sync rerun --diff -vvv', ['--diff', '-vvv', '-e', 'images_file=images.txt']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`${h1} +: ok=\\d+ +changed=0 `));
    const json = run('sync rerun --json', ['--json', '-e', 'images_file=images.txt']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(recap(events(json.stdout))[h1]!.changed, 0);
  });

  test('Harbor target: --check lists the projects to create; the converge creates only the missing ones, once', async () => {
    const harbor = await fakeHarbor('admin', HARBOR_PASSWORD);
    try {
      const h1 = lab.hosts[0]!.name;
      const extra = ['-e', 'images_file=images.txt', '-e', `harbor_url=${harbor.url}`];
      const check = await runAsync('harbor --check --json', ['--check', '--json', ...extra]);
      assert.equal(check.code, 0, check.stdout + check.stderr);
      const plan = results(events(check.stdout)).get(`${h1} | registry-sync : Projects missing from Harbor (check mode) | `);
      assert.equal(plan?.status, 'changed');
      assert.match(JSON.stringify(plan.result.msg), /would create the Harbor projects: rancher/);
      assert.ok(!harbor.calls.some((c) => c.startsWith('POST')), '--check created a project');

      const converge = await runAsync('harbor converge --json', ['--json', ...extra]);
      assert.equal(converge.code, 0, converge.stdout + converge.stderr);
      assert.deepEqual([...harbor.projects].sort(), ['library', 'rancher']);
      assert.deepEqual(harbor.calls.filter((c) => c.startsWith('POST')), ['POST /api/v2.0/projects']);
      const again = await runAsync('harbor rerun --json', ['--json', ...extra]);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal(recap(events(again.stdout))[h1]!.changed, 0);
      assert.equal(harbor.calls.filter((c) => c.startsWith('POST')).length, 1);
    } finally {
      await harbor.stop();
    }
  });

  test('a port given as "http" fails before anything runs, naming the role, the variable and the file', () => {
    writeFileSync(path.join(tmp.dir, 'bad-port.yml'), `${readFileSync(path.join(tmp.dir, 'secrets.yml'), 'utf8')}registry_sync_port: http\n`);
    const r = run('bad port', ['-e', 'secrets_file=bad-port.yml', '--json']);
    assert.notEqual(r.code, 0);
    const ran = events(r.stdout).filter((e) => e.kind === 'host-result' && e.status !== 'failed');
    assert.deepEqual(ran.map((e) => e.task), [], 'nothing ran on a host');
    const text = r.stdout + r.stderr;
    assert.match(text, /registry-sync/);
    assert.match(text, /registry_sync_port/);
    assert.match(text, /bad-port\.yml/);
    assert.match(text, /int/);
  });

  test('the passwords appear in no output', () => {
    assert.ok(outputs.length >= 8, outputs.map((o) => o.what).join(', '));
    for (const { what, out } of outputs) {
      for (const secret of [PASSWORD, HARBOR_PASSWORD]) {
        for (const form of [secret, JSON.stringify(secret).slice(1, -1)]) {
          const at = out.indexOf(form);
          assert.equal(at, -1, `a password is in the output of ${what}: ...${out.slice(Math.max(0, at - 300), at + 100)}`);
        }
      }
    }
  });
});
