// A directory given as an inventory source: every entry in it is a source, sorted by name,
// sub-directories recursively, skipping what Ansible skips (hidden files, group_vars/,
// host_vars/, vars_plugins/, and INVENTORY_IGNORE_EXTS: editor backups, docs, .retry files)
// plus README files, which are documentation, not inventory.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const IGNORED_NAMES = [/^\./, /^host_vars$/, /^group_vars$/, /^vars_plugins$/, /^README/i];
// Ansible's REJECT_EXTS + ('.orig', '.cfg', '.retry')
const IGNORED_ENDINGS = ['.pyc', '.pyo', '.swp', '.bak', '~', '.rpm', '.md', '.txt', '.rst', '.orig', '.cfg', '.retry'];

export function isIgnoredInventoryEntry(name: string): boolean {
  return IGNORED_NAMES.some((re) => re.test(name)) || IGNORED_ENDINGS.some((ending) => name.endsWith(ending));
}

/** The inventory files a directory source stands for, in the order Ansible reads them. */
export function inventoryFilesIn(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    if (isIgnoredInventoryEntry(entry)) continue;
    const path = join(dir, entry);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) continue;
    if (stat.isDirectory()) files.push(...inventoryFilesIn(path));
    else if (stat.isFile()) files.push(path);
  }
  return files;
}
