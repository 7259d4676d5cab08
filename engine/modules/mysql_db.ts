// mysql_db: databases present or absent, as community.mysql.mysql_db, through the mysql client
// on the host (mysql-client.ts). One round trip reads which databases exist with their
// character set and collation, and what a new one would get; a second one creates or drops.
// Like Ansible, an existing database is left as it is (its encoding is not altered).
// state dump/import are not supported (they need file transfer of dumps; use command: mysqldump).
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { loginArgs, MYSQL_LOGIN_PROPERTIES, MysqlError, runSql, sqlIdentifier, sqlString, type MysqlLoginArgs } from './mysql-client.js';
import { assertNotInterrupted, settingsText, systemGuarded } from './system-probe.js';

export interface MysqlDbArgs extends MysqlLoginArgs {
  name: string | string[];
  state?: 'present' | 'absent';
  encoding?: string;
  collation?: string;
  sql_log_bin?: boolean;
}

/** Character set and collation names are plain words; anything else is refused before SQL. */
const CHARSET_NAME = '^[A-Za-z0-9_]*$';

export default defineModule<MysqlDbArgs>({
  name: 'mysql_db',
  aliases: ['community.mysql.mysql_db'],
  schema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['name'] }, { required: ['db'] }],
    properties: {
      name: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      db: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      state: { enum: ['present', 'absent'] },
      encoding: { type: 'string', pattern: CHARSET_NAME },
      collation: { type: 'string', pattern: CHARSET_NAME },
      sql_log_bin: { type: 'boolean' },
      ...MYSQL_LOGIN_PROPERTIES,
    },
  },
  run: (args, ctx) => systemGuarded(() => runMysqlDb(args as MysqlDbArgs & { db?: string | string[] }, ctx)),
});

interface DbState {
  name: string;
  encoding: string;
  collation: string;
}

const dbText = (db: DbState): string => settingsText({ name: db.name, encoding: db.encoding, collation: db.collation });

/** Ansible takes a list or a comma-separated string; names are stripped. */
function dbNames(name: string | string[]): string[] {
  const list = Array.isArray(name) ? name : name.split(',');
  return [...new Set(list.map((n) => n.trim()).filter((n) => n !== ''))];
}

async function runMysqlDb(raw: MysqlDbArgs & { db?: string | string[] }, ctx: ModuleContext): Promise<ModuleResult> {
  const names = dbNames(raw.name ?? raw.db ?? []);
  const state = raw.state ?? 'present';
  if (names.length === 0) return { changed: false, db: '', db_list: [] };
  if (names.includes('all')) throw new MysqlError("name is not allowed to equal 'all' unless state equals import, or dump.");
  const login = loginArgs(raw);
  const encoding = raw.encoding || undefined;
  const collation = raw.collation || undefined;

  // which exist, and what a new database gets: the server defaults, or the given character
  // set's default collation, or the given collation's character set
  const list = names.map(sqlString).join(', ');
  const [existing, defaults] = await runSql(
    ctx,
    login,
    [
      `SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${list})`,
      `SELECT ${encoding ? sqlString(encoding) : collation ? `IFNULL((SELECT CHARACTER_SET_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME = ${sqlString(collation)}), ${sqlString(collation)})` : '@@character_set_server'}, ` +
        `${collation ? sqlString(collation) : encoding ? `IFNULL((SELECT DEFAULT_COLLATE_NAME FROM information_schema.CHARACTER_SETS WHERE CHARACTER_SET_NAME = ${sqlString(encoding)}), '')` : '@@collation_server'}`,
    ],
    { what: 'error reading databases' },
  );
  const found = new Map<string, DbState>();
  for (const [name, enc, coll] of existing!) found.set(name!, { name: name!, encoding: enc!, collation: coll! });
  const [newEncoding, newCollation] = defaults![0] ?? ['', ''];

  const diff: FileDiff[] = [];
  const statements: string[] = [];
  for (const name of names) {
    const current = found.get(name);
    const header = `database ${name}`;
    if (state === 'present' && !current) {
      statements.push(`CREATE DATABASE ${sqlIdentifier(name)}${encoding ? ` CHARACTER SET ${encoding}` : ''}${collation ? ` COLLATE ${collation}` : ''}`);
      diff.push({ before: '', after: dbText({ name, encoding: newEncoding ?? '', collation: newCollation ?? '' }), beforeHeader: `${header} (absent)`, afterHeader: header });
    } else if (state === 'absent' && current) {
      statements.push(`DROP DATABASE ${sqlIdentifier(name)}`);
      diff.push({ before: dbText(current), after: '', beforeHeader: header, afterHeader: `${header} (absent)` });
    }
  }
  const result: ModuleResult = { changed: statements.length > 0, db: names.join(' '), db_list: names };
  if (statements.length === 0) return result;
  result.diff = diff;
  result.executed_commands = statements;
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  await runSql(ctx, login, statements, {
    what: state === 'present' ? 'error creating database' : 'error deleting database',
    ...(raw.sql_log_bin === false ? { skipBinlog: true } : {}),
  });
  return result;
}
