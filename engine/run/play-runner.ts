// One play: choose its hosts, load its vars_files per host, split it into serial
// batches and run every host of a batch through the strategy's gate.
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { BlockNode, PlayNode, VarsFileRef } from '../load/model.js';
import { loadYamlFile } from '../load/yaml.js';
import { locate } from '../load/positions.js';
import { ParseError } from '../errors.js';
import type { RunContext } from './context.js';
import { hostState, statsOf } from './context.js';
import { createScopeFactory } from './host-vars.js';
import { FreeGate, LinearGate } from './lockstep.js';
import { collectHandlers, type PlayRuntime } from './play-runtime.js';
import { HostWalker } from './walker.js';
import { makeScope, template, type VarLayer } from './templar.js';
import { publicRoleLayers, roleLayers } from './role-scope.js';
import { checkRoleArguments, hasArgumentSpec } from './role-arguments.js';

/** Hosts the play targets: its pattern, --limit, and not already failed in an earlier play. */
export function playHosts(ctx: RunContext, play: PlayNode): string[] {
  // a templated pattern sees the play's vars and -e, as in Ansible
  const pattern = play.hosts.includes('{{')
    ? String(template(play.hosts, makeScope([{ name: 'play vars', vars: play.vars }, { name: 'extra vars', vars: ctx.opts.extraVars }], { groups: ctx.inventory.groupsMap() }), locate(play.raw, 'hosts') ?? play.pos))
    : play.hosts;
  let hosts = ctx.inventory.select(pattern);
  if (ctx.opts.limit) {
    const allowed = new Set(ctx.inventory.select(ctx.opts.limit));
    hosts = hosts.filter((h) => allowed.has(h));
  }
  hosts = hosts.filter((h) => {
    const state = ctx.hosts.get(h);
    return !state || (!state.failed && !state.unreachable);
  });
  return orderHosts(hosts, play.order);
}

function orderHosts(hosts: string[], order: PlayNode['order']): string[] {
  switch (order) {
    case 'reverse_inventory':
      return [...hosts].reverse();
    case 'sorted':
      return [...hosts].sort();
    case 'reverse_sorted':
      return [...hosts].sort().reverse();
    case 'shuffle': {
      const out = [...hosts];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    }
    default:
      return hosts;
  }
}

/** serial: a number, a percentage, or a list of those whose last entry repeats. */
export function serialBatches(hosts: string[], serial: Array<number | string> | undefined): string[][] {
  if (!serial || serial.length === 0 || hosts.length === 0) return hosts.length ? [hosts] : [];
  const sizes = serial.map((s) => {
    const text = String(s).trim();
    const n = text.endsWith('%') ? Math.floor((hosts.length * Number(text.slice(0, -1))) / 100) : Number(text);
    if (!Number.isFinite(n) || n < 0) throw new Error(`serial: cannot read '${text}'`);
    return n === 0 && !text.endsWith('%') ? hosts.length : Math.max(1, n);
  });
  const batches: string[][] = [];
  let at = 0;
  for (let i = 0; at < hosts.length; i++) {
    const size = sizes[Math.min(i, sizes.length - 1)]!;
    batches.push(hosts.slice(at, at + size));
    at += size;
  }
  return batches;
}

/** Load a play's vars_files for one host; paths may be templated, and a list means "first found". */
function loadVarsFiles(ctx: RunContext, play: PlayNode, host: string, cache: Map<string, Record<string, unknown>>): Array<Record<string, unknown>> {
  const scope = makeScope(
    [
      { name: 'inventory', vars: ctx.inventory.hostVars(host) },
      { name: 'play vars', vars: play.vars },
      { name: 'set_fact/register', vars: hostState(ctx, host).hostFacts, raw: true },
      { name: 'extra vars', vars: ctx.opts.extraVars },
    ],
    { inventory_hostname: host, group_names: ctx.inventory.groupsOf(host), groups: ctx.inventory.groupsMap() },
  );
  return play.vars_files.map((ref) => loadOneVarsFile(ref, scope, cache));
}

function loadOneVarsFile(ref: VarsFileRef, scope: Record<string, unknown>, cache: Map<string, Record<string, unknown>>): Record<string, unknown> {
  const candidates = (Array.isArray(ref.path) ? ref.path : [ref.path]).map((p) => path.resolve(ref.baseDir, String(template(p, scope, ref.pos))));
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new ParseError('FILE_NOT_FOUND', `vars file not found: ${candidates.join(' or ')}`, ref.pos);
  }
  let vars = cache.get(found);
  if (!vars) {
    const loaded = loadYamlFile(found, ref.pos);
    if (loaded !== null && (typeof loaded !== 'object' || Array.isArray(loaded))) {
      throw new ParseError('SCHEMA', `vars file must be a mapping of variable names to values: ${found}`, ref.pos);
    }
    vars = (loaded ?? {}) as Record<string, unknown>;
    cache.set(found, vars);
  }
  return vars;
}

export async function runPlay(ctx: RunContext, play: PlayNode, gatherFacts: boolean): Promise<void> {
  const hosts = playHosts(ctx, play);
  ctx.emit({ kind: 'play-start', name: play.name, hosts, time: Date.now() });
  if (hosts.length === 0) {
    ctx.emit({ kind: 'warning', message: `no hosts matched for play '${play.name}' (hosts: ${play.hosts})`, time: Date.now() });
  }
  const omitToken = `__omit_place_holder__${randomBytes(20).toString('hex')}`;
  const fileCache = new Map<string, Record<string, unknown>>();
  const varsFilesByHost = new Map<string, Array<Record<string, unknown>>>();
  // play roles' and import_role's defaults and vars are the whole play's; include_role public adds per host
  const playRoleLayers = publicRoleLayers(play.publicRoles);
  const publicLayers = new Map<string, VarLayer[]>();
  const rolesRun = new Map<string, Set<string>>();
  for (const batch of serialBatches(hosts, play.serial)) {
    if (ctx.stopped || ctx.signal.aborted) break;
    const live = new Set(batch);
    const rt: PlayRuntime = {
      play,
      scopes: createScopeFactory(
        ctx,
        {
          playVars: play.vars,
          varsFiles: (host) => varsFilesByHost.get(host) ?? [],
          playHosts: () => hosts.filter((h) => !ctx.hosts.get(h)?.failed && !ctx.hosts.get(h)?.unreachable),
          playHostsAll: hosts,
          batch,
          roleLayers: (host) => [...playRoleLayers, ...(publicLayers.get(host) ?? [])],
        },
        omitToken,
      ),
      gate: play.strategy === 'free' ? new FreeGate() : new LinearGate(batch),
      omitToken,
      live,
      batch,
      ended: false,
      endPlay: false,
      handlers: collectHandlers(play.handlers),
      notified: new Map(),
      runOnce: new Map(),
      throttles: new Map(),
      failedInBatch: new Set(),
      announced: new Set(),
      rolesRun,
      publicLayers,
    };
    const walkers = batch.map((host) => {
      try {
        varsFilesByHost.set(host, loadVarsFiles(ctx, play, host, fileCache));
      } catch (err) {
        return () => failBeforeStart(ctx, rt, host, err);
      }
      const argumentError = playRoleArgumentError(rt, host, play.roles);
      if (argumentError) return () => failBeforeStart(ctx, rt, host, argumentError);
      const walker = new HostWalker(ctx, rt, host, gatherFacts);
      return () => walker.runPlay();
    });
    await Promise.all(walkers.map((start) => start()));
    if (rt.endPlay || ctx.stopped) break;
    if (rt.failedInBatch.size === batch.length) break; // Ansible ends the play when a whole batch failed
  }
  ctx.emit({ kind: 'play-end', name: play.name, time: Date.now() });
}

/**
 * The argument specs of the play's roles, checked for a host before the play's first task
 * where the variables are already known (no facts needed, no `when` on the way): a host
 * whose variables break a role's spec fails before anything runs on it. What cannot be
 * decided yet is checked again when the role starts (its validation task).
 */
function playRoleArgumentError(rt: PlayRuntime, host: string, roles: BlockNode[], outer: VarLayer[] = []): unknown {
  for (const block of roles) {
    const role = block.role;
    if (!role || block.kw.when !== undefined) continue;
    const layers = [...outer, ...roleLayers(role)];
    if (hasArgumentSpec(role)) {
      try {
        checkRoleArguments(role, rt.scopes.scope(host, layers));
      } catch (err) {
        if (err instanceof ParseError && err.code === 'ARGUMENT_SPEC') return err;
        // an undefined fact or a template error: the role's own validation task decides
      }
    }
    const deps = block.block.filter((item): item is BlockNode => item.type === 'block' && item.role !== undefined);
    const inner = playRoleArgumentError(rt, host, deps, layers);
    if (inner) return inner;
  }
  return undefined;
}

/** A host whose vars_files cannot be read fails before its first task; the others go on. */
async function failBeforeStart(ctx: RunContext, rt: PlayRuntime, host: string, err: unknown): Promise<void> {
  const msg = err instanceof ParseError ? err.format() : err instanceof Error ? err.message : String(err);
  rt.gate.leave(host);
  rt.live.delete(host);
  rt.failedInBatch.add(host);
  hostState(ctx, host).failed = true;
  ctx.emit({ kind: 'host-result', taskId: 'vars_files', task: 'vars_files', host, status: 'failed', msg, result: { failed: true, changed: false, msg }, time: Date.now() });
  statsOf(ctx, host).failed++;
}
