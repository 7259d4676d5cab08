// Where tsplay looks when no -i is given: TSPLAY_INVENTORY, else ./inventory/hosts(.ini|.yml)
// in the current folder; with none of these, only the implicit localhost exists.
import path from 'node:path';
import { existsSync } from 'node:fs';

export function defaultInventorySources(cwd: string): string[] {
  const fromEnv = process.env.TSPLAY_INVENTORY;
  if (fromEnv) return fromEnv.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of ['hosts', 'hosts.ini', 'hosts.yml', 'hosts.yaml']) {
    const candidate = path.join(cwd, 'inventory', name);
    if (existsSync(candidate)) return [candidate];
  }
  return [];
}
