// What mysql_db and mysql_user share: SQL run through the `mysql` (or `mariadb`) client on the
// target, in ONE exec round trip per batch of statements, with Ansible's login_* options.
//
// Secrets never reach a command line, the environment or a message. The login credentials and
// the SQL both travel on the exec's stdin: the script reads the first part (the option file)
// into a 0600 file in a private `mktemp -d` folder (umask 077, removed by an EXIT trap) and
// hands the rest to the client as its SQL input. Errors are reduced to the client's `ERROR ...`
// lines (the client also echoes the failing statement, which may hold a hash) and every secret
// the caller names is masked in them.
import { createHash, randomBytes } from 'node:crypto';
import { shQuote } from '../connection/shell.js';
import type { ModuleContext } from './types.js';
import { SystemModuleError } from './system-probe.js';

/** Ansible's community.mysql connection options (mysql_common_argument_spec). */
export interface MysqlLoginArgs {
  login_user?: string;
  login_password?: string;
  login_host?: string;
  login_port?: number;
  login_unix_socket?: string;
  config_file?: string;
  connect_timeout?: number;
  ca_cert?: string;
  client_cert?: string;
  client_key?: string;
  check_implicit_admin?: boolean;
}

/** JSON Schema properties of the login options, spread into each module's schema. */
export const MYSQL_LOGIN_PROPERTIES = {
  login_user: { type: 'string' },
  // YAML reads `login_password: 12345` as a number; Ansible takes it as the text
  login_password: { type: ['string', 'number'] },
  login_host: { type: 'string', minLength: 1 },
  login_port: { type: 'integer', minimum: 0, maximum: 65535 },
  login_unix_socket: { type: 'string', minLength: 1 },
  config_file: { type: 'string' },
  connect_timeout: { type: 'integer', minimum: 1 },
  ca_cert: { type: 'string', minLength: 1 },
  ssl_ca: { type: 'string', minLength: 1 },
  client_cert: { type: 'string', minLength: 1 },
  ssl_cert: { type: 'string', minLength: 1 },
  client_key: { type: 'string', minLength: 1 },
  ssl_key: { type: 'string', minLength: 1 },
  check_implicit_admin: { type: 'boolean' },
} as const;

/** Ansible's aliases (ssl_ca, ssl_cert, ssl_key) folded into the canonical names. */
export function loginArgs(raw: MysqlLoginArgs & { ssl_ca?: string; ssl_cert?: string; ssl_key?: string }): MysqlLoginArgs {
  const out: MysqlLoginArgs = {};
  const keys = ['login_user', 'login_password', 'login_host', 'login_port', 'login_unix_socket', 'config_file', 'connect_timeout', 'check_implicit_admin'] as const;
  for (const key of keys) if (raw[key] !== undefined) (out as Record<string, unknown>)[key] = raw[key];
  if (raw.login_password !== undefined) out.login_password = String(raw.login_password);
  const ca = raw.ca_cert ?? raw.ssl_ca;
  const cert = raw.client_cert ?? raw.ssl_cert;
  const key = raw.client_key ?? raw.ssl_key;
  if (ca !== undefined) out.ca_cert = ca;
  if (cert !== undefined) out.client_cert = cert;
  if (key !== undefined) out.client_key = key;
  return out;
}

/** A failure of the client or of a statement; the message holds no secret. */
export class MysqlError extends SystemModuleError {}

/**
 * A string literal. Backslash escaping is sound because every batch first clears
 * NO_BACKSLASH_ESCAPES for its session; control characters are escaped so the client's own
 * statement splitter never sees a raw newline inside a literal.
 */
export function sqlString(value: string): string {
  if (value.includes('\0')) throw new MysqlError('a SQL value cannot contain a NUL byte');
  const escaped = value.replace(/[\\'"\n\r\x1a]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' })[c]!);
  return `'${escaped}'`;
}

/** An identifier (database, table, account part) in backticks, a backtick written twice. */
export function sqlIdentifier(name: string): string {
  if (name.includes('\0')) throw new MysqlError('a SQL identifier cannot contain a NUL byte');
  return `\`${name.replace(/`/g, '``')}\``;
}

/** An account name: `user`@`host` (the identifier form both MySQL and MariaDB accept). */
export function sqlAccount(user: string, host: string): string {
  return `${sqlIdentifier(user)}@${sqlIdentifier(host)}`;
}

/** The mysql_native_password hash of a password: '*' + upper hex of SHA1(SHA1(password)). */
export function nativePasswordHash(password: string): string {
  const inner = createHash('sha1').update(Buffer.from(password, 'utf8')).digest();
  return `*${createHash('sha1').update(inner).digest('hex').toUpperCase()}`;
}

/** A value in a MySQL option file: double-quoted, with the escapes the option parser reads. */
function optionValue(value: string): string {
  if (value.includes('\0')) throw new MysqlError('a login option cannot contain a NUL byte');
  const escaped = value.replace(/[\\"\n\r\t\b]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b' })[c]!);
  return `"${escaped}"`;
}

/** The [client] section with the explicit login options (they come last, so they win). */
function clientSection(login: MysqlLoginArgs): string {
  const lines = ['[client]'];
  if (login.login_user !== undefined) lines.push(`user=${optionValue(login.login_user)}`);
  if (login.login_password !== undefined) lines.push(`password=${optionValue(login.login_password)}`);
  if (login.login_unix_socket !== undefined) {
    // Ansible: a socket given is used whatever the host says
    lines.push('host=localhost', `socket=${optionValue(login.login_unix_socket)}`, 'protocol=socket');
  } else {
    if (login.login_host !== undefined) lines.push(`host=${optionValue(login.login_host)}`);
    if (login.login_port !== undefined) lines.push(`port=${login.login_port}`);
  }
  lines.push(`connect-timeout=${login.connect_timeout ?? 30}`);
  if (login.ca_cert !== undefined) lines.push(`ssl-ca=${optionValue(login.ca_cert)}`);
  if (login.client_cert !== undefined) lines.push(`ssl-cert=${optionValue(login.client_cert)}`);
  if (login.client_key !== undefined) lines.push(`ssl-key=${optionValue(login.client_key)}`);
  lines.push('default-character-set=utf8mb4');
  return `${lines.join('\n')}\n`;
}

/** The config_file as a shell word: `~/` is the remote user's home, as Ansible expands it. */
function configFileWord(path: string): string {
  if (path === '~') return '"$HOME"';
  if (path.startsWith('~/')) return `"$HOME"/${shQuote(path.slice(2))}`;
  return shQuote(path);
}

/** The rows of one statement's result; every value as text (NULL is the text "NULL"). */
export type SqlRows = string[][];

/** Unescape one field of `mysql --batch` output (\t, \n, \\, \0). */
function unescapeField(field: string): string {
  return field.replace(/\\([tn0\\])/g, (_, c: string) => ({ t: '\t', n: '\n', '0': '\0', '\\': '\\' })[c]!);
}

export interface RunSqlOptions {
  /** Values to mask in every message (passwords, hashes). The login password is always masked. */
  secrets?: readonly string[];
  /** SET SQL_LOG_BIN=0 first (Ansible's sql_log_bin: false). */
  skipBinlog?: boolean;
  /** What the batch does, for messages: "error creating database". */
  what?: string;
}

/** Mask every secret in a text, in its plain and its SQL-escaped forms. */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  const forms = secrets.filter((s) => s.length > 0).flatMap((s) => [s, sqlString(s).slice(1, -1), optionValue(s).slice(1, -1)]);
  // longest first, so a secret inside another is not half-masked
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) out = out.split(form).join('********');
  return out;
}

const CONNECT_ERRORS = /^ERROR (1045|1044|1698|2002|2003|2005|2006|2013|2026)\b/;

/**
 * Run statements in one round trip and return each one's rows. The first failing statement
 * stops the batch; the error names the client's ERROR line, with secrets masked.
 */
export async function runSql(ctx: ModuleContext, login: MysqlLoginArgs, statements: readonly string[], opts: RunSqlOptions = {}): Promise<SqlRows[]> {
  const secrets = [...(opts.secrets ?? []), ...(login.login_password !== undefined ? [login.login_password] : [])];
  const mark = `@@tsplay-sql-${randomBytes(6).toString('hex')}`;
  const endOfOptions = `@@tsplay-end-of-options-${randomBytes(6).toString('hex')}`;
  const sql: string[] = [
    // the escaping sqlString relies on, whatever the server's sql_mode says
    "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(CONCAT(',', @@SESSION.sql_mode, ','), ',NO_BACKSLASH_ESCAPES,', ','));",
  ];
  if (opts.skipBinlog) sql.push('SET SESSION SQL_LOG_BIN = 0;');
  statements.forEach((statement, i) => sql.push(`SELECT '${mark} ${i}';`, `${statement.replace(/;\s*$/, '')};`));
  sql.push(`SELECT '${mark} end';`);
  const stdin = `${clientSection(login)}${endOfOptions}\n${sql.join('\n')}\n`;

  const configFile = login.config_file ?? '~/.my.cnf';
  const includes = ['/etc/my.cnf', '/etc/mysql/my.cnf'].map((f) => `[ -r ${f} ] && printf '!include %s\\n' ${f}`);
  if (configFile !== '') {
    if (/[\n\r]/.test(configFile)) throw new MysqlError('config_file cannot contain a newline');
    includes.push(`f=${configFileWord(configFile)}; [ -f "$f" ] && [ -r "$f" ] && printf '!include %s\\n' "$f"`);
  }
  const script = [
    'umask 077',
    'client=$(command -v mariadb || command -v mysql) || { echo "the mysql client (mariadb or mysql) is not installed" >&2; exit 127; }',
    'tsplay_dir=$(mktemp -d) || exit 1',
    `trap 'rm -rf "$tsplay_dir"' EXIT`,
    // the global files and config_file first, then our [client] section: later options win
    `{ ${includes.join('; ')}; true; } > "$tsplay_dir/login.cnf"`,
    `while IFS= read -r line; do [ "$line" = ${shQuote(endOfOptions)} ] && break; printf '%s\\n' "$line"; done >> "$tsplay_dir/login.cnf"`,
    ...(login.check_implicit_admin
      ? [
          // Ansible's check_implicit_admin: root without a password first, the given login otherwise
          `{ ${includes.join('; ')}; true; printf '[client]\\nuser=root\\npassword=\\n'; } > "$tsplay_dir/implicit.cnf"`,
          `if "$client" --defaults-file="$tsplay_dir/implicit.cnf" --batch -e 'SELECT 1' >/dev/null 2>&1; then mv -f "$tsplay_dir/implicit.cnf" "$tsplay_dir/login.cnf"; fi`,
        ]
      : []),
    '"$client" --defaults-file="$tsplay_dir/login.cnf" --batch --skip-column-names',
  ].join('\n');

  const res = await ctx.ops.run(`${script}\n`, { stdin });
  const results: SqlRows[] = statements.map(() => []);
  let current = -1;
  let ended = false;
  for (const line of res.stdout.split('\n')) {
    if (line.startsWith(`${mark} `)) {
      const tag = line.slice(mark.length + 1);
      if (tag === 'end') ended = true;
      else current = Number(tag);
      continue;
    }
    if (current >= 0 && line !== '') results[current]!.push(line.split('\t').map(unescapeField));
  }
  if (res.rc === 0 && ended) return results;

  // only the client's ERROR lines: it also echoes the failing statement, which may hold a hash;
  // " at line N" counts lines of our batch, which means nothing to the user
  const errorLines = res.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^ERROR\b/.test(l) || /not installed|not found/.test(l))
    .map((l) => l.replace(/^(ERROR \d+ \(\w+\)) at line \d+:/, '$1:'));
  const detail = maskSecrets(errorLines.join('\n') || `the mysql client exited with rc ${res.rc}`, secrets);
  if (res.rc === 127) throw new MysqlError(detail, { rc: res.rc });
  if (current < 0 && (CONNECT_ERRORS.test(detail) || errorLines.length === 0)) {
    throw new MysqlError(
      `unable to connect to database, check login_user and login_password are correct or ${configFile || '~/.my.cnf'} has the credentials. Exception message: ${detail}`,
      { rc: res.rc },
    );
  }
  // the statement that failed (the batch stops at the first error), with secrets masked
  const failed = current >= 0 && current < statements.length ? maskSecrets(statements[current]!, secrets) : undefined;
  throw new MysqlError(`${opts.what ? `${opts.what}: ` : ''}${detail}`, { rc: res.rc, ...(failed !== undefined ? { statement: failed } : {}) });
}

/** Server flavour and version, from SELECT VERSION(). */
export interface ServerInfo {
  mariadb: boolean;
  version: string;
}

export function serverInfo(versionText: string): ServerInfo {
  return { mariadb: /mariadb/i.test(versionText), version: versionText };
}
