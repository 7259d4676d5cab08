// sysctl: a kernel parameter in a sysctl file and, with sysctl_set or reload, live, as
// Ansible's sysctl module. One probe reads the file and the live value (/proc/sys); the diff
// shows the file and the live value. Values compare with whitespace collapsed, as Ansible's
// (the kernel prints "4096\t87380" for "4096 87380").
import { shQuote } from '../connection/shell.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';
import { assertNotInterrupted, joinLines, mustRun, probeHost, settingsText, systemGuarded, SystemModuleError, textDiff, textLines, writeText } from './system-probe.js';

export interface SysctlArgs {
  name?: string;
  value?: string | number | boolean;
  state?: 'present' | 'absent';
  sysctl_file?: string;
  reload?: boolean;
  sysctl_set?: boolean;
  ignoreerrors?: boolean;
}

export default defineModule<SysctlArgs>({
  name: 'sysctl',
  aliases: ['ansible.posix.sysctl', 'ansible.builtin.sysctl', 'ansible.legacy.sysctl'],
  schema: {
    type: 'object',
    additionalProperties: false,
    anyOf: [{ required: ['name'] }, { required: ['key'] }],
    properties: {
      name: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.:@/-]+$' },
      key: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.:@/-]+$' },
      value: { type: ['string', 'number', 'boolean'] },
      val: { type: ['string', 'number', 'boolean'] },
      state: { enum: ['present', 'absent'] },
      sysctl_file: { type: 'string', minLength: 1 },
      reload: { type: 'boolean' },
      sysctl_set: { type: 'boolean' },
      ignoreerrors: { type: 'boolean' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runSysctl(args, ctx)),
});

const DEFAULT_FILE = '/etc/sysctl.conf';

/** Ansible reads yes/no values as 1/0 for sysctl. */
function valueText(v: SysctlArgs['value']): string {
  if (v === true) return '1';
  if (v === false) return '0';
  return String(v).trim();
}

const same = (a: string, b: string): boolean => a.split(/\s+/).join(' ') === b.split(/\s+/).join(' ');

/** The key of a `name = value` line (also `name=value`), or undefined for comments. */
function lineKey(line: string): string | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#') || t.startsWith(';')) return undefined;
  const eq = t.indexOf('=');
  return (eq < 0 ? t : t.slice(0, eq)).trim().replace(/^-/, '');
}

function lineValue(line: string): string {
  const eq = line.indexOf('=');
  return eq < 0 ? '' : line.slice(eq + 1).trim();
}

async function runSysctl(raw: SysctlArgs & { key?: string; val?: SysctlArgs['value'] }, ctx: ModuleContext): Promise<ModuleResult> {
  const name = (raw.name ?? raw.key)!;
  const state = raw.state ?? 'present';
  const valueArg = raw.value ?? raw.val;
  if (state === 'present' && valueArg === undefined) throw new SystemModuleError('value cannot be None');
  const value = valueArg === undefined ? undefined : valueText(valueArg);
  if (value !== undefined && value === '') throw new SystemModuleError('value cannot be blank');
  const file = raw.sysctl_file ?? DEFAULT_FILE;
  const reload = raw.reload ?? true;
  const procPath = `/proc/sys/${name.replace(/\./g, '/')}`;
  const probe = await probeHost(ctx, { files: [file], commands: { live: `cat -- ${shQuote(procPath)}` } });
  const beforeText = probe.files.get(file) ?? null;
  const live = probe.commands.live!.rc === 0 ? probe.commands.live!.out.trim() : undefined;

  // the file: the last line for the key wins; present rewrites it in place, absent drops it
  const lines = textLines(beforeText);
  const out: string[] = [];
  let fileValue: string | undefined;
  let written = false;
  for (const line of lines) {
    if (lineKey(line) !== name) {
      out.push(line);
      continue;
    }
    fileValue = lineValue(line);
    if (state === 'present' && !written) {
      out.push(same(fileValue, value!) ? line : `${name}=${value}`);
      written = true;
    }
  }
  if (state === 'present' && !written) out.push(`${name}=${value}`);
  const afterText = beforeText === null && out.length === 0 ? null : joinLines(out);
  const fileChanged = afterText !== beforeText && !(beforeText !== null && afterText !== null && textLines(beforeText).join('\n') === out.join('\n'));

  let liveChanged = false;
  if (state === 'present' && (raw.sysctl_set || reload)) {
    if (live === undefined && !raw.ignoreerrors) {
      if (raw.sysctl_set) throw new SystemModuleError(`setting ${name} failed: ${procPath} is not there (unknown key, or not settable in this network namespace)`);
    } else if (live !== undefined && !same(live, value!)) liveChanged = true;
  }
  const changed = fileChanged || liveChanged;
  const result: ModuleResult = { changed, name, state, sysctl_file: file, ...(value !== undefined ? { value } : {}) };
  if (!changed) return result;
  result.diff = [];
  if (fileChanged) result.diff.push(textDiff(file, beforeText, afterText));
  if (liveChanged) result.diff.push({ before: settingsText({ [name]: live }), after: settingsText({ [name]: value }), beforeHeader: `${name} (live)`, afterHeader: `${name} (live)` });
  if (ctx.check) return result;
  assertNotInterrupted(ctx);
  if (fileChanged) await writeText(ctx, file, afterText ?? '', beforeText === null ? { mode: 0o644 } : {});
  if (liveChanged && raw.sysctl_set) {
    await mustRun(ctx, `if command -v sysctl >/dev/null 2>&1; then sysctl -w ${shQuote(`${name}=${value}`)}; else printf '%s\\n' ${shQuote(value!)} > ${shQuote(procPath)}; fi`, `sysctl -w ${name}=${value}`);
  }
  if (reload) {
    // Ansible reloads the file (sysctl -p FILE) whenever something changed
    const cmd = `sysctl ${raw.ignoreerrors ? '-e ' : ''}-p ${shQuote(file)}`;
    await mustRun(ctx, cmd, cmd);
  }
  return result;
}
