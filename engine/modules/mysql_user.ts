// mysql_user: a MySQL/MariaDB account, its password and its privileges, as
// community.mysql.mysql_user, through the mysql client on the host (mysql-client.ts).
//
// One round trip reads the server version and the account's rows (plugin, and whether the
// stored hash equals the wanted one: the comparison runs in SQL and only 0/1 comes back);
// a second reads SHOW GRANTS of the existing accounts; a third applies the statements.
// A plain password is hashed on the controller (mysql_native_password: *SHA1(SHA1(pw))), so
// only the hash travels, on stdin. The diff shows grants as GRANT lines and the password as
// "********" — never the password, its hash or an auth string — and no result key holds them.
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { loginArgs, MYSQL_LOGIN_PROPERTIES, MysqlError, nativePasswordHash, runSql, serverInfo, sqlAccount, sqlIdentifier, sqlString, type MysqlLoginArgs, type ServerInfo } from './mysql-client.js';
import { assertNotInterrupted, joinLines, systemGuarded } from './system-probe.js';

export interface MysqlUserArgs extends MysqlLoginArgs {
  name: string;
  password?: string;
  encrypted?: boolean;
  host?: string;
  host_all?: boolean;
  priv?: string | Record<string, string>;
  append_privs?: boolean;
  subtract_privs?: boolean;
  state?: 'present' | 'absent';
  update_password?: 'always' | 'on_create';
  plugin?: string;
  plugin_hash_string?: string;
  plugin_auth_string?: string;
  sql_log_bin?: boolean;
}

/** Privileges by object (`*.*`, `` `db`.* ``, `` FUNCTION `db`.`f` ``); GRANT stands for WITH GRANT OPTION. */
export type PrivMap = Map<string, Set<string>>;

export class InvalidPrivsError extends MysqlError {}

const PLUGIN_NAME = '^[A-Za-z0-9_]+$';

export default defineModule<MysqlUserArgs>({
  name: 'mysql_user',
  aliases: ['community.mysql.mysql_user'],
  schema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['name'] }, { required: ['user'] }],
    properties: {
      name: { type: 'string' },
      user: { type: 'string' },
      // `password: 12345` in YAML is a number; Ansible takes it as the text
      password: { type: ['string', 'number'] },
      encrypted: { type: 'boolean' },
      host: { type: 'string', minLength: 1 },
      host_all: { type: 'boolean' },
      priv: { anyOf: [{ type: 'string' }, { type: 'object', additionalProperties: { type: 'string' } }] },
      append_privs: { type: 'boolean' },
      subtract_privs: { type: 'boolean' },
      state: { enum: ['present', 'absent'] },
      update_password: { enum: ['always', 'on_create'] },
      plugin: { type: 'string', pattern: PLUGIN_NAME },
      plugin_hash_string: { type: 'string' },
      plugin_auth_string: { type: 'string' },
      sql_log_bin: { type: 'boolean' },
      ...MYSQL_LOGIN_PROPERTIES,
    },
  },
  run: (args, ctx) => systemGuarded(() => runMysqlUser(args as MysqlUserArgs & { user?: string }, ctx)),
});

// ---- privilege strings: parsing and rendering -------------------------------------------

/** Split on `sep` outside backticks, quotes and parentheses. */
function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) {
        if (text[i + 1] === quote) i++;
        else quote = undefined;
      }
    } else if (c === '`' || c === "'" || c === '"') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && text.startsWith(sep, i)) {
      parts.push(text.slice(start, i));
      start = i + sep.length;
      i += sep.length - 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** One side of `db.table`: `*`, a backticked name (`` `` `` is a backtick) or a bare name. */
function objectPart(side: string): string {
  const s = side.trim();
  if (s === '*') return '*';
  const name = s.length >= 2 && s.startsWith('`') && s.endsWith('`') ? s.slice(1, -1).replace(/``/g, '`') : s;
  return sqlIdentifier(name);
}

/** The canonical object key: [FUNCTION |PROCEDURE ]`db`.`table` with `*` left bare. */
export function objectKey(target: string): string {
  let t = target.trim();
  let type = '';
  const typed = /^(FUNCTION|PROCEDURE)\s+/i.exec(t);
  if (typed) {
    type = `${typed[1]!.toUpperCase()} `;
    t = t.slice(typed[0].length);
  }
  const parts = splitTopLevel(t, '.');
  if (parts.length < 2) throw new InvalidPrivsError(`invalid privileges string: '${target}' is not db.table`);
  const table = parts.pop()!;
  return `${type}${objectPart(parts.join('.'))}.${objectPart(table)}`;
}

/** A privilege as compared: upper case, single spaces, columns sorted (case-insensitive). */
function normalizePriv(priv: string): string {
  const p = priv.trim().replace(/\s+/g, ' ');
  const col = /^([A-Za-z ]+?)\s*\((.*)\)$/.exec(p);
  if (col) {
    const cols = splitTopLevel(col[2]!, ',').map((c) => objectPart(c).toLowerCase()).sort();
    return `${col[1]!.toUpperCase()} (${cols.join(', ')})`;
  }
  const upper = p.toUpperCase();
  return upper === 'ALL PRIVILEGES' ? 'ALL' : upper;
}

function privSet(list: string): Set<string> {
  const set = new Set<string>();
  for (const item of splitTopLevel(list, ',')) {
    if (item.trim() === '') throw new InvalidPrivsError(`invalid privileges string: empty privilege in '${list}'`);
    const p = normalizePriv(item);
    if (!/^[A-Z][A-Z _]*( \(.*\))?$/.test(p)) throw new InvalidPrivsError(`invalid privileges string: '${item.trim()}' is not a privilege`);
    if (p !== 'USAGE') set.add(p);
  }
  // ALL covers every other privilege: SHOW GRANTS lists only ALL PRIVILEGES then
  if (set.has('ALL')) for (const p of [...set]) if (p !== 'ALL' && p !== 'GRANT') set.delete(p);
  return set;
}

/**
 * Ansible's priv argument: 'db.*:ALL,GRANT/otherdb.table:SELECT,INSERT' or a dict of the same.
 * `*.*` is always there (USAGE: no privilege), as SHOW GRANTS always lists it.
 */
export function parsePrivs(priv: string | Record<string, string>): PrivMap {
  const items: Array<[string, string]> = [];
  if (typeof priv === 'string') {
    for (const item of splitTopLevel(priv.trim(), '/')) {
      const pieces = splitTopLevel(item, ':');
      if (pieces.length < 2) throw new InvalidPrivsError(`invalid privileges string: '${item}' has no ':' between the object and the privileges`);
      const privs = pieces.pop()!;
      items.push([pieces.join(':'), privs]);
    }
  } else {
    for (const [target, privs] of Object.entries(priv)) items.push([target, String(privs)]);
  }
  const out: PrivMap = new Map();
  for (const [target, privs] of items) {
    const key = objectKey(target);
    const set = out.get(key) ?? new Set<string>();
    for (const p of privSet(privs)) set.add(p);
    out.set(key, set);
  }
  if (!out.has('*.*')) out.set('*.*', new Set());
  return out;
}

/** Privileges from SHOW GRANTS lines (role and PROXY grants are not the module's business). */
export function parseGrants(lines: readonly string[]): PrivMap {
  const out: PrivMap = new Map([['*.*', new Set<string>()]]);
  for (const line of lines) {
    if (!/^GRANT /.test(line) || /^GRANT PROXY ON /.test(line)) continue;
    const body = line.slice('GRANT '.length);
    const [privs, ...onParts] = splitTopLevel(body, ' ON ');
    const rest = onParts.join(' ON ');
    if (rest === '') continue; // GRANT `role` TO `user`@`host`
    const [target, ...afterTarget] = splitTopLevel(rest, ' TO ');
    const key = objectKey(target!);
    const set = out.get(key) ?? new Set<string>();
    for (const p of privSet(privs!)) set.add(p);
    if (/\bWITH\b.*\bGRANT OPTION\b/.test(afterTarget.join(' TO '))) set.add('GRANT');
    out.set(key, set);
  }
  return out;
}

/** GRANT lines for the diff, in a stable order (`*.*` first). */
export function renderGrants(privs: PrivMap, account: string): string[] {
  const keys = [...privs.keys()].sort((a, b) => (a === '*.*' ? -1 : b === '*.*' ? 1 : a < b ? -1 : a > b ? 1 : 0));
  const lines: string[] = [];
  for (const key of keys) {
    const set = privs.get(key)!;
    if (set.size === 0 && key !== '*.*') continue;
    lines.push(`GRANT ${grantList(set)} ON ${key} TO ${account}${set.has('GRANT') ? ' WITH GRANT OPTION' : ''}`);
  }
  return lines;
}

function grantList(set: Set<string>): string {
  const names = [...set].filter((p) => p !== 'GRANT').sort().map((p) => (p === 'ALL' ? 'ALL PRIVILEGES' : p));
  return names.length > 0 ? names.join(', ') : 'USAGE';
}

const minus = (a: Set<string>, b: Set<string>): Set<string> => new Set([...a].filter((x) => !b.has(x)));
const intersect = (a: Set<string>, b: Set<string>): Set<string> => new Set([...a].filter((x) => b.has(x)));

export interface PrivPlan {
  statements: string[];
  after: PrivMap;
}

/**
 * The REVOKE/GRANT statements that turn `current` into `wanted` for an account, as Ansible's
 * user_mod: objects not wanted lose everything (unless appending or subtracting); on objects in
 * both, missing privileges are granted and extra ones revoked; ALL absorbs the others.
 */
export function planPrivileges(current: PrivMap, wanted: PrivMap, account: string, mode: 'replace' | 'append' | 'subtract'): PrivPlan {
  const statements: string[] = [];
  const after: PrivMap = new Map([...current].map(([k, v]) => [k, new Set(v)]));
  const revoke = (key: string, privs: Set<string>) => {
    if (privs.has('GRANT')) statements.push(`REVOKE GRANT OPTION ON ${key} FROM ${account}`);
    const rest = [...privs].filter((p) => p !== 'GRANT').sort();
    if (rest.length > 0) statements.push(`REVOKE ${rest.map((p) => (p === 'ALL' ? 'ALL PRIVILEGES' : p)).join(', ')} ON ${key} FROM ${account}`);
  };
  const grant = (key: string, privs: Set<string>) => {
    if (privs.size === 0) return;
    statements.push(`GRANT ${grantList(privs)} ON ${key} TO ${account}${privs.has('GRANT') ? ' WITH GRANT OPTION' : ''}`);
  };
  if (mode === 'replace') {
    for (const [key, privs] of current) {
      if (wanted.has(key) || privs.size === 0) continue;
      revoke(key, privs);
      after.set(key, new Set());
    }
  }
  for (const [key, want] of wanted) {
    const have = current.get(key) ?? new Set<string>();
    let toGrant = new Set<string>();
    let toRevoke = new Set<string>();
    if (mode === 'append') toGrant = have.has('ALL') ? intersect(minus(want, have), new Set(['GRANT'])) : minus(want, have);
    else if (mode === 'subtract') toRevoke = intersect(want, have);
    else {
      toGrant = minus(want, have);
      toRevoke = minus(have, want);
      if (toGrant.has('ALL')) toRevoke = intersect(toRevoke, new Set(['GRANT']));
    }
    if (toRevoke.size > 0) revoke(key, toRevoke);
    grant(key, toGrant);
    const next = mode === 'replace' ? new Set(want) : mode === 'append' ? new Set([...have, ...toGrant]) : minus(have, toRevoke);
    if (next.has('ALL')) for (const p of [...next]) if (p !== 'ALL' && p !== 'GRANT') next.delete(p);
    after.set(key, next);
  }
  return { statements, after };
}

// ---- the module ---------------------------------------------------------------------------

interface AccountRow {
  host: string;
  plugin: string;
  /** Whether the stored authentication string equals the wanted hash/string. */
  authMatches: boolean;
  hasAuth: boolean;
}

const HASH = /^\*[0-9A-Fa-f]{40}$/;
const MASK = '********';

/** The statement part that sets a credential, or '' when none is wanted. */
function identifiedClause(args: MysqlUserArgs, hash: string | undefined, server: ServerInfo): string {
  if (hash !== undefined) return ` IDENTIFIED WITH mysql_native_password AS ${sqlString(hash)}`;
  if (!args.plugin) return '';
  if (args.plugin_hash_string !== undefined) return ` IDENTIFIED WITH ${args.plugin} AS ${sqlString(args.plugin_hash_string)}`;
  if (args.plugin_auth_string !== undefined) {
    // MariaDB takes USING PASSWORD('x') (pam: USING 'service'); MySQL takes BY 'x'
    if (!server.mariadb) return ` IDENTIFIED WITH ${args.plugin} BY ${sqlString(args.plugin_auth_string)}`;
    return args.plugin === 'pam' ? ` IDENTIFIED VIA pam USING ${sqlString(args.plugin_auth_string)}` : ` IDENTIFIED VIA ${args.plugin} USING PASSWORD(${sqlString(args.plugin_auth_string)})`;
  }
  return ` IDENTIFIED WITH ${args.plugin}`;
}

function accountText(lines: { password: string; plugin?: string; grants: string[] }): string {
  return joinLines([`password: ${lines.password}`, ...(lines.plugin !== undefined ? [`plugin: ${lines.plugin}`] : []), ...lines.grants]);
}

async function runMysqlUser(raw: MysqlUserArgs & { user?: string }, ctx: ModuleContext): Promise<ModuleResult> {
  const name = (raw.name ?? raw.user)!;
  const args: MysqlUserArgs = { ...raw, name, ...(raw.password !== undefined ? { password: String(raw.password) } : {}) };
  const state = args.state ?? 'present';
  const host = (args.host ?? 'localhost').toLowerCase();
  const login = loginArgs(raw);
  if (args.append_privs && args.subtract_privs) throw new MysqlError('parameters are mutually exclusive: append_privs|subtract_privs');
  if (args.encrypted && args.password !== undefined && !HASH.test(args.password)) {
    throw new MysqlError('encrypted was specified however it does not appear to be a valid hash expecting: *SHA1(SHA1(your_password))');
  }
  const wantedPrivs = args.priv !== undefined && state === 'present' ? parsePrivs(args.priv) : undefined;
  // an empty password is no password, as Ansible's `if bool(password)`
  const hash = args.password ? (args.encrypted ? args.password.toUpperCase() : nativePasswordHash(args.password)) : undefined;
  const secrets = [args.password, hash, args.plugin_auth_string, args.plugin_hash_string].filter((s): s is string => !!s);
  const run = (statements: string[], what?: string) => runSql(ctx, login, statements, { secrets, ...(what ? { what } : {}), ...(args.sql_log_bin === false ? { skipBinlog: true } : {}) });

  // the stored string compared in SQL with what is wanted: only 0/1 comes back
  const wantedAuth = hash ?? args.plugin_hash_string ?? args.plugin_auth_string;
  const [version, rows] = await run([
    'SELECT VERSION()',
    `SELECT Host, IFNULL(plugin, ''), IF(IFNULL(authentication_string, '') = ${wantedAuth !== undefined ? sqlString(wantedAuth) : "''"}, 1, 0), IF(IFNULL(authentication_string, '') = '', 0, 1) FROM mysql.user WHERE User = ${sqlString(name)}`,
  ]);
  const server = serverInfo(version![0]?.[0] ?? '');
  const accounts = new Map<string, AccountRow>();
  for (const [h, plugin, match, has] of rows!) accounts.set(h!, { host: h!, plugin: plugin!, authMatches: match === '1', hasAuth: has === '1' });
  const hosts = args.host_all ? [...accounts.keys()].sort() : [host];
  const result: ModuleResult = { changed: false, user: name, password_changed: false };

  if (state === 'present' && args.host_all && accounts.size === 0) throw new MysqlError('host_all parameter cannot be used when adding a user');

  // grants of the accounts that exist, for the comparison and the diff
  const existing = hosts.filter((h) => accounts.has(h));
  const grants = new Map<string, string[]>();
  if (existing.length > 0 && (wantedPrivs !== undefined || state === 'absent')) {
    const answers = await run(existing.map((h) => `SHOW GRANTS FOR ${sqlAccount(name, h)}`), 'error reading grants');
    existing.forEach((h, i) => grants.set(h, answers[i]!.map((r) => r[0]!)));
  }

  const statements: string[] = [];
  const diff: FileDiff[] = [];
  const messages = new Set<string>();
  for (const h of hosts) {
    const account = sqlAccount(name, h);
    const header = `mysql user ${account}`;
    const row = accounts.get(h);
    if (state === 'absent') {
      if (!row) continue;
      statements.push(`DROP USER ${account}`);
      const current = grants.get(h) ? renderGrants(parseGrants(grants.get(h)!), account) : [];
      diff.push({ before: accountText({ password: row.hasAuth ? MASK : '(none)', grants: current }), after: '', beforeHeader: header, afterHeader: `${header} (absent)` });
      messages.add('User deleted');
      continue;
    }
    if (!row) {
      statements.push(`CREATE USER ${account}${identifiedClause(args, hash, server)}`);
      const plan = planPrivileges(new Map([['*.*', new Set()]]), wantedPrivs ?? new Map([['*.*', new Set()]]), account, 'replace');
      statements.push(...plan.statements);
      const after = accountText({
        password: hash !== undefined || args.plugin_auth_string !== undefined || args.plugin_hash_string !== undefined ? MASK : '(none)',
        ...(args.plugin !== undefined ? { plugin: args.plugin } : {}),
        grants: renderGrants(plan.after, account),
      });
      diff.push({ before: '', after, beforeHeader: `${header} (absent)`, afterHeader: header });
      if (hash !== undefined) result.password_changed = true;
      messages.add('User added');
      continue;
    }
    // an existing account: only what differs
    const before = { password: row.hasAuth ? MASK : '(none)', ...(args.plugin !== undefined ? { plugin: row.plugin } : {}), grants: [] as string[] };
    const after = { ...before, grants: [] as string[] };
    const own: string[] = [];
    if (hash !== undefined && (args.update_password ?? 'always') === 'always' && !row.authMatches) {
      own.push(`ALTER USER ${account}${identifiedClause(args, hash, server)}`);
      after.password = `${MASK} (changed)`;
      if (args.plugin !== undefined) after.plugin = 'mysql_native_password';
      result.password_changed = true;
      messages.add('Password updated');
    } else if (hash === undefined && args.plugin) {
      // Ansible: a different plugin, or a hash/auth string that differs, re-identifies
      const differs = row.plugin !== args.plugin || ((args.plugin_hash_string !== undefined || args.plugin_auth_string !== undefined) && !row.authMatches);
      if (differs) {
        own.push(`ALTER USER ${account}${identifiedClause(args, undefined, server)}`);
        after.plugin = args.plugin;
        if (args.plugin_hash_string !== undefined || args.plugin_auth_string !== undefined) after.password = `${MASK} (changed)`;
        result.password_changed = true;
        messages.add('Authentication plugin updated');
      }
    }
    if (wantedPrivs !== undefined) {
      const current = parseGrants(grants.get(h) ?? []);
      const plan = planPrivileges(current, wantedPrivs, account, args.append_privs ? 'append' : args.subtract_privs ? 'subtract' : 'replace');
      before.grants = renderGrants(current, account);
      after.grants = renderGrants(plan.after, account);
      if (plan.statements.length > 0) {
        own.push(...plan.statements);
        messages.add('Privileges updated');
      }
    }
    if (own.length === 0) continue;
    statements.push(...own);
    diff.push({ before: accountText(before), after: accountText(after), beforeHeader: header, afterHeader: header });
  }

  result.msg = messages.size > 0 ? [...messages].join(', ') : state === 'absent' ? "User doesn't exist" : 'User unchanged';
  if (statements.length === 0) return result;
  result.changed = true;
  result.diff = diff;
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  await run(statements, state === 'absent' ? 'error deleting user' : 'error changing user');
  return result;
}
