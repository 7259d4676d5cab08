// Ansible's INI inventory format (plugins/inventory/ini.py), line by line:
//   host lines before any section are ungrouped; `[group]` lists hosts with key=value vars;
//   `[group:vars]` sets group variables; `[group:children]` lists child groups;
//   `#` and `;` start comment lines. Values are Python literals where they parse as one.
// A `[g:vars]` or `[g:children]` entry naming a group this file never declares is an error,
// as in Ansible (groups declared by earlier sources count as declared).
import { ParseError, registerSource, type SourcePos } from '../errors.js';
import type { InventoryModel } from './inventory.js';
import { parseIniValue } from './python-literal.js';
import { expandHostPattern, HostRangeError } from './ranges.js';
import { ShlexError, shlexSplit } from './shlex.js';

const SECTION = /^\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?$/;
const GROUP_NAME = /^([^:\]\s]+)\s*(?:#.*)?$/;

interface Pending {
  state: 'vars' | 'children';
  pos: SourcePos;
  /** Parents waiting for this child group (children only), in the order seen. */
  parents: Array<{ name: string; pos: SourcePos }>;
}

/** Parse INI inventory text into `inventory` (which may already hold other sources). */
export function parseIniInventory(text: string, file: string, inventory: InventoryModel): void {
  registerSource(file, text);
  const lines = text.split(/\r\n|\r|\n/);
  const pending = new Map<string, Pending>();
  let group = 'ungrouped';
  let state: 'hosts' | 'vars' | 'children' = 'hosts';

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === ';') return;
    const indent = raw.length - raw.trimStart().length;
    const at = (offsetInLine = 0): SourcePos => ({ file, line: lineNo, col: indent + offsetInLine + 1 });

    const section = SECTION.exec(line);
    if (section) {
      group = section[1]!;
      const kind = section[2] ?? 'hosts';
      if (kind !== 'hosts' && kind !== 'vars' && kind !== 'children') {
        throw new ParseError('INVENTORY', `Section [${group}:${kind}] has unknown type: ${kind} (expected [${group}], [${group}:vars] or [${group}:children])`, at(group.length + 2));
      }
      state = kind;
      if (!inventory.hasGroup(group)) {
        // [g:vars] alone does not declare g; remember it and check at the end of the file
        if (state === 'vars' && !pending.has(group)) pending.set(group, { state: 'vars', pos: at(), parents: [] });
        inventory.addGroup(group);
      }
      const waiting = pending.get(group);
      if (waiting && state !== 'vars') {
        if (waiting.state === 'children') addPendingChildren(group, pending, inventory);
        else pending.delete(group);
      }
      return;
    }
    if (line.startsWith('[') && line.endsWith(']')) {
      throw new ParseError(
        'INVENTORY',
        `Invalid section entry: '${line}'. Please make sure that there are no spaces in the section entry, and that there are no other invalid characters`,
        at(),
      );
    }

    if (state === 'hosts') parseHostLine(line, group, at, file, inventory);
    else if (state === 'vars') {
      const eq = line.indexOf('=');
      if (eq < 0) throw new ParseError('INVENTORY', `Expected key=value, got: ${line}`, at());
      const key = line.slice(0, eq).trim();
      if (!key) throw new ParseError('INVENTORY', `Expected key=value, got: ${line}`, at());
      inventory.setGroupVar(group, key, parseIniValue(line.slice(eq + 1).trim()), at());
    } else {
      const m = GROUP_NAME.exec(line);
      if (!m) {
        const hint = /\s\S+=/.test(line) ? ' (a [group:children] section lists group names only; host variables belong in a [group] section)' : '';
        throw new ParseError('INVENTORY', `Expected group name, got: ${line}${hint}`, at());
      }
      const child = m[1]!;
      if (!inventory.hasGroup(child)) {
        const waiting = pending.get(child);
        if (waiting) waiting.parents.push({ name: group, pos: at() });
        else pending.set(child, { state: 'children', pos: at(), parents: [{ name: group, pos: at() }] });
      } else {
        inventory.addChild(group, child, at());
      }
    }
  });

  for (const [name, decl] of pending) {
    if (decl.state === 'vars') {
      throw new ParseError('INVENTORY', `Section [${name}:vars] not valid for undefined group: ${name}`, decl.pos);
    }
    const parent = decl.parents[decl.parents.length - 1]!;
    throw new ParseError('INVENTORY', `Section [${parent.name}:children] includes undefined group: ${name}`, parent.pos);
  }
}

function addPendingChildren(group: string, pending: Map<string, Pending>, inventory: InventoryModel): void {
  const decl = pending.get(group)!;
  for (const parent of decl.parents) {
    inventory.addChild(parent.name, group, parent.pos);
    const parentDecl = pending.get(parent.name);
    if (parentDecl && parentDecl.state === 'children') addPendingChildren(parent.name, pending, inventory);
  }
  pending.delete(group);
}

function parseHostLine(line: string, group: string, at: (offset?: number) => SourcePos, file: string, inventory: InventoryModel): void {
  let tokens;
  try {
    tokens = shlexSplit(line);
  } catch (err) {
    if (err instanceof ShlexError) throw new ParseError('INVENTORY', `Error parsing host definition '${line}': ${err.message}`, at(err.offset));
    throw err;
  }
  if (tokens.length === 0) return; // the whole line was a comment after all
  const first = tokens[0]!;
  let expanded: { hosts: string[]; port?: number };
  try {
    expanded = expandHostPattern(first.text);
  } catch (err) {
    if (err instanceof HostRangeError) throw new ParseError('INVENTORY', err.message, at(first.offset));
    throw err;
  }
  if (first.text.trim().endsWith(':') && expanded.port === undefined) {
    throw new ParseError(
      'INVENTORY',
      `Invalid host pattern '${first.text}' supplied, ending in ':' is not allowed, this character is reserved to provide a port.`,
      at(first.offset),
    );
  }
  if (expanded.hosts.some((h) => h.trim() === '---')) {
    throw new ParseError('INVENTORY', `Invalid host pattern '${first.text}' supplied, '---' is normally a sign this is a YAML file.`, at(first.offset));
  }
  if (expanded.hosts.some((h) => h === '')) throw new ParseError('INVENTORY', 'Invalid empty host name provided', at(first.offset));

  const vars: Array<[string, unknown, SourcePos]> = [];
  for (const token of tokens.slice(1)) {
    const eq = token.text.indexOf('=');
    if (eq < 0) throw new ParseError('INVENTORY', `Expected key=value host variable assignment, got: ${token.text}`, at(token.offset));
    vars.push([token.text.slice(0, eq), parseIniValue(token.text.slice(eq + 1)), at(token.offset)]);
  }
  for (const host of expanded.hosts) {
    inventory.declareHost(host, group, expanded.port === undefined ? { source: file } : { source: file, port: expanded.port });
    for (const [key, value, pos] of vars) inventory.setHostVar(host, key, value, pos);
  }
}
