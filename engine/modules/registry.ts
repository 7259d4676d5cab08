// The module registry: every module by its name, its aliases, and the ansible.builtin. /
// ansible.legacy. forms users write, so playbooks written for Ansible resolve unchanged.
import type { ModuleDef } from './types.js';
import assertModule from './assert.js';
import command from './command.js';
import copy from './copy.js';
import debug from './debug.js';
import fail from './fail.js';
import file from './file.js';
import meta from './meta.js';
import setFact from './set_fact.js';
import shell from './shell.js';
import stat from './stat.js';
import template from './template.js';
import { FILE_MODULES } from './builtin-files.js';
import { PACKAGE_MODULES } from './builtin-packages.js';
import { SYSTEM_MODULES } from './builtin-system.js';
import { NETWORK_MODULES } from './builtin-network.js';
import { DATABASE_MODULES } from './builtin-database.js';
import { IMAGE_MODULES } from './builtin-images.js';

// Modules take differently typed args; the registry only stores and hands them out.
type AnyModule = ModuleDef<any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const PREFIXES = ['ansible.builtin.', 'ansible.legacy.'];
const byName = new Map<string, AnyModule>();
const canonical: string[] = [];

/** Add a module (custom modules too); a name or alias already taken is an error. */
export function registerModule(def: AnyModule): void {
  const names = new Set([def.name, ...(def.aliases ?? [])]);
  for (const name of [...names]) {
    for (const prefix of PREFIXES) {
      if (!name.includes('.')) names.add(prefix + name);
    }
  }
  for (const name of names) {
    const taken = byName.get(name);
    if (taken && taken !== def) throw new Error(`module name '${name}' is already registered by module '${taken.name}'`);
  }
  for (const name of names) byName.set(name, def);
  canonical.push(def.name);
}

/** A module by any name users may write: `copy`, `ansible.builtin.copy`, `ansible.legacy.copy`, an alias. */
export function lookupModule(name: string): ModuleDef | undefined {
  return byName.get(name) as ModuleDef | undefined;
}

/** Canonical names, sorted (for "did you mean" and listings). */
export function moduleNames(): string[] {
  return [...canonical].sort();
}

const CORE_MODULES: AnyModule[] = [assertModule, command, copy, debug, fail, file, meta, setFact, shell, stat, template];
for (const def of [...CORE_MODULES, ...FILE_MODULES, ...PACKAGE_MODULES, ...SYSTEM_MODULES, ...NETWORK_MODULES, ...DATABASE_MODULES, ...IMAGE_MODULES]) {
  registerModule(def);
}
