// group: a local group present (with a gid) or absent, as Ansible's group module, through
// groupadd/groupmod/groupdel. The diff is the group's /etc/group entry before and after.
import { shJoin } from '../connection/shell.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';
import { assertNotInterrupted, mustRun, probeHost, systemGuarded, textDiff } from './system-probe.js';

export interface GroupArgs {
  name: string;
  gid?: number;
  state?: 'present' | 'absent';
  system?: boolean;
  non_unique?: boolean;
  local?: boolean;
  force?: boolean;
}

export default defineModule<GroupArgs>({
  name: 'group',
  aliases: ['ansible.builtin.group', 'ansible.legacy.group'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, pattern: '^[^:\\s,]+$' },
      gid: { type: 'integer', minimum: 0 },
      state: { enum: ['present', 'absent'] },
      system: { type: 'boolean' },
      non_unique: { type: 'boolean' },
      local: { type: 'boolean' },
      force: { type: 'boolean' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runGroup(args, ctx)),
});

/** A group's entry as /etc/group shows it (name:x:gid:members). */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

export function parseGroupLine(line: string): GroupEntry | undefined {
  const f = line.split(':');
  if (f.length < 4 || !/^\d+$/.test(f[2]!)) return undefined;
  return { name: f[0]!, gid: Number(f[2]), members: f[3] ? f[3].split(',').filter(Boolean) : [] };
}

export function groupLine(g: { name: string; gid: number | string; members: string[] }): string {
  return `${g.name}:x:${g.gid}:${g.members.join(',')}\n`;
}

async function runGroup(args: GroupArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state ?? 'present';
  const probe = await probeHost(ctx, { commands: { group: `getent group ${shJoin([args.name])}` } });
  const current = probe.commands.group!.rc === 0 ? parseGroupLine(probe.commands.group!.out.split('\n')[0]!) : undefined;
  const result: ModuleResult = { changed: false, name: args.name, state };
  const label = `/etc/group: ${args.name}`;

  if (state === 'absent') {
    if (!current) return result;
    result.changed = true;
    result.diff = [textDiff(label, groupLine(current), null)];
    if (!ctx.check) {
      assertNotInterrupted(ctx);
      await mustRun(ctx, shJoin(['groupdel', ...(args.force ? ['-f'] : []), args.name]), `groupdel ${args.name}`);
    }
    return result;
  }

  if (!current) {
    const cmd = ['groupadd', ...(args.gid !== undefined ? ['-g', String(args.gid)] : []), ...(args.non_unique ? ['-o'] : []), ...(args.system ? ['-r'] : []), args.name];
    result.changed = true;
    // a gid groupadd picks is not known before it runs: the diff says so in both modes
    result.diff = [textDiff(label, null, groupLine({ name: args.name, gid: args.gid ?? '(assigned by groupadd)', members: [] }))];
    if (!ctx.check) {
      assertNotInterrupted(ctx);
      await mustRun(ctx, shJoin(cmd), shJoin(cmd));
      const after = await probeHost(ctx, { commands: { group: `getent group ${shJoin([args.name])}` } });
      const made = parseGroupLine(after.commands.group!.out.split('\n')[0] ?? '');
      if (made) result.gid = made.gid;
    } else if (args.gid !== undefined) result.gid = args.gid;
    result.system = args.system ?? false;
    return result;
  }

  result.gid = current.gid;
  result.system = args.system ?? false;
  if (args.gid !== undefined && args.gid !== current.gid) {
    const cmd = ['groupmod', '-g', String(args.gid), ...(args.non_unique ? ['-o'] : []), args.name];
    result.changed = true;
    result.gid = args.gid;
    result.diff = [textDiff(label, groupLine(current), groupLine({ ...current, gid: args.gid }))];
    if (!ctx.check) {
      assertNotInterrupted(ctx);
      await mustRun(ctx, shJoin(cmd), shJoin(cmd));
    }
  }
  return result;
}
