// Which transport and settings a host is reached with: its variables, with the
// `connection:`/`remote_user:` keywords on top, and the implicit localhost local.
import type { Inventory } from '../inventory/types.js';
import { childScope } from './templar.js';

const LOCALHOSTS = new Set(['localhost', '127.0.0.1', '::1']);

export function connectionVars(
  inventory: Inventory,
  host: string,
  scope: Record<string, unknown>,
  kw: { connection?: string; remote_user?: string },
): Record<string, unknown> {
  let connection = kw.connection ?? scope.ansible_connection;
  if (connection === undefined && LOCALHOSTS.has(host) && !inventory.hasHost(host)) connection = 'local';
  const extra: Record<string, unknown> = { ansible_connection: connection ?? 'ssh' };
  if (kw.remote_user !== undefined) extra.ansible_user = kw.remote_user;
  return childScope(scope, extra);
}
