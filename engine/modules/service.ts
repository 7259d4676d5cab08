// service: start, stop, restart, reload a service and choose whether it starts at boot, on
// systemd, sysvinit or OpenRC hosts (service-managers.ts); the manager comes from `use`, the
// host's ansible_service_mgr fact, or a probe.
import { guarded } from './file-write.js';
import { ensureService, serviceStatus, type ServiceManager, type ServiceState } from './service-managers.js';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';

export interface ServiceArgs {
  name: string;
  state?: ServiceState;
  enabled?: boolean;
  pattern?: string;
  runlevel?: string;
  arguments?: string;
  args?: string;
  sleep?: number;
  use?: string;
}

export const serviceSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, pattern: '^[^-\\s]' },
    state: { enum: ['started', 'stopped', 'restarted', 'reloaded'] },
    enabled: { type: 'boolean' },
    pattern: { type: 'string', minLength: 1 },
    runlevel: { type: 'string', minLength: 1 },
    arguments: { type: 'string' },
    args: { type: 'string' },
    sleep: { type: 'integer', minimum: 0 },
    use: { type: 'string', minLength: 1 },
  },
  not: { required: ['arguments', 'args'] },
};

const MANAGERS: Record<string, ServiceManager> = { systemd: 'systemd', sysvinit: 'sysvinit', service: 'sysvinit', openrc: 'openrc' };

export default defineModule<ServiceArgs>({
  name: 'service',
  aliases: ['ansible.builtin.service', 'ansible.legacy.service'],
  schema: serviceSchema,
  run: (args, ctx) => guarded(() => runService(args, ctx)),
});

async function runService(args: ServiceArgs, ctx: ModuleContext): Promise<ModuleResult> {
  if (args.state === undefined && args.enabled === undefined) {
    return { changed: false, failed: true, msg: 'Neither argument state nor enabled was specified' };
  }
  let manager: ServiceManager | undefined;
  if (args.use !== undefined && args.use !== 'auto') {
    manager = MANAGERS[args.use];
    if (!manager) return { changed: false, failed: true, msg: `Could not find a service manager named ${args.use}: use systemd, sysvinit or openrc` };
  }
  const extra = args.arguments ?? args.args;
  const req = {
    name: args.name,
    ...(args.state !== undefined ? { state: args.state } : {}),
    ...(args.enabled !== undefined ? { enabled: args.enabled } : {}),
    ...(args.pattern !== undefined ? { pattern: args.pattern } : {}),
    ...(args.runlevel !== undefined ? { runlevel: args.runlevel } : {}),
    ...(extra ? { arguments: extra } : {}),
    ...(args.sleep !== undefined ? { sleep: args.sleep } : {}),
    ...(manager ? { manager } : {}),
  };
  const status = await serviceStatus(ctx, req);
  return ensureService(ctx, req, status);
}
