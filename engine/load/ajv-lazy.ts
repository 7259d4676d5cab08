// ajv, loaded on first use instead of at start-up: a run whose schemas were all compiled at build
// time (precompiled-schemas.ts) never loads it, which saves ~40 ms of every command's start.
import { createRequire } from 'node:module';
import type { Ajv2020, Options } from 'ajv/dist/2020.js';

const require = createRequire(import.meta.url);

/** A new Ajv2020 instance (ajv is CommonJS: required synchronously, once). */
export function newAjv(options: Options): Ajv2020 {
  const { Ajv2020: AjvClass } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  return new AjvClass(options);
}

/** A value created on first use. */
export function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}
