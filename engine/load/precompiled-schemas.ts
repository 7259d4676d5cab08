// Validators compiled at build time (engine/schema-gen/precompile.ts writes precompiled/KEY.cjs
// next to this file in dist/): compiling the keyword and module schemas
// with ajv took ~0.1 s of every run's start. A schema is found by the hash of its JSON text, so
// a schema changed since the build is simply compiled at run time, as is everything when
// running from source (no .cjs there).
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { lazy } from './ajv-lazy.js';

/** Folder next to this file (in dist/) holding one KEY.cjs a schema, exporting PRECOMPILED_EXPORT. */
export const PRECOMPILED_DIR = 'precompiled';
export const PRECOMPILED_EXPORT = 'validate';

const require = createRequire(import.meta.url);

/** The file name of a schema's validator: its text's hash. */
export function schemaKey(schema: object): string {
  return `v${createHash('sha1').update(JSON.stringify(schema)).digest('hex')}`;
}

/**
 * The folder of this install's precompiled validators: beside this module in dist/engine/load/,
 * or seen from the bundled CLI in dist/bundle/; none when running from source.
 */
const folder = lazy(() =>
  [`./${PRECOMPILED_DIR}/`, `../engine/load/${PRECOMPILED_DIR}/`].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((dir) => existsSync(dir)),
);

/** The build's validator for this schema, if it compiled this exact schema. */
export function precompiledValidator(schema: object): ValidateFunction | undefined {
  const dir = folder();
  if (!dir) return undefined;
  try {
    return (require(`${dir}${schemaKey(schema)}.cjs`) as Record<string, ValidateFunction>)[PRECOMPILED_EXPORT];
  } catch {
    return undefined; // not one the build compiled (a custom module's, or changed since)
  }
}
