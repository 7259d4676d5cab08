// package: install or remove packages with whatever manager the host has (apt, dnf, yum),
// chosen by `use`, the host's ansible_pkg_mgr fact, or — facts not gathered — a probe.
import aptModule from './apt.js';
import dnfModule from './dnf.js';
import yumModule from './yum.js';
import { guarded } from './file-write.js';
import { NAME_LIST_SCHEMA } from './packages-common.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';

export interface PackageArgs {
  name: string | string[];
  state: string;
  use?: string;
}

const BACKENDS = { apt: aptModule, dnf: dnfModule, yum: yumModule } as const;
type Backend = keyof typeof BACKENDS;

export const packageSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'state'],
  properties: {
    name: NAME_LIST_SCHEMA,
    state: { enum: ['present', 'installed', 'latest', 'absent', 'removed'] },
    use: { type: 'string', minLength: 1 },
  },
};

export default defineModule<PackageArgs>({
  name: 'package',
  aliases: ['ansible.builtin.package', 'ansible.legacy.package'],
  schema: packageSchema,
  run: (args, ctx) => guarded(() => runPackage(args, ctx)),
});

/** The package manager of a host: facts first (setup names apt-get "apt"), else one probe. */
export async function hostPackageManager(ctx: ModuleContext): Promise<string> {
  const fromFacts = ctx.facts?.pkg_mgr ?? ctx.facts?.ansible_pkg_mgr;
  if (typeof fromFacts === 'string' && fromFacts !== 'unknown') return fromFacts;
  const res = await ctx.ops.run(`for p in apt-get dnf yum zypper apk pacman; do if command -v "$p" >/dev/null 2>&1; then printf '%s\\n' "$p"; exit 0; fi; done; printf 'unknown\\n'`);
  return res.stdout.trim().replace(/-get$/, '') || 'unknown';
}

async function runPackage(args: PackageArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const use = args.use && args.use !== 'auto' ? args.use : await hostPackageManager(ctx);
  const backend = BACKENDS[use as Backend];
  if (!backend) {
    return { changed: false, failed: true, msg: `Could not find a module for ${use}: the package module supports apt, dnf and yum` };
  }
  const state = args.state === 'installed' ? 'present' : args.state === 'removed' ? 'absent' : args.state;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  return backend.run({ name: args.name, state } as any, ctx);
}
