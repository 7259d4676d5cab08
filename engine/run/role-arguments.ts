// The role argument check at a role's start (Ansible's "Validating arguments against arg
// spec" task): the variables the role will see for each declared option, with where they
// were set, go to validateRoleArguments (engine/roles/argument-specs.ts).
import type { RoleBinding } from '../load/model.js';
import { parseArgumentSpecs, validateRoleArguments, type ArgumentValue } from '../roles/argument-specs.js';
import { registerSecretsIn } from '../vault/secrets.js';
import { variableOrigin } from '../vars/index.js';

/** True when the role's specs declare its entry point, so there is something to check. */
export function hasArgumentSpec(role: RoleBinding): boolean {
  if (!role.argumentSpecs) return false;
  return role.entryPoint in parseArgumentSpecs(role.argumentSpecs.specs, role.argumentSpecs.file);
}

/**
 * Validate the role's effective variables (`scope` already orders role params, role vars,
 * play/inventory vars and role defaults by precedence). Returns the spec defaults of options
 * nothing set; throws ParseError naming the role, the variable and where it was set.
 */
export function checkRoleArguments(role: RoleBinding, scope: Record<string, unknown>): Record<string, unknown> {
  if (!role.argumentSpecs) return {};
  const entry = parseArgumentSpecs(role.argumentSpecs.specs, role.argumentSpecs.file)[role.entryPoint];
  if (!entry) return {};
  const values: Record<string, ArgumentValue> = {};
  for (const option of Object.values(entry.options)) {
    for (const name of [option.name, ...option.aliases]) {
      if (!(name in scope)) continue;
      const origin = variableOrigin(scope, name)?.pos;
      values[option.name] = { value: scope[name], ...(origin ? { origin } : {}) };
      break;
    }
  }
  // a no_log option's value is a secret from here on, wherever it shows up: output, diffs, and
  // the code frame of this very check's error, which may show the lines around another value
  for (const option of Object.values(entry.options)) if (option.noLog && values[option.name]) registerSecretsIn(values[option.name]!.value);
  const result = validateRoleArguments({ name: role.name, specFile: role.argumentSpecs.file, specs: role.argumentSpecs.specs }, role.entryPoint, values);
  for (const option of Object.values(entry.options)) if (option.noLog && option.name in result) registerSecretsIn(result[option.name]);
  const defaults: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(result)) if (!(name in values)) defaults[name] = value;
  return defaults;
}
