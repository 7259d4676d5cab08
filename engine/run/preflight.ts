// Checks made after loading and before any host is contacted, so bad input fails the
// whole run with exit 4 and nothing changed: variables that are defined nowhere, handlers
// that do not exist, vars files that are missing. Also decides, per play, whether facts
// must be gathered: when the play asks, or when it reads a fact.
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Inventory } from '../inventory/types.js';
import type { Playbook, PlayNode, TaskItem, TaskNode, Conditional, RoleBinding } from '../load/model.js';
import { locate, locatePath } from '../load/positions.js';
import { loadYamlFile } from '../load/yaml.js';
import { ParseError, type SourcePos } from '../errors.js';
import { lookupModule } from '../modules/registry.js';
import { templateReferences, expressionReferences } from '../vars/references.js';
import { collectHandlers, handlersFor } from './play-runtime.js';

/** Variables the engine defines itself (engine/vars/PRECEDENCE.md). */
const MAGIC = new Set([
  'inventory_hostname', 'inventory_hostname_short', 'group_names', 'groups', 'hostvars', 'play_hosts',
  'ansible_play_hosts', 'ansible_play_hosts_all', 'ansible_play_batch', 'ansible_check_mode', 'ansible_diff_mode',
  'ansible_verbosity', 'playbook_dir', 'inventory_dir', 'omit', 'item', 'ansible_loop', 'ansible_loop_var',
  'ansible_failed_task', 'ansible_failed_result', 'ansible_facts', 'role_path', 'ansible_index_var',
  'role_name', 'ansible_role_name', 'ansible_parent_role_names',
]);

/** ansible_* names that are connection settings or magic, not facts: reading them needs no gathering. */
const NOT_FACTS = /^ansible_(host|port|user|connection|password|ssh_.*|become.*|python_interpreter|shell_.*|check_mode|diff_mode|verbosity|play_.*|loop.*|failed_.*|index_var|private_key_file|timeout|jump_host|proxy_jump)$/;

interface Reference {
  name: string;
  pos: SourcePos;
  where: string;
}

class PlayScan {
  readonly refs: Reference[] = [];
  readonly defined = new Set<string>();
  readonly notifies: Array<{ name: string; pos: SourcePos }> = [];
  dynamic = false;

  constructor(private readonly play: PlayNode) {}

  text(value: unknown, pos: SourcePos | undefined, where: string, container?: unknown, pathTo: Array<string | number> = []): void {
    if (typeof value === 'string') {
      if (!value.includes('{{') && !value.includes('{%')) return;
      const at = (container !== undefined ? locatePath(container, pathTo) : undefined) ?? pos ?? this.play.pos;
      for (const name of templateReferences(value, at)) this.refs.push({ name, pos: at, where });
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => this.text(v, pos, where, container ?? value, container !== undefined ? [...pathTo, i] : [i]));
    } else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) this.text(v, pos, where, container ?? value, container !== undefined ? [...pathTo, k] : [k]);
    }
  }

  condition(cond: Conditional | undefined, raw: Record<string, unknown>, key: string, fallback: SourcePos): void {
    if (cond === undefined) return;
    const list = Array.isArray(cond) ? cond : [cond];
    list.forEach((c, i) => {
      if (typeof c !== 'string') return;
      const pos = (Array.isArray(cond) ? locate(raw[key], i) : locate(raw, key)) ?? fallback;
      for (const name of expressionReferences(c, pos)) this.refs.push({ name, pos, where: key });
    });
  }

  items(items: TaskItem[]): void {
    for (const item of items) {
      if (item.type === 'task') this.task(item);
      else if (item.type === 'block') {
        if (item.role) this.role(item.role);
        this.keywords(item.kw, item.raw, item.pos);
        this.items([...item.block, ...item.rescue, ...item.always]);
      } else if (item.type === 'include_role') {
        this.keywords(item.kw, item.raw, item.pos);
        this.loopVars(item.kw.loop_control);
        if (item.kw.loop !== undefined || item.kw.with) this.defined.add(item.kw.loop_control?.loop_var ?? 'item');
        this.text(item.kw.loop ?? item.kw.with?.value, item.pos, 'loop', item.raw, [item.kw.loop !== undefined ? 'loop' : `with_${item.kw.with?.lookup}`]);
        if (item.loaded) this.items([item.loaded]);
        else this.dynamic = true; // a templated role name: its variables are known at run time only
      } else {
        this.keywords(item.kw, item.raw, item.pos);
        this.loopVars(item.kw.loop_control);
        this.text(item.kw.loop ?? item.kw.with?.value, item.pos, 'loop', item.raw, [item.kw.loop !== undefined ? 'loop' : `with_${item.kw.with?.lookup}`]);
        this.text(item.file, item.pos, 'include_tasks', item.raw, ['include_tasks']);
        if (item.tasks) this.items(item.tasks);
        else this.dynamic = true;
      }
    }
  }

  /** A role's defaults, vars and parameters are defined for the play (role-private ones too: lenient). */
  role(role: RoleBinding): void {
    for (const name of [...Object.keys(role.defaults), ...Object.keys(role.vars), ...Object.keys(role.params)]) this.defined.add(name);
    this.text(role.params, role.pos, `role '${role.name}' parameters`);
  }

  private loopVars(control: { loop_var?: string; index_var?: string } | undefined): void {
    if (control?.loop_var) this.defined.add(control.loop_var);
    if (control?.index_var) this.defined.add(control.index_var);
  }

  private keywords(kw: TaskNode['kw'], raw: Record<string, unknown>, pos: SourcePos): void {
    for (const name of Object.keys(kw.vars ?? {})) this.defined.add(name);
    for (const name of kw.notify ?? []) this.notifies.push({ name, pos: locate(raw, 'notify') ?? pos });
    this.condition(kw.when, raw, 'when', pos);
    for (const key of ['delegate_to', 'become', 'become_user', 'environment', 'no_log', 'ignore_errors', 'run_once', 'check_mode', 'diff', 'timeout', 'throttle'] as const) {
      if (kw[key] !== undefined) this.text(kw[key], pos, key, raw, [key]);
    }
  }

  private task(task: TaskNode): void {
    this.keywords(task.kw, task.raw, task.pos);
    this.loopVars(task.kw.loop_control);
    if (task.kw.register) this.defined.add(task.kw.register);
    this.condition(task.kw.changed_when, task.raw, 'changed_when', task.pos);
    this.condition(task.kw.failed_when, task.raw, 'failed_when', task.pos);
    this.condition(task.kw.until, task.raw, 'until', task.pos);
    if (task.kw.loop !== undefined) this.text(task.kw.loop, task.pos, 'loop', task.raw, ['loop']);
    if (task.kw.with) this.text(task.kw.with.value, task.pos, 'loop', task.raw, [`with_${task.kw.with.lookup}`]);
    if (task.kw.loop_control?.label !== undefined) this.text(task.kw.loop_control.label, task.pos, 'loop_control', task.raw, ['loop_control', 'label']);
    if (task.action === 'set_fact') for (const key of Object.keys(task.args)) this.defined.add(key);
    if (task.action === 'include_vars' || task.action === 'add_host' || task.action === 'group_by') this.dynamic = true;
    const rawArgs = new Set(lookupModule(task.action)?.rawArgs ?? []);
    for (const [key, value] of Object.entries(task.args)) {
      if (rawArgs.has(key)) {
        // expressions (assert's that, debug's var): checked as conditions
        this.condition(value as Conditional, task.args, key, task.pos);
      } else {
        this.text(value, locate(task.args, key) ?? task.pos, task.action, task.args, [key]);
      }
    }
  }
}

/** Vars files with a static path must exist and be mappings; their names count as defined. */
function staticVarsFileNames(play: PlayNode): { names: string[]; dynamic: boolean } {
  const names: string[] = [];
  let dynamic = false;
  for (const ref of play.vars_files) {
    const options = Array.isArray(ref.path) ? ref.path : [ref.path];
    if (options.some((p) => String(p).includes('{{'))) {
      dynamic = true;
      continue;
    }
    const found = options.map((p) => path.resolve(ref.baseDir, String(p))).find((p) => existsSync(p));
    if (!found) throw new ParseError('FILE_NOT_FOUND', `vars file not found: ${options.join(' or ')}`, ref.pos);
    const vars = loadYamlFile(found, ref.pos);
    if (vars !== null && (typeof vars !== 'object' || Array.isArray(vars))) {
      throw new ParseError('SCHEMA', `vars file must be a mapping of variable names to values: ${found}`, ref.pos);
    }
    names.push(...Object.keys(vars ?? {}));
  }
  return { names, dynamic };
}

/** A malformed `hosts:` pattern is bad input: name where it was written. */
function checkHostPattern(play: PlayNode, inventory: Inventory): void {
  if (play.hosts.includes('{{')) return;
  try {
    inventory.select(play.hosts);
  } catch (err) {
    if (err instanceof ParseError && !err.pos) throw new ParseError(err.code, err.message, locate(play.raw, 'hosts') ?? play.pos);
    throw err;
  }
}

/** Run every static check; returns, per play, whether to gather facts. Throws ParseError. */
export function preflight(playbook: Playbook, inventory: Inventory, extraVars: Record<string, unknown>, opts: { checkVariables: boolean }): boolean[] {
  const scans = playbook.plays.map((play) => {
    const scan = new PlayScan(play);
    scan.text(play.hosts, locate(play.raw, 'hosts'), 'hosts', play.raw, ['hosts']);
    for (const role of play.publicRoles) scan.role(role);
    for (const section of [play.pre_tasks, play.roles, play.tasks, play.post_tasks, play.handlers]) scan.items(section);
    return scan;
  });
  // set_fact and register values outlive their play: a later play may read them
  const definedAnywhere = new Set<string>(scans.flatMap((s) => [...s.defined]));
  const inventoryNames = new Set<string>(Object.keys(extraVars));
  for (const host of [...inventory.hostNames(), 'localhost']) for (const name of Object.keys(inventory.hostVars(host))) inventoryNames.add(name);
  const anyDynamic = scans.some((s) => s.dynamic);

  return playbook.plays.map((play, i) => {
    const scan = scans[i]!;
    checkHostPattern(play, inventory);
    const files = staticVarsFileNames(play);
    const handlers = collectHandlers(play.handlers);
    for (const n of scan.notifies) {
      if (handlersFor(handlers, n.name).length === 0) {
        throw new ParseError('SCHEMA', `notify: no handler named or listening for '${n.name}' in play '${play.name}'`, n.pos);
      }
    }
    const readsFacts = scan.refs.some((r) => r.name === 'ansible_facts' || (r.name.startsWith('ansible_') && !NOT_FACTS.test(r.name) && !MAGIC.has(r.name)));
    if (opts.checkVariables && !anyDynamic && !files.dynamic) {
      const known = new Set([...MAGIC, ...inventoryNames, ...Object.keys(play.vars), ...files.names, ...definedAnywhere]);
      for (const ref of scan.refs) {
        if (known.has(ref.name) || ref.name.startsWith('ansible_')) continue;
        throw new ParseError('UNDEFINED_VARIABLE', `undefined variable '${ref.name}' in ${ref.where} (defined nowhere in the inventory, the play, its vars files, registers, set_fact or -e)`, ref.pos);
      }
    }
    return play.gather_facts === true || (play.gather_facts === undefined && readsFacts);
  });
}
