// Connection and become passwords are secrets too, wherever they were written: the
// inventory (ansible_password, ansible_become_password and their old names) or -k/-K.
import type { Inventory } from '../inventory/types.js';
import { registerSecret } from './secrets.js';

const PASSWORD_VARS = /^ansible_(?:ssh_)?(?:password|pass)$|^ansible_(?:become|sudo|su)_(?:password|pass)$/;

/** Register every literal password variable of every host (templates are resolved from vault values, registered already). */
export function registerInventoryPasswords(inventory: Inventory): void {
  for (const host of inventory.hostNames()) {
    for (const [key, value] of Object.entries(inventory.hostVars(host))) {
      if (PASSWORD_VARS.test(key) && typeof value === 'string' && !value.includes('{{')) registerSecret(value);
    }
  }
}

export function isPasswordVariable(name: string): boolean {
  return PASSWORD_VARS.test(name);
}
