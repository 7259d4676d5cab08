// user: a local account as Ansible's user module, through useradd/usermod/userdel. One probe
// round trip reads the passwd and shadow entries, every group, useradd's defaults and the home
// folder; the diff is the passwd entry and group memberships — never the password hash, which
// is set through chpasswd's stdin so it shows in no process list, result or message.
import { shJoin, shQuote } from '../connection/shell.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';
import { parseGroupLine, type GroupEntry } from './group.js';
import { assertNotInterrupted, joinLines, mustRun, probeHost, systemGuarded, SystemModuleError, textDiff, textLines } from './system-probe.js';

export interface UserArgs {
  name: string;
  state?: 'present' | 'absent';
  uid?: number;
  group?: string;
  groups?: string[] | string;
  append?: boolean;
  shell?: string;
  home?: string;
  create_home?: boolean;
  move_home?: boolean;
  system?: boolean;
  password?: string;
  update_password?: 'always' | 'on_create';
  comment?: string;
  remove?: boolean;
  force?: boolean;
  non_unique?: boolean;
}

const NOT_LOGGING = 'NOT_LOGGING_PASSWORD';

/** A group as the plan sees it: a check run may name one an earlier task creates (gid unknown). */
interface PlannedGroup {
  name: string;
  gid: number | string;
}
const AUTO = '(assigned by useradd)';

export default defineModule<UserArgs>({
  name: 'user',
  aliases: ['ansible.builtin.user', 'ansible.legacy.user'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, pattern: '^[^:\\s,]+$' },
      state: { enum: ['present', 'absent'] },
      uid: { type: 'integer', minimum: 0 },
      group: { type: 'string', minLength: 1 },
      groups: { anyOf: [{ type: 'array', items: { type: 'string' } }, { type: 'string' }] },
      append: { type: 'boolean' },
      shell: { type: 'string' },
      home: { type: 'string', minLength: 1 },
      create_home: { type: 'boolean' },
      createhome: { type: 'boolean' },
      move_home: { type: 'boolean' },
      system: { type: 'boolean' },
      password: { type: 'string' },
      update_password: { enum: ['always', 'on_create'] },
      comment: { type: 'string', pattern: '^[^:\\n]*$' },
      remove: { type: 'boolean' },
      force: { type: 'boolean' },
      non_unique: { type: 'boolean' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runUser(normalize(args), ctx)),
});

/** Ansible's aliases (createhome) are folded here so run() sees one name. */
function normalize(args: UserArgs & { createhome?: boolean }): UserArgs {
  const { createhome, ...rest } = args;
  return createhome !== undefined && rest.create_home === undefined ? { ...rest, create_home: createhome } : rest;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  comment: string;
  home: string;
  shell: string;
}

function parsePasswd(line: string): PasswdEntry | undefined {
  const f = line.split(':');
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), comment: f[4]!, home: f[5]!, shell: f[6]! };
}

/** The text the diff shows: the passwd entry, supplementary groups, whether a password is set. */
function entryText(e: { name: string; uid: number | string; gid: number | string; comment: string; home: string; shell: string }, groups: string[], password?: string): string {
  const lines = [`${e.name}:x:${e.uid}:${e.gid}:${e.comment}:${e.home}:${e.shell}`, `groups:${groups.length ? ` ${[...groups].sort().join(',')}` : ''}`];
  if (password !== undefined) lines.push(`password: ${password}`);
  return joinLines(lines);
}

function wantedGroups(groups: UserArgs['groups']): string[] | undefined {
  if (groups === undefined) return undefined;
  const list = Array.isArray(groups) ? groups : groups.split(',');
  return [...new Set(list.map((g) => g.trim()).filter(Boolean))];
}

async function runUser(args: UserArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state ?? 'present';
  const name = args.name;
  const probe = await probeHost(ctx, {
    commands: {
      passwd: `getent passwd ${shQuote(name)}`,
      shadow: `getent shadow ${shQuote(name)}`,
      groups: 'getent group',
      defaults: 'useradd -D',
    },
  });
  const current = probe.commands.passwd!.rc === 0 ? parsePasswd(probe.commands.passwd!.out.split('\n')[0]!) : undefined;
  const allGroups = textLines(probe.commands.groups!.out).map(parseGroupLine).filter((g): g is GroupEntry => g !== undefined);
  const findGroup = (g: string): GroupEntry | undefined => allGroups.find((e) => (/^\d+$/.test(g) ? e.gid === Number(g) : e.name === g));
  const result: ModuleResult = { changed: false, name, state };
  if (args.password !== undefined) result.password = NOT_LOGGING;
  const label = `/etc/passwd: ${name}`;

  if (state === 'absent') {
    if (!current) return result;
    const memberOf = allGroups.filter((g) => g.members.includes(name)).map((g) => g.name);
    result.changed = true;
    result.diff = [textDiff(label, entryText({ ...current, gid: allGroups.find((g) => g.gid === current.gid)?.name ?? current.gid }, memberOf), null)];
    if (args.remove) result.remove = true;
    if (!ctx.check) {
      assertNotInterrupted(ctx);
      const cmd = ['userdel', ...(args.remove ? ['-r'] : []), ...(args.force ? ['-f'] : []), name];
      await mustRun(ctx, shJoin(cmd), shJoin(cmd));
    }
    return result;
  }

  // in check mode a missing group is taken as one an earlier task of the play creates (the
  // group task's own check run created nothing), as Ansible's check mode does not look
  const missingGroup = (g: string): PlannedGroup => {
    if (!ctx.check || /^\d+$/.test(g)) throw new SystemModuleError(`Group ${g} does not exist`);
    return { name: g, gid: `(gid of ${g})` };
  };
  const primary = args.group !== undefined ? (findGroup(args.group) ?? missingGroup(args.group)) : undefined;
  const groups = wantedGroups(args.groups);
  const resolvedGroups: string[] = [];
  for (const g of groups ?? []) resolvedGroups.push((findGroup(g) ?? missingGroup(g)).name);
  const shadowHash = probe.commands.shadow!.rc === 0 ? (probe.commands.shadow!.out.split('\n')[0] ?? '').split(':')[1] ?? '' : undefined;
  const hasPassword = (hash: string | undefined) => (hash !== undefined && hash !== '' && !/^[!*]/.test(hash) ? 'set' : 'not set');

  if (!current) return createUser(args, ctx, result, { label, primary, groups: resolvedGroups, defaults: probe.commands.defaults!.out, sameNameGroup: findGroup(name) });

  // an existing account: only what differs goes to usermod
  const opts: string[] = [];
  const after: Omit<PasswdEntry, 'gid'> & { gid: number | string } = { ...current };
  if (args.uid !== undefined && args.uid !== current.uid) {
    opts.push('-u', String(args.uid));
    after.uid = args.uid;
  }
  if (primary && primary.gid !== current.gid) {
    opts.push('-g', primary.name);
    after.gid = primary.gid;
  }
  if (args.comment !== undefined && args.comment !== current.comment) {
    opts.push('-c', args.comment);
    after.comment = args.comment;
  }
  if (args.shell !== undefined && args.shell !== current.shell) {
    opts.push('-s', args.shell);
    after.shell = args.shell;
  }
  if (args.home !== undefined && args.home !== current.home) {
    opts.push('-d', args.home, ...(args.move_home ? ['-m'] : []));
    after.home = args.home;
  }
  if (args.non_unique && opts.includes('-u')) opts.push('-o');
  const primaryName = (gid: number | string) => allGroups.find((g) => g.gid === gid)?.name;
  const memberOf = allGroups.filter((g) => g.members.includes(name) && g.name !== primaryName(current.gid)).map((g) => g.name);
  let afterGroups = memberOf;
  if (groups !== undefined) {
    const wanted = resolvedGroups.filter((g) => g !== primaryName(after.gid));
    if (args.append) {
      const missing = wanted.filter((g) => !memberOf.includes(g));
      if (missing.length > 0) {
        opts.push('-a', '-G', missing.join(','));
        afterGroups = [...memberOf, ...missing];
      }
    } else if (wanted.length !== memberOf.length || wanted.some((g) => !memberOf.includes(g))) {
      opts.push('-G', wanted.join(','));
      afterGroups = wanted;
    }
  }
  const setPassword = args.password !== undefined && (args.update_password ?? 'always') === 'always' && shadowHash !== args.password;
  const passwordBefore = args.password !== undefined ? hasPassword(shadowHash) : undefined;
  const passwordAfter = args.password !== undefined ? (setPassword ? 'set (changed)' : passwordBefore) : undefined;
  Object.assign(result, { uid: after.uid, group: after.gid, comment: after.comment, home: after.home, shell: after.shell, groups: afterGroups.join(','), system: args.system ?? false });
  if (opts.length === 0 && !setPassword) return result;

  result.changed = true;
  // the diff names the primary group: in check mode a group an earlier task creates has no
  // gid yet, and the plan must read the same as the real run's report
  const groupOf = (gid: number | string) => primaryName(gid) ?? String(gid);
  const afterGroupLabel = after.gid === current.gid ? groupOf(current.gid) : primary!.name;
  result.diff = [
    textDiff(label, entryText({ ...current, gid: groupOf(current.gid) }, memberOf, passwordBefore), entryText({ ...after, gid: afterGroupLabel }, afterGroups, passwordAfter)),
  ];
  if (!ctx.check) {
    assertNotInterrupted(ctx);
    if (opts.length > 0) await mustRun(ctx, shJoin(['usermod', ...opts, name]), shJoin(['usermod', ...opts, name]));
    if (setPassword) await setHash(ctx, name, args.password!);
  }
  return result;
}

async function createUser(
  args: UserArgs,
  ctx: ModuleContext,
  result: ModuleResult,
  p: { label: string; primary: PlannedGroup | undefined; groups: string[]; defaults: string; sameNameGroup: GroupEntry | undefined },
): Promise<ModuleResult> {
  const name = args.name;
  const defaults = Object.fromEntries(textLines(p.defaults).map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]));
  const createHome = args.create_home ?? true;
  const cmd = ['useradd'];
  if (args.uid !== undefined) cmd.push('-u', String(args.uid), ...(args.non_unique ? ['-o'] : []));
  // like Ansible: a group named like the user already there becomes its primary group,
  // instead of useradd refusing to create the user group
  const primary = p.primary ?? p.sameNameGroup;
  if (primary) cmd.push('-g', primary.name);
  if (p.groups.length > 0) cmd.push('-G', p.groups.join(','));
  if (args.comment !== undefined) cmd.push('-c', args.comment);
  if (args.home !== undefined) cmd.push('-d', args.home);
  if (args.shell !== undefined) cmd.push('-s', args.shell);
  if (args.system) cmd.push('-r');
  cmd.push(createHome ? '-m' : '-M', name);

  const planned = {
    name,
    uid: args.uid ?? AUTO,
    gid: primary ? primary.name : AUTO,
    comment: args.comment ?? '',
    home: args.home ?? `${(defaults.HOME ?? '/home').replace(/\/$/, '')}/${name}`,
    shell: args.shell ?? defaults.SHELL ?? '',
  };
  result.changed = true;
  result.diff = [textDiff(p.label, null, entryText(planned, p.groups, args.password !== undefined ? 'set' : undefined))];
  Object.assign(result, { comment: planned.comment, home: planned.home, shell: planned.shell, groups: p.groups.join(','), system: args.system ?? false, create_home: createHome });
  if (ctx.check) {
    if (args.uid !== undefined) result.uid = args.uid;
    if (primary) result.group = primary.gid;
    return result;
  }
  assertNotInterrupted(ctx);
  await mustRun(ctx, shJoin(cmd), shJoin(cmd));
  if (args.password !== undefined) await setHash(ctx, name, args.password);
  const made = await probeHost(ctx, { commands: { passwd: `getent passwd ${shQuote(name)}` } });
  const entry = parsePasswd(made.commands.passwd!.out.split('\n')[0] ?? '');
  if (entry) Object.assign(result, { uid: entry.uid, group: entry.gid, home: entry.home, shell: entry.shell });
  return result;
}

/** Set a crypt hash through chpasswd's stdin: it never appears on a command line. */
async function setHash(ctx: ModuleContext, name: string, hash: string): Promise<void> {
  if (hash.includes('\n') || hash.includes(':')) throw new SystemModuleError('password must be a crypt hash (no ":" or newline)');
  await mustRun(ctx, 'chpasswd -e', `chpasswd -e (password for ${name})`, { stdin: `${name}:${hash}\n` });
}
