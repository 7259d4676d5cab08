// cron: one named job in a user's crontab (crontab -l / crontab -) or in a cron.d file, as
// Ansible's cron module. Jobs are found by Ansible's marker comment `#Ansible: NAME` on the line
// before the job, so crontabs Ansible managed are taken over as they are. The diff is the
// crontab (or file) before and after.
import { posix } from 'node:path';
import { shQuote } from '../connection/shell.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';
import { assertNotInterrupted, joinLines, mustRun, probeHost, systemGuarded, SystemModuleError, textDiff, textLines } from './system-probe.js';

export interface CronArgs {
  name: string;
  job?: string;
  minute?: string | number;
  hour?: string | number;
  day?: string | number;
  month?: string | number;
  weekday?: string | number;
  special_time?: 'annually' | 'daily' | 'hourly' | 'monthly' | 'reboot' | 'weekly' | 'yearly';
  user?: string;
  state?: 'present' | 'absent';
  cron_file?: string;
  disabled?: boolean;
  backup?: boolean;
}

const MARKER = '#Ansible: ';
const TIME = { type: ['string', 'integer'], pattern: '^\\S+$' };

export default defineModule<CronArgs>({
  name: 'cron',
  aliases: ['ansible.builtin.cron', 'ansible.legacy.cron'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, pattern: '^[^\\n]*$' },
      job: { type: 'string', pattern: '^[^\\n]*$' },
      value: { type: 'string', pattern: '^[^\\n]*$' },
      minute: TIME,
      hour: TIME,
      day: TIME,
      dom: TIME,
      month: TIME,
      weekday: TIME,
      dow: TIME,
      special_time: { enum: ['annually', 'daily', 'hourly', 'monthly', 'reboot', 'weekly', 'yearly'] },
      user: { type: 'string', minLength: 1 },
      state: { enum: ['present', 'absent'] },
      cron_file: { type: 'string', minLength: 1 },
      disabled: { type: 'boolean' },
      backup: { type: 'boolean' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runCron(normalize(args), ctx)),
});

/** Fold Ansible's aliases (value, dom, dow) into the canonical names. */
function normalize(args: CronArgs & { value?: string; dom?: string | number; dow?: string | number }): CronArgs {
  const { value, dom, dow, ...rest } = args;
  return { ...rest, job: rest.job ?? value, day: rest.day ?? dom, weekday: rest.weekday ?? dow };
}

/** The job line as Ansible writes it. */
export function cronLine(args: CronArgs, withUser: string | undefined): string {
  const who = withUser !== undefined ? `${withUser} ` : '';
  const prefix = args.disabled ? '#' : '';
  if (args.special_time) return `${prefix}@${args.special_time} ${who}${args.job}`;
  const f = (v: string | number | undefined) => (v === undefined ? '*' : String(v));
  return `${prefix}${f(args.minute)} ${f(args.hour)} ${f(args.day)} ${f(args.month)} ${f(args.weekday)} ${who}${args.job}`;
}

async function runCron(args: CronArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state ?? 'present';
  if (state === 'present' && (args.job === undefined || args.job === '')) throw new SystemModuleError('You must specify \'job\' to install a new cron job or variable');
  const timeGiven = [args.minute, args.hour, args.day, args.month, args.weekday].some((v) => v !== undefined && String(v) !== '*');
  if (args.special_time && timeGiven) throw new SystemModuleError('You must specify time and date fields or special time.');
  const file = args.cron_file === undefined ? undefined : args.cron_file.startsWith('/') ? args.cron_file : posix.join('/etc/cron.d', args.cron_file);
  // cron skips cron.d files whose names hold dots: say so, as the result's warning
  const warnings = file !== undefined && file.startsWith('/etc/cron.d/') && /[^A-Za-z0-9_-]/.test(posix.basename(file))
    ? [`cron_file ${posix.basename(file)}: cron ignores files in /etc/cron.d whose names hold characters other than letters, digits, '_' and '-'`]
    : [];
  const user = args.user;
  const crontabCmd = `crontab${user !== undefined ? ` -u ${shQuote(user)}` : ''}`;
  const probe = await probeHost(ctx, {
    ...(file ? { files: [file] } : {}),
    commands: file
      ? {}
      : {
          tool: 'command -v crontab',
          // "no crontab for USER" is rc 1 with nothing on stdout: an empty crontab
          crontab: `printf x; ${crontabCmd} -l; printf x`,
        },
  });
  if (!file && probe.commands.tool!.rc !== 0) throw new SystemModuleError('Failed to find required executable "crontab" in paths: the cron package is not installed');
  const before = file ? (probe.files.get(file) ?? null) : probe.commands.crontab!.out.slice(1, -1);
  const lines = textLines(before);
  const jobLine = state === 'present' ? cronLine(args, file ? (user ?? 'root') : undefined) : undefined;

  const out: string[] = [];
  let found = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === `${MARKER}${args.name}`) {
      i++; // the job line that follows the marker
      if (state === 'absent' || found) continue;
      found = true;
      out.push(line, jobLine!);
      continue;
    }
    out.push(line);
  }
  if (state === 'present' && !found) out.push(`${MARKER}${args.name}`, jobLine!);
  const jobs = out.filter((l) => l.startsWith(MARKER)).map((l) => l.slice(MARKER.length));
  const result: ModuleResult = { changed: false, jobs, envs: [], ...(warnings.length ? { warnings } : {}) };
  if (out.join('\n') === lines.join('\n')) return result;

  // an emptied cron.d file is removed, as Ansible does
  const removeFile = file !== undefined && state === 'absent' && out.every((l) => l.trim() === '');
  const after = removeFile ? null : joinLines(out);
  result.changed = true;
  result.diff = [textDiff(file ?? `crontab${user ? ` of ${user}` : ''}`, before, after)];
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  if (file) {
    if (after === null) await ctx.ops.remove(file);
    else await ctx.ops.writeFileAtomic(file, Buffer.from(after, 'utf8'), { ...(before === null ? { mode: 0o644 } : {}), ...(args.backup ? { backup: true } : {}) });
  } else {
    await mustRun(ctx, `${crontabCmd} -`, `${crontabCmd} -`, { stdin: after ?? '' });
  }
  return result;
}
