// `npm run schemas`: write schemas/playbook.schema.json and schemas/tasks.schema.json from the
// loader schemas and the module registry. `--check` only says whether the committed files are
// current (exit 1 when stale), for CI.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildEditorSchemas, schemaText } from './editor-schemas.js';

/** schemas/ of the source tree: the generator runs from source (tsx), not from dist. */
export const EDITOR_SCHEMA_FILES = {
  playbook: fileURLToPath(new URL('../../schemas/playbook.schema.json', import.meta.url)),
  tasks: fileURLToPath(new URL('../../schemas/tasks.schema.json', import.meta.url)),
} as const;

function current(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const schemas = buildEditorSchemas();
  let stale = 0;
  for (const [kind, file] of Object.entries(EDITOR_SCHEMA_FILES) as Array<[keyof typeof EDITOR_SCHEMA_FILES, string]>) {
    const text = schemaText(schemas[kind]);
    if (current(file) === text) continue;
    stale++;
    if (check) process.stderr.write(`${file} is out of date: run npm run schemas\n`);
    else {
      writeFileSync(file, text);
      process.stdout.write(`wrote ${file}\n`);
    }
  }
  return check && stale > 0 ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
