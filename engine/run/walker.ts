// One host's way through a play: sections, blocks with rescue/always, includes,
// handlers and meta tasks, in step with the other hosts through the strategy's gate.
import path from 'node:path';
import { minimatch } from 'minimatch';
import type { BlockNode, IncludeNode, IncludeRoleNode, RoleBinding, TaskItem, TaskNode, Conditional } from '../load/model.js';
import { includeEntry } from '../load/roles-directive.js';
import type { LoadedRole } from '../load/roles.js';
import { copyPositions, locate } from '../load/positions.js';
import { TsplayError, type SourcePos } from '../errors.js';
import { UnreachableError } from '../connection/types.js';
import type { RunContext } from './context.js';
import { hostState, statsOf } from './context.js';
import type { PlayRuntime, InheritedKeywords } from './play-runtime.js';
import { collectHandlers, inheritKeywords, roleOfHandler } from './play-runtime.js';
import { publicRoleLayers, roleLayers } from './role-scope.js';
import { checkRoleArguments, hasArgumentSpec } from './role-arguments.js';
import type { StepKey } from './lockstep.js';
import { executeTask, HostUnreachable, type TaskOutcome } from './task-executor.js';
import { tagsSelected } from './tags.js';
import { condition, template, type VarLayer } from './templar.js';
import { expandLoop, itemLabel } from './loops.js';
import { gatherFacts } from './facts.js';
import { connectionVars } from './connection-vars.js';
import { toBool } from '../vars/index.js';

/** How a walk ended: go on, the host failed, cannot be reached, ended by meta, or must stop. */
export type WalkResult = 'ok' | 'failed' | 'unreachable' | 'ended' | 'stopped';

interface Frame {
  kw: InheritedKeywords;
  tags: ReadonlySet<string>;
  when: Array<{ cond: Conditional; pos: SourcePos }>;
  layers: VarLayer[];
  baseDir: string;
  handler: boolean;
  /** The role whose tasks these are (innermost). */
  role?: RoleBinding;
}

/** Key offset of the handler flush that ends each section, after any task of it. */
const SECTION_FLUSH = 1e9;

export class HostWalker {
  private lastFailure: { task: TaskNode; result: Record<string, unknown> } | undefined;
  /** Keywords of the task that failed last (any_errors_fatal may be set on it). */
  private failureKw: InheritedKeywords | undefined;

  constructor(
    private readonly ctx: RunContext,
    private readonly rt: PlayRuntime,
    private readonly host: string,
    private readonly gatherFacts: boolean,
  ) {}

  async runPlay(): Promise<void> {
    const { play } = this.rt;
    const frame: Frame = {
      kw: inheritKeywords({}, play.kw),
      tags: new Set(play.kw.tags ?? []),
      // an import_playbook's `when` applies to every task of the plays it imports
      when: play.kw.when !== undefined ? [{ cond: play.kw.when, pos: locate(play.raw, 'when') ?? play.pos }] : [],
      layers: [],
      baseDir: play.baseDir,
      handler: false,
    };
    let result: WalkResult = 'ok';
    try {
      if (this.gatherFacts) result = await this.gather(frame);
      // Ansible: pre_tasks, their handlers, then roles and tasks (one section), then post_tasks
      const sections = [play.pre_tasks, [...play.roles, ...play.tasks], play.post_tasks];
      for (let s = 0; s < sections.length && result === 'ok'; s++) {
        result = await this.walk(sections[s]!, frame, [s]);
        if (result === 'ok') result = await this.flushHandlers(frame, [s, SECTION_FLUSH]);
      }
      // only a failure nothing rescued counts: it may end the play for everyone, so decide
      // before leaving the gate that the other hosts wait at
      if (result === 'failed' || result === 'unreachable') this.onHostFailure(result);
    } finally {
      this.rt.gate.leave(this.host);
      this.rt.live.delete(this.host);
    }
  }

  private stopping(): boolean {
    return this.rt.ended || this.ctx.stopped || this.ctx.signal.aborted;
  }

  private async walk(items: TaskItem[], frame: Frame, key: StepKey): Promise<WalkResult> {
    for (let i = 0; i < items.length; i++) {
      if (this.stopping()) return 'stopped';
      const item = items[i]!;
      const itemKey = [...key, i];
      let result: WalkResult;
      if (item.type === 'task') result = await this.runTask(item, frame, itemKey);
      else if (item.type === 'block') result = await this.runBlock(item, frame, itemKey);
      else if (item.type === 'include_role') result = await this.runIncludeRole(item, frame, itemKey);
      else result = await this.runInclude(item, frame, itemKey);
      if (result !== 'ok') return result;
    }
    return 'ok';
  }

  /** A block's (or an import's) keywords, `when`, tags and vars apply to every task inside. */
  private blockFrame(frame: Frame, block: BlockNode): Frame {
    const when = block.kw.when !== undefined ? [...frame.when, { cond: block.kw.when, pos: locate(block.raw, 'when') ?? block.pos }] : frame.when;
    return {
      kw: inheritKeywords(frame.kw, block.kw),
      tags: new Set([...frame.tags, ...(block.kw.tags ?? [])]),
      when,
      layers: block.kw.vars ? [...frame.layers, { name: 'block vars', vars: block.kw.vars }] : frame.layers,
      baseDir: block.importedFrom ? path.dirname(block.importedFrom) : frame.baseDir,
      handler: frame.handler,
      ...(frame.role ? { role: frame.role } : {}),
    };
  }

  /** A role's block: its keywords like a block's, plus its variables, folder and name. */
  private roleFrame(frame: Frame, role: RoleBinding, block?: BlockNode): Frame {
    const base = block ? this.blockFrame(frame, block) : frame;
    return { ...base, layers: [...base.layers, ...roleLayers(role)], baseDir: path.join(role.dir, 'tasks'), role };
  }

  private async runBlock(block: BlockNode, frame: Frame, key: StepKey): Promise<WalkResult> {
    let inner: Frame;
    if (block.role) {
      const role = block.role;
      if (role.dedupKey !== undefined && !frame.handler) {
        // Ansible runs a role once per host and play unless allow_duplicates or other parameters
        let ran = this.rt.rolesRun.get(this.host);
        if (!ran) this.rt.rolesRun.set(this.host, (ran = new Set()));
        if (ran.has(role.dedupKey)) return 'ok';
        ran.add(role.dedupKey);
      }
      inner = this.roleFrame(frame, role, block);
      if (!frame.handler && hasArgumentSpec(role)) {
        const checked = await this.validateRoleArguments(role, block, inner, [...key, -1]);
        if (checked.result !== 'ok') return checked.result;
        if (Object.keys(checked.defaults).length > 0) {
          inner = { ...inner, layers: [{ name: `argument_specs defaults (${role.name})`, vars: checked.defaults, raw: true, tier: 'role defaults' }, ...inner.layers] };
        }
      }
    } else {
      inner = this.blockFrame(frame, block);
    }
    let result = await this.walk(block.block, inner, [...key, 0]);
    if (result === 'failed' && block.rescue.length > 0) {
      const failure = this.lastFailure;
      const rescueFrame: Frame = failure
        ? { ...inner, layers: [...inner.layers, { name: 'rescue', vars: { ansible_failed_task: { name: failure.task.name, action: failure.task.action }, ansible_failed_result: failure.result }, raw: true }] }
        : inner;
      // Ansible (strategy _process_pending_results): a failure a rescue catches counts as
      // rescued, not failed, whether or not the rescue then succeeds; a task failing in the
      // rescue counts as failed (or rescued again by an enclosing block's rescue)
      const stats = statsOf(this.ctx, this.host);
      stats.rescued++;
      stats.failed = Math.max(0, stats.failed - 1);
      result = await this.walk(block.rescue, rescueFrame, [...key, 1]);
    }
    if (result === 'ok' || result === 'failed') {
      const always = await this.walk(block.always, inner, [...key, 2]);
      if (always !== 'ok') result = always;
    }
    return result;
  }

  /** Static filters that decide a task is not part of this run at all (no output). */
  private excluded(task: TaskNode, tags: ReadonlySet<string>): boolean {
    if (!tagsSelected(tags, this.ctx.opts.tags)) return true;
    const state = hostState(this.ctx, this.host);
    if (!state.started) {
      const wanted = this.ctx.opts.startAtTask!;
      if (task.name === wanted || minimatch(task.name, wanted)) state.started = true;
      else return true;
    }
    return false;
  }

  /** Wait for this step's turn; the hosts running it together, or undefined when the play is stopping. */
  private async arrive(key: StepKey, stepId: string, name: string, handler: boolean, taskPath?: string): Promise<string[] | undefined> {
    const group = await this.rt.gate.arrive(this.host, key, stepId);
    if (this.stopping()) return undefined;
    // linear: the first host of the group announces the step; free: the first host to reach it
    const announce = this.rt.play.strategy === 'free' ? !this.rt.announced.has(stepId) : group[0] === this.host;
    if (announce) {
      this.rt.announced.add(stepId);
      this.ctx.emit({ kind: 'task-start', taskId: stepId, name, hosts: group, handler, ...(taskPath ? { path: taskPath } : {}), time: Date.now() });
    }
    return group;
  }

  private async runTask(task: TaskNode, frame: Frame, key: StepKey): Promise<WalkResult> {
    const tags = new Set([...frame.tags, ...(task.kw.tags ?? [])]);
    if (!frame.handler && this.excluded(task, tags)) return 'ok';
    if (task.action === 'meta') return this.runMeta(task, frame, key);
    const taskPath = `${task.pos.file}:${task.pos.line}`;
    const group = await this.arrive(key, task.id, task.name, frame.handler, taskPath);
    if (!group) return 'stopped';
    const kw = inheritKeywords(frame.kw, task.kw);
    let outcome: TaskOutcome;
    try {
      outcome = await executeTask({
        ctx: this.ctx,
        rt: this.rt,
        host: this.host,
        task,
        kw,
        outerWhen: frame.when,
        layers: frame.layers,
        baseDir: frame.baseDir,
        stepKey: `${task.id}@${key.join('.')}`,
        group,
        handler: frame.handler,
        ...(frame.role ? { roleDir: frame.role.dir } : {}),
      });
    } catch (err) {
      if (err instanceof HostUnreachable) return this.unreachable(task.id, task.name, err.result, kw);
      throw err;
    }
    this.count(outcome);
    if (outcome.failed) {
      this.lastFailure = { task, result: outcome.result };
      this.failureKw = kw;
      return 'failed';
    }
    return 'ok';
  }

  private count(outcome: TaskOutcome): void {
    if (outcome.silent) return;
    const stats = statsOf(this.ctx, this.host);
    switch (outcome.status) {
      case 'ok':
        stats.ok++;
        break;
      case 'changed':
        stats.ok++;
        stats.changed++;
        break;
      case 'skipped':
        stats.skipped++;
        break;
      case 'failed':
        if (outcome.ignored) stats.ignored++;
        else stats.failed++;
        break;
      case 'unreachable':
        stats.unreachable++;
        break;
    }
  }

  private unreachable(taskId: string, taskName: string, result: Record<string, unknown>, kw: InheritedKeywords): WalkResult {
    const ignore = toBool(kw.ignore_unreachable ?? false);
    this.ctx.emit({
      kind: 'host-result', taskId, task: taskName, host: this.host, status: 'unreachable',
      ...(ignore ? { ignored: true } : {}),
      msg: String(result.msg ?? ''), result, time: Date.now(),
    });
    const stats = statsOf(this.ctx, this.host);
    if (ignore) {
      stats.ignored++;
      return 'ok';
    }
    stats.unreachable++;
    this.failureKw = kw;
    return 'unreachable';
  }

  private onHostFailure(result: 'failed' | 'unreachable'): void {
    const state = hostState(this.ctx, this.host);
    if (result === 'failed') state.failed = true;
    else state.unreachable = true;
    this.rt.failedInBatch.add(this.host);
    if (this.failureKw?.any_errors_fatal === true || this.rt.play.kw.any_errors_fatal === true) {
      this.rt.ended = true;
      this.rt.endPlay = true;
      this.ctx.stopped = true;
      return;
    }
    const pct = this.rt.play.max_fail_percentage;
    if (pct !== undefined && (this.rt.failedInBatch.size / this.rt.batch.length) * 100 > pct) {
      this.rt.ended = true;
      this.rt.endPlay = true;
    }
  }

  /** Ansible's first task of a role with argument specs: check the variables the role will see. */
  private async validateRoleArguments(role: RoleBinding, block: BlockNode, frame: Frame, key: StepKey): Promise<{ result: WalkResult; defaults: Record<string, unknown> }> {
    const id = `${block.id}:argument_specs`;
    const name = `${role.name} : Validating arguments against arg spec '${role.entryPoint}'`;
    if (!(await this.arrive(key, id, name, false))) return { result: 'stopped', defaults: {} };
    const base = { taskId: id, task: name, host: this.host };
    let defaults: Record<string, unknown>;
    try {
      const scope = this.rt.scopes.scope(this.host, frame.layers);
      for (const w of frame.when) {
        if (!condition(w.cond, scope, w.pos)) {
          this.ctx.emit({ kind: 'host-result', ...base, status: 'skipped', result: { changed: false, skipped: true }, time: Date.now() });
          statsOf(this.ctx, this.host).skipped++;
          return { result: 'ok', defaults: {} };
        }
      }
      defaults = checkRoleArguments(role, scope);
    } catch (err) {
      if (err instanceof UnreachableError) throw err;
      // as the play-level check prints it: where the bad value was set, with its code frame
      const msg = err instanceof TsplayError ? err.format() : err instanceof Error ? err.message : String(err);
      const result = { failed: true, changed: false, msg, argument_errors: [msg] };
      this.ctx.emit({ kind: 'host-result', ...base, status: 'failed', msg, result, time: Date.now() });
      this.count({ status: 'failed', failed: true, ignored: false, changed: false, result });
      this.failureKw = frame.kw;
      return { result: 'failed', defaults: {} };
    }
    this.ctx.emit({ kind: 'host-result', ...base, status: 'ok', result: { changed: false, msg: 'The arg spec validation passed' }, time: Date.now() });
    statsOf(this.ctx, this.host).ok++;
    return { result: 'ok', defaults };
  }

  private async runMeta(task: TaskNode, frame: Frame, key: StepKey): Promise<WalkResult> {
    const action = String(task.args._raw_params ?? '');
    // meta steps are synchronisation points in the linear strategy, but print no header
    await this.rt.gate.arrive(this.host, key, task.id);
    if (this.stopping()) return 'stopped';
    if (task.kw.when !== undefined || frame.when.length > 0) {
      const scope = this.rt.scopes.scope(this.host, [...frame.layers, { name: 'task vars', vars: task.kw.vars ?? {} }]);
      for (const w of [...frame.when, ...(task.kw.when !== undefined ? [{ cond: task.kw.when, pos: locate(task.raw, 'when') ?? task.pos }] : [])]) {
        if (!condition(w.cond, scope, w.pos)) return 'ok';
      }
    }
    switch (action) {
      case 'flush_handlers':
        return this.flushHandlers(frame, [...key, 0]);
      case 'end_play':
        this.rt.ended = true;
        this.rt.endPlay = true;
        return 'ended';
      case 'end_batch':
        this.rt.ended = true;
        return 'ended';
      case 'end_host':
        return 'ended';
      case 'reset_connection':
        // the next task of this host connects anew (Ansible: after changing groups, sshd, firewall)
        await this.ctx.pool.reset(this.host);
        return 'ok';
      case 'clear_facts': {
        const state = hostState(this.ctx, this.host);
        delete state.facts;
        state.hostFacts = {};
        return 'ok';
      }
      default:
        return 'ok';
    }
  }

  private async flushHandlers(frame: Frame, key: StepKey): Promise<WalkResult> {
    const pending = this.rt.notified.get(this.host);
    if (!pending || pending.size === 0) return 'ok';
    const handlerFrame: Frame = { ...frame, kw: inheritKeywords(this.rt.play.kw, {}), handler: true, when: [], layers: [] };
    for (let index = 0; index < this.rt.handlers.length; index++) {
      if (!pending.has(index)) continue;
      pending.delete(index);
      const handler = this.rt.handlers[index]!;
      // a role's handler runs with the role's variables and looks up files in the role
      const role = roleOfHandler(handler);
      const own = role ? { ...this.roleFrame(handlerFrame, role), baseDir: path.dirname(handler.pos.file) } : handlerFrame;
      const result = await this.runTask(handler, own, [...key, index]);
      if (result !== 'ok') return result;
    }
    return 'ok';
  }

  private async runInclude(node: IncludeNode, frame: Frame, key: StepKey): Promise<WalkResult> {
    const tags = new Set([...frame.tags, ...(node.kw.tags ?? [])]);
    if (!tagsSelected(tags, this.ctx.opts.tags)) return 'ok';
    if (!(await this.arrive(key, node.id, node.name, frame.handler))) return 'stopped';
    const scope = this.rt.scopes.scope(this.host, [...frame.layers, { name: 'include vars', vars: node.kw.vars ?? {} }]);
    const outcomeBase = { taskId: node.id, task: node.name, host: this.host, time: Date.now() };
    let files: Array<{ file: string; item?: unknown; tasks: TaskItem[] }>;
    try {
      for (const w of frame.when) if (!condition(w.cond, scope, w.pos)) return this.skipInclude(node);
      const loopValue = node.kw.loop ?? node.kw.with?.value;
      const items = loopValue === undefined ? [undefined] : expandLoop(template(loopValue, scope, locate(node.raw, node.kw.loop !== undefined ? 'loop' : `with_${node.kw.with?.lookup}`) ?? node.pos), node.kw.loop !== undefined ? undefined : node.kw.with?.lookup, node.pos, frame.baseDir);
      const loopVar = node.kw.loop_control?.loop_var ?? 'item';
      files = [];
      for (const item of items) {
        const itemScope = loopValue === undefined ? scope : this.rt.scopes.scope(this.host, [...frame.layers, { name: 'include vars', vars: { ...(node.kw.vars ?? {}), [loopVar]: item } }]);
        if (node.kw.when !== undefined && !condition(node.kw.when, itemScope, locate(node.raw, 'when') ?? node.pos)) continue;
        const file = String(template(node.file, itemScope, locate(node.raw, 'include_tasks') ?? node.pos));
        const resolved = path.resolve(node.baseDir, file);
        const tasks = node.tasks && !node.file.includes('{{') ? node.tasks : this.ctx.loadTaskFile(resolved, node.pos, frame.role?.name);
        files.push({ file: resolved, ...(loopValue === undefined ? {} : { item }), tasks });
      }
    } catch (err) {
      if (err instanceof UnreachableError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      const result = { failed: true, changed: false, msg };
      this.ctx.emit({ kind: 'host-result', ...outcomeBase, status: 'failed', msg, result });
      this.count({ status: 'failed', failed: true, ignored: false, changed: false, result });
      this.failureKw = frame.kw;
      return 'failed';
    }
    if (files.length === 0) return this.skipInclude(node);
    // Like Ansible: first every "included: FILE for HOST" line, then the included tasks
    const looped = node.kw.loop !== undefined || node.kw.with !== undefined;
    for (const entry of files) {
      this.ctx.emit({
        kind: 'host-result', ...outcomeBase, status: 'ok', result: { included: entry.file, changed: false },
        ...(looped ? { item: itemLabel(entry.item) } : {}), time: Date.now(),
      });
    }
    if (looped) {
      const results = files.map((f) => ({ included: f.file, changed: false }));
      this.ctx.emit({ kind: 'host-result', ...outcomeBase, status: 'ok', loopSummary: true, result: { changed: false, results }, time: Date.now() });
    }
    statsOf(this.ctx, this.host).ok++;
    const loopVar = node.kw.loop_control?.loop_var ?? 'item';
    for (let i = 0; i < files.length; i++) {
      const entry = files[i]!;
      const vars = { ...(node.kw.vars ?? {}), ...('item' in entry ? { [loopVar]: entry.item } : {}) };
      const inner: Frame = {
        kw: inheritKeywords(frame.kw, {}),
        tags: frame.tags,
        when: frame.when,
        layers: [...frame.layers, { name: 'include vars', vars }],
        baseDir: frame.baseDir,
        handler: frame.handler,
        ...(frame.role ? { role: frame.role } : {}),
      };
      const result = await this.walk(entry.tasks, inner, [...key, i]);
      if (result !== 'ok') return result;
    }
    return 'ok';
  }

  /** include_role: per host (and loop item), resolve the role and run it like a role block. */
  private async runIncludeRole(node: IncludeRoleNode, frame: Frame, key: StepKey): Promise<WalkResult> {
    const tags = new Set([...frame.tags, ...(node.kw.tags ?? [])]);
    if (!tagsSelected(tags, this.ctx.opts.tags)) return 'ok';
    if (!(await this.arrive(key, node.id, node.name, frame.handler))) return 'stopped';
    const includeVars = node.kw.vars ?? {};
    const paramsLayer = (vars: Record<string, unknown>) => ({ name: 'include params', vars, tier: 'role params' as const });
    const loopVar = node.kw.loop_control?.loop_var ?? 'item';
    const runs: Array<{ vars: Record<string, unknown>; loaded: LoadedRole }> = [];
    try {
      const scope = this.rt.scopes.scope(this.host, [...frame.layers, paramsLayer(includeVars)]);
      for (const w of frame.when) if (!condition(w.cond, scope, w.pos)) return this.skipInclude(node);
      const loopValue = node.kw.loop ?? node.kw.with?.value;
      const items = loopValue === undefined ? [undefined] : expandLoop(template(loopValue, scope, locate(node.raw, node.kw.loop !== undefined ? 'loop' : `with_${node.kw.with?.lookup}`) ?? node.pos), node.kw.loop !== undefined ? undefined : node.kw.with?.lookup, node.pos, frame.baseDir);
      for (const item of items) {
        const vars = loopValue === undefined ? includeVars : { ...includeVars, [loopVar]: item };
        if (vars !== includeVars) copyPositions(includeVars, vars); // where each of the include's vars was written
        const itemScope = loopValue === undefined ? scope : this.rt.scopes.scope(this.host, [...frame.layers, paramsLayer(vars)]);
        if (node.kw.when !== undefined && !condition(node.kw.when, itemScope, locate(node.raw, 'when') ?? node.pos)) continue;
        runs.push({ vars, loaded: this.includedRole(node, itemScope) });
      }
    } catch (err) {
      if (err instanceof UnreachableError) throw err;
      const msg = err instanceof Error ? err.message : String(err);
      const result = { failed: true, changed: false, msg };
      this.ctx.emit({ kind: 'host-result', taskId: node.id, task: node.name, host: this.host, status: 'failed', msg, result, time: Date.now() });
      this.count({ status: 'failed', failed: true, ignored: false, changed: false, result });
      this.failureKw = frame.kw;
      return 'failed';
    }
    if (runs.length === 0) return this.skipInclude(node);
    for (let i = 0; i < runs.length; i++) {
      const { vars, loaded } = runs[i]!;
      // apply: keywords given to every task of the role, like an enclosing block's
      const applied: Frame = node.apply
        ? {
            ...frame,
            kw: inheritKeywords(frame.kw, node.apply),
            tags: new Set([...frame.tags, ...(node.apply.tags ?? [])]),
            when: node.apply.when !== undefined ? [...frame.when, { cond: node.apply.when, pos: node.pos }] : frame.when,
          }
        : frame;
      const inner: Frame = { ...applied, layers: [...applied.layers, paramsLayer(vars)] };
      const result = await this.runBlock(loaded.block, inner, [...key, i]);
      if (result !== 'ok') return result;
      if (node.public) {
        const layers = this.rt.publicLayers.get(this.host) ?? [];
        layers.push(...publicRoleLayers(loaded.bindings));
        this.rt.publicLayers.set(this.host, layers);
      }
    }
    return 'ok';
  }

  /** The role an include_role names for this host and item: loaded at load time, or now. */
  private includedRole(node: IncludeRoleNode, scope: Record<string, unknown>): LoadedRole {
    const files = { tasksFrom: node.tasksFrom, varsFrom: node.varsFrom, defaultsFrom: node.defaultsFrom, handlersFrom: node.handlersFrom };
    if (node.loaded) return { block: node.loaded, handlers: [], bindings: roleBindingsOf(node.loaded) };
    const pos = locate(node.raw, Object.keys(node.raw).find((k) => k.endsWith('include_role')) ?? 'include_role') ?? node.pos;
    const rendered: Partial<Record<keyof typeof files, string>> = {};
    for (const [k, v] of Object.entries(files) as Array<[keyof typeof files, string | undefined]>) {
      if (v !== undefined) rendered[k] = String(template(v, scope, pos));
    }
    const name = String(template(node.role, scope, pos));
    const loaded = this.ctx.loadRole(includeEntry(node, name, pos, rendered), node.pos.file);
    // its handlers join the play's, once
    const known = new Set(this.rt.handlers.map((h) => `${h.pos.file}:${h.pos.line}:${h.pos.col}`));
    const fresh = collectHandlers(loaded.handlers).filter((h) => !known.has(`${h.pos.file}:${h.pos.line}:${h.pos.col}`));
    this.rt.handlers.push(...fresh);
    return loaded;
  }

  private skipInclude(node: IncludeNode | IncludeRoleNode): WalkResult {
    this.ctx.emit({ kind: 'host-result', taskId: node.id, task: node.name, host: this.host, status: 'skipped', result: { skipped: true, changed: false }, time: Date.now() });
    statsOf(this.ctx, this.host).skipped++;
    return 'ok';
  }

  private async gather(frame: Frame): Promise<WalkResult> {
    const state = hostState(this.ctx, this.host);
    const id = `gather:${this.rt.play.pos.file}:${this.rt.play.pos.line}`;
    if (!(await this.arrive([-1], id, 'Gathering Facts', false))) return 'stopped';
    const base = { taskId: id, task: 'Gathering Facts', host: this.host };
    if (state.facts) {
      this.ctx.emit({ kind: 'host-result', ...base, status: 'ok', result: { changed: false, cached: true }, time: Date.now() });
      statsOf(this.ctx, this.host).ok++;
      return 'ok';
    }
    try {
      const scope = this.rt.scopes.scope(this.host, frame.layers);
      const conn = this.ctx.pool.get(this.host, connectionVars(this.ctx.inventory, this.host, scope, frame.kw));
      state.facts = await this.ctx.forks.run(async () => {
        await conn.connect();
        return gatherFacts(conn, (this.ctx.opts.timeoutSeconds ?? 0) * 1000 || undefined);
      });
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      if (err instanceof UnreachableError) {
        return this.unreachable(id, 'Gathering Facts', { unreachable: true, changed: false, msg }, frame.kw);
      }
      this.ctx.emit({ kind: 'host-result', ...base, status: 'failed', msg, result: { failed: true, changed: false, msg }, time: Date.now() });
      statsOf(this.ctx, this.host).failed++;
      this.failureKw = frame.kw;
      return 'failed';
    }
    this.ctx.emit({ kind: 'host-result', ...base, status: 'ok', result: { changed: false }, time: Date.now() });
    statsOf(this.ctx, this.host).ok++;
    return 'ok';
  }
}

/** The role bindings of a role block and its dependencies (for include_role public). */
function roleBindingsOf(block: BlockNode): RoleBinding[] {
  const out: RoleBinding[] = [];
  for (const item of block.block) if (item.type === 'block' && item.role) out.push(...roleBindingsOf(item));
  if (block.role) out.push(block.role);
  return out;
}
