// What running inside a role adds to a task: the role's variable layers (each at its tier of
// PRECEDENCE.md), the role magic variables, and the folders `src:` is looked up in.
import path from 'node:path';
import type { RoleBinding } from '../load/model.js';
import type { VarLayer } from './templar.js';

/** Layers of a role for the tasks inside it: defaults, vars, params and role_path & co. */
export function roleLayers(role: RoleBinding): VarLayer[] {
  return [
    { name: `role defaults (${role.name})`, vars: role.defaults, tier: 'role defaults' },
    { name: `role vars (${role.name})`, vars: role.vars, tier: 'role vars' },
    { name: `role params (${role.name})`, vars: role.params, tier: 'role params' },
    {
      name: `role (${role.name})`,
      vars: {
        role_path: role.dir,
        role_name: role.name,
        ansible_role_name: role.name,
        ansible_parent_role_names: [...role.parents].reverse(),
      },
      raw: true,
      tier: 'role params',
    },
  ];
}

/** Layers a public role gives to every task of the play (or, for include_role public, to later tasks). */
export function publicRoleLayers(roles: readonly RoleBinding[]): VarLayer[] {
  return [
    ...roles.map((r): VarLayer => ({ name: `role defaults (${r.name})`, vars: r.defaults, tier: 'role defaults' })),
    ...roles.map((r): VarLayer => ({ name: `role vars (${r.name})`, vars: r.vars, tier: 'role vars' })),
  ];
}

/**
 * Folders a relative `src:` is looked up in, like Ansible: the role's files/ or templates/
 * (and the role folder), beside the task file, then beside the playbook.
 */
export function sourceSearchPaths(roleDir: string | undefined, taskDir: string, playDir: string): { files: string[]; templates: string[] } {
  const dirs = [...new Set([...(roleDir ? [roleDir] : []), taskDir, playDir])];
  return {
    files: dirs.flatMap((d) => [path.join(d, 'files'), d]),
    templates: dirs.flatMap((d) => [path.join(d, 'templates'), d]),
  };
}
