// The nginx-lb role on lab hosts: h1 and h2 (group k3s_servers) run small TCP servers on 80,
// 443 and 6443 that answer their host name; h3 (group loadbalancer) gets NGINX from the role.
// Connections from the controller to h3's ports reach both backends, and only h1 once h2's
// listeners stop; --check --diff on the fresh h3 predicts the first converge; the second
// converge changes nothing; a port given as "http" fails before any task, naming the role,
// the variable and the file. Container mode (no Docker engine here): its check-mode plan.
// Needs root on Linux (the lab is made of namespaces) and the machine's nginx +
// libnginx-mod-stream packages (the lab hosts see the machine's packages); skipped otherwise.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { events, repoRoot, tempDir, tsplay } from '../helpers/cli.js';

const LAB = 'nginxlb';
const PORTS = [80, 443, 6443];
const skip =
  process.platform !== 'linux'
    ? 'the lab needs Linux'
    : process.getuid?.() !== 0
      ? 'the lab needs root'
      : !existsSync('/usr/sbin/nginx') || !existsSync('/usr/lib/nginx/modules/ngx_stream_module.so')
        ? 'needs the Debian packages nginx-light and libnginx-mod-stream'
        : false;

// A backend: one process listening on every port, answering "HOSTNAME:PORT\n" and closing.
const BACKEND = `
import os, socket, threading
name = socket.gethostname()
open('/tmp/lb-backend.pid', 'w').write(str(os.getpid()))
def serve(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    s.listen(64)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(f'{name}:{port}\\n'.encode())
        finally:
            c.close()
ts = [threading.Thread(target=serve, args=(p,), daemon=True) for p in (${PORTS.join(', ')})]
for t in ts: t.start()
for t in ts: t.join()
`;

/** What a TCP client gets from address:port (one line), or the error's code. */
function ask(address: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const sock = net.connect({ host: address, port, timeout: 5000 });
    sock.on('data', (d) => (data += d));
    sock.on('end', () => resolve(data.trim()));
    sock.on('timeout', () => {
      sock.destroy();
      resolve('timeout');
    });
    sock.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
  });
}

/** The host's answers to `rounds` connections on each port, in order. */
async function answers(address: string, rounds: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < rounds; i++) for (const port of PORTS) out.push(await ask(address, port));
  return out;
}

/** Per task name (and item), the status and diffs a run reported for one host, handlers included. */
function outcome(stdout: string, host: string): Map<string, { status: string; diff: string }> {
  const byTask = new Map<string, { status: string; diff: string }>();
  for (const ev of events(stdout)) {
    if (ev.kind !== 'host-result' || ev.host !== host || ev.loopSummary) continue;
    const key = `${ev.task}${ev.item !== undefined ? ` (${ev.item})` : ''}`;
    // the package and container task files share task names: a skipped twin does not hide the one that ran
    if (ev.status === 'skipped' && byTask.has(key)) continue;
    byTask.set(key, { status: ev.status, diff: JSON.stringify(ev.diff ?? []) });
  }
  return byTask;
}

function recapOf(stdout: string, host: string): Record<string, number> {
  const recap = events(stdout).find((ev) => ev.kind === 'recap');
  assert.ok(recap, `no recap in:\n${stdout}`);
  return recap.stats[host];
}

describe('role nginx-lb on lab hosts', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const play = () => path.join(repoRoot, 'roles/nginx-lb/tests/test.yml');
  const run = (args: string[]) => tsplay(['run', ...args, '-i', lab.inventoryFile, '--json'], { cwd: tmp.dir, env: { TSPLAY_ROLES_PATH: path.join(repoRoot, 'roles') } });
  const backends = () => lab.hosts.slice(0, 2);
  const balancer = () => lab.hosts[2]!;

  before(async () => {
    tmp = tempDir('tsplay-nginxlb-');
    await labDown(labOpts()); // a lab of this name left by a killed run would block ours
    lab = await labUp(3, { ...labOpts(), groups: ['k3s_servers=1-2', 'loadbalancer=3'] });
    for (const host of backends()) {
      const put = await labExec(host.name, ['sh', '-c', 'cat > /tmp/lb-backend.py'], { ...labOpts(), input: BACKEND });
      assert.equal(put.code, 0, put.stderr);
      const start = await labExec(host.name, ['sh', '-c', 'setsid python3 /tmp/lb-backend.py </dev/null >/tmp/lb-backend.log 2>&1 &'], labOpts());
      assert.equal(start.code, 0, start.stderr);
    }
    for (const host of backends()) {
      for (let i = 0; i < 50 && (await ask(host.address, 6443)) !== `${host.name}:6443`; i++) await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(await answers(host.address, 1), PORTS.map((p) => `${host.name}:${p}`), `backend ${host.name} is not answering`);
    }
  });
  after(async () => {
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('--check --diff on the fresh balancer predicts the first converge, which balances 80, 443 and 6443 over both backends', async () => {
    const lb = balancer();
    const check = run([play(), '--check', '--diff']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.equal((await labExec(lb.name, ['test', '-e', '/etc/nginx/stream.d/tsplay-lb.conf'], labOpts())).code, 1, '--check wrote the stream config');
    assert.match((await ask(lb.address, 80)), /^error/, '--check started something on port 80');

    const converge = run([play(), '--diff']);
    assert.equal(converge.code, 0, converge.stdout + converge.stderr);
    const predicted = outcome(check.stdout, lb.name);
    const happened = outcome(converge.stdout, lb.name);
    const changedIn = (m: Map<string, { status: string }>) => [...m].filter(([, r]) => r.status === 'changed').map(([k]) => k);
    assert.deepEqual(changedIn(predicted), changedIn(happened), 'check mode predicted other changes');
    assert.ok(changedIn(happened).length >= 4, `expected the first converge to change things: ${changedIn(happened).join(', ')}`);
    for (const task of changedIn(happened)) {
      assert.equal(predicted.get(task)!.diff, happened.get(task)!.diff, `the diff of '${task}' differs between --check and the converge`);
    }
    // the health check ran after the reload, on every listener
    for (const port of PORTS) assert.equal(happened.get(`nginx-lb : Check that each TCP listener answers (${port})`)?.status, 'ok');

    const live = await labExec(lb.name, ['cat', '/etc/nginx/stream.d/tsplay-lb.conf'], labOpts());
    for (const host of backends()) for (const port of PORTS) assert.match(live.stdout, new RegExp(`server ${host.address.replace(/\./g, '\\.')}:${port} max_fails=3 fail_timeout=5s;`));
    const conf = await labExec(lb.name, ['cat', '/etc/nginx/nginx.conf'], labOpts());
    assert.match(conf.stdout, /^worker_processes 4;$/m);
    assert.match(conf.stdout, /^worker_rlimit_nofile 40000;$/m);
    assert.match(conf.stdout, /worker_connections 8192;/);
    assert.equal((await labExec(lb.name, ['nginx', '-t', '-q'], labOpts())).code, 0);

    const got = await answers(lb.address, 6);
    for (const [i, answer] of got.entries()) assert.match(answer, new RegExp(`^${LAB}-h[12]:${PORTS[i % PORTS.length]}$`), `connection ${i}: ${answer}`);
    for (const port of PORTS) {
      const from = new Set(got.filter((a) => a.endsWith(`:${port}`)).map((a) => a.split(':')[0]));
      assert.deepEqual([...from].sort(), backends().map((h) => h.name), `port ${port} was not spread over both backends: ${got.join(' ')}`);
    }
  });

  test('the second converge changes nothing', () => {
    const again = run([play()]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const stats = recapOf(again.stdout, balancer().name);
    assert.equal(stats.changed, 0, `changed tasks: ${[...outcome(again.stdout, balancer().name)].filter(([, r]) => r.status === 'changed').map(([k]) => k).join(', ')}`);
    assert.equal(stats.failed, 0);
  });

  test('with one backend stopped, new connections go to the other', async () => {
    const h2 = backends()[1]!;
    const stop = await labExec(h2.name, ['sh', '-c', 'kill "$(cat /tmp/lb-backend.pid)"'], labOpts());
    assert.equal(stop.code, 0, stop.stderr);
    for (let i = 0; i < 50 && !(await ask(h2.address, 80)).startsWith('error'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await ask(h2.address, 80), 'error ECONNREFUSED');
    const got = await answers(balancer().address, 4);
    assert.deepEqual(got, Array.from({ length: 4 }, () => PORTS.map((p) => `${LAB}-h1:${p}`)).flat());
  });

  test('a changed config is reloaded and its new listener checked; one nginx -t rejects never goes live', async () => {
    const lb = balancer();
    const extra = ['-e', JSON.stringify({ nginx_lb_extra_ports: [{ port: 8443, backend_port: 443 }] })];
    const res = run([play(), ...extra]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const byTask = outcome(res.stdout, lb.name);
    assert.equal(byTask.get('nginx-lb : reload nginx-lb package')?.status, 'changed');
    assert.equal(byTask.get('nginx-lb : Check that each TCP listener answers (8443)')?.status, 'ok');
    assert.equal(await ask(lb.address, 8443), `${LAB}-h1:443`);

    const live = (await labExec(lb.name, ['cat', '/etc/nginx/stream.d/tsplay-lb.conf'], labOpts())).stdout;
    const bad = run([play(), ...extra, '-e', 'nginx_lb_fail_timeout=forever']);
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    const failed = events(bad.stdout).find((ev) => ev.kind === 'host-result' && ev.status === 'failed');
    assert.equal(failed?.task, 'nginx-lb : Write the upstreams and listeners', bad.stdout);
    assert.match(String(failed.result.stderr), /invalid parameter "fail_timeout=forever"/);
    assert.equal((await labExec(lb.name, ['cat', '/etc/nginx/stream.d/tsplay-lb.conf'], labOpts())).stdout, live, 'the rejected config replaced the live one');
    assert.equal(await ask(lb.address, 6443), `${LAB}-h1:6443`);
  });

  test('a port given as "http" fails before any task, naming the role, the variable and the file', async () => {
    const bad = path.join(tmp.dir, 'bad-port.yml');
    writeFileSync(bad, '- hosts: loadbalancer\n  roles:\n    - role: nginx-lb\n      nginx_lb_ports: [80, http, 6443]\n');
    const before = (await labExec(balancer().name, ['stat', '-c', '%Y', '/etc/nginx/stream.d/tsplay-lb.conf'], labOpts())).stdout;
    const res = run([bad]);
    assert.equal(res.code, 2, res.stdout + res.stderr);
    const failure = events(res.stdout).find((ev) => ev.kind === 'host-result' && ev.status === 'failed');
    assert.ok(failure, res.stdout);
    const msg = String(failure.msg ?? failure.result?.msg);
    assert.match(msg, /role 'nginx-lb'/);
    assert.match(msg, /nginx_lb_ports\[1\]: expected a list of int, got 'http'/);
    assert.ok(msg.includes(`${bad}:4:`), msg);
    assert.equal(recapOf(res.stdout, balancer().name).ok, 0, 'a task ran before the arguments were checked');
    const after = (await labExec(balancer().name, ['stat', '-c', '%Y', '/etc/nginx/stream.d/tsplay-lb.conf'], labOpts())).stdout;
    assert.equal(after, before);
  });

  test('container mode: --check shows the docker run that publishes every listener, and touches nothing', async () => {
    const res = run([
      play(), '--check',
      '-e', 'nginx_lb_install=container',
      '-e', 'nginx_lb_container_registry=registry.lab:5000',
      '-e', JSON.stringify({ nginx_lb_extra_ports: [{ port: 9345 }, { port: 53, backend_port: 5353, protocol: 'udp' }] }),
    ]);
    assert.equal(res.code, 0, res.stdout + res.stderr);
    const lb = balancer().name;
    const plan = events(res.stdout).find((ev) => ev.kind === 'host-result' && ev.task === 'nginx-lb : Show the container command');
    assert.ok(plan, res.stdout);
    const cmd = String(plan.result.msg);
    assert.match(cmd, /^docker run -d --label tsplay\.nginx-lb\.spec=\S+ --name nginx-lb --restart unless-stopped /);
    assert.ok(cmd.includes(' -p 80:80 -p 443:443 -p 6443:6443 -p 9345:9345 -p 53:53/udp '), cmd);
    assert.ok(cmd.includes(' -v /etc/nginx-lb/nginx.conf:/etc/nginx/nginx.conf:ro -v /etc/nginx-lb/stream.d:/etc/nginx/stream.d:ro registry.lab:5000/nginx:1.14'), cmd);
    const byTask = outcome(res.stdout, lb);
    assert.equal(byTask.get('nginx-lb : Run the container with every listener published')?.status, 'skipped');
    assert.equal(byTask.get('nginx-lb : Write the upstreams and listeners')?.status, 'changed');
    assert.equal((await labExec(lb, ['test', '-e', '/etc/nginx-lb'], labOpts())).code, 1, '--check created the container config folder');
  });
});
