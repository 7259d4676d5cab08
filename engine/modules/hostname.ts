// hostname: the host's name, live and permanent, as Ansible's hostname module. `use` picks the
// strategy: systemd (hostnamectl), or a file strategy (debian, alpine, generic, ...: the
// /etc/hostname file plus `hostname NAME` live); redhat also keeps HOSTNAME= in
// /etc/sysconfig/network when that file exists. Default: systemd when it runs, else the file.
import { shQuote } from '../connection/shell.js';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { applyPlan, joinLines, mustRun, probeHost, settingsText, systemGuarded, SystemModuleError, textDiff, textLines, writeText } from './system-probe.js';

type Strategy = 'alpine' | 'debian' | 'freebsd' | 'generic' | 'macos' | 'macosx' | 'darwin' | 'openbsd' | 'openrc' | 'redhat' | 'sles' | 'solaris' | 'systemd';

export interface HostnameArgs {
  name: string;
  use?: Strategy;
}

const HOSTNAME_FILE = '/etc/hostname';
const SYSCONFIG_NETWORK = '/etc/sysconfig/network';

export default defineModule<HostnameArgs>({
  name: 'hostname',
  aliases: ['ansible.builtin.hostname', 'ansible.legacy.hostname'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      // RFC 1123 labels; Ansible lets systemd accept "pretty" names, which we do not write
      name: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$' },
      use: { enum: ['alpine', 'debian', 'freebsd', 'generic', 'macos', 'macosx', 'darwin', 'openbsd', 'openrc', 'redhat', 'sles', 'solaris', 'systemd'] },
    },
  },
  run: (args, ctx) => systemGuarded(() => runHostname(args, ctx)),
});

async function runHostname(args: HostnameArgs, ctx: ModuleContext): Promise<ModuleResult> {
  if (args.use && ['freebsd', 'macos', 'macosx', 'darwin', 'openbsd', 'solaris'].includes(args.use)) {
    throw new SystemModuleError(`use=${args.use} is not supported by tsplay (Linux targets only)`);
  }
  const probe = await probeHost(ctx, {
    files: [HOSTNAME_FILE, SYSCONFIG_NETWORK],
    commands: {
      live: 'hostname 2>/dev/null || cat /proc/sys/kernel/hostname',
      systemd: '[ -d /run/systemd/system ] && command -v hostnamectl',
    },
  });
  const use = args.use ?? (probe.commands.systemd!.rc === 0 ? 'systemd' : 'generic');
  const live = probe.commands.live!.out.trim();
  const fileBefore = probe.files.get(HOSTNAME_FILE) ?? null;
  const permanent = fileBefore === null ? '' : (textLines(fileBefore).find((l) => l.trim() !== '' && !l.trim().startsWith('#')) ?? '').trim();
  const name = args.name;
  const diff: FileDiff[] = [];
  const actions: Array<() => Promise<unknown>> = [];

  if (live !== name) {
    diff.push({ before: settingsText({ hostname: live }), after: settingsText({ hostname: name }), beforeHeader: 'hostname (live)', afterHeader: 'hostname (live)' });
  }
  if (permanent !== name) diff.push(textDiff(HOSTNAME_FILE, fileBefore, `${name}\n`));
  let networkAfter: string | undefined;
  const network = probe.files.get(SYSCONFIG_NETWORK) ?? null;
  if (use === 'redhat' && network !== null) {
    const lines = textLines(network);
    const at = lines.findIndex((l) => /^\s*HOSTNAME=/.test(l));
    const edited = at >= 0 ? lines.map((l, i) => (i === at ? `HOSTNAME=${name}` : l)) : [...lines, `HOSTNAME=${name}`];
    if (edited.join('\n') !== lines.join('\n')) {
      networkAfter = joinLines(edited);
      diff.push(textDiff(SYSCONFIG_NETWORK, network, networkAfter));
    }
  }
  if (use === 'systemd') {
    if (diff.length > 0) actions.push(() => mustRun(ctx, `hostnamectl set-hostname ${shQuote(name)}`, `hostnamectl set-hostname ${name}`));
  } else {
    if (permanent !== name) actions.push(() => writeText(ctx, HOSTNAME_FILE, `${name}\n`, fileBefore === null ? { mode: 0o644 } : {}));
    if (networkAfter !== undefined) actions.push(() => writeText(ctx, SYSCONFIG_NETWORK, networkAfter!));
    if (live !== name) actions.push(() => mustRun(ctx, `hostname ${shQuote(name)}`, `hostname ${name}`));
  }
  const result: ModuleResult = { changed: diff.length > 0, name, use, ansible_facts: { ansible_hostname: name.split('.')[0], ansible_nodename: name } };
  return applyPlan(ctx, result, diff, actions);
}
