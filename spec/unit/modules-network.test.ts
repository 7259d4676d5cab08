// The network/waiting/facts/control modules on the local host: wait_for, ping, setup, uri
// (against a tiny HTTP server on 127.0.0.1), pause, include_vars, add_host, group_by; bad
// arguments fail at load with file:line; add_host/group_by end to end through the CLI.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalConnection } from '../../engine/connection/local.js';
import { HostOps } from '../../engine/connection/host-ops.js';
import type { ModuleContext, ModuleResult } from '../../engine/modules/types.js';
import { lookupModule, moduleNames } from '../../engine/modules/registry.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import { InventoryModel } from '../../engine/inventory/inventory.js';
import { parseFacts, factProbeScript } from '../../engine/run/facts.js';
import { subsetsFor, filterFacts } from '../../engine/modules/setup.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { tsplay, events } from '../helpers/cli.js';

function context(opts: { check?: boolean; base?: string; inventory?: InventoryModel; host?: string; facts?: Record<string, unknown> } = {}): ModuleContext {
  const conn = new LocalConnection('localhost');
  const base = opts.base ?? makeTempDir('tsplay-net-');
  return {
    host: opts.host ?? 'localhost',
    conn,
    ops: new HostOps(conn),
    check: opts.check ?? false,
    diff: true,
    vars: {},
    taskPos: { file: join(base, 'tasks', 'main.yml'), line: 1, col: 1 },
    searchPaths: { files: [join(base, 'files'), base], templates: [join(base, 'templates'), base] },
    renderTemplate: (text) => text,
    evaluateCondition: () => true,
    evaluateExpression: () => undefined,
    inventory: opts.inventory ?? new InventoryModel(),
    ...(opts.facts ? { facts: opts.facts } : {}),
  };
}

async function run(name: string, args: Record<string, unknown>, ctx: ModuleContext = context()): Promise<ModuleResult> {
  const def = lookupModule(name);
  assert.ok(def, `module ${name} is registered`);
  return def.run(args, ctx);
}

/** A free TCP port on 127.0.0.1 (listen on 0, close). */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('registry', () => {
  test('every module of the group resolves by its name and ansible.builtin. name', () => {
    for (const name of ['wait_for', 'wait_for_connection', 'uri', 'ping', 'setup', 'pause', 'include_vars', 'add_host', 'group_by']) {
      assert.ok(moduleNames().includes(name), name);
      assert.equal(lookupModule(`ansible.builtin.${name}`), lookupModule(name));
    }
  });
});

describe('bad arguments fail at load with file:line', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['wait_for', 'wait_for: { port: 80, state: running }', /state/],
    ['wait_for', 'wait_for: { port: 80, bogus: 1 }', /bogus/],
    ['uri', 'uri: { method: GET }', /url/],
    ['uri', 'uri: { url: "http://x", body_format: xml }', /body_format/],
    ['setup', 'setup: { gather_subset: [hardwar] }', /gather_subset/],
    ['include_vars', 'include_vars: { name: x }', /file|dir|_raw_params|one of/],
    ['group_by', 'group_by: { parents: [a] }', /key/],
    ['add_host', 'add_host: { groups: web }', /name|hostname|host/],
    ['pause', 'pause: { seconds: 1, minutes: 1 }', /pause|seconds|minutes|must NOT/],
    ['wait_for_connection', 'wait_for_connection: { retries: 3 }', /retries/],
  ];
  for (const [name, task, pattern] of cases) {
    test(`${name}: ${task}`, () => {
      const dir = makeTempDir('tsplay-net-load-');
      const file = join(dir, 'play.yml');
      writeFileSync(file, `- hosts: localhost\n  tasks:\n    - name: t\n      ${task}\n`);
      assert.throws(
        () => loadPlaybook(file, { lookupModule, moduleNames: moduleNames() }),
        (err: Error & { pos?: { file: string; line: number } }) => {
          assert.match(err.message, pattern);
          assert.equal(err.pos?.file, file);
          assert.equal(err.pos?.line, 4);
          return true;
        },
      );
    });
  }
  test('good arguments load', () => {
    const dir = makeTempDir('tsplay-net-load-');
    const file = join(dir, 'play.yml');
    writeFileSync(
      file,
      `- hosts: localhost\n  tasks:\n    - wait_for: port=22 timeout=1\n    - uri: { url: "http://127.0.0.1/", status_code: [200, 201] }\n    - setup: { gather_subset: "!all,network", filter: "ansible_default_ipv4" }\n    - include_vars: vars.yml\n    - add_host: { name: x, groups: [web], role: db }\n    - group_by: { key: "os_x" }\n    - ping:\n    - pause: { seconds: 0 }\n    - wait_for_connection: { timeout: 5 }\n`,
    );
    assert.equal(loadPlaybook(file, { lookupModule, moduleNames: moduleNames() }).plays[0]!.tasks.length, 9);
  });
});

describe('wait_for (checked on the host)', () => {
  test('a port that is listening: ok at once, never changed; check mode the same', async () => {
    // the probe may reset the connection: not the server's error
    const srv = net.createServer((s) => s.on('error', () => undefined).end('SSH-2.0-fake banner 42\n'));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const res = await run('wait_for', { port, timeout: 5 });
      assert.equal(res.failed, undefined, String(res.msg));
      assert.equal(res.changed, false);
      assert.equal(res.port, port);
      const checked = await run('wait_for', { port, timeout: 5 }, context({ check: true }));
      assert.equal(checked.failed, undefined);
      const banner = await run('wait_for', { port, timeout: 5, search_regex: 'banner (?P<n>\\d+)' });
      assert.equal(banner.failed, undefined, String(banner.msg));
      assert.deepEqual(banner.match_groups, ['42']);
      assert.deepEqual(banner.match_groupdict, { n: '42' });
    } finally {
      srv.close();
    }
  });

  test('a closed port: fails after the timeout with Ansible message, or the custom msg', async () => {
    const port = await freePort();
    const start = Date.now();
    const res = await run('wait_for', { port, timeout: 2, sleep: 1 });
    assert.equal(res.failed, true);
    assert.equal(res.msg, `Timeout when waiting for 127.0.0.1:${port}`);
    assert.ok(Date.now() - start >= 1500 && Date.now() - start < 8000, `bounded by timeout (${Date.now() - start} ms)`);
    const custom = await run('wait_for', { port, timeout: 1, msg: 'db never came up' });
    assert.equal(custom.msg, 'db never came up');
    const stopped = await run('wait_for', { port, state: 'stopped', timeout: 2 });
    assert.equal(stopped.failed, undefined, String(stopped.msg));
  });

  test('a port that opens later is waited for', async () => {
    const port = await freePort();
    const srv = net.createServer((s) => s.on('error', () => undefined).end());
    const timer = setTimeout(() => srv.listen(port, '127.0.0.1'), 1500);
    try {
      const res = await run('wait_for', { port, timeout: 10, sleep: 0.5 });
      assert.equal(res.failed, undefined, String(res.msg));
      assert.ok(Number(res.elapsed) >= 1, `waited (${String(res.elapsed)}s)`);
    } finally {
      clearTimeout(timer);
      srv.close();
    }
  });

  test('paths: present, absent, search_regex; a hostile path is a path', async () => {
    const dir = makeTempDir('tsplay-net-wait-');
    const file = join(dir, "log $(touch pwned) 'q'.txt");
    writeFileSync(file, 'starting\nready on port 8080\n');
    const present = await run('wait_for', { path: file, timeout: 2 });
    assert.equal(present.failed, undefined, String(present.msg));
    const found = await run('wait_for', { path: file, search_regex: 'ready on port (\\d+)', timeout: 2 });
    assert.equal(found.failed, undefined, String(found.msg));
    assert.deepEqual(found.match_groups, ['8080']);
    const notFound = await run('wait_for', { path: file, search_regex: 'never', timeout: 1 });
    assert.equal(notFound.msg, `Timeout when waiting for search string never in ${file}`);
    const absent = await run('wait_for', { path: file, state: 'absent', timeout: 1 });
    assert.equal(absent.msg, `Timeout when waiting for ${file} to be absent.`);
    const missing = await run('wait_for', { path: join(dir, 'nope'), timeout: 1 });
    assert.equal(missing.msg, `Timeout when waiting for file ${join(dir, 'nope')}`);
    assert.equal((await run('wait_for', { path: join(dir, 'nope'), state: 'absent', timeout: 1 })).failed, undefined);
    assert.equal(existsSync(join(dir, 'pwned')), false);
    assert.equal(existsSync('pwned'), false);
  });

  test('Ansible argument checks: port and path together, stopped with a path', async () => {
    assert.equal((await run('wait_for', { port: 1, path: '/x' })).msg, 'port and path parameter can not both be passed to wait_for');
    assert.equal((await run('wait_for', { path: '/x', state: 'stopped' })).msg, 'state=stopped should only be used for checking a port in the wait_for module');
  });

  test('drained: a port without active connections is drained', async () => {
    const port = await freePort();
    const res = await run('wait_for', { port, state: 'drained', timeout: 2 });
    assert.equal(res.failed, undefined, String(res.msg));
  });
});

describe('ping and setup', () => {
  test('ping returns pong (or data)', async () => {
    assert.deepEqual(await run('ping', {}), { changed: false, ping: 'pong' });
    assert.equal((await run('ping', { data: 'hi' })).ping, 'hi');
  });

  test('setup returns facts and gatheredFacts; subsets and filter narrow them', async () => {
    const all = await run('setup', {});
    const facts = all.ansible_facts as Record<string, any>;
    assert.equal(all.changed, false);
    assert.ok(facts.hostname && facts.distribution && facts.os_family);
    assert.ok(Array.isArray(facts.interfaces) && facts.interfaces.includes('lo'));
    assert.equal(facts.lo.ipv4.address, '127.0.0.1');
    assert.ok(Array.isArray(facts.mounts));
    assert.deepEqual(all.gatheredFacts, facts);
    const min = (await run('setup', { gather_subset: ['!all'] })).ansible_facts as Record<string, unknown>;
    assert.equal(min.interfaces, undefined);
    assert.equal(min.mounts, undefined);
    assert.ok(min.distribution);
    const filtered = await run('setup', { filter: ['ansible_distribution*'] }, context({ facts: { custom: 1 } }));
    assert.deepEqual(Object.keys(filtered.ansible_facts as object).sort(), ['distribution', 'distribution_major_version', 'distribution_release', 'distribution_version']);
    assert.equal((filtered.gatheredFacts as Record<string, unknown>).custom, 1, 'a filtered gather keeps the facts already cached');
  });

  test('subset arithmetic and filter patterns', () => {
    assert.deepEqual(subsetsFor([]), { network: true, hardware: true });
    assert.deepEqual(subsetsFor(['min']), { network: false, hardware: false });
    assert.deepEqual(subsetsFor(['!all', 'network']), { network: true, hardware: false });
    assert.deepEqual(subsetsFor(['all', '!hardware']), { network: true, hardware: false });
    assert.deepEqual(Object.keys(filterFacts({ a: 1, eth0: 2, eth1: 3 }, ['ansible_eth*'])), ['eth0', 'eth1']);
  });

  test('the probe output maps to interfaces, default_ipv4 and mounts', () => {
    assert.match(factProbeScript({ network: false, hardware: true }), /^tsplay_net=0\ntsplay_hw=1\n/);
    const out = [
      'hostname=web1.example.com', 'fqdn=web1.example.com', 'os_ID=debian', 'os_VERSION_ID="12"',
      'link=eth0\t52:54:00:12:34:56\t1500\t0x1003\t1\t', 'link=lo\t00:00:00:00:00:00\t65536\t0x9\t772\t', 'link=br-x\taa:bb:cc:dd:ee:ff\t1500\t0x1002\t1\tbridge',
      'addr=2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever',
      'addr=2: eth0    inet 10.0.0.6/24 brd 10.0.0.255 scope global secondary eth0\\       valid_lft forever',
      'addr=2: eth0    inet6 fe80::1/64 scope link \\       valid_lft forever',
      'addr=1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever',
      'route4=default via 10.0.0.1 dev eth0 proto static',
      'mount=/dev/vda1 / ext4 rw,relatime 0 0', 'mount=proc /proc proc rw 0 0', 'mount=/dev/vdb /srv/my\\040data xfs rw 0 0',
      'df=/dev/vda1 1000 400 600 40% /', 'df=/dev/vdb 2000 0 2000 0% /srv/my data',
    ].join('\n');
    const f = parseFacts(out) as Record<string, any>;
    assert.equal(f.hostname, 'web1');
    assert.equal(f.domain, 'example.com');
    assert.equal(f.distribution_major_version, '12');
    assert.deepEqual(f.interfaces, ['eth0', 'lo', 'br-x']);
    assert.equal(f.eth0.ipv4.address, '10.0.0.5');
    assert.equal(f.eth0.ipv4.network, '10.0.0.0');
    assert.equal(f.eth0.ipv4.netmask, '255.255.255.0');
    assert.equal(f.eth0.ipv4_secondaries[0].address, '10.0.0.6');
    assert.equal(f.eth0.active, true);
    assert.equal(f.br_x.type, 'bridge');
    assert.equal(f.br_x.active, false);
    assert.equal(f.lo.type, 'loopback');
    assert.deepEqual(f.all_ipv4_addresses, ['10.0.0.5', '10.0.0.6']);
    assert.deepEqual({ ...f.default_ipv4 }, { interface: 'eth0', alias: 'eth0', gateway: '10.0.0.1', address: '10.0.0.5', netmask: '255.255.255.0', network: '10.0.0.0', prefix: '24', broadcast: '10.0.0.255', macaddress: '52:54:00:12:34:56', mtu: 1500, type: 'ether' });
    assert.deepEqual(f.mounts.map((m: any) => [m.mount, m.size_total, m.size_available]), [['/', 1024000, 614400], ['/srv/my data', 2048000, 2048000]]);
    assert.equal(f.python, null);
  });
});

describe('uri (requests made by the host with curl)', () => {
  let server: http.Server;
  let base: string;
  const seen: Array<{ method?: string; url?: string; body: string; auth?: string; type?: string }> = [];
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, body, ...(req.headers.authorization ? { auth: req.headers.authorization } : {}), ...(req.headers['content-type'] ? { type: req.headers['content-type'] } : {}) });
        if (req.url === '/api') {
          res.setHeader('Content-Type', 'application/json');
          res.end(JSON.stringify({ ok: true, method: req.method }));
        } else if (req.url === '/moved') {
          res.statusCode = 301;
          res.setHeader('Location', '/api');
          res.end();
        } else if (req.url === '/created') {
          res.statusCode = 201;
          res.end('made');
        } else if (req.url?.startsWith('/file')) {
          res.end('file content v1\n');
        } else {
          res.statusCode = 404;
          res.end('not here');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  after(() => server.close());

  test('GET: status, json, headers as keys, content when asked', async () => {
    const res = await run('uri', { url: `${base}/api`, return_content: true });
    assert.equal(res.failed, undefined, String(res.msg));
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, { ok: true, method: 'GET' });
    assert.equal(res.content_type, 'application/json');
    assert.equal(res.content, '{"ok":true,"method":"GET"}');
    assert.equal(res.changed, false);
    const moved = await run('uri', { url: `${base}/moved` });
    assert.equal(moved.status, 200);
    assert.equal(moved.redirected, true);
    assert.equal(moved.url, `${base}/api`);
  });

  test('POST json and form bodies; basic auth never shown; status_code list', async () => {
    seen.length = 0;
    const res = await run('uri', { url: `${base}/created`, method: 'POST', body: { name: 'a "b"', n: 1 }, body_format: 'json', status_code: [200, 201], user: 'admin', password: 'pa$$ word' });
    assert.equal(res.failed, undefined, String(res.msg));
    assert.equal(res.status, 201);
    assert.equal(seen[0]!.body, '{"name":"a \\"b\\"","n":1}');
    assert.equal(seen[0]!.type, 'application/json');
    assert.equal(seen[0]!.auth, `Basic ${Buffer.from('admin:pa$$ word').toString('base64')}`);
    assert.ok(!JSON.stringify(res).includes('pa$$ word'));
    await run('uri', { url: `${base}/created`, method: 'PUT', body: { a: 'x y', b: '&' }, body_format: 'form-urlencoded', status_code: 201 });
    assert.equal(seen[1]!.body, 'a=x+y&b=%26');
    assert.equal(seen[1]!.method, 'PUT');
  });

  test('an unexpected status fails with Ansible message; a refused connection is status -1', async () => {
    const res = await run('uri', { url: `${base}/missing` });
    assert.equal(res.failed, true);
    assert.equal(res.msg, 'Status code was 404 and not [200]: HTTP Error 404: Not Found');
    const port = await freePort();
    const refused = await run('uri', { url: `http://127.0.0.1:${port}/`, password: 'sekrit', user: 'u' });
    assert.equal(refused.status, -1);
    assert.match(String(refused.msg), /^Status code was -1 and not \[200\]: Request failed: /);
    assert.ok(!String(refused.msg).includes('sekrit'));
  });

  test('check mode: a POST is not sent; dest is downloaded, compared, and only written for real', async () => {
    seen.length = 0;
    const skipped = await run('uri', { url: `${base}/created`, method: 'POST', body: 'x' }, context({ check: true }));
    assert.equal(skipped.skipped, true);
    assert.equal(seen.length, 0, 'no request made');
    const dir = makeTempDir('tsplay-net-uri-');
    const dest = join(dir, 'out.txt');
    const checked = await run('uri', { url: `${base}/file`, dest }, context({ check: true }));
    assert.equal(checked.changed, true);
    assert.equal(existsSync(dest), false, 'check mode wrote nothing');
    const first = await run('uri', { url: `${base}/file`, dest });
    assert.equal(first.changed, true);
    assert.equal(readFileSync(dest, 'utf8'), 'file content v1\n');
    assert.equal(statSync(dest).mode & 0o777, 0o644 & ~process.umask());
    const second = await run('uri', { url: `${base}/file`, dest });
    assert.equal(second.changed, false);
    const creates = await run('uri', { url: `${base}/file`, creates: dest });
    assert.equal(creates.msg, `skipped, since '${dest}' exists`);
  });
});

describe('pause and include_vars (controller)', () => {
  test('pause waits the given seconds; a prompt alone does not block', async () => {
    const start = Date.now();
    const res = await run('pause', { seconds: 1 });
    assert.ok(Date.now() - start >= 950);
    assert.equal(res.changed, false);
    const prompt = await run('pause', { prompt: 'Press enter' });
    assert.match(String(prompt.msg), /no terminal/);
    const ctrl = new AbortController();
    const ctx = { ...context(), signal: ctrl.signal };
    setTimeout(() => ctrl.abort(), 100);
    const cut = await run('pause', { minutes: 1 }, ctx);
    assert.equal(cut.failed, true);
  });

  test('include_vars: file searched in vars/ beside the task, dir with files_matching, name namespace', async () => {
    const base = makeTempDir('tsplay-net-iv-');
    mkdirSync(join(base, 'vars', 'more'), { recursive: true });
    writeFileSync(join(base, 'vars', 'main.yml'), 'port: 8080\nenabled: yes\n');
    writeFileSync(join(base, 'vars', 'more', 'a.yml'), 'x: 1\ny: 1\n');
    writeFileSync(join(base, 'vars', 'more', 'b.yml'), 'y: 2\n');
    writeFileSync(join(base, 'vars', 'more', 'skip.json'), '{"z": 3}');
    const one = await run('include_vars', { _raw_params: 'main.yml' }, context({ base }));
    assert.deepEqual(one.facts, { port: 8080, enabled: true });
    assert.deepEqual(one.ansible_included_var_files, [join(base, 'vars', 'main.yml')]);
    const dir = await run('include_vars', { dir: 'vars/more', files_matching: '^[ab]', name: 'cfg' }, context({ base }));
    assert.equal(dir.failed, undefined, String(dir.msg));
    assert.deepEqual(dir.facts, { cfg: { x: 1, y: 2 } });
    const missing = await run('include_vars', { file: 'nope.yml' }, context({ base }));
    assert.equal(missing.failed, true);
    assert.match(String(missing.msg), /^Could not find or access 'nope.yml'/);
    writeFileSync(join(base, 'vars', 'list.yml'), '- a\n');
    assert.match(String((await run('include_vars', { file: 'list.yml' }, context({ base }))).msg), /must be stored as a dictionary/);
    writeFileSync(join(base, 'vars', 'bad.yml'), 'a: [\n');
    assert.match(String((await run('include_vars', { file: 'bad.yml' }, context({ base }))).msg), /bad\.yml:\d+:\d+/);
  });
});

describe('add_host and group_by change the inventory', () => {
  test('add_host: groups, host vars, port; group_by: key and parents', async () => {
    const inventory = new InventoryModel();
    inventory.declareHost('web1', 'web');
    inventory.reconcile();
    const res = await run('add_host', { name: 'new1:2222', groups: 'dyn,extra', role: 'db' }, context({ inventory }));
    assert.equal(res.changed, true);
    assert.deepEqual(inventory.hostsOf('dyn'), ['new1']);
    assert.deepEqual(inventory.groupsOf('new1'), ['dyn', 'extra']);
    assert.equal(inventory.hostVars('new1').role, 'db');
    assert.equal(inventory.hostVars('new1').ansible_port, 2222);
    const grouped = await run('group_by', { key: 'os Debian', parents: ['linux'] }, context({ inventory, host: 'web1' }));
    assert.equal(grouped.add_group, 'os-Debian');
    assert.deepEqual(inventory.hostsOf('os-Debian'), ['web1']);
    assert.deepEqual(inventory.hostsOf('linux'), ['web1'], 'a parent group holds its children hosts');
    assert.deepEqual(inventory.groupsOf('web1'), ['linux', 'os-Debian', 'web']);
  });

  test('end to end: hosts added in one play are targeted by the next', () => {
    const dir = makeTempDir('tsplay-net-e2e-');
    writeFileSync(join(dir, 'inv.ini'), '[seed]\nlocalhost ansible_connection=local\n');
    writeFileSync(
      join(dir, 'site.yml'),
      `- hosts: seed
  gather_facts: false
  tasks:
    - add_host: { name: extra1, groups: [dynamic], ansible_connection: local, color: blue }
    - group_by: { key: "seeded_{{ inventory_hostname }}" }
- hosts: dynamic
  gather_facts: false
  tasks:
    - copy: { content: "{{ color }} {{ groups['dynamic'] | join(',') }}\\n", dest: "${dir}/out-{{ inventory_hostname }}.txt" }
- hosts: seeded_localhost
  gather_facts: false
  tasks:
    - copy: { content: "seeded\\n", dest: "${dir}/seeded.txt" }
`,
    );
    const res = tsplay(['run', 'site.yml', '-i', 'inv.ini', '--json'], { cwd: dir });
    assert.equal(res.code, 0, res.stderr + res.stdout.slice(-2000));
    assert.equal(readFileSync(join(dir, 'out-extra1.txt'), 'utf8'), 'blue extra1\n');
    assert.equal(readFileSync(join(dir, 'seeded.txt'), 'utf8'), 'seeded\n');
    const results = events(res.stdout).filter((e) => e.kind === 'host-result' && e.task?.startsWith('add_host'));
    assert.equal(results[0]?.status, 'changed');
    rmSync(dir, { recursive: true, force: true });
  });
});
