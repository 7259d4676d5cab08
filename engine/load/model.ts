// The loaded, validated playbook: what the loader produces and the runner consumes.
// Values stay untemplated here (templating needs a host's variables); positions of every
// raw value can be found with locate() on the `raw` mappings.
import type { SourcePos } from '../errors.js';

/** A conditional as written: a string expression, a boolean, or a list that must all hold. */
export type Conditional = string | boolean | Array<string | boolean>;

export interface LoopControl {
  label?: string;
  loop_var?: string;
  index_var?: string;
  /** Seconds between items. */
  pause?: number;
  extended?: boolean;
}

/** Keywords that may stand on a task, a block, an include or a play (the subset that applies). */
export interface Keywords {
  when?: Conditional;
  tags?: string[];
  vars?: Record<string, unknown>;
  become?: boolean | string;
  become_user?: string;
  become_method?: string;
  become_flags?: string;
  remote_user?: string;
  connection?: string;
  environment?: Record<string, unknown> | string;
  no_log?: boolean | string;
  check_mode?: boolean | string;
  diff?: boolean | string;
  ignore_errors?: boolean | string;
  ignore_unreachable?: boolean | string;
  any_errors_fatal?: boolean;
  run_once?: boolean | string;
  delegate_to?: string;
  delegate_facts?: boolean;
  throttle?: number | string;
  timeout?: number | string;
  notify?: string[];
}

export interface TaskNode {
  type: 'task';
  /** Unique within the run: "file:line:col". */
  id: string;
  /** The name to show: `name:` (untemplated) or the module name. */
  name: string;
  /** Canonical module name (aliases such as ansible.builtin.copy resolved). */
  action: string;
  /** Module arguments, free-form already split, untemplated. */
  args: Record<string, unknown>;
  kw: Keywords & {
    loop?: unknown;
    /** with_items/with_list/with_dict… normalised: the lookup name and its raw value. */
    with?: { lookup: string; value: unknown };
    loop_control?: LoopControl;
    register?: string;
    until?: Conditional;
    retries?: number | string;
    delay?: number | string;
    failed_when?: Conditional;
    changed_when?: Conditional;
    /** Handlers only: topics this handler also answers to. */
    listen?: string[];
  };
  pos: SourcePos;
  /** The task mapping as loaded, for locate(). */
  raw: Record<string, unknown>;
}

export interface BlockNode {
  type: 'block';
  id: string;
  name?: string;
  block: TaskItem[];
  rescue: TaskItem[];
  always: TaskItem[];
  kw: Keywords;
  pos: SourcePos;
  raw: Record<string, unknown>;
  /** Set when this block stands for an import_tasks (static, inlined at load). */
  importedFrom?: string;
  /** Set when this block runs a role (play `roles:`, import_role, a meta dependency). */
  role?: RoleBinding;
}

/** A role as one entry runs it: where it is, its variables, and how it was reached. */
export interface RoleBinding {
  /** The role's name as Ansible shows it ("TASK [NAME : task]"). */
  name: string;
  /** Absolute folder of the role. */
  dir: string;
  /** tasks_from (without extension), 'main' by default: the argument_specs entry point. */
  entryPoint: string;
  /** defaults/ (defaults_from) and vars/ (vars_from) as loaded. */
  defaults: Record<string, unknown>;
  vars: Record<string, unknown>;
  /** Role parameters: the entry's `vars:` and its keys that are not keywords. */
  params: Record<string, unknown>;
  /** meta/argument_specs.yml (or argument_specs in meta/main.yml), parsed with positions. */
  argumentSpecs?: { file: string; specs: unknown };
  /** defaults and vars are visible outside the role (play roles, import_role, include_role public). */
  public: boolean;
  /** Runs once per host and play unless allow_duplicates: same role, entry point and parameters. */
  dedupKey?: string;
  /** Names of the roles that pulled this one in as a dependency, nearest last. */
  parents: string[];
  /** Where the role was named (roles: entry, import_role, dependency). */
  pos: SourcePos;
}

/** include_role: dynamic, resolved and run per host (loops, when, templated names). */
export interface IncludeRoleNode {
  type: 'include_role';
  id: string;
  name: string;
  /** The role name as written (may be templated). */
  role: string;
  tasksFrom?: string;
  varsFrom?: string;
  defaultsFrom?: string;
  handlersFrom?: string;
  public: boolean;
  allowDuplicates: boolean;
  /** `apply:` keywords given to every task of the role. */
  apply?: Keywords;
  kw: Keywords & { loop?: unknown; with?: { lookup: string; value: unknown }; loop_control?: LoopControl };
  /** The role's block (dependencies first), loaded at load time when nothing is templated. */
  loaded?: BlockNode;
  /** The role's handlers, loaded with it. */
  handlers?: BlockNode;
  /** The loaded role's items, for listings (--list-tasks). */
  tasks?: TaskItem[];
  /** Folder of the file the include_role was written in. */
  baseDir: string;
  pos: SourcePos;
  raw: Record<string, unknown>;
}

/** include_tasks: dynamic, expanded per host at run time. */
export interface IncludeNode {
  type: 'include_tasks';
  id: string;
  name: string;
  /** The file as written (may be templated). */
  file: string;
  /** Folder the file name is relative to. */
  baseDir: string;
  kw: Keywords & { loop?: unknown; with?: { lookup: string; value: unknown }; loop_control?: LoopControl };
  /** Loaded and validated at load time when `file` has no template. */
  tasks?: TaskItem[];
  pos: SourcePos;
  raw: Record<string, unknown>;
}

export type TaskItem = TaskNode | BlockNode | IncludeNode | IncludeRoleNode;

export interface VarsFileRef {
  /** As written (may be templated, or a list of alternatives: first found wins). */
  path: string | string[];
  /** Folder a relative path is resolved against. */
  baseDir: string;
  pos: SourcePos;
}

export type PlayOrder = 'inventory' | 'reverse_inventory' | 'sorted' | 'reverse_sorted' | 'shuffle';

export interface PlayNode {
  name: string;
  /** Host pattern: lists are joined with ','. */
  hosts: string;
  gather_facts?: boolean;
  vars: Record<string, unknown>;
  vars_files: VarsFileRef[];
  pre_tasks: TaskItem[];
  tasks: TaskItem[];
  post_tasks: TaskItem[];
  /** `roles:` of the play, each a block running the role (dependencies first): after pre_tasks, before tasks. */
  roles: BlockNode[];
  /** Role handlers come first (Ansible's order), then the play's own. */
  handlers: TaskItem[];
  /** Roles whose defaults and vars every task of the play sees (play roles and import_role). */
  publicRoles: RoleBinding[];
  /** Batch sizes as written: numbers, or "30%". */
  serial?: Array<number | string>;
  strategy: 'linear' | 'free';
  order: PlayOrder;
  max_fail_percentage?: number;
  kw: Keywords;
  pos: SourcePos;
  /** Folder of the playbook file that holds this play (for relative paths, templates/, files/). */
  baseDir: string;
  raw: Record<string, unknown>;
}

export interface Playbook {
  file: string;
  plays: PlayNode[];
}
