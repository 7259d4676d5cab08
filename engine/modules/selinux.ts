// selinux: SELinux's mode and policy, as Ansible's ansible.posix.selinux. The config file
// (SELINUX=, SELINUXTYPE=) is edited in place; the live mode follows with setenforce between
// enforcing and permissive, while enabling or disabling SELinux needs a reboot
// (reboot_required). A host without SELinux (no config file, no selinuxfs) is ok with a msg.
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { assertNotInterrupted, joinLines, mustRun, probeHost, settingsText, systemGuarded, SystemModuleError, textDiff, textLines } from './system-probe.js';

type Mode = 'enforcing' | 'permissive' | 'disabled';

export interface SelinuxArgs {
  state: Mode;
  policy?: string;
  configfile?: string;
  update_kernel_param?: boolean;
}

const DEFAULT_CONFIG = '/etc/selinux/config';

export default defineModule<SelinuxArgs>({
  name: 'selinux',
  aliases: ['ansible.posix.selinux'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['state'],
    properties: {
      state: { enum: ['enforcing', 'permissive', 'disabled'] },
      policy: { type: 'string', pattern: '^[A-Za-z0-9_-]+$' },
      configfile: { type: 'string', pattern: '^/' },
      conf: { type: 'string', pattern: '^/' },
      file: { type: 'string', pattern: '^/' },
      update_kernel_param: { type: 'boolean' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runSelinux(args, ctx)),
});

/** Set KEY=value in the config lines (replacing the first, else appending). */
function setKey(lines: string[], key: string, value: string): string[] {
  const at = lines.findIndex((l) => new RegExp(`^\\s*${key}\\s*=`).test(l));
  return at >= 0 ? lines.map((l, i) => (i === at ? `${key}=${value}` : l)) : [...lines, `${key}=${value}`];
}

function keyValue(lines: string[], key: string): string | undefined {
  const line = lines.find((l) => new RegExp(`^\\s*${key}\\s*=`).test(l));
  return line?.slice(line.indexOf('=') + 1).trim();
}

async function runSelinux(raw: SelinuxArgs & { conf?: string; file?: string }, ctx: ModuleContext): Promise<ModuleResult> {
  if (raw.update_kernel_param) throw new SystemModuleError('update_kernel_param is not supported by tsplay (it edits the boot loader through grubby)');
  const config = raw.configfile ?? raw.conf ?? raw.file ?? DEFAULT_CONFIG;
  const probe = await probeHost(ctx, {
    files: [config],
    // the live mode: selinuxfs's enforce file (1/0); no selinuxfs means SELinux is off
    commands: { enforce: 'for d in /sys/fs/selinux /selinux; do [ -f "$d/enforce" ] && { cat "$d/enforce"; exit 0; }; done; exit 3' },
  });
  const before = probe.files.get(config) ?? null;
  const live: Mode = probe.commands.enforce!.rc !== 0 ? 'disabled' : probe.commands.enforce!.out.trim() === '1' ? 'enforcing' : 'permissive';
  const result: ModuleResult = { changed: false, state: raw.state, configfile: config, reboot_required: false };
  if (before === null && live === 'disabled') {
    return { ...result, msg: `SELinux is not installed on this host (no ${config}, no selinuxfs): nothing to do` };
  }
  const lines = textLines(before);
  const policy = raw.policy ?? keyValue(lines, 'SELINUXTYPE') ?? 'targeted';
  let edited = setKey(lines, 'SELINUX', raw.state);
  if (raw.state !== 'disabled' || raw.policy !== undefined) edited = setKey(edited, 'SELINUXTYPE', policy);
  const diff: FileDiff[] = [];
  const msgs: string[] = [];
  const configChanged = edited.join('\n') !== lines.join('\n');
  const beforeMode = keyValue(lines, 'SELINUX');
  if (configChanged) {
    diff.push(textDiff(config, before, joinLines(edited)));
    if (beforeMode !== raw.state) msgs.push(`Config SELinux state changed from '${beforeMode ?? 'unset'}' to '${raw.state}'`);
    if (raw.policy !== undefined && keyValue(lines, 'SELINUXTYPE') !== raw.policy) msgs.push(`SELinux policy changed from '${keyValue(lines, 'SELINUXTYPE') ?? 'unset'}' to '${raw.policy}'`);
  }
  let setenforce: string | undefined;
  if (live !== 'disabled' && raw.state !== 'disabled' && live !== raw.state) {
    setenforce = raw.state === 'enforcing' ? '1' : '0';
    diff.push({ before: settingsText({ selinux: live }), after: settingsText({ selinux: raw.state }), beforeHeader: 'SELinux (live)', afterHeader: 'SELinux (live)' });
    msgs.push(`Running SELinux state changed from '${live}' to '${raw.state}'`);
  }
  // turning SELinux on or off, or a new policy, only takes effect at boot
  const policyChanged = raw.policy !== undefined && keyValue(lines, 'SELINUXTYPE') !== undefined && keyValue(lines, 'SELINUXTYPE') !== raw.policy;
  if ((live === 'disabled') !== (raw.state === 'disabled') || (policyChanged && raw.state !== 'disabled')) {
    result.reboot_required = true;
    if (configChanged) msgs.push('reboot required');
  }
  result.policy = policy;
  if (diff.length === 0) return { ...result, msg: '' };
  Object.assign(result, { changed: true, diff, msg: msgs.join(', ') });
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  if (configChanged) await ctx.ops.writeFileAtomic(config, Buffer.from(joinLines(edited), 'utf8'), before === null ? { mode: 0o644 } : {});
  if (setenforce !== undefined) await mustRun(ctx, `setenforce ${setenforce}`, `setenforce ${setenforce}`);
  return result;
}
