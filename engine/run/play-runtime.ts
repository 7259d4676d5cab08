// State of one play (one serial batch) shared by its host walkers: scopes, handlers
// and their notifications, run_once results, throttles, and the end/abort flags.
import type { PlayNode, TaskItem, TaskNode, Keywords, RoleBinding } from '../load/model.js';
import type { HostScopeFactory } from './host-vars.js';
import type { VarLayer } from './templar.js';
import type { StepGate } from './lockstep.js';
import { Semaphore } from './semaphore.js';

export interface PlayRuntime {
  play: PlayNode;
  scopes: HostScopeFactory;
  gate: StepGate;
  omitToken: string;
  /** Hosts of this batch still running (not failed, unreachable or ended). */
  live: Set<string>;
  batch: string[];
  /** meta: end_play/end_batch, any_errors_fatal or max_fail_percentage: no host starts another task. */
  ended: boolean;
  /** The whole play ends (no further serial batch), not just this batch. */
  endPlay: boolean;
  /** Handlers in definition order with their names and listen topics. */
  handlers: TaskNode[];
  /** Host → indexes into `handlers` notified and not yet run. */
  notified: Map<string, Set<number>>;
  /** run_once results keyed by step: the first host of the group resolves, the others wait. */
  runOnce: Map<string, { promise: Promise<Record<string, unknown>>; resolve(result: Record<string, unknown>): void }>;
  throttles: Map<string, Semaphore>;
  /** Hosts that failed in this batch (for max_fail_percentage). */
  failedInBatch: Set<string>;
  /** Steps whose TASK header was emitted (free strategy announces each step once). */
  announced: Set<string>;
  /** Host → dedup keys of the roles it ran in this play (a role runs once unless allow_duplicates). */
  rolesRun: Map<string, Set<string>>;
  /** Host → layers of include_role public roles it ran: later tasks of the play see them. */
  publicLayers: Map<string, VarLayer[]>;
}

/** The role a handler belongs to (handlers of roles run with the role's variables and files). */
const handlerRoles = new WeakMap<TaskNode, RoleBinding>();

export function roleOfHandler(handler: TaskNode): RoleBinding | undefined {
  return handlerRoles.get(handler);
}

/** Flattens handler sections (handlers may be written inside blocks) into a list of tasks. */
export function collectHandlers(items: TaskItem[], role?: RoleBinding): TaskNode[] {
  const out: TaskNode[] = [];
  for (const item of items) {
    if (item.type === 'task') {
      if (role) handlerRoles.set(item, role);
      out.push(item);
    } else if (item.type === 'block') out.push(...collectHandlers([...item.block, ...item.rescue, ...item.always], item.role ?? role));
    else if (item.type === 'include_role') {
      if (item.handlers) out.push(...collectHandlers([item.handlers], role));
    } else if (item.tasks) out.push(...collectHandlers(item.tasks, role));
  }
  return out;
}

/**
 * Indexes of the handlers a notify name reaches: by name, or by a listen topic; a role's
 * handler also answers to "ROLE : name" and "ROLE : topic", as in Ansible.
 */
export function handlersFor(handlers: TaskNode[], name: string): number[] {
  const out: number[] = [];
  handlers.forEach((h, i) => {
    const role = handlerRoles.get(h)?.name;
    const names = [h.name, ...(h.raw.name !== undefined ? [String(h.raw.name)] : [])];
    const topics = h.kw.listen ?? [];
    const all = [...names, ...topics, ...(role !== undefined ? [...names, ...topics].map((n) => `${role} : ${n}`) : [])];
    if (all.includes(name)) out.push(i);
  });
  return out;
}

export function notify(rt: PlayRuntime, host: string, names: string[]): string[] {
  let set = rt.notified.get(host);
  if (!set) {
    set = new Set();
    rt.notified.set(host, set);
  }
  const reached: string[] = [];
  for (const name of names) {
    for (const index of handlersFor(rt.handlers, name)) {
      set.add(index);
      reached.push(rt.handlers[index]!.name);
    }
  }
  return reached;
}

export function throttleFor(rt: PlayRuntime, taskId: string, limit: number): Semaphore {
  let sem = rt.throttles.get(taskId);
  if (!sem) {
    sem = new Semaphore(limit);
    rt.throttles.set(taskId, sem);
  }
  return sem;
}

/** Keywords that pass from a play and its blocks down to their tasks (the innermost wins). */
export type InheritedKeywords = Omit<Keywords, 'when' | 'tags' | 'vars'>;

const INHERITED: Array<keyof InheritedKeywords> = [
  'become', 'become_user', 'become_method', 'become_flags', 'remote_user', 'connection', 'environment', 'no_log',
  'check_mode', 'diff', 'ignore_errors', 'ignore_unreachable', 'any_errors_fatal', 'run_once', 'delegate_to',
  'delegate_facts', 'throttle', 'timeout', 'notify',
];

export function inheritKeywords(outer: InheritedKeywords, inner: Keywords): InheritedKeywords {
  const out: InheritedKeywords = { ...outer };
  for (const key of INHERITED) {
    const value = inner[key];
    if (value === undefined) continue;
    if (key === 'environment' && isPlainObject(outer.environment) && isPlainObject(value)) {
      out.environment = { ...outer.environment, ...value };
    } else {
      (out as Record<string, unknown>)[key] = value;
    }
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
