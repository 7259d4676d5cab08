// mysql_db and mysql_user against a real MariaDB started by this file (its own datadir, socket
// and loopback port in a temp dir; stopped at the end), through the local connection as the
// runner would call them. Each change: --check predicts changed and the diff and leaves the
// server as it was; the real run reaches the state; a second run is ok. Passwords (the login's,
// the user's, their hashes) never show in a result, a diff, an error or a command line.
// Needs mariadb-server and mariadb-client (Debian packages); skipped when they are missing.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { makeTempDir } from '../helpers/temp-dir.js';
import { localModuleContext, runModule } from '../helpers/module-context.js';
import type { ModuleContext, ModuleResult } from '../../engine/modules/types.js';
import type { ExecOptions } from '../../engine/connection/types.js';
import { nativePasswordHash, runSql, sqlString } from '../../engine/modules/mysql-client.js';
import { parsePrivs, parseGrants, planPrivileges } from '../../engine/modules/mysql_user.js';
import { loadPlaybook } from '../../engine/load/playbook.js';
import { lookupModule, moduleNames } from '../../engine/modules/registry.js';

const which = (cmd: string) => spawnSync('/bin/sh', ['-c', `command -v ${cmd}`]).status === 0;
const skip = process.platform !== 'linux' ? 'needs Linux' : !which('mariadbd') || !which('mariadb-install-db') || !which('mariadb') ? 'needs mariadb-server and mariadb-client' : false;

// hostile on purpose: quotes, backslash, option-file comment and escape characters, shell syntax
const ROOT_PASSWORD = `r00t"pw'#;\\x $(id) \`tab\there`;
const APP_PASSWORD = `app'pw"1\\n#;$HOME`;
const APP_PASSWORD2 = `second "pw" 'two' \\ ;--`;
const HOSTILE_DB = "we`ird'db \"x\"";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

describe('mysql_db and mysql_user on a real MariaDB', { skip }, () => {
  let dir: string;
  let sock: string;
  let server: ChildProcess | undefined;
  let adminCnf: string;
  /** Every result any module returned, for the no-secret check at the end. */
  const results: ModuleResult[] = [];
  /** Every script and environment the modules ran (they go on a command line), and stdin. */
  const commandLines: string[] = [];

  const login = () => ({ login_user: 'root', login_password: ROOT_PASSWORD, login_unix_socket: sock, config_file: '' });

  /** SQL as the admin through the client (for checking what the modules did). */
  const sql = (query: string, cnf = adminCnf): { rc: number; out: string; err: string } => {
    const r = spawnSync('mariadb', [`--defaults-file=${cnf}`, '--batch', '--skip-column-names', '-e', query], { encoding: 'utf8' });
    return { rc: r.status ?? -1, out: r.stdout, err: r.stderr };
  };
  const must = (query: string) => {
    const r = sql(query);
    assert.equal(r.rc, 0, r.err);
    return r.out;
  };
  /** The server's whole privilege and schema state: what check mode must leave alone. */
  const snapshot = () =>
    must(
      'SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA ORDER BY 1; ' +
        'SELECT * FROM mysql.global_priv ORDER BY User, Host; SELECT * FROM mysql.db ORDER BY User, Host, Db; ' +
        'SELECT * FROM mysql.tables_priv ORDER BY User, Host, Db, Table_name;',
    );

  /** A context on this machine that records every command line the module runs. */
  const context = (check: boolean): ModuleContext => {
    const ctx = localModuleContext({ check });
    const exec = ctx.conn.exec.bind(ctx.conn);
    ctx.conn.exec = (script: string, opts: ExecOptions = {}) => {
      commandLines.push(script, JSON.stringify(opts.env ?? {}));
      return exec(script, opts);
    };
    return ctx;
  };
  const run = async (name: string, args: Record<string, unknown>, check = false): Promise<ModuleResult> => {
    const r = await runModule(name, { ...login(), ...args }, context(check));
    results.push(r);
    return r;
  };

  /** Check mode predicts and changes nothing; the real run changes; a second run is ok. */
  const converges = async (name: string, args: Record<string, unknown>): Promise<ModuleResult> => {
    const before = snapshot();
    const checked = await run(name, args, true);
    assert.ok(!checked.failed, `${name} --check failed: ${String(checked.msg)}`);
    assert.equal(snapshot(), before, 'check mode changed nothing on the server');
    const real = await run(name, args);
    assert.ok(!real.failed, `${name} failed: ${String(real.msg)}`);
    assert.equal(real.changed, true, 'the first run changes');
    assert.equal(checked.changed, true, 'check mode predicts changed');
    assert.deepEqual(checked.diff, real.diff, 'check mode predicts the diff');
    assert.equal(checked.msg, real.msg, 'check mode predicts the message');
    assert.notEqual(snapshot(), before, 'the real run changed the server');
    const again = await run(name, args);
    assert.ok(!again.failed, String(again.msg));
    assert.equal(again.changed, false, 'the second run is ok');
    assert.equal(again.diff, undefined, 'no diff on the second run');
    const againCheck = await run(name, args, true);
    assert.equal(againCheck.changed, false, 'check mode after convergence is ok');
    return real;
  };

  before(async () => {
    dir = makeTempDir('tsplay-mysqlm-');
    sock = path.join(dir, 'mysqld.sock');
    const datadir = path.join(dir, 'data');
    const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
    const install = spawnSync('mariadb-install-db', ['--no-defaults', '--auth-root-authentication-method=normal', `--datadir=${datadir}`, '--skip-test-db', '--innodb-log-file-size=4M', ...asRoot], { encoding: 'utf8' });
    assert.equal(install.status, 0, install.stderr + install.stdout);
    const port = await freePort();
    server = spawn(
      'mariadbd',
      ['--no-defaults', ...asRoot, `--datadir=${datadir}`, `--socket=${sock}`, `--port=${port}`, '--bind-address=127.0.0.1', `--pid-file=${path.join(dir, 'mysqld.pid')}`, '--skip-log-bin', '--skip-name-resolve', '--innodb-buffer-pool-size=16M', '--innodb-log-file-size=4M', '--innodb-flush-log-at-trx-commit=0', `--log-error=${path.join(dir, 'error.log')}`],
      { stdio: 'ignore' },
    );
    // root has no password yet: set the hostile one, then every check logs in with it
    const bootstrap = path.join(dir, 'bootstrap.cnf');
    writeFileSync(bootstrap, `[client]\nuser=root\nsocket=${sock}\n`, { mode: 0o600 });
    const deadline = Date.now() + 30_000;
    while (sql('SELECT 1', bootstrap).rc !== 0) {
      if (Date.now() > deadline) assert.fail(`mariadbd did not start: ${existsSync(path.join(dir, 'error.log')) ? readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const r = sql(`ALTER USER root@localhost IDENTIFIED BY ${sqlString(ROOT_PASSWORD)}; DELETE FROM mysql.global_priv WHERE User = 'root' AND Host <> 'localhost'; FLUSH PRIVILEGES`, bootstrap);
    assert.equal(r.rc, 0, r.err);
    adminCnf = path.join(dir, 'admin.cnf');
    const optionValue = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\t/g, '\\t')}"`;
    writeFileSync(adminCnf, `[client]\nuser=root\npassword=${optionValue(ROOT_PASSWORD)}\nsocket=${sock}\n`, { mode: 0o600 });
    must('SELECT 1');
  });

  after(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 10_000)))]);
      clearTimeout(timer);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
  });

  test('mysql_db: created with encoding and collation, idempotent, then absent', async () => {
    const created = await converges('mysql_db', { name: 'k3s', encoding: 'utf8mb4', collation: 'utf8mb4_unicode_ci' });
    assert.equal(must("SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'k3s'"), 'utf8mb4\tutf8mb4_unicode_ci\n');
    assert.equal(created.db, 'k3s');
    assert.deepEqual(created.db_list, ['k3s']);
    assert.deepEqual(created.diff, [{ before: '', after: 'name: k3s\nencoding: utf8mb4\ncollation: utf8mb4_unicode_ci\n', beforeHeader: 'database k3s (absent)', afterHeader: 'database k3s' }]);

    // a list; only the missing one is created, with the server's defaults predicted
    const listed = await converges('mysql_db', { name: ['k3s', 'scratch'] });
    assert.equal(listed.diff!.length, 1);
    assert.match(listed.diff![0]!.after, /^name: scratch\nencoding: \w+\ncollation: \w+\n$/);
    assert.equal(must("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN ('k3s', 'scratch')"), '2\n');

    const dropped = await converges('mysql_db', { name: 'scratch', state: 'absent' });
    assert.equal(dropped.diff![0]!.after, '');
    assert.equal(must("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'scratch'"), '0\n');
  });

  test('mysql_db: a name with a backtick, quotes and a space is a name', async () => {
    await converges('mysql_db', { name: HOSTILE_DB });
    assert.equal(must('SHOW DATABASES').split('\n').includes(HOSTILE_DB), true);
    await converges('mysql_db', { name: HOSTILE_DB, state: 'absent' });
    assert.equal(must('SHOW DATABASES').split('\n').includes(HOSTILE_DB), false);
  });

  test('mysql_db: all is refused, a bad login fails without showing the password', async () => {
    const all = await run('mysql_db', { name: 'all' });
    assert.equal(all.failed, true);
    assert.match(String(all.msg), /not allowed to equal 'all'/);
    const denied = await runModule('mysql_db', { ...login(), login_password: `${ROOT_PASSWORD}-wrong`, name: 'k3s' }, context(false));
    assert.equal(denied.failed, true);
    assert.match(String(denied.msg), /unable to connect to database.*Access denied for user 'root'@'localhost'/);
    assert.ok(!JSON.stringify(denied).includes(ROOT_PASSWORD), 'the wrong login password is not shown');
  });

  test('mysql_user: the K3s datastore user on two server addresses, privileges on its database only', async () => {
    for (const host of ['10.213.5.11', '10.213.5.12']) {
      const created = await converges('mysql_user', { name: 'k3s', host, password: APP_PASSWORD, priv: 'k3s.*:ALL' });
      assert.equal(created.msg, 'User added');
      assert.equal(created.password_changed, true);
      assert.deepEqual(created.diff, [
        {
          before: '',
          after: `password: ********\nGRANT USAGE ON *.* TO \`k3s\`@\`${host}\`\nGRANT ALL PRIVILEGES ON \`k3s\`.* TO \`k3s\`@\`${host}\`\n`,
          beforeHeader: `mysql user \`k3s\`@\`${host}\` (absent)`,
          afterHeader: `mysql user \`k3s\`@\`${host}\``,
        },
      ]);
    }
    assert.equal(must("SELECT Host FROM mysql.user WHERE User = 'k3s' ORDER BY Host"), '10.213.5.11\n10.213.5.12\n');
    assert.match(must("SHOW GRANTS FOR 'k3s'@'10.213.5.12'"), /GRANT ALL PRIVILEGES ON `k3s`\.\* TO `k3s`@`10\.213\.5\.12`/);
    assert.equal(must("SELECT COUNT(*) FROM mysql.user WHERE User = 'k3s' AND authentication_string = " + sqlString(nativePasswordHash(APP_PASSWORD))), '2\n');
    // a dict priv that means the same is no change
    const same = await run('mysql_user', { name: 'k3s', host: '10.213.5.11', password: APP_PASSWORD, priv: { 'k3s.*': 'ALL PRIVILEGES' } });
    assert.equal(same.changed, false, String(same.msg));
    assert.equal(same.msg, 'User unchanged');
  });

  test('mysql_user: a privilege change shows the grant diff; append_privs keeps the rest', async () => {
    const args = { name: 'k3s', host: '10.213.5.11', priv: 'k3s.*:SELECT,INSERT/mysql.user:SELECT(User,Host)' };
    const changed = await converges('mysql_user', args);
    assert.equal(changed.msg, 'Privileges updated');
    const account = '`k3s`@`10.213.5.11`';
    assert.equal(changed.diff![0]!.before, `password: ********\nGRANT USAGE ON *.* TO ${account}\nGRANT ALL PRIVILEGES ON \`k3s\`.* TO ${account}\n`);
    assert.equal(
      changed.diff![0]!.after,
      `password: ********\nGRANT USAGE ON *.* TO ${account}\nGRANT INSERT, SELECT ON \`k3s\`.* TO ${account}\nGRANT SELECT (\`host\`, \`user\`) ON \`mysql\`.\`user\` TO ${account}\n`,
    );
    assert.match(must("SHOW GRANTS FOR 'k3s'@'10.213.5.11'"), /GRANT SELECT, INSERT ON `k3s`\.\* TO/);

    const appended = await converges('mysql_user', { name: 'k3s', host: '10.213.5.11', priv: 'k3s.*:UPDATE,GRANT', append_privs: true });
    assert.match(appended.diff![0]!.after, /GRANT INSERT, SELECT, UPDATE ON `k3s`\.\* TO `k3s`@`10\.213\.5\.11` WITH GRANT OPTION/);
    assert.match(appended.diff![0]!.after, /SELECT \(`host`, `user`\) ON `mysql`\.`user`/, 'other objects are kept');

    // back to the role's grant: everything else revoked
    await converges('mysql_user', { name: 'k3s', host: '10.213.5.11', priv: 'k3s.*:ALL' });
    const grants = must("SHOW GRANTS FOR 'k3s'@'10.213.5.11'");
    assert.doesNotMatch(grants, /mysql|GRANT OPTION/);
  });

  test('mysql_user: a password change is detected and applied; on_create leaves it', async () => {
    await converges('mysql_user', { name: 'app', host: 'localhost', password: APP_PASSWORD, priv: 'k3s.*:SELECT' });
    const canLogin = async (password: string) => !(await run('mysql_db', { login_user: 'app', login_password: password, name: 'k3s' })).failed;
    assert.equal(await canLogin(APP_PASSWORD), true, 'the user logs in with its password');

    const changed = await converges('mysql_user', { name: 'app', host: 'localhost', password: APP_PASSWORD2 });
    assert.equal(changed.msg, 'Password updated');
    assert.equal(changed.password_changed, true);
    assert.deepEqual(changed.diff, [{ before: 'password: ********\n', after: 'password: ******** (changed)\n', beforeHeader: 'mysql user `app`@`localhost`', afterHeader: 'mysql user `app`@`localhost`' }]);
    assert.equal(await canLogin(APP_PASSWORD2), true, 'the new password works');
    assert.equal(await canLogin(APP_PASSWORD), false, 'the old one does not');
    // the mysql client itself, with the password as an argument (only in this test)
    const direct = spawnSync('mariadb', ['--no-defaults', `--socket=${sock}`, '-u', 'app', `--password=${APP_PASSWORD2}`, '--batch', '--skip-column-names', '-e', 'SELECT CURRENT_USER()'], { encoding: 'utf8' });
    assert.equal(direct.stdout, 'app@localhost\n', direct.stderr);

    const onCreate = await run('mysql_user', { name: 'app', host: 'localhost', password: 'something else', update_password: 'on_create' });
    assert.equal(onCreate.changed, false);
    assert.equal(await canLogin(APP_PASSWORD2), true, 'on_create left the password');

    // a hash given with encrypted: yes; the plain password it hashes logs in
    const hash = nativePasswordHash(APP_PASSWORD);
    const encrypted = await converges('mysql_user', { name: 'app', host: 'localhost', password: hash, encrypted: true });
    assert.equal(encrypted.msg, 'Password updated');
    assert.equal(await canLogin(APP_PASSWORD), true);
    // YAML's `password: 12345` is a number: taken as the text, as Ansible does
    await converges('mysql_user', { name: 'num', host: 'localhost', password: 12345 });
    assert.equal((await run('mysql_db', { login_user: 'num', login_password: 12345, name: 'information_schema' })).failed, undefined);
    await converges('mysql_user', { name: 'num', host: 'localhost', state: 'absent' });
    const notAHash = await run('mysql_user', { name: 'app', password: 'plain', encrypted: true });
    assert.equal(notAHash.failed, true);
    assert.match(String(notAHash.msg), /does not appear to be a valid hash/);
  });

  test('mysql_user: privileges on a database with a hostile name', async () => {
    must(`CREATE DATABASE \`${HOSTILE_DB.replace(/`/g, '``')}\``);
    const quoted = `\`${HOSTILE_DB.replace(/`/g, '``')}\``;
    const created = await converges('mysql_user', { name: "o'dd`user", host: '%', password: APP_PASSWORD, priv: `${quoted}.*:SELECT,INSERT` });
    assert.match(created.diff![0]!.after, /GRANT INSERT, SELECT ON `we``ird'db "x"`\.\* TO `o'dd``user`@`%`/);
    assert.match(must("SHOW GRANTS FOR 'o\\'dd`user'@'%'"), /GRANT SELECT, INSERT ON `we``ird'db "x"`\.\*/);
    const removed = await converges('mysql_user', { name: "o'dd`user", host_all: true, state: 'absent' });
    assert.equal(removed.msg, 'User deleted');
    assert.equal(must("SELECT COUNT(*) FROM mysql.user WHERE User = 'o\\'dd`user'"), '0\n');
    const gone = await run('mysql_user', { name: "o'dd`user", host_all: true, state: 'absent' });
    assert.equal(gone.changed, false);
    assert.equal(gone.msg, "User doesn't exist");
  });

  test('mysql_user: absent on two hosts, and host_all cannot create', async () => {
    for (const host of ['10.213.5.11', '10.213.5.12']) {
      const r = await converges('mysql_user', { name: 'k3s', host, state: 'absent' });
      assert.equal(r.diff![0]!.after, '');
      assert.match(r.diff![0]!.before, /^password: \*{8}\nGRANT USAGE ON \*\.\* TO `k3s`@`10\.213\.5\.1[12]`\nGRANT ALL PRIVILEGES ON `k3s`\.\* TO/);
    }
    assert.equal(must("SELECT COUNT(*) FROM mysql.user WHERE User = 'k3s'"), '0\n');
    const hostAll = await run('mysql_user', { name: 'nobody', host_all: true, password: APP_PASSWORD });
    assert.equal(hostAll.failed, true);
    assert.match(String(hostAll.msg), /host_all parameter cannot be used when adding a user/);
  });

  test('a failing statement holding a secret fails without showing it', async () => {
    // the client echoes the failing statement (with the auth string) on stderr
    const r = await run('mysql_user', { name: 'plug', host: 'localhost', plugin: 'no_such_plugin', plugin_auth_string: APP_PASSWORD2 });
    assert.equal(r.failed, true);
    assert.match(String(r.msg), /error changing user: ERROR \d+/);
    const bad = await run('mysql_user', { name: 'bad', host: 'localhost', password: APP_PASSWORD, priv: 'k3s.*:NO_SUCH_PRIVILEGE' });
    assert.equal(bad.failed, true);
    assert.match(String(bad.msg), /ERROR/);
    assert.equal(must("SELECT COUNT(*) FROM mysql.user WHERE User IN ('plug')"), '0\n');
  });

  test('a secret in the error text of the client is masked; the failed statement is named, masked', async () => {
    // a syntax error makes the server quote the statement near the error: the password with it
    let error: (Error & { extra?: Record<string, unknown> }) | undefined;
    try {
      await runSql(context(false), login(), ['SELECT 1', `SELECT FROM ${sqlString(APP_PASSWORD)}`], { secrets: [APP_PASSWORD], what: 'error testing' });
    } catch (err) {
      error = err as Error & { extra?: Record<string, unknown> };
    }
    assert.ok(error, 'the batch failed');
    assert.match(error.message, /^error testing: ERROR 1064 \(42000\): .*near 'FROM '\*{8}''/);
    assert.equal(error.extra?.statement, "SELECT FROM '********'");
    results.push({ changed: false, msg: error.message, ...error.extra });
  });

  test('config_file gives the credentials; check_implicit_admin falls back to the login given', async () => {
    const cnf = path.join(dir, 'my.cnf');
    writeFileSync(cnf, readFileSync(adminCnf, 'utf8'), { mode: 0o600 });
    const viaFile = await runModule('mysql_db', { config_file: cnf, name: 'k3s' }, context(false));
    assert.ok(!viaFile.failed, String(viaFile.msg));
    const noFile = await runModule('mysql_db', { login_unix_socket: sock, config_file: path.join(dir, 'none.cnf'), login_user: 'root', name: 'k3s' }, context(false));
    assert.equal(noFile.failed, true, 'without the file (and its password) root is refused');
    const implicit = await run('mysql_db', { name: 'k3s', check_implicit_admin: true });
    assert.ok(!implicit.failed, String(implicit.msg));
  });

  test('no password, hash or auth string in any result, diff, error or command line', () => {
    const secrets = [ROOT_PASSWORD, APP_PASSWORD, APP_PASSWORD2, nativePasswordHash(APP_PASSWORD), nativePasswordHash(APP_PASSWORD2), nativePasswordHash(ROOT_PASSWORD)];
    assert.ok(results.length > 30, 'the other tests ran');
    const shown = JSON.stringify(results);
    const lines = commandLines.join('\n');
    for (const secret of secrets) {
      assert.ok(!shown.includes(secret), `a result shows ${JSON.stringify(secret)}`);
      assert.ok(!shown.includes(sqlString(secret).slice(1, -1)), `a result shows the escaped ${JSON.stringify(secret)}`);
      assert.ok(!lines.includes(secret) && !lines.includes(sqlString(secret).slice(1, -1)), `a command line holds ${JSON.stringify(secret)}`);
    }
    // the hashes' 40 hex digits do not leak in a partial form either
    for (const secret of secrets.slice(3)) assert.ok(!shown.includes(secret.slice(1)), 'no hash digits in results');
  });
});

describe('mysql_user privilege strings (no server)', () => {
  test("Ansible's string and dict forms; SHOW GRANTS lines compare equal to them", () => {
    const wanted = parsePrivs('k3s.*:ALL/`we``ird`.tbl:select , insert');
    assert.deepEqual([...wanted.keys()], ['`k3s`.*', '`we``ird`.`tbl`', '*.*']);
    assert.deepEqual([...wanted.get('`we``ird`.`tbl`')!].sort(), ['INSERT', 'SELECT']);
    const current = parseGrants([
      "GRANT USAGE ON *.* TO `u`@`h` IDENTIFIED BY PASSWORD '*0123456789012345678901234567890123456789'",
      'GRANT ALL PRIVILEGES ON `k3s`.* TO `u`@`h`',
      'GRANT SELECT, INSERT ON `we``ird`.`tbl` TO `u`@`h`',
    ]);
    assert.deepEqual(planPrivileges(current, wanted, '`u`@`h`', 'replace').statements, []);
    assert.deepEqual(parsePrivs({ 'k3s.*': 'ALL', 'FUNCTION db.f': 'EXECUTE' }).get('FUNCTION `db`.`f`'), new Set(['EXECUTE']));
    assert.deepEqual(parsePrivs('k3s.*:SELECT,ALL,GRANT').get('`k3s`.*'), new Set(['ALL', 'GRANT']), 'ALL covers the others');
    assert.throws(() => parsePrivs('k3s.*'), /has no ':'/);
    assert.throws(() => parsePrivs('k3s.*:SELECT; DROP DATABASE x'), /not a privilege/);
  });

  test('the module arguments are checked when the playbook loads', () => {
    const d = makeTempDir('tsplay-mysqlm-load-');
    const file = path.join(d, 'play.yml');
    writeFileSync(file, '- hosts: all\n  tasks:\n    - mysql_db:\n        name: k3s\n        state: dump\n');
    assert.throws(() => loadPlaybook(file, { lookupModule, moduleNames: moduleNames() }), /state/);
    writeFileSync(file, '- hosts: all\n  tasks:\n    - community.mysql.mysql_user:\n        name: k3s\n        passwd: x\n');
    assert.throws(() => loadPlaybook(file, { lookupModule, moduleNames: moduleNames() }), /passwd/);
  });
});
