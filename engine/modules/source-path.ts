// Where a relative `src:` of copy/template is found on the controller: the search folders
// the runner gives (role files/ or templates/, the play's folder...), then next to the task file.
import { existsSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import type { ModuleContext } from './types.js';

export type SourceLookup = { found: string; searched: string[] } | { found?: undefined; searched: string[] };

export function findControllerSource(ctx: ModuleContext, src: string, kind: 'files' | 'templates'): SourceLookup {
  if (isAbsolute(src)) return existsSync(src) ? { found: src, searched: [src] } : { searched: [src] };
  const folders = kind === 'templates' ? [...ctx.searchPaths.templates, ...ctx.searchPaths.files] : [...ctx.searchPaths.files];
  folders.push(dirname(ctx.taskPos.file));
  const searched: string[] = [];
  for (const folder of folders) {
    const candidate = join(folder, src);
    if (searched.includes(candidate)) continue;
    searched.push(candidate);
    if (existsSync(candidate)) return { found: candidate, searched };
  }
  return { searched };
}

/** Ansible's message for a src that is nowhere to be found. */
export function notFoundMessage(src: string, searched: string[]): string {
  return `Could not find or access '${src}'\nSearched in:\n${searched.map((s) => `\t${s}`).join('\n')}`;
}
