// The mysql role on a lab of three hosts: h1 the database, h2 a K3s server, h3 any other host.
// Passwords come from a vault-encrypted vars file. --check --diff on the fresh database host
// predicts the first converge (statuses and diffs, task by task); the K3s user then connects from
// h2 and is refused from h3; a rerun changes nothing; neither password shows in any output; a
// port given as "http" fails before anything runs, naming the role, the variable and the file.
// Needs root on Linux (the lab) and the mariadb-server and mariadb-client packages on the
// machine (lab hosts see the machine's packages); skipped otherwise.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labUp, labDown, labExec, type LabInfo } from '../../engine/lab/lab.js';
import { tsplay, tempDir, events, repoRoot, type CliResult, recap, hostResults as results } from '../helpers/cli.js';

const which = (cmd: string) => spawnSync('/bin/sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip =
  process.platform !== 'linux'
    ? 'the lab needs Linux'
    : process.getuid?.() !== 0
      ? 'the lab needs root'
      : !which('mariadbd') || !which('mariadb')
        ? 'needs the mariadb-server and mariadb-client packages'
        : false;

const LAB = 'mysqly';
// long enough to be masked, distinctive enough to be found if anything printed them
const ROOT_PASSWORD = 'R00t-pw-9f3c-"quoted"-\\slash';
const K3S_PASSWORD = 'K3s-pw-7a1e#hash@at';
const VAULT_PASSWORD = 'vault-pw-for-the-mysql-spec';

describe('mysql role on lab hosts', { skip }, () => {
  let lab: LabInfo;
  let tmp: { dir: string; cleanup: () => void };
  const labOpts = () => ({ name: LAB, dir: path.join(tmp.dir, 'lab') });
  const outputs: Array<{ what: string; out: string }> = [];
  let dbAddress = '';

  const run = (what: string, extra: string[]): CliResult => {
    const r = tsplay(['run', 'site.yml', '-i', lab.inventoryFile, '--vault-password-file', 'vault-pass', '--no-retry-files', ...extra], {
      cwd: tmp.dir,
      env: { TSPLAY_ROLES_PATH: path.join(repoRoot, 'roles') },
    });
    outputs.push({ what, out: r.stdout + r.stderr });
    return r;
  };
  const onHost = async (host: string, script: string, input?: string) => {
    const r = await labExec(host, ['sh', '-c', script], { ...labOpts(), timeoutMs: 60_000, ...(input !== undefined ? { input } : {}) });
    return { code: r.code, out: r.stdout + r.stderr };
  };
  /** `SELECT 1` from a host as the K3s user over TCP; the password goes in a defaults file on stdin. */
  const k3sLogin = (host: string) =>
    onHost(
      host,
      `umask 077; cat > /tmp/k3s.cnf; mariadb --defaults-file=/tmp/k3s.cnf -h ${dbAddress} -P 3306 --batch --skip-column-names -e 'SELECT 1; SELECT CURRENT_USER()'; rc=$?; rm -f /tmp/k3s.cnf; exit $rc`,
      `[client]\nuser=k3s\npassword="${K3S_PASSWORD}"\nconnect-timeout=10\n`,
    );

  before(async () => {
    tmp = tempDir('tsplay-mysqlrole-');
    // The lab hosts' root filesystem is the machine's, copy-on-write: a mariadbd of the machine
    // writing /var/lib/mysql under them would corrupt their copies. CI stops it too (.ci/run).
    const pidFile = '/run/mysqld/mysqld.pid';
    if (existsSync(pidFile) && spawnSync('/bin/sh', ['-c', `kill -0 "$(cat ${pidFile})"`]).status === 0) {
      spawnSync('/bin/sh', ['-c', 'service mariadb stop'], { stdio: 'ignore' });
    }
    await labDown(labOpts());
    lab = await labUp(3, { ...labOpts(), groups: ['database=1', 'k3s_servers=2', 'other=3'] });
    dbAddress = lab.hosts[0]!.address;

    writeFileSync(path.join(tmp.dir, 'vault-pass'), `${VAULT_PASSWORD}\n`, { mode: 0o600 });
    const secrets: string[] = [];
    for (const [name, value] of [
      ['mysql_root_password', ROOT_PASSWORD],
      ['mysql_k3s_password', K3S_PASSWORD],
    ] as const) {
      const enc = tsplay(['vault', 'encrypt_string', '--vault-password-file', 'vault-pass', '--name', name, value], { cwd: tmp.dir });
      assert.equal(enc.code, 0, enc.stderr);
      assert.ok(!enc.stdout.includes(value), 'encrypt_string printed the secret');
      secrets.push(enc.stdout);
    }
    writeFileSync(path.join(tmp.dir, 'secrets.yml'), secrets.join(''));
    // the same passwords in plain text, for a run where only the role's own care hides them
    writeFileSync(path.join(tmp.dir, 'plain.yml'), `mysql_root_password: ${JSON.stringify(ROOT_PASSWORD)}\nmysql_k3s_password: ${JSON.stringify(K3S_PASSWORD)}\n`);
    writeFileSync(
      path.join(tmp.dir, 'site.yml'),
      [
        '- name: Database for the K3s datastore',
        '  hosts: database',
        '  vars_files: ["{{ secrets_file | default(\'secrets.yml\') }}"]',
        '  roles: [mysql]',
        '',
        '- name: The K3s servers got the endpoint',
        '  hosts: k3s_servers',
        '  gather_facts: false',
        '  tasks:',
        '    - name: Keep the endpoint for the test',
        '      copy: { content: "{{ k3s_datastore_endpoint }}", dest: /root/k3s-endpoint, mode: "0600" }',
        '      no_log: true',
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (tmp) await labDown(labOpts());
    tmp?.cleanup();
  });

  test('--check with the server not running yet: the SQL tasks are skipped and nothing is written', async () => {
    const r = run('check, server stopped', ['--check', '--diff', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const byTask = results(events(r.stdout));
    const h1 = lab.hosts[0]!.name;
    assert.equal(byTask.get(`${h1} | mysql : Start the server | `)?.status, 'changed');
    assert.equal(byTask.get(`${h1} | mysql : Create the K3s datastore database | `)?.status, 'skipped');
    assert.equal(byTask.get(`${h1} | mysql : Set the root password | `)?.status, 'skipped');
    const cnf = await onHost(h1, 'test -e /etc/mysql/mariadb.conf.d/60-tsplay.cnf');
    assert.equal(cnf.code, 1, '--check wrote the config file');
    const ps = await onHost(h1, 'test -e /run/mysqld/mysqld.pid');
    assert.equal(ps.code, 1, '--check started the server');
  });

  test('--check --diff on the fresh host predicts the first converge; K3s user from h2 only; rerun changes nothing', async () => {
    const [h1, h2, h3] = lab.hosts.map((h) => h.name) as [string, string, string];
    // what the package's postinst does on a real host (no init system in a lab host)
    const started = await onHost(h1, 'service mariadb start');
    assert.equal(started.code, 0, started.out);

    const check = run('check --diff --json', ['--check', '--diff', '--json']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const converge = run('converge --diff --json', ['--diff', '--json']);
    assert.equal(converge.code, 0, converge.stdout + converge.stderr);

    const predicted = results(events(check.stdout));
    const happened = results(events(converge.stdout));
    assert.deepEqual([...predicted.keys()], [...happened.keys()], 'the same tasks, hosts and items');
    for (const [key, real] of happened) {
      const guess = predicted.get(key)!;
      assert.equal(guess.status, real.status, `${key}: --check said ${guess.status}, the converge ${real.status}`);
      assert.deepEqual(guess.diff ?? null, real.diff ?? null, `${key}: the diffs differ`);
    }
    const changed = [...happened.values()].filter((e) => e.status === 'changed').map((e) => `${e.host} | ${e.task}`);
    for (const task of ['Write the listen address and port', 'Set the root password', 'Create the K3s datastore database', 'K3s datastore account for each K3s server address', 'restart mysql']) {
      assert.ok(changed.includes(`${h1} | mysql : ${task}`), `${task} changed (changed: ${changed.join(', ')})`);
    }
    // the grants diff names the K3s server's address and the database, never a password
    const account = happened.get(`${h1} | mysql : K3s datastore account for each K3s server address | ${lab.hosts[1]!.address}`)!;
    assert.ok(account, [...happened.keys()].join('\n'));
    const after = JSON.stringify(account.diff);
    assert.match(after, /GRANT ALL PRIVILEGES ON `k3s`\.\* TO `k3s`@`10\.213\.\d+\.12`/);
    assert.match(after, /password: \*{8}/);

    // the K3s user: in from the K3s server, refused from the other host
    const fromServer = await k3sLogin(h2);
    assert.equal(fromServer.code, 0, fromServer.out);
    assert.equal(fromServer.out, `1\nk3s@${lab.hosts[1]!.address}\n`);
    const fromOther = await k3sLogin(h3);
    assert.notEqual(fromOther.code, 0, 'the K3s user got in from a host that is not a K3s server');
    // 1130 (host not allowed) comes inside a TLS error from MariaDB 10.11's client; 1045 from others
    assert.match(fromOther.out, /\b(1045|1130)\b.*(Access denied|not allowed to connect)/);

    // the endpoint fact reached the K3s server
    const endpoint = await onHost(h2, 'cat /root/k3s-endpoint');
    assert.equal(endpoint.out, `mysql://k3s:${K3S_PASSWORD}@tcp(${dbAddress}:3306)/k3s`);

    // root: the password lets an OS user other than root in (so unix_socket is not what let it
    // in), a wrong one does not; root at the shell still gets in through the socket without one
    const asNobody = (password: string) =>
      onHost(
        h1,
        `f=$(mktemp); chmod 644 "$f"; cat > "$f"; runuser -u nobody -- mariadb --defaults-file="$f" --batch --skip-column-names -e 'SELECT CURRENT_USER()'; rc=$?; rm -f "$f"; exit $rc`,
        `[client]\nuser=root\npassword="${password.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"\n`,
      );
    const rootPassword = await asNobody(ROOT_PASSWORD);
    assert.equal(rootPassword.out, 'root@localhost\n');
    const wrongPassword = await asNobody('not-the-root-password');
    assert.notEqual(wrongPassword.code, 0, wrongPassword.out);
    assert.match(wrongPassword.out, /Access denied/);
    const rootSocket = await onHost(h1, `mariadb --batch --skip-column-names -e "SELECT COUNT(*) FROM mysql.user WHERE User = ''; SHOW DATABASES LIKE 'test'"`);
    assert.equal(rootSocket.out, '0\n', 'no anonymous account, no test database, and root logs in through the socket');
    const listening = await onHost(h1, 'ss -Hltn "sport = :3306"');
    assert.match(listening.out, /0\.0\.0\.0:3306/, 'the restart applied bind-address');

    // a second converge changes nothing (text output, most verbose)
    const again = run('rerun --diff -vvv', ['--diff', '-vvv']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, new RegExp(`${h1} +: ok=\\d+ +changed=0 `));
    assert.match(again.stdout, new RegExp(`${h2} +: ok=\\d+ +changed=0 `));
    // and with the passwords in a plain vars file, which the vault redactor knows nothing of
    const plain = run('rerun, plain vars, --diff -vvv', ['--diff', '-vvv', '-e', 'secrets_file=plain.yml']);
    assert.equal(plain.code, 0, plain.stdout + plain.stderr);
    assert.match(plain.stdout, new RegExp(`${h1} +: ok=\\d+ +changed=0 `));
    const json = run('rerun --json', ['--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.equal(recap(events(json.stdout))[h1]!.changed, 0);
  });

  test('a port given as "http" fails before anything runs, naming the role, the variable and the file', async () => {
    // the play's vars file, with the passwords and one bad value
    writeFileSync(path.join(tmp.dir, 'bad-port.yml'), `${readFileSync(path.join(tmp.dir, 'secrets.yml'), 'utf8')}mysql_port: http\n`);
    const r = run('bad port', ['-e', 'secrets_file=bad-port.yml', '--json']);
    assert.notEqual(r.code, 0);
    const evs = events(r.stdout);
    const ran = evs.filter((e) => e.kind === 'host-result' && e.status !== 'failed');
    assert.deepEqual(ran.map((e) => e.task), [], 'nothing ran on a host');
    const text = r.stdout + r.stderr;
    assert.match(text, /mysql/);
    assert.match(text, /mysql_port/);
    assert.match(text, /bad-port\.yml/);
    assert.match(text, /int/);
  });

  test('neither password appears in any output', () => {
    assert.ok(outputs.length >= 6, `runs recorded: ${outputs.map((o) => o.what).join(', ')}`);
    for (const { what, out } of outputs) {
      for (const [name, secret] of [
        ['root password', ROOT_PASSWORD],
        ['K3s password', K3S_PASSWORD],
      ] as const) {
        assert.ok(!out.includes(secret), `the ${name} is in the output of: ${what}`);
        // nor its JSON-escaped form
        assert.ok(!out.includes(JSON.stringify(secret).slice(1, -1)), `the ${name} (escaped) is in the output of: ${what}`);
      }
    }
    assert.ok(readFileSync(path.join(tmp.dir, 'secrets.yml'), 'utf8').includes('!vault'));
  });
});
