// modprobe: a kernel module loaded or unloaded, and with persistent: loaded at boot
// (/etc/modules-load.d/<name>.conf) with its options (/etc/modprobe.d/<name>.conf), as
// Ansible's community.general.modprobe. One probe reads /proc/modules, modules.builtin and
// every modules-load.d / modprobe.d file; the diff shows the live state and each file.
import { shJoin, shlexSplit, shQuote } from '../connection/shell.js';
import { defineModule, type FileDiff, type ModuleContext, type ModuleResult } from './types.js';
import { applyPlan, joinLines, mustRun, probeHost, settingsText, systemGuarded, SystemModuleError, textDiff, textLines, writeText } from './system-probe.js';

export interface ModprobeArgs {
  name: string;
  state?: 'present' | 'absent';
  params?: string;
  persistent?: 'disabled' | 'present' | 'absent';
}

export const MODULES_LOAD_DIR = '/etc/modules-load.d';
export const MODPROBE_DIR = '/etc/modprobe.d';

export default defineModule<ModprobeArgs>({
  name: 'modprobe',
  aliases: ['community.general.modprobe'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_-]+$' },
      state: { enum: ['present', 'absent'] },
      params: { type: 'string' },
      persistent: { enum: ['disabled', 'present', 'absent'] },
    },
  },
  run: (args, ctx) => systemGuarded(() => runModprobe(args, ctx)),
});

const norm = (s: string) => s.trim().split(/\s+/).join(' ');

async function runModprobe(args: ModprobeArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const state = args.state ?? 'present';
  const params = norm(args.params ?? '');
  const persistent = args.persistent ?? 'disabled';
  if (params !== '' && state === 'absent') throw new SystemModuleError('params is only used with state=present');
  const name = args.name;
  const kernelName = name.replace(/-/g, '_');
  const loadGlob = `${MODULES_LOAD_DIR}/*.conf`;
  const optsGlob = `${MODPROBE_DIR}/*.conf`;
  const probe = await probeHost(ctx, {
    globs: [loadGlob, optsGlob],
    commands: {
      loaded: `cut -d' ' -f1 /proc/modules`,
      // a built-in module with parameters shows in /sys/module only (kernels without modules too)
      sysModule: `[ -d ${shQuote(`/sys/module/${kernelName}`)} ]`,
      builtin: `grep -E ${shQuote(`/${name.replace(/[-_]/g, '[-_]')}\\.ko(\\.[a-z]+)?$`)} "/lib/modules/$(uname -r)/modules.builtin"`,
      modprobeDir: `[ -d ${MODPROBE_DIR} ]`,
      loadDir: `[ -d ${MODULES_LOAD_DIR} ]`,
    },
  });
  const loaded = textLines(probe.commands.loaded!.out).includes(kernelName) || probe.commands.builtin!.rc === 0 || probe.commands.sysModule!.rc === 0;
  const result: ModuleResult = { changed: false, name, state, params, persistent };
  const diff: FileDiff[] = [];
  const actions: Array<() => Promise<unknown>> = [];

  if (state === 'present' && !loaded) {
    diff.push({ before: settingsText({ [name]: 'not loaded' }), after: settingsText({ [name]: 'loaded' }), beforeHeader: `${name} (live)`, afterHeader: `${name} (live)` });
    const cmd = ['modprobe', name, ...(params ? shlexSplit(params) : [])];
    actions.push(() => mustRun(ctx, shJoin(cmd), shJoin(cmd)));
  } else if (state === 'absent' && loaded) {
    diff.push({ before: settingsText({ [name]: 'loaded' }), after: settingsText({ [name]: 'not loaded' }), beforeHeader: `${name} (live)`, afterHeader: `${name} (live)` });
    actions.push(() => mustRun(ctx, shJoin(['modprobe', '-r', name]), `modprobe -r ${name}`));
  }

  const loadFiles = probe.globs.get(loadGlob)!;
  const optFiles = probe.globs.get(optsGlob)!;
  const namesModule = (line: string) => norm(line) === name || norm(line) === kernelName;
  const isOptions = (line: string) => /^options\s/.test(line.trim()) && [name, kernelName].includes(norm(line).split(' ')[1] ?? '');
  const rewrite = (path: string, before: string | null, after: string, isNew: boolean, dir?: string) => {
    diff.push(textDiff(path, before, after));
    actions.push(async () => {
      if (dir) await ctx.ops.mkdirs([dir], { mode: 0o755 });
      await writeText(ctx, path, after, isNew ? { mode: 0o644 } : {});
    });
  };

  if (persistent === 'present') {
    if (!loadFiles.some((f) => textLines(f.text).some(namesModule))) {
      const path = `${MODULES_LOAD_DIR}/${name}.conf`;
      const existing = loadFiles.find((f) => f.path === path);
      rewrite(path, existing?.text ?? null, joinLines([...textLines(existing?.text ?? null), name]), !existing, probe.commands.loadDir!.rc === 0 ? undefined : MODULES_LOAD_DIR);
    }
    // the options: exactly these params in <name>.conf; other files' options lines for it go
    const wantOptions = params ? `options ${name} ${params}` : undefined;
    const path = `${MODPROBE_DIR}/${name}.conf`;
    for (const f of optFiles) {
      const lines = textLines(f.text);
      let kept = lines.filter((l) => !isOptions(l) || (f.path === path && wantOptions !== undefined && norm(l) === wantOptions));
      if (f.path === path && wantOptions !== undefined && !kept.some((l) => norm(l) === wantOptions)) kept = [...kept, wantOptions];
      if (f.path === path && wantOptions === undefined) kept = lines; // no params asked: leave its options alone
      if (f.path !== path && wantOptions === undefined) kept = lines;
      if (kept.join('\n') !== lines.join('\n')) rewrite(f.path, f.text, joinLines(kept), false);
    }
    if (wantOptions !== undefined && !optFiles.some((f) => f.path === path)) {
      rewrite(path, null, joinLines([wantOptions]), true, probe.commands.modprobeDir!.rc === 0 ? undefined : MODPROBE_DIR);
    }
  } else if (persistent === 'absent') {
    // like Ansible: lines that load it or set its options are commented out, files are kept
    for (const f of [...loadFiles, ...optFiles]) {
      const lines = textLines(f.text);
      const isLoad = loadFiles.includes(f);
      const edited = lines.map((l) => ((isLoad ? namesModule(l) : isOptions(l)) ? `#${l}` : l));
      if (edited.join('\n') !== lines.join('\n')) rewrite(f.path, f.text, joinLines(edited), false);
    }
  }

  return applyPlan(ctx, result, diff, actions);
}
