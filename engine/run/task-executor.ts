// Runs one task on one host: conditions, loops, the module call with its connection and
// become settings, until/retries, failed_when/changed_when, register and notify. Emits
// the host-result events; returns the outcome for the walker (blocks, rescue, stats).
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskNode, Conditional } from '../load/model.js';
import { locate, locatePath } from '../load/positions.js';
import { TsplayError, type SourcePos } from '../errors.js';
import type { ModuleContext, ModuleDef, ModuleResult, FileDiff } from '../modules/types.js';
import type { BecomeOptions, Connection } from '../connection/types.js';
import { UnreachableError, CommandTimeoutError } from '../connection/types.js';
import { HostOps } from '../connection/host-ops.js';
import type { HostStatus } from '../report/events.js';
import type { RunContext } from './context.js';
import { hostState } from './context.js';
import type { PlayRuntime, InheritedKeywords } from './play-runtime.js';
import { notify, throttleFor } from './play-runtime.js';
import { childScope, condition, expression, template, templateText, type VarLayer } from './templar.js';
import { expandLoop, itemGroups, itemLabel, loopBatchable } from './loops.js';
import { censorResult } from './censor.js';
import { toBool } from '../vars/index.js';
import { pyStr } from '../vars/values.js';
import { connectionVars } from './connection-vars.js';
import { sourceSearchPaths } from './role-scope.js';

export interface TaskRun {
  ctx: RunContext;
  rt: PlayRuntime;
  host: string;
  task: TaskNode;
  kw: InheritedKeywords;
  /** `when` of the enclosing blocks and includes, evaluated before the task's own. */
  outerWhen: Array<{ cond: Conditional; pos: SourcePos }>;
  /** Block, include and loop-item variables, outer to inner. */
  layers: VarLayer[];
  /** Folder relative `src:` paths and templates/ files/ are searched from. */
  baseDir: string;
  /** Step identity for run_once sharing. */
  stepKey: string;
  /** Hosts released together for this step (linear strategy); the first runs a run_once task. */
  group: string[];
  handler: boolean;
  /** The folder of the role the task belongs to: its files/ and templates/ are searched first. */
  roleDir?: string;
}

export interface TaskOutcome {
  status: HostStatus;
  /** Failed, and not ignored: the walker stops this host or enters rescue. */
  failed: boolean;
  ignored: boolean;
  changed: boolean;
  result: Record<string, unknown>;
  /** run_once: another host ran the task and reported it; this one only takes the result. */
  silent?: boolean;
}

/** Thrown to the walker when a host cannot be reached: it leaves the play. */
export class HostUnreachable extends Error {
  constructor(
    message: string,
    readonly result: Record<string, unknown>,
  ) {
    super(message);
  }
}

function errorMessage(err: unknown): string {
  if (err instanceof TsplayError) {
    return err.pos ? `${err.pos.file}:${err.pos.line}:${err.pos.col}: ${err.message}` : err.message;
  }
  return err instanceof Error ? err.message : String(err);
}

/** Resolve a keyword that may be templated, at the task's position. */
function kwValue(run: TaskRun, scope: Record<string, unknown>, key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return template(value, scope, locate(run.task.raw, key) ?? run.task.pos);
}

/**
 * run_once: the first host of the group runs the task; the others wait for its result and
 * take it as theirs (register, notify) without reporting it again.
 */
export async function executeTask(run: TaskRun): Promise<TaskOutcome> {
  const scope = taskScope(run);
  let runOnce = false;
  try {
    runOnce = run.group.length > 1 && toBool(kwValue(run, scope, 'run_once', run.kw.run_once ?? false));
  } catch {
    runOnce = false; // the error shows when the task itself evaluates the keyword
  }
  if (!runOnce) return executeOwn(run, scope);
  let shared = run.rt.runOnce.get(run.stepKey);
  if (!shared) {
    shared = deferred();
    run.rt.runOnce.set(run.stepKey, shared);
  }
  if (run.group[0] !== run.host) {
    const result = await shared.promise;
    return finish(run, scope, { ...result, _run_once_copy: true }, false, undefined);
  }
  try {
    const outcome = await executeOwn(run, scope);
    shared.resolve(outcome.result);
    return outcome;
  } catch (err) {
    shared.resolve({ failed: true, changed: false, msg: `run_once host ${run.host} could not run the task` });
    throw err;
  }
}

/** The variables the task sees now: a fresh scope, so facts set since the last one show. */
function taskScope(run: TaskRun): Record<string, unknown> {
  return run.rt.scopes.scope(run.host, [...run.layers, { name: 'task vars', vars: run.task.kw.vars ?? {} }]);
}

interface Deferred {
  promise: Promise<Record<string, unknown>>;
  resolve(result: Record<string, unknown>): void;
}

function deferred(): Deferred {
  let resolve!: (result: Record<string, unknown>) => void;
  const promise = new Promise<Record<string, unknown>>((r) => (resolve = r));
  return { promise, resolve };
}

async function executeOwn(run: TaskRun, scope: Record<string, unknown>): Promise<TaskOutcome> {
  const { task } = run;
  let noLog = false;
  try {
    noLog = toBool(kwValue(run, scope, 'no_log', run.kw.no_log ?? false));
    for (const outer of run.outerWhen) {
      if (!condition(outer.cond, scope, outer.pos)) return skip(run, scope, outer.cond, noLog);
    }
    const loopSource = task.kw.loop !== undefined ? { value: task.kw.loop, lookup: undefined, key: 'loop' } : task.kw.with ? { value: task.kw.with.value, lookup: task.kw.with.lookup, key: `with_${task.kw.with.lookup}` } : undefined;
    if (!loopSource) {
      if (task.kw.when !== undefined && !condition(task.kw.when, scope, whenPos(task))) return skip(run, scope, task.kw.when, noLog);
      const result = await attempt(run, scope, noLog);
      return finish(run, scope, result, noLog, undefined);
    }
    const pos = locate(task.raw, loopSource.key) ?? task.pos;
    const items = expandLoop(template(loopSource.value, scope, pos), loopSource.lookup, pos, run.baseDir);
    return await runLoop(run, scope, items, noLog);
  } catch (err) {
    if (err instanceof HostUnreachable) throw err;
    const result = { failed: true, changed: false, msg: errorMessage(err) };
    return finish(run, scope, result, noLog, undefined);
  }
}

function whenPos(task: TaskNode): SourcePos {
  return locate(task.raw, 'when') ?? task.pos;
}

function skip(run: TaskRun, scope: Record<string, unknown>, cond: Conditional, noLog: boolean): TaskOutcome {
  const result = { changed: false, skipped: true, skip_reason: 'Conditional result was False', false_condition: cond };
  return finish(run, scope, result, noLog, undefined);
}

async function runLoop(run: TaskRun, scope: Record<string, unknown>, items: unknown[], noLog: boolean): Promise<TaskOutcome> {
  const { task } = run;
  const control = task.kw.loop_control ?? {};
  const loopVar = control.loop_var ?? 'item';
  const results: Array<Record<string, unknown>> = [];
  const itemVars = (index: number): Record<string, unknown> => {
    const extra: Record<string, unknown> = {
      [loopVar]: items[index],
      ansible_loop_var: loopVar,
      ansible_loop: {
        index: index + 1, index0: index, first: index === 0, last: index === items.length - 1, length: items.length,
        revindex: items.length - index, revindex0: items.length - index - 1,
        previtem: index > 0 ? items[index - 1] : undefined, nextitem: items[index + 1], allitems: items,
      },
    };
    if (control.index_var) extra[control.index_var] = index;
    return extra;
  };
  const labelOf = (itemScope: Record<string, unknown>, item: unknown): string =>
    control.label !== undefined ? String(template(control.label, itemScope, locatePath(task.raw, ['loop_control', 'label']))) : itemLabel(item);
  const report = (index: number, result: Record<string, unknown>, label: string): void => {
    result[loopVar] = items[index];
    result.ansible_loop_var = loopVar;
    if (control.index_var) result[control.index_var] = index;
    results.push(result);
    emitResult(run, result, noLog, label, false);
  };
  if (loopBatchable(task, Boolean(run.ctx.lookupModule(task.action)?.runMany), items.length)) {
    await runItemsBatched(run, scope, items, noLog, itemVars, labelOf, report);
  } else {
    for (let index = 0; index < items.length; index++) {
      if (index > 0 && control.pause) await sleep(Number(control.pause) * 1000);
      // as in Ansible, an item sees the facts the previous items set (set_fact accumulating over
      // the loop); register is applied only after the loop, so it is the same for every item
      const itemScope = childScope(index === 0 ? scope : taskScope(run), itemVars(index));
      const label = labelOf(itemScope, items[index]);
      let result: Record<string, unknown>;
      try {
        if (task.kw.when !== undefined && !condition(task.kw.when, itemScope, whenPos(task))) {
          result = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
        } else {
          result = await attempt(run, itemScope, noLog);
        }
      } catch (err) {
        if (err instanceof HostUnreachable) throw err;
        result = { failed: true, changed: false, msg: errorMessage(err) };
      }
      report(index, result, label);
    }
  }
  const anyFailed = results.some((r) => r.failed);
  const allSkipped = results.length > 0 && results.every((r) => r.skipped);
  const summary: Record<string, unknown> = {
    changed: results.some((r) => r.changed),
    msg: anyFailed ? 'One or more items failed' : 'All items completed',
    results,
  };
  if (anyFailed) summary.failed = true;
  if (allSkipped || results.length === 0) {
    summary.skipped = true;
    if (results.length === 0) summary.skipped_reason = 'No items in the list';
  }
  return finish(run, scope, summary, noLog, undefined, true);
}

/**
 * The loop with consecutive items handed to the module's runMany (one round trip for many,
 * see loops.ts loopBatchable). Every item's scope, label, `when` and arguments come first: a
 * module with runMany sets no facts and register is applied after the loop, so no item changes
 * what a later one sees. Results, events and failed_when/changed_when stay per item, in order;
 * a failed item does not stop the others (as without batching).
 */
async function runItemsBatched(
  run: TaskRun,
  scope: Record<string, unknown>,
  items: unknown[],
  noLog: boolean,
  itemVars: (index: number) => Record<string, unknown>,
  labelOf: (itemScope: Record<string, unknown>, item: unknown) => string,
  report: (index: number, result: Record<string, unknown>, label: string) => void,
): Promise<void> {
  const { task } = run;
  const failedWith = (err: unknown): Record<string, unknown> => {
    if (err instanceof HostUnreachable) throw err;
    return { failed: true, changed: false, msg: errorMessage(err) };
  };
  const entries = items.map((item, index) => {
    const itemScope = childScope(scope, itemVars(index));
    const label = labelOf(itemScope, item);
    let result: Record<string, unknown> | undefined;
    let call: PreparedCall | undefined;
    let key: string | undefined;
    try {
      if (task.kw.when !== undefined && !condition(task.kw.when, itemScope, whenPos(task))) {
        result = { changed: false, skipped: true, skip_reason: 'Conditional result was False' };
      } else {
        call = prepareCall(run, itemScope, noLog);
        if (call.skipped) [result, call] = [call.skipped, undefined];
        else key = call.key();
      }
    } catch (err) {
      [result, call, key] = [failedWith(err), undefined, undefined];
    }
    return { itemScope, label, result, call, key };
  });
  let reported = 0;
  const reportReady = (): void => {
    for (let e = entries[reported]; e?.result; e = entries[++reported]) report(reported, e.result, e.label);
  };
  const conditions = (index: number, result: Record<string, unknown>): Record<string, unknown> => {
    try {
      return applyResultConditions(run, entries[index]!.itemScope, result);
    } catch (err) {
      return failedWith(err);
    }
  };
  for (const group of itemGroups(entries.map((e) => e.key))) {
    reportReady();
    const calls = group.map((i) => entries[i]!.call!);
    const first = calls[0]!;
    try {
      const out =
        group.length === 1
          ? [await first.execute(() => first.mod.run(first.args as never, first.modCtx))]
          : await first.execute(() => first.mod.runMany!(calls.map((c) => c.args as never), first.modCtx), group.length);
      if (out.length !== group.length) throw new Error(`internal error: ${task.action} returned ${out.length} results for ${group.length} items`);
      group.forEach((index, k) => (entries[index]!.result = conditions(index, calls[k]!.finalize(out[k]!))));
    } catch (err) {
      // as one call at a time: a timeout is a result (failed_when sees it), another error is not
      const timedOut = err instanceof CommandTimeoutError;
      const failed = timedOut ? { failed: true, changed: false, msg: err.message } : failedWith(err);
      for (const index of group) entries[index]!.result = timedOut ? conditions(index, { ...failed }) : { ...failed };
    }
  }
  reportReady();
}

/** One module call with until/retries, failed_when and changed_when applied. */
async function attempt(run: TaskRun, scope: Record<string, unknown>, noLog: boolean): Promise<Record<string, unknown>> {
  const { task } = run;
  const retries = task.kw.until !== undefined ? Number(kwValue(run, scope, 'retries', task.kw.retries ?? 3)) : 0;
  const delay = Number(kwValue(run, scope, 'delay', task.kw.delay ?? 5));
  for (let tries = 1; ; tries++) {
    let result = await invokeModule(run, scope, noLog);
    result = applyResultConditions(run, scope, result);
    if (task.kw.until === undefined) return result;
    const bound = task.kw.register ? childScope(scope, { [task.kw.register]: result }) : childScope(scope, result);
    const done = condition(task.kw.until, bound, locate(task.raw, 'until') ?? task.pos);
    result.attempts = tries;
    if (done) return result;
    if (tries > retries) {
      result.failed = true;
      result.msg = result.msg ?? `Retried ${retries} times and the condition never held`;
      return result;
    }
    if (run.ctx.signal.aborted) return result;
    await sleep(delay * 1000);
  }
}

function applyResultConditions(run: TaskRun, scope: Record<string, unknown>, result: Record<string, unknown>): Record<string, unknown> {
  const { task } = run;
  if (task.kw.changed_when === undefined && task.kw.failed_when === undefined) return result;
  // failed_when/changed_when see the result under its register name, and its keys directly (rc, stdout)
  const bound = childScope(scope, task.kw.register ? { ...result, [task.kw.register]: result } : result);
  if (task.kw.changed_when !== undefined) {
    result.changed = condition(task.kw.changed_when, bound, locate(task.raw, 'changed_when') ?? task.pos);
  }
  if (task.kw.failed_when !== undefined) {
    const failed = condition(task.kw.failed_when, bound, locate(task.raw, 'failed_when') ?? task.pos);
    result.failed_when_result = failed;
    result.failed = failed;
    if (!failed) delete result.failed;
  }
  return result;
}

function becomeFor(run: TaskRun, scope: Record<string, unknown>): BecomeOptions | undefined {
  const enabled = run.kw.become !== undefined ? kwValue(run, scope, 'become', run.kw.become) : scope.ansible_become;
  if (!toBool(enabled ?? false)) return undefined;
  const pick = (kw: unknown, ...vars: string[]): unknown => {
    if (kw !== undefined) return kw;
    for (const name of vars) if (scope[name] !== undefined && scope[name] !== null) return scope[name];
    return undefined;
  };
  const method = String(pick(run.kw.become_method, 'ansible_become_method') ?? 'sudo');
  if (method !== 'sudo' && method !== 'su') throw new TsplayError('CONNECTION', `unsupported become_method '${method}' (sudo or su)`, { pos: run.task.pos });
  const become: BecomeOptions = { method, user: String(pick(run.kw.become_user, 'ansible_become_user') ?? 'root') };
  const password = pick(undefined, 'ansible_become_password', 'ansible_become_pass', 'become_password');
  if (password !== undefined) become.password = String(password);
  const flags = pick(run.kw.become_flags, 'ansible_become_flags');
  if (flags !== undefined) become.flags = String(flags);
  return become;
}

/** A module call made ready: arguments templated, context built, not yet run. */
interface PreparedCall {
  mod: ModuleDef;
  args: Record<string, unknown>;
  modCtx: ModuleContext;
  /** Debug's verbosity threshold: the result without a call. */
  skipped?: Record<string, unknown>;
  /** Loop items with the same key may share one runMany call (loops.ts itemGroups). */
  key(): string;
  /** Runs `body` (the module) connected, within forks/throttle, under the timeout (times `calls`). */
  execute<T>(body: () => Promise<T>, calls?: number): Promise<T>;
  /** The module's result as the task sees it: diff per --diff/no_log, facts stored on the host. */
  finalize(result: ModuleResult): Record<string, unknown>;
}

async function invokeModule(run: TaskRun, scope: Record<string, unknown>, noLog: boolean): Promise<Record<string, unknown>> {
  const call = prepareCall(run, scope, noLog);
  if (call.skipped) return call.skipped;
  try {
    return call.finalize(await call.execute(() => call.mod.run(call.args as never, call.modCtx)));
  } catch (err) {
    if (err instanceof CommandTimeoutError) return { failed: true, changed: false, msg: err.message };
    throw err;
  }
}

function prepareCall(run: TaskRun, scope: Record<string, unknown>, noLog: boolean): PreparedCall {
  const { ctx, task } = run;
  const mod = ctx.lookupModule(task.action);
  if (!mod) throw new TsplayError('UNKNOWN_MODULE', `unknown module '${task.action}'`, { pos: task.pos });
  const raw = new Set(mod.rawArgs ?? []);
  const args: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(task.args)) {
    const rendered = raw.has(key) ? value : template(value, scope, (p) => locatePath(task.args, [key, ...p]) ?? locate(task.raw, key) ?? task.pos);
    if (rendered !== run.rt.omitToken) args[key] = rendered;
  }
  const unused = (): never => {
    throw new Error('internal error: a skipped call was run');
  };
  if (task.action === 'debug' && Number(args.verbosity ?? 0) > ctx.opts.verbosity) {
    const skipped = { changed: false, skipped: true, skip_reason: 'Verbosity threshold not met.' };
    return { mod, args, modCtx: undefined as never, skipped, key: () => '', execute: unused, finalize: unused };
  }
  const check = run.kw.check_mode !== undefined ? toBool(kwValue(run, scope, 'check_mode', run.kw.check_mode)) : ctx.opts.check;
  const diff = run.kw.diff !== undefined ? toBool(kwValue(run, scope, 'diff', run.kw.diff)) : ctx.opts.diff;
  const delegate = run.kw.delegate_to !== undefined ? String(kwValue(run, scope, 'delegate_to', run.kw.delegate_to)) : undefined;
  const target = delegate ?? run.host;
  const targetScope = delegate && ctx.inventory.hasHost(delegate) ? (run.rt.scopes.hostvars()[delegate] as Record<string, unknown>) : scope;
  const environment = run.kw.environment !== undefined ? stringMap(template(run.kw.environment, scope, locate(task.raw, 'environment') ?? task.pos)) : undefined;
  const timeoutSeconds = Number(kwValue(run, scope, 'timeout', run.kw.timeout ?? ctx.opts.timeoutSeconds ?? 0));
  const become = becomeFor(run, scope);

  let conn: Connection | undefined;
  const getConn = (): Connection => {
    conn ??= ctx.pool.get(target, connectionVars(ctx.inventory, target, targetScope, run.kw));
    return conn;
  };
  const abort = new AbortController();
  const modCtx: ModuleContext = {
    host: target,
    get conn() {
      return getConn();
    },
    get ops() {
      return new HostOps(getConn(), { ...(become ? { become } : {}), ...(timeoutSeconds > 0 ? { timeoutMs: timeoutSeconds * 1000 } : {}), ...(environment ? { env: environment } : {}) });
    },
    ...(become ? { become } : {}),
    check,
    diff,
    vars: scope,
    taskPos: task.pos,
    // like Ansible: the role's files/templates, beside the task file, then beside the playbook
    searchPaths: sourceSearchPaths(run.roleDir, run.baseDir, run.rt.play.baseDir),
    renderTemplate: (text, file) => templateText(text, scope, { file, line: 1, col: 1 }),
    ...(timeoutSeconds > 0 ? { timeoutMs: timeoutSeconds * 1000 } : {}),
    ...(environment ? { environment } : {}),
    signal: abort.signal,
    inventory: ctx.inventory,
    ...(hostState(ctx, target).facts ? { facts: hostState(ctx, target).facts } : {}),
    evaluateCondition: (cond, pos) => condition(cond, scope, pos ?? task.pos),
    evaluateExpression: (expr, pos) => expression(expr, scope, pos ?? task.pos),
  };

  const throttle = Number(kwValue(run, scope, 'throttle', run.kw.throttle ?? 0));
  const execute = async <T>(body: () => Promise<T>, calls = 1): Promise<T> => {
    const onAbort = () => abort.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    const work = async (): Promise<T> => {
      if (!mod.controllerOnly) await getConn().connect();
      const call = body();
      if (timeoutSeconds <= 0) return call;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          abort.abort();
          reject(new CommandTimeoutError(`The task timed out after ${timeoutSeconds} seconds`, timeoutSeconds * 1000));
        }, timeoutSeconds * 1000 * calls);
      });
      try {
        return await Promise.race([call, timeout]);
      } finally {
        clearTimeout(timer);
      }
    };
    try {
      const limited = () => (throttle > 0 ? throttleFor(run.rt, task.id, throttle).run(work) : work());
      return mod.controllerOnly ? await work() : await ctx.forks.run(limited);
    } catch (err) {
      if (err instanceof UnreachableError) {
        const msg = err.message;
        throw new HostUnreachable(msg, { unreachable: true, changed: false, msg });
      }
      throw err;
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
    }
  };
  const finalize = (result: ModuleResult): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...result, changed: Boolean(result.changed) };
    if (!diff || noLog) delete out.diff;
    if (result.gatheredFacts && typeof result.gatheredFacts === 'object') {
      hostState(ctx, target).facts = result.gatheredFacts;
      out.ansible_facts = result.gatheredFacts;
      delete out.gatheredFacts;
    }
    if (result.facts && typeof result.facts === 'object') {
      // set_fact (and later setup): facts persist on the host, above play vars
      const state = hostState(ctx, delegate && toBool(run.kw.delegate_facts ?? false) ? delegate : run.host);
      Object.assign(state.hostFacts, result.facts);
      delete out.facts;
    }
    return out;
  };
  // the pool keeps one connection per host and transport: the same for items that agree on both
  const key = (): string => JSON.stringify([target, become ?? null, check, diff, environment ?? null, timeoutSeconds, throttle, String(connectionVars(ctx.inventory, target, targetScope, run.kw).ansible_connection)]);
  return { mod, args, modCtx, key, execute, finalize };
}

/** environment: values as Ansible passes them, through Python's str(): True, 8080, ['a', 'b']. */
function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) if (v !== undefined && v !== null) out[k] = pyStr(v);
  }
  return out;
}

function statusOf(result: Record<string, unknown>): HostStatus {
  if (result.unreachable) return 'unreachable';
  if (result.failed) return 'failed';
  if (result.skipped) return 'skipped';
  return result.changed ? 'changed' : 'ok';
}

/** Register, notify and emit the task's final result. */
function finish(
  run: TaskRun,
  scope: Record<string, unknown>,
  result: Record<string, unknown>,
  noLog: boolean,
  label: string | undefined,
  loopSummary = false,
): TaskOutcome {
  const { task, ctx } = run;
  result.changed = Boolean(result.changed);
  if (result.failed) result.failed = true;
  else result.failed = false;
  const status = statusOf(result);
  let ignored = false;
  if (status === 'failed') {
    try {
      ignored = toBool(kwValue(run, scope, 'ignore_errors', run.kw.ignore_errors ?? false));
    } catch {
      ignored = false;
    }
  }
  if (task.kw.register) hostState(ctx, run.host).hostFacts[task.kw.register] = stripInternal(result);
  if (result.changed && status !== 'failed' && run.kw.notify?.length) {
    for (const handler of notify(run.rt, run.host, run.kw.notify)) {
      ctx.emit({ kind: 'handler-notified', host: run.host, handler, time: Date.now() });
    }
  }
  const silent = result._run_once_copy === true;
  if (!silent) emitResult(run, result, noLog, label, loopSummary, ignored);
  return { status, failed: status === 'failed' && !ignored, ignored, changed: Boolean(result.changed), result, ...(silent ? { silent } : {}) };
}

function stripInternal(result: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result)) if (!k.startsWith('_')) out[k] = v;
  return out;
}

function emitResult(run: TaskRun, result: Record<string, unknown>, noLog: boolean, label: string | undefined, loopSummary: boolean, ignored = false): void {
  const status = statusOf(result);
  const shown = noLog ? censorResult(result) : stripInternal(result);
  const delegate = run.kw.delegate_to !== undefined && typeof run.kw.delegate_to === 'string' && !run.kw.delegate_to.includes('{{') ? run.kw.delegate_to : undefined;
  const verbosity = typeof result._verbosity === 'number' ? result._verbosity : undefined;
  // debug prints its result without -v (unless its verbosity asks for more)
  const show = run.task.action === 'debug' && !result.skipped && (verbosity ?? 0) <= run.ctx.opts.verbosity;
  const diffs = !noLog && Array.isArray(result.diff) ? (result.diff as FileDiff[]) : undefined;
  run.ctx.emit({
    kind: 'host-result',
    taskId: run.task.id,
    task: run.task.name,
    host: run.host,
    ...(delegate && delegate !== run.host ? { delegatedTo: delegate } : {}),
    status,
    ...(ignored ? { ignored } : {}),
    ...(label !== undefined ? { item: noLog ? '(censored due to no_log)' : label } : {}),
    ...(loopSummary ? { loopSummary } : {}),
    ...(typeof shown.msg === 'string' ? { msg: shown.msg } : {}),
    ...(diffs && diffs.length > 0 ? { diff: diffs } : {}),
    result: show ? { ...shown, _show: true } : shown,
    time: Date.now(),
  });
}
