// swap: swap off (or on) now and at boot — the Kubernetes prerequisite kubelet checks. Ansible
// has no module for it (playbooks use `command: swapoff -a` plus a lineinfile/replace on fstab,
// neither of which knows whether anything changed). state=disabled: `swapoff -a` when
// /proc/swaps lists any, and every swap entry of fstab commented out with '#'.
// state=enabled: fstab swap entries commented out that way are restored and `swapon -a` run
// when no swap is active. YAML's `off`/`on` (false/true) are accepted for disabled/enabled.
import { shJoin } from '../connection/shell.js';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { applyPlan, joinLines, mustRun, probeHost, settingsText, systemGuarded, textDiff, textLines } from './system-probe.js';

export interface SwapArgs {
  state?: 'disabled' | 'enabled' | boolean;
  fstab?: string;
}

export default defineModule<SwapArgs>({
  name: 'swap',
  aliases: ['tsplay.builtin.swap'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      state: { enum: ['disabled', 'enabled', false, true] },
      fstab: { type: 'string', pattern: '^/' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runSwap(args, ctx)),
});

/** A swap entry (fstype field `swap`), commented out or not. */
function swapEntry(line: string): { commented: boolean } | undefined {
  const t = line.trim();
  const commented = t.startsWith('#');
  const f = t.replace(/^#+\s*/, '').split(/\s+/);
  if (f.length < 3 || f[2] !== 'swap' || f[0]!.startsWith('#')) return undefined;
  return { commented };
}

async function runSwap(args: SwapArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state === false || args.state === undefined || args.state === 'disabled' ? 'disabled' : 'enabled';
  const fstab = args.fstab ?? '/etc/fstab';
  const probe = await probeHost(ctx, { files: [fstab], commands: { swaps: 'tail -n +2 /proc/swaps' } });
  const active = textLines(probe.commands.swaps!.out).map((l) => l.split(/\s+/)[0]!).filter(Boolean);
  const before = probe.files.get(fstab) ?? null;
  const lines = textLines(before);
  const edited = lines.map((l) => {
    const e = swapEntry(l);
    if (!e) return l;
    if (state === 'disabled' && !e.commented) return `#${l}`;
    if (state === 'enabled' && e.commented) return l.replace(/^(\s*)#+\s*/, '$1');
    return l;
  });
  const diff: FileDiff[] = [];
  const actions: Array<() => Promise<unknown>> = [];
  const fstabChanged = edited.join('\n') !== lines.join('\n');
  const configured = edited.some((l) => swapEntry(l) && !swapEntry(l)!.commented);
  if (state === 'disabled' && active.length > 0) {
    diff.push({ before: settingsText({ swap: `on (${active.join(', ')})` }), after: settingsText({ swap: 'off' }), beforeHeader: 'swap (live)', afterHeader: 'swap (live)' });
    actions.push(() => mustRun(ctx, 'swapoff -a', 'swapoff -a'));
  }
  if (fstabChanged) {
    diff.push(textDiff(fstab, before, joinLines(edited)));
    // fstab first when enabling: swapon -a reads it
    const write = () => ctx.ops.writeFileAtomic(fstab, Buffer.from(joinLines(edited), 'utf8'));
    if (state === 'enabled') actions.unshift(write);
    else actions.push(write);
  }
  if (state === 'enabled' && active.length === 0 && configured) {
    diff.push({ before: settingsText({ swap: 'off' }), after: settingsText({ swap: 'on' }), beforeHeader: 'swap (live)', afterHeader: 'swap (live)' });
    actions.push(() => mustRun(ctx, shJoin(['swapon', '-a']), 'swapon -a'));
  }
  const result: ModuleResult = { changed: diff.length > 0, state, fstab, active };
  if (state === 'enabled' && !configured && active.length === 0) result.msg = `no swap entry in ${fstab}: nothing to turn on`;
  return applyPlan(ctx, result, diff, actions);
}
