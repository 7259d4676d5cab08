// authorized_key: SSH public keys in a user's authorized_keys, as Ansible's module. Keys are
// matched by their base64 blob, so a key whose options or comment changed is replaced in
// place; other lines (comments, other keys) are kept unless exclusive. One probe reads the
// user's entry, the file and its folder; the file is written atomically, 0600, owned by the
// user, and ~/.ssh is created 0700 when manage_dir.
import { posix } from 'node:path';
import { shQuote } from '../connection/shell.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';
import { assertNotInterrupted, joinLines, probeHost, systemGuarded, SystemModuleError, textDiff, textLines, writeText } from './system-probe.js';

export interface AuthorizedKeyArgs {
  user: string;
  key: string;
  path?: string;
  manage_dir?: boolean;
  state?: 'present' | 'absent';
  exclusive?: boolean;
  key_options?: string;
  comment?: string;
  follow?: boolean;
  validate_certs?: boolean;
}

export default defineModule<AuthorizedKeyArgs>({
  name: 'authorized_key',
  aliases: ['ansible.posix.authorized_key', 'ansible.builtin.authorized_key', 'ansible.legacy.authorized_key'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['user', 'key'],
    properties: {
      user: { type: 'string', minLength: 1 },
      key: { type: 'string' },
      path: { type: 'string', minLength: 1 },
      manage_dir: { type: 'boolean' },
      state: { enum: ['present', 'absent'] },
      exclusive: { type: 'boolean' },
      key_options: { type: 'string' },
      comment: { type: 'string' },
      follow: { type: 'boolean' },
      validate_certs: { type: 'boolean' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runAuthorizedKey(args, ctx)),
});

export interface ParsedKey {
  options: string;
  type: string;
  blob: string;
  comment: string;
}

const KEY_TYPE = /^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com|[a-z0-9-]+-cert-v01@openssh\.com)$/;

/** Words of a key line; double-quoted option values (command="a b") stay one word. */
function words(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (ch === '\\' && quoted && i + 1 < line.length) {
      cur += ch + line[++i];
    } else if (ch === '"') {
      quoted = !quoted;
      cur += ch;
    } else if (/\s/.test(ch) && !quoted) {
      if (cur) out.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (cur) out.push(cur);
  return out;
}

/** A key line → its parts, or undefined for comments, blank and unparsable lines. */
export function parseKeyLine(line: string): ParsedKey | undefined {
  const trimmed = line.trim();
  if (trimmed === '' || trimmed.startsWith('#')) return undefined;
  const w = words(trimmed);
  const at = w.findIndex((x) => KEY_TYPE.test(x));
  if (at < 0 || at > 1 || at + 1 >= w.length) return undefined;
  return { options: at === 1 ? w[0]! : '', type: w[at]!, blob: w[at + 1]!, comment: w.slice(at + 2).join(' ') };
}

export function keyLine(k: ParsedKey): string {
  return [k.options, k.type, k.blob, k.comment].filter(Boolean).join(' ');
}

async function runAuthorizedKey(args: AuthorizedKeyArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state ?? 'present';
  if (/^https?:\/\//.test(args.key.trim())) throw new SystemModuleError('key URLs are not supported by tsplay (the targets are air-gapped): give the key text, e.g. with lookup(\'file\', ...)');
  const wanted: ParsedKey[] = [];
  for (const line of args.key.split('\n')) {
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const parsed = parseKeyLine(line);
    if (!parsed) throw new SystemModuleError(`invalid key specified: ${line.trim().slice(0, 40)}`);
    if (args.key_options !== undefined) parsed.options = args.key_options;
    if (args.comment !== undefined) parsed.comment = args.comment;
    wanted.push(parsed);
  }
  const user = shQuote(args.user);
  const fileExpr = args.path !== undefined ? shQuote(args.path) : `"$(getent passwd ${user} | cut -d: -f6)/.ssh/authorized_keys"`;
  // the x…x frame keeps trailing newlines through the shell's command substitution
  const probe = await probeHost(ctx, {
    commands: {
      passwd: `getent passwd ${user}`,
      file: `f=${fileExpr}; [ -f "$f" ] || exit 3; printf x; cat -- "$f" || exit 4; printf x`,
      dir: `f=${fileExpr}; d=$(dirname -- "$f"); [ -d "$d" ]`,
    },
  });
  if (probe.commands.passwd!.rc !== 0) throw new SystemModuleError(`Failed to lookup user ${args.user}: user does not exist`);
  const pw = probe.commands.passwd!.out.split('\n')[0]!.split(':');
  const [uid, gid, home] = [pw[2]!, pw[3]!, pw[5]!];
  const path = args.path ?? `${home}/.ssh/authorized_keys`;
  const sshDir = posix.dirname(path);
  const fileRes = probe.commands.file!;
  if (fileRes.rc === 4) throw new SystemModuleError(`cannot read ${path}`);
  const beforeText = fileRes.rc === 0 ? fileRes.out.slice(1, -1) : null;
  if (probe.commands.dir!.rc !== 0 && args.manage_dir === false) throw new SystemModuleError(`${sshDir} does not exist and manage_dir is false`);

  const lines = textLines(beforeText);
  const out: string[] = [];
  const givenBlobs = new Set(wanted.map((k) => k.blob));
  const placed = new Set<string>();
  for (const line of lines) {
    const k = parseKeyLine(line);
    if (!k) {
      out.push(line);
      continue;
    }
    if (state === 'absent') {
      if (!givenBlobs.has(k.blob)) out.push(line);
      continue;
    }
    const want = wanted.find((w) => w.blob === k.blob);
    if (!want) {
      if (!args.exclusive) out.push(line);
      continue;
    }
    if (placed.has(k.blob)) continue; // a duplicate line of a managed key
    placed.add(k.blob);
    // same key: keep the line unless the options (or a given comment) differ
    const differs = k.options !== want.options || (want.comment !== '' && k.comment !== want.comment) || k.type !== want.type;
    out.push(differs ? keyLine(want) : line);
  }
  if (state === 'present') {
    for (const k of wanted) {
      if (!placed.has(k.blob)) {
        out.push(keyLine(k));
        placed.add(k.blob);
      }
    }
  }
  const afterText = state === 'absent' && beforeText === null ? null : joinLines(out);
  const changed = afterText !== null && afterText !== beforeText && !(beforeText !== null && textLines(beforeText).join('\n') === out.join('\n'));
  const result: ModuleResult = {
    changed,
    user: args.user,
    key: args.key,
    keyfile: path,
    path: args.path ?? null,
    state,
    exclusive: args.exclusive ?? false,
    manage_dir: args.manage_dir ?? true,
    key_options: args.key_options ?? null,
  };
  if (!changed) return result;
  result.diff = [textDiff(path, beforeText, afterText)];
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  if (probe.commands.dir!.rc !== 0) await ctx.ops.mkdirs([sshDir], { mode: 0o700, owner: uid, group: gid });
  await writeText(ctx, path, afterText!, beforeText === null ? { mode: 0o600, owner: uid, group: gid } : {});
  return result;
}
