// The module contract: read the current state, compare with the desired state, and
// return {changed, diff, ...}. Mutate only when not in check mode, and only what the
// comparison found different. Check mode is the same code path up to the write.
import type { Connection, BecomeOptions } from '../connection/types.js';
import type { HostOps } from '../connection/host-ops.js';
import type { SourcePos } from '../errors.js';
import type { Inventory } from '../inventory/types.js';

/** A JSON Schema (draft 2020-12) object; kept loose so module files stay readable. */
export type JsonSchema = Record<string, unknown>;

/** One before/after pair rendered as a unified diff by --diff. */
export interface FileDiff {
  before: string;
  after: string;
  /** Header labels, e.g. the path; default "before"/"after". */
  beforeHeader?: string;
  afterHeader?: string;
}

export interface ModuleResult {
  changed: boolean;
  failed?: boolean;
  /** The module could not know in check mode (command without creates/removes). */
  skipped?: boolean;
  /** Usually a string; debug's msg may be any value. */
  msg?: unknown;
  diff?: FileDiff[];
  /** Variables to set on the host above play vars (set_fact, include_vars). */
  facts?: Record<string, unknown>;
  /** Facts gathered from the host (setup): they replace the host's cached facts layer. */
  gatheredFacts?: Record<string, unknown>;
  /** Whether facts should survive as cacheable facts (set_fact cacheable). */
  [key: string]: unknown;
}

export interface ModuleContext {
  /** Inventory name of the host the task targets (after delegate_to: the delegate). */
  host: string;
  conn: Connection;
  /** File operations on the host, built on conn.exec. */
  ops: HostOps;
  become?: BecomeOptions;
  check: boolean;
  diff: boolean;
  /** The task's resolved variables (templated lazily on access). */
  vars: Record<string, unknown>;
  /** Where the task was written, for resolving relative src and for messages. */
  taskPos: SourcePos;
  /** Folders searched, in order, for `src:` of copy (files/) and template (templates/). */
  searchPaths: { files: string[]; templates: string[] };
  /** Render a template text with the task's variables; `file` is used in error messages. */
  renderTemplate(text: string, file: string): string;
  /** Per-command timeout (task `timeout:` or --timeout), in ms. */
  timeoutMs?: number;
  /** Task environment: exported for every command the module runs. */
  environment?: Record<string, string>;
  /** Cancelled on interrupt: a module must not start a new write after it fires. */
  signal?: AbortSignal;
  /** The run's inventory: add_host and group_by change it for the rest of the run. */
  inventory: Inventory;
  /** Facts gathered for the host (setup), or undefined when not gathered yet. */
  facts?: Record<string, unknown>;
  /** Evaluate a condition (assert's `that`) with the task's variables; throws on bad syntax. */
  evaluateCondition(cond: string | boolean | Array<string | boolean>, pos?: SourcePos): boolean;
  /** Evaluate an expression (debug's `var`) with the task's variables. */
  evaluateExpression(expr: string, pos?: SourcePos): unknown;
}

export interface ModuleDef<Args = Record<string, unknown>> {
  name: string;
  /** Other names users write, e.g. ansible.builtin.copy. */
  aliases?: string[];
  /** Argument schema (type: object). Validated at load, before any host is contacted. */
  schema: JsonSchema;
  /**
   * How a string argument is read: 'raw' (command/shell: the whole string is the command,
   * with key=value options the schema names peeled off) or 'kv' (debug: msg=hi).
   */
  freeForm?: 'raw' | 'kv';
  /** Runs on the controller without touching the host (debug, set_fact, assert, fail). */
  controllerOnly?: boolean;
  /** Arguments whose values are templated later by the module itself (assert's `that`). */
  rawArgs?: string[];
  run(args: Args, ctx: ModuleContext): Promise<ModuleResult>;
  /**
   * Optional: consecutive items of a loop in as few round trips as the module can (file: one
   * probe of every item's paths with the items' changes chained behind it). Returns one result
   * per item, in order, each what `run` would have returned for that item run alone after the
   * ones before it. `ctx` is the first item's: the loop only groups items that share the host,
   * become, check, diff, environment and timeout.
   */
  runMany?(argsList: Args[], ctx: ModuleContext): Promise<ModuleResult[]>;
}

/** Helper so module files get typed args without casts at the call site. */
export function defineModule<Args>(def: ModuleDef<Args>): ModuleDef<Args> {
  return def;
}
