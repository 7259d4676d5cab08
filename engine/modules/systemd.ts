// systemd (systemd_service): units through systemctl — state, enabled, masked, daemon_reload.
import { guarded } from './file-write.js';
import { ensureService, serviceStatus, type ServiceRequest, type ServiceState } from './service-managers.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';

export interface SystemdArgs {
  name?: string;
  service?: string;
  unit?: string;
  state?: ServiceState;
  enabled?: boolean;
  masked?: boolean;
  daemon_reload?: boolean;
  'daemon-reload'?: boolean;
  daemon_reexec?: boolean;
  'daemon-reexec'?: boolean;
  scope?: 'system' | 'user' | 'global';
  no_block?: boolean;
  force?: boolean;
}

const UNIT = { type: 'string', minLength: 1, pattern: '^[^-\\s]' };

export const systemdSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: UNIT,
    service: UNIT,
    unit: UNIT,
    state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
    enabled: { type: 'boolean' },
    masked: { type: 'boolean' },
    daemon_reload: { type: 'boolean' },
    'daemon-reload': { type: 'boolean' },
    daemon_reexec: { type: 'boolean' },
    'daemon-reexec': { type: 'boolean' },
    scope: { enum: ['system', 'user', 'global'] },
    no_block: { type: 'boolean' },
    force: { type: 'boolean' },
  },
  not: { anyOf: [{ required: ['name', 'service'] }, { required: ['name', 'unit'] }, { required: ['service', 'unit'] }] },
};

export default defineModule<SystemdArgs>({
  name: 'systemd',
  aliases: ['systemd_service', 'ansible.builtin.systemd', 'ansible.builtin.systemd_service', 'ansible.legacy.systemd', 'ansible.legacy.systemd_service'],
  schema: systemdSchema,
  run: (args, ctx) => guarded(() => runSystemd(args, ctx)),
});

async function runSystemd(args: SystemdArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const name = args.name ?? args.service ?? args.unit;
  const daemonReload = args.daemon_reload ?? args['daemon-reload'] ?? false;
  const daemonReexec = args.daemon_reexec ?? args['daemon-reexec'] ?? false;
  if (name === undefined && !daemonReload && !daemonReexec) {
    return { changed: false, failed: true, msg: 'missing parameter(s) required by one of state, enabled, masked: name' };
  }
  if (name !== undefined && args.state === undefined && args.enabled === undefined && args.masked === undefined && !daemonReload && !daemonReexec) {
    return { changed: false, failed: true, msg: 'At least one of state, enabled, masked, daemon_reload or daemon_reexec is required' };
  }
  const req: ServiceRequest = {
    manager: 'systemd',
    ...(name !== undefined ? { name } : {}),
    ...(args.state !== undefined ? { state: args.state } : {}),
    ...(args.enabled !== undefined ? { enabled: args.enabled } : {}),
    ...(args.masked !== undefined ? { masked: args.masked } : {}),
    ...(args.scope !== undefined ? { scope: args.scope } : {}),
    ...(args.no_block ? { noBlock: true } : {}),
    daemonReload,
    daemonReexec,
  };
  const status = await serviceStatus(ctx, req);
  // systemctl itself says why it cannot work (no systemd as PID 1, no bus)
  if (status.error !== undefined) return { changed: false, failed: true, msg: `failure running systemctl show for '${name}': ${status.error}` };
  return ensureService(ctx, req, status);
}
