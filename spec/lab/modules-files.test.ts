// The files group over real SSH on a lab host: lineinfile/blockinfile/replace (atomic writes
// over the SFTP-backed HostOps), fetch (SFTP getFile), get_url (the host downloads from a
// server on the lab bridge, never off the machine), unarchive (upload + tar), script, slurp.
// Needs root on Linux (the lab is made of namespaces); skipped elsewhere.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { SshConnection } from '../../engine/connection/ssh.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import type { ModuleContext, ModuleDef, ModuleResult } from '../../engine/modules/types.js';
import { FILE_MODULES } from '../../engine/modules/builtin-files.js';
import { tempDir } from '../helpers/cli.js';

const skip = process.platform !== 'linux' ? 'the lab needs Linux' : process.getuid?.() !== 0 ? 'the lab needs root' : false;
const LAB = 'tspfiles';

describe('file modules over SSH on a lab host', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  let conn: SshConnection;
  let server: Server;
  let baseUrl: string;
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const onHost = async (argv: string[]) => labExec(lab.hosts[0]!.name, argv, labOpts());
  const ctx = (check = false): ModuleContext => ({
    host: 'h1',
    conn,
    ops: new HostOps(conn),
    check,
    diff: true,
    vars: {},
    taskPos: { file: path.join(tmp.dir, 'tasks.yml'), line: 1, col: 1 },
    searchPaths: { files: [path.join(tmp.dir, 'files')], templates: [] },
    renderTemplate: (t) => t,
    evaluateCondition: () => true,
    evaluateExpression: () => undefined,
    inventory: undefined as never,
  });
  const run = (name: string, args: Record<string, unknown>, check = false): Promise<ModuleResult> =>
    (FILE_MODULES as ModuleDef[]).find((m) => m.name === name)!.run(args, ctx(check));
  /** check on the fresh state → changed, nothing done; real → changed; again → ok. */
  const converge = async (name: string, args: Record<string, unknown>, probe: string[]) => {
    const before = (await onHost(probe)).stdout;
    const checked = await run(name, args, true);
    assert.equal(checked.changed, true, `${name} check: ${String(checked.msg)}`);
    assert.equal((await onHost(probe)).stdout, before, `${name}: check mode changed nothing`);
    const real = await run(name, args);
    assert.ok(!real.failed, `${name}: ${String(real.msg)}`);
    assert.equal(real.changed, true);
    assert.deepEqual(checked.diff, real.diff, `${name}: check mode predicts the diff`);
    const again = await run(name, args);
    assert.equal(again.changed, false, `${name}: second run ok`);
    return real;
  };

  before(async () => {
    tmp = tempDir('tsplay-labfiles-');
    await labDown(labOpts()).catch(() => {});
    lab = await labUp(1, labOpts());
    conn = new SshConnection('h1', { ansible_host: lab.hosts[0]!.address, ansible_user: 'root', ansible_ssh_private_key_file: lab.privateKeyFile, tsplay_known_hosts_file: lab.knownHostsFile });
    const bridge = lab.subnet.replace(/\.0\/\d+$/, '.1');
    server = createServer((req, res) => (req.url === '/pkg.txt' ? res.end('package\n') : ((res.statusCode = 404), res.end())));
    await new Promise<void>((r) => server.listen(0, bridge, r));
    baseUrl = `http://${bridge}:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await conn?.close();
    server?.close();
    if (lab) await labDown(labOpts());
    tmp.cleanup();
  });

  test('lineinfile, blockinfile and replace converge on the host', async () => {
    await onHost(['sh', '-c', 'mkdir -p /srv/t && printf "a=1\\nlisten 80;\\n" > /srv/t/conf']);
    await converge('lineinfile', { path: '/srv/t/conf', regexp: '^a=', line: 'a=2', mode: '0640' }, ['cat', '/srv/t/conf']);
    await converge('blockinfile', { path: '/srv/t/conf', block: 'x y' }, ['cat', '/srv/t/conf']);
    await converge('replace', { path: '/srv/t/conf', regexp: 'listen (\\d+);', replace: 'listen [::]:\\1;' }, ['cat', '/srv/t/conf']);
    assert.equal((await onHost(['cat', '/srv/t/conf'])).stdout, 'a=2\nlisten [::]:80;\n# BEGIN ANSIBLE MANAGED BLOCK\nx y\n# END ANSIBLE MANAGED BLOCK\n');
    assert.equal((await onHost(['stat', '-c', '%a', '/srv/t/conf'])).stdout.trim(), '640');
  });

  test('fetch over SFTP to the controller, slurp', async () => {
    await onHost(['sh', '-c', 'printf "log\\n" > /srv/t/app.log']);
    const r = await run('fetch', { src: '/srv/t/app.log', dest: path.join(tmp.dir, 'fetched') });
    assert.equal(r.changed, true, String(r.msg));
    assert.equal(readFileSync(path.join(tmp.dir, 'fetched', 'h1', 'srv', 't', 'app.log'), 'utf8'), 'log\n');
    assert.equal((await run('fetch', { src: '/srv/t/app.log', dest: path.join(tmp.dir, 'fetched') })).changed, false);
    assert.equal((await run('slurp', { src: '/srv/t/app.log' })).content, Buffer.from('log\n').toString('base64'));
  });

  test('get_url: the host downloads from the lab bridge', async () => {
    await converge('get_url', { url: `${baseUrl}/pkg.txt`, dest: '/srv/t/pkg.txt', mode: '0600' }, ['sh', '-c', 'ls -la /srv/t; cat /srv/t/pkg.txt 2>/dev/null; true']);
    assert.equal((await onHost(['cat', '/srv/t/pkg.txt'])).stdout, 'package\n');
  });

  test('unarchive a controller tar.gz; script runs and is removed', async () => {
    mkdirSync(path.join(tmp.dir, 'files', 'tree', 'd'), { recursive: true });
    writeFileSync(path.join(tmp.dir, 'files', 'tree', 'd', 'f.txt'), 'in archive\n');
    execFileSync('tar', ['-czf', path.join(tmp.dir, 'files', 'a.tgz'), '-C', path.join(tmp.dir, 'files', 'tree'), '.']);
    writeFileSync(path.join(tmp.dir, 'files', 'hello.sh'), '#!/bin/sh\necho "hello $1" > /srv/t/hello\n');
    await onHost(['mkdir', '-p', '/srv/u']);
    await converge('unarchive', { src: 'a.tgz', dest: '/srv/u' }, ['sh', '-c', 'find /srv/u | sort']);
    assert.equal((await onHost(['cat', '/srv/u/d/f.txt'])).stdout, 'in archive\n');
    const s = await run('script', { _raw_params: 'hello.sh world', creates: '/srv/t/hello' });
    assert.equal(s.changed, true, String(s.msg) + String(s.stderr));
    assert.equal((await onHost(['cat', '/srv/t/hello'])).stdout, 'hello world\n');
    assert.equal((await onHost(['sh', '-c', 'ls /tmp | grep -c tsplay-; true'])).stdout.trim(), '0', 'no temp files left on the host');
  });
});
