// Services on the three init systems a host may have: systemd (systemctl), sysvinit
// (/etc/init.d scripts, `service`, update-rc.d or chkconfig) and OpenRC (rc-service,
// rc-update). One probe round trip reads the manager (unless known from facts), whether the
// service exists, runs and starts at boot; one more runs the planned commands, stopping at
// the first that fails. service and systemd build on this.
import { shQuote } from '../connection/shell.js';
import { stateDiff } from './file-write.js';
import type { FileDiff, ModuleContext, ModuleResult } from './types.js';

export type ServiceManager = 'systemd' | 'sysvinit' | 'openrc';
export type ServiceState = 'started' | 'stopped' | 'restarted' | 'reloaded';

export interface ServiceRequest {
  name?: string;
  state?: ServiceState;
  enabled?: boolean;
  /** systemd only */
  daemonReload?: boolean;
  daemonReexec?: boolean;
  masked?: boolean;
  scope?: 'system' | 'user' | 'global';
  noBlock?: boolean;
  /** sysvinit: a process pattern that means "running" (instead of the status command). */
  pattern?: string;
  /** OpenRC runlevel for enabled (default "default"); sysvinit: ignored (update-rc.d's defaults). */
  runlevel?: string;
  /** Extra words for the start/stop/... command (sysvinit, openrc). */
  arguments?: string;
  /** Seconds between stop and start of a sysvinit restart. */
  sleep?: number;
  /** Force this manager (the systemd module); otherwise facts, then a probe. */
  manager?: ServiceManager;
}

export interface ServiceStatus {
  manager: ServiceManager;
  exists: boolean;
  running: boolean;
  enabled: boolean;
  masked: boolean;
  /** systemd's properties (ActiveState, SubState, LoadState, UnitFileState). */
  properties: Record<string, string>;
  /** What systemctl said when it could not show the unit (no systemd as PID 1, no bus...). */
  error?: string;
}

/** The manager from the host's facts (ansible_service_mgr), if gathered. */
function managerFromFacts(ctx: ModuleContext): ServiceManager | undefined {
  const m = ctx.facts?.service_mgr ?? ctx.facts?.ansible_service_mgr;
  if (m === 'systemd' || m === 'openrc') return m;
  if (m === 'sysvinit' || m === 'service' || m === 'upstart') return 'sysvinit';
  return undefined;
}

function systemctl(req: ServiceRequest): string {
  return req.scope === 'user' ? 'systemctl --user' : req.scope === 'global' ? 'systemctl --global' : 'systemctl';
}

/** The probe script: prints mgr=, exists=, running=, enabled= and systemd's properties. */
export function statusScript(req: ServiceRequest, manager: ServiceManager | undefined): string {
  const name = shQuote(req.name ?? '');
  const runlevel = shQuote(req.runlevel ?? 'default');
  const pattern = req.pattern !== undefined ? shQuote(req.pattern) : undefined;
  return `name=${name}
mgr=${manager ?? ''}
if [ -z "$mgr" ]; then
  if [ -d /run/systemd/system ]; then mgr=systemd
  elif command -v openrc >/dev/null 2>&1 || [ -d /run/openrc ]; then mgr=openrc
  else mgr=sysvinit; fi
fi
printf 'mgr=%s\\n' "$mgr"
[ -n "$name" ] || exit 0
case $mgr in
systemd)
  ${systemctl(req)} show --property=LoadState,ActiveState,SubState,UnitFileState -- "$name" || exit 0
  printf 'is_enabled=%s\\n' "$(${systemctl(req)} is-enabled -- "$name" 2>/dev/null)"
  ${systemctl(req)} is-enabled --quiet -- "$name" 2>/dev/null && printf 'enabled=1\\n'
  ;;
openrc)
  [ -x "/etc/init.d/$name" ] && printf 'exists=1\\n'
  ${pattern ? `pgrep -f -- ${pattern} >/dev/null 2>&1` : `rc-service "$name" status >/dev/null 2>&1`} && printf 'running=1\\n'
  [ -e "/etc/runlevels/"${runlevel}"/$name" ] && printf 'enabled=1\\n'
  ;;
*)
  script=
  for d in /etc/init.d /etc/rc.d/init.d; do [ -x "$d/$name" ] && { script=$d/$name; break; }; done
  [ -n "$script" ] && printf 'exists=1\\n'
  ${pattern ? `pgrep -f -- ${pattern} >/dev/null 2>&1 && printf 'running=1\\n'` : `if [ -n "$script" ]; then "$script" status >/dev/null 2>&1; rc=$?
    if [ "$rc" = 0 ]; then printf 'running=1\\n'
    elif [ "$rc" = 4 ] && pgrep -x -- "$name" >/dev/null 2>&1; then printf 'running=1\\n'; fi
  fi`}
  if command -v chkconfig >/dev/null 2>&1 && ! command -v update-rc.d >/dev/null 2>&1; then
    chkconfig -- "$name" >/dev/null 2>&1 && printf 'enabled=1\\n'
  else
    for l in /etc/rc2.d /etc/rc3.d /etc/rc4.d /etc/rc5.d; do
      for f in "$l"/S[0-9][0-9]"$name"; do [ -e "$f" ] && { printf 'enabled=1\\n'; break 2; }; done
    done
  fi
  ;;
esac
true
`;
}

export function parseStatus(stdout: string): ServiceStatus {
  const kv: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) kv[line.slice(0, eq)] = line.slice(eq + 1);
  }
  const manager = (kv.mgr as ServiceManager) || 'sysvinit';
  if (manager === 'systemd') {
    const properties = Object.fromEntries(['LoadState', 'ActiveState', 'SubState', 'UnitFileState'].filter((k) => k in kv).map((k) => [k, kv[k]!]));
    const masked = kv.LoadState === 'masked' || kv.UnitFileState === 'masked' || kv.is_enabled === 'masked';
    return {
      manager,
      exists: kv.LoadState !== undefined && kv.LoadState !== 'not-found' || masked,
      running: kv.ActiveState === 'active' || kv.ActiveState === 'activating' || kv.ActiveState === 'reloading',
      enabled: kv.enabled === '1',
      masked,
      properties,
    };
  }
  return { manager, exists: kv.exists === '1', running: kv.running === '1', enabled: kv.enabled === '1', masked: false, properties: {} };
}

export async function serviceStatus(ctx: ModuleContext, req: ServiceRequest): Promise<ServiceStatus> {
  const res = await ctx.ops.run(statusScript(req, req.manager ?? managerFromFacts(ctx)));
  const status = parseStatus(res.stdout);
  if (status.manager === 'systemd' && req.name !== undefined && status.properties.LoadState === undefined) {
    status.error = res.stderr.trim() || `systemctl show ${req.name} printed nothing`;
  }
  return status;
}

/** One command of a plan and the words Ansible uses when it fails ("Unable to start service x"). */
interface Step {
  command: string;
  what: string;
}

function actionCommand(status: ServiceStatus, req: ServiceRequest, action: 'start' | 'stop' | 'restart' | 'reload'): string[] {
  const name = shQuote(req.name!);
  const extra = req.arguments ? ` ${req.arguments}` : '';
  switch (status.manager) {
    case 'systemd':
      return [`${systemctl(req)}${req.noBlock ? ' --no-block' : ''} ${action} -- ${name}`];
    case 'openrc':
      return [`rc-service ${name} ${action}${extra}`];
    default: {
      const run = (a: string) => `if command -v service >/dev/null 2>&1; then service ${name} ${a}${extra}; elif [ -x /etc/init.d/${name} ]; then /etc/init.d/${name} ${a}${extra}; else /etc/rc.d/init.d/${name} ${a}${extra}; fi`;
      if (action === 'restart' && req.sleep) return [run('stop'), `sleep ${Math.floor(req.sleep)}`, run('start')];
      return [run(action)];
    }
  }
}

function enableCommand(status: ServiceStatus, req: ServiceRequest, enable: boolean): string {
  const name = shQuote(req.name!);
  switch (status.manager) {
    case 'systemd':
      return `${systemctl(req)} ${enable ? 'enable' : 'disable'} -- ${name}`;
    case 'openrc':
      return `rc-update ${enable ? 'add' : 'del'} ${name} ${shQuote(req.runlevel ?? 'default')}`;
    default:
      // update-rc.d: make the links if the script has none, then turn them on or off
      return `if command -v update-rc.d >/dev/null 2>&1; then update-rc.d ${name} defaults && update-rc.d ${name} ${enable ? 'enable' : 'disable'}; else chkconfig ${name} ${enable ? 'on' : 'off'}; fi`;
  }
}

function render(status: { state?: string; enabled?: boolean; masked?: boolean }, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (status.state !== undefined) out.state = status.state;
  if (status.enabled !== undefined) out.enabled = String(status.enabled);
  if (status.masked !== undefined) out.masked = String(status.masked);
  void name;
  return out;
}

/**
 * Compare the service with the request, run what differs (not in check mode) and say what
 * changed. restarted and reloaded always change, as in Ansible.
 */
export async function ensureService(ctx: ModuleContext, req: ServiceRequest, status: ServiceStatus): Promise<ModuleResult> {
  const name = req.name;
  const steps: Step[] = [];
  const before: { state?: string; enabled?: boolean; masked?: boolean } = {};
  const after: { state?: string; enabled?: boolean; masked?: boolean } = {};
  let changed = false;

  if (req.daemonReexec && status.manager === 'systemd') steps.push({ command: `${systemctl(req)} daemon-reexec`, what: 'Unable to reexecute the systemd manager' });
  if (req.daemonReload && status.manager === 'systemd') steps.push({ command: `${systemctl(req)} daemon-reload`, what: 'failure: systemctl daemon-reload' });
  const result: ModuleResult = { changed: false, ...(name !== undefined ? { name } : {}) };
  if (name === undefined) {
    if (!ctx.check) {
      const failed = await runSteps(ctx, steps);
      if (failed) return failed;
    }
    return result;
  }

  if (req.masked !== undefined && status.manager === 'systemd' && req.masked !== status.masked) {
    before.masked = status.masked;
    after.masked = req.masked;
    steps.push({ command: `${systemctl(req)} ${req.masked ? 'mask' : 'unmask'} -- ${shQuote(name)}`, what: `Unable to ${req.masked ? 'mask' : 'unmask'} service ${name}` });
    changed = true;
  }
  if (!status.exists && !(req.masked === true) && (req.state !== undefined || req.enabled !== undefined)) {
    // a unit only just unmasked, or a service created by an earlier task in check mode, is not known yet
    if (!(ctx.check && req.daemonReload)) return { changed: false, failed: true, msg: `Could not find the requested service ${name}: host` };
  }
  if (req.enabled !== undefined && req.enabled !== status.enabled) {
    before.enabled = status.enabled;
    after.enabled = req.enabled;
    steps.push({ command: enableCommand(status, req, req.enabled), what: `Unable to ${req.enabled ? 'enable' : 'disable'} service ${name}` });
    changed = true;
  }
  if (req.state !== undefined) {
    let action: 'start' | 'stop' | 'restart' | 'reload' | undefined;
    if (req.state === 'started' && !status.running) action = 'start';
    else if (req.state === 'stopped' && status.running) action = 'stop';
    else if (req.state === 'restarted') action = status.running ? 'restart' : 'start';
    else if (req.state === 'reloaded') action = status.running ? 'reload' : 'start';
    if (action) {
      if (req.state === 'started' || req.state === 'stopped' || !status.running) {
        before.state = status.running ? 'started' : 'stopped';
        after.state = 'started';
        if (req.state === 'stopped') after.state = 'stopped';
      }
      for (const command of actionCommand(status, req, action)) steps.push({ command, what: `Unable to ${action} service ${name}` });
      changed = true;
    }
  }
  result.changed = changed;
  if (req.state !== undefined) result.state = req.state === 'stopped' ? 'stopped' : 'started';
  if (req.enabled !== undefined) result.enabled = req.enabled;
  if (status.manager === 'systemd') result.status = status.properties;
  if (Object.keys(after).length > 0) {
    const diff: FileDiff = stateDiff(name, render(before, name), render(after, name));
    diff.beforeHeader = `${name} (before)`;
    diff.afterHeader = `${name} (after)`;
    diff.before = diff.before.replace(/^path: /, 'name: ');
    diff.after = diff.after.replace(/^path: /, 'name: ');
    result.diff = [diff];
  }
  // daemon_reload runs whenever asked, without counting as a change (as in Ansible)
  if (steps.length === 0 || ctx.check) return result;
  if (ctx.signal?.aborted) return { ...result, changed: false, failed: true, msg: 'interrupted before changing the service' };
  const failed = await runSteps(ctx, steps);
  return failed ? { ...result, ...failed } : result;
}

/** Run the steps in one round trip; the first failure stops it and is reported with its output. */
async function runSteps(ctx: ModuleContext, steps: Step[]): Promise<ModuleResult | undefined> {
  if (steps.length === 0) return undefined;
  const script = steps
    .map((s, i) => `printf '@@step=%s\\n' ${i}\n${s.command} 2>&1 </dev/null || { rc=$?; printf '\\n@@failed=%s rc=%s\\n' ${i} "$rc"; exit "$rc"; }`)
    .join('\n');
  const res = await ctx.ops.run(script, {
    ...(ctx.environment ? { env: ctx.environment } : {}),
    ...(ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {}),
  });
  const failed = /@@failed=(\d+) rc=(\d+)/.exec(res.stdout);
  if (!failed && res.rc === 0) return undefined;
  const index = failed ? Number(failed[1]) : steps.length - 1;
  const step = steps[index]!;
  const marker = `@@step=${index}\n`;
  const output = res.stdout.slice(res.stdout.indexOf(marker) + marker.length).replace(/\n?@@failed=.*\n?$/s, '').trim();
  const said = (output || res.stderr).trim();
  return {
    changed: index > 0,
    failed: true,
    msg: `${step.what}: ${said || `rc ${res.rc}`}`,
    cmd: step.command,
    rc: failed ? Number(failed[2]) : res.rc,
    stdout: output,
    stderr: res.stderr,
  };
}
