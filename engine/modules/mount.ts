// mount: an fstab entry and the live mount, as Ansible's ansible.posix.mount. States:
// mounted (entry + mounted), present (entry only), unmounted (unmount, keep the entry),
// absent (unmount, drop the entry, remove the mount point), remounted (always remount),
// ephemeral (mounted without touching fstab). One probe reads fstab and mountinfo; the diff
// shows fstab and the live state.
import { shJoin } from '../connection/shell.js';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { applyPlan, joinLines, mustRun, probeHost, settingsText, systemGuarded, SystemModuleError, textDiff, textLines } from './system-probe.js';

type MountState = 'mounted' | 'unmounted' | 'present' | 'absent' | 'remounted' | 'ephemeral';

export interface MountArgs {
  path?: string;
  name?: string;
  src?: string;
  fstype?: string;
  opts?: string;
  dump?: string | number;
  passno?: string | number;
  state: MountState;
  fstab?: string;
  boot?: boolean;
  backup?: boolean;
}

const DEFAULT_FSTAB = '/etc/fstab';

export default defineModule<MountArgs>({
  name: 'mount',
  aliases: ['ansible.posix.mount', 'ansible.builtin.mount', 'ansible.legacy.mount'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['state'],
    oneOf: [{ required: ['path'] }, { required: ['name'] }],
    properties: {
      path: { type: 'string', pattern: '^/' },
      name: { type: 'string', pattern: '^/' },
      src: { type: 'string', minLength: 1 },
      fstype: { type: 'string', minLength: 1, pattern: '^\\S+$' },
      opts: { type: 'string', minLength: 1, pattern: '^\\S+$' },
      dump: { type: ['string', 'integer'] },
      passno: { type: ['string', 'integer'] },
      state: { enum: ['mounted', 'unmounted', 'present', 'absent', 'remounted', 'ephemeral'] },
      fstab: { type: 'string', minLength: 1 },
      boot: { type: 'boolean' },
      backup: { type: 'boolean' },
    },
  },
  run: (args, ctx) => systemGuarded(() => runMount(args, ctx)),
});

/** fstab and mountinfo write space, tab, newline and backslash as octal escapes. */
export function fstabEscape(s: string): string {
  return s.replace(/[\\ \t\n]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);
}

export function fstabUnescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

interface FstabEntry {
  src: string;
  path: string;
  fstype: string;
  opts: string;
  dump: string;
  passno: string;
}

function parseFstabLine(line: string): FstabEntry | undefined {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return undefined;
  const f = t.split(/\s+/);
  if (f.length < 3) return undefined;
  return { src: fstabUnescape(f[0]!), path: fstabUnescape(f[1]!), fstype: f[2]!, opts: f[3] ?? 'defaults', dump: f[4] ?? '0', passno: f[5] ?? '0' };
}

function fstabLine(e: FstabEntry): string {
  return `${fstabEscape(e.src)} ${fstabEscape(e.path)} ${e.fstype} ${e.opts} ${e.dump} ${e.passno}`;
}

/** Mount points in /proc/self/mountinfo (field 5, escaped). */
function mountPoints(mountinfo: string): string[] {
  return textLines(mountinfo).map((l) => fstabUnescape(l.split(' ')[4] ?? ''));
}

async function runMount(args: MountArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const path = (args.path ?? args.name)!.replace(/(.)\/+$/, '$1');
  const state = args.state;
  const fstab = args.fstab ?? DEFAULT_FSTAB;
  const needsEntry = state === 'mounted' || state === 'present' || state === 'ephemeral';
  if (needsEntry && (args.src === undefined || args.fstype === undefined)) {
    throw new SystemModuleError(`state=${state} needs src and fstype`);
  }
  let opts = args.opts ?? 'defaults';
  if (args.boot === false && !opts.split(',').includes('noauto')) opts = opts === 'defaults' ? 'noauto' : `${opts},noauto`;
  const probe = await probeHost(ctx, { files: [fstab], commands: { mountinfo: 'cat /proc/self/mountinfo', dir: `[ -d ${shJoin([path])} ]` } });
  const fstabBefore = probe.files.get(fstab) ?? null;
  const mounted = mountPoints(probe.commands.mountinfo!.out).includes(path);
  const dirExists = probe.commands.dir!.rc === 0;

  // the fstab: the first entry for the path is the one kept (and rewritten); others go
  const lines = textLines(fstabBefore);
  const out: string[] = [];
  let current: FstabEntry | undefined;
  const wanted: FstabEntry | undefined = needsEntry
    ? { src: args.src!, path, fstype: args.fstype!, opts, dump: String(args.dump ?? '0'), passno: String(args.passno ?? '0') }
    : undefined;
  for (const line of lines) {
    const e = parseFstabLine(line);
    if (!e || e.path !== path) {
      out.push(line);
      continue;
    }
    if (state === 'absent') continue;
    if (current) continue;
    current = e;
    if (state === 'mounted' || state === 'present') out.push(fstabLine(e) === fstabLine(wanted!) ? line : fstabLine(wanted!));
    else out.push(line);
  }
  if ((state === 'mounted' || state === 'present') && !current) out.push(fstabLine(wanted!));
  const fstabAfter = fstabBefore === null && out.length === 0 ? null : joinLines(out);
  const fstabChanged = state !== 'ephemeral' && fstabAfter !== null && textLines(fstabBefore).join('\n') !== out.join('\n');
  const entryChanged = fstabChanged && current !== undefined;
  const sourceChanged = entryChanged && (current!.src !== wanted?.src || current!.fstype !== wanted?.fstype);

  const diff: FileDiff[] = [];
  const actions: Array<() => Promise<unknown>> = [];
  const live = (before: string, after: string) =>
    diff.push({ before: settingsText({ path, mounted: before }), after: settingsText({ path, mounted: after }), beforeHeader: `${path} (live)`, afterHeader: `${path} (live)` });
  const useFstab = fstab !== DEFAULT_FSTAB ? ['-T', fstab] : [];
  if (fstabChanged) {
    diff.push(textDiff(fstab, fstabBefore, fstabAfter));
    actions.push(() => ctx.ops.writeFileAtomic(fstab, Buffer.from(fstabAfter!, 'utf8'), { ...(fstabBefore === null ? { mode: 0o644 } : {}), ...(args.backup ? { backup: true } : {}) }));
  }
  const run = (cmd: string[]) => actions.push(() => mustRun(ctx, shJoin(cmd), shJoin(cmd)));

  switch (state) {
    case 'mounted':
    case 'ephemeral': {
      if (!dirExists) actions.push(() => ctx.ops.mkdirs(mkdirChain(path)));
      if (!mounted) {
        live('no', 'yes');
        run(state === 'ephemeral' ? ['mount', '-t', args.fstype!, '-o', opts, args.src!, path] : ['mount', ...useFstab, path]);
      } else if (sourceChanged) {
        live(`yes (${current!.src}, ${current!.fstype})`, `yes (${wanted!.src}, ${wanted!.fstype})`);
        run(['umount', path]);
        run(['mount', ...useFstab, path]);
      } else if (entryChanged) {
        live(`yes (${current!.opts})`, `yes (${wanted!.opts})`);
        run(['mount', '-o', `remount,${wanted!.opts}`, path]);
      }
      break;
    }
    case 'unmounted':
    case 'absent': {
      if (mounted) {
        live('yes', 'no');
        run(['umount', path]);
      }
      if (state === 'absent' && dirExists) {
        diff.push({ before: settingsText({ path, state: 'directory' }), after: settingsText({ path, state: 'absent' }), beforeHeader: path, afterHeader: path });
        actions.push(() => mustRun(ctx, shJoin(['rmdir', '--', path]), `rmdir ${path}`));
      }
      break;
    }
    case 'remounted': {
      if (!mounted) throw new SystemModuleError(`${path} is not mounted: cannot remount it`);
      live('yes', 'yes (remounted)');
      run(['mount', '-o', args.opts ? `remount,${args.opts}` : 'remount', ...useFstab, path]);
      break;
    }
    case 'present':
      break;
  }
  const result: ModuleResult = { changed: diff.length > 0, name: path, path, state, fstab, ...(args.src ? { src: args.src } : {}), ...(args.fstype ? { fstype: args.fstype } : {}), opts };
  return applyPlan(ctx, result, diff, actions);
}

/** Every folder from the root down to `path` (mkdirs skips those already there). */
function mkdirChain(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}
