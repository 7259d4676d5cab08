// The build's precompiled validators (engine/schema-gen/precompile.ts -> dist/engine/load/
// precompiled-schemas.cjs): every built-in schema is in it, and each gives exactly the errors a
// validator compiled at run time gives, so a user's mistakes read the same either way.
// Needs the build (npm test runs it first).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { schemaKey } from '../../engine/load/precompiled-schemas.js';
import { AJV_OPTIONS, loadSchemaFile } from '../../engine/load/schema.js';
import { newAjv } from '../../engine/load/ajv-lazy.js';
import { lookupModule, moduleNames } from '../../engine/modules/registry.js';

const built = fileURLToPath(new URL('../../dist/engine/load/precompiled-schemas.cjs', import.meta.url));
const skip = existsSync(built) ? false : 'needs `npm run build`';

describe('precompiled schema validators', { skip }, () => {
  const table = createRequire(import.meta.url)(built) as Record<string, ValidateFunction>;
  const runtime = newAjv({ ...AJV_OPTIONS, validateSchema: false });
  for (const name of ['keywords', 'play', 'block', 'task', 'config']) runtime.addSchema(loadSchemaFile(name));

  test('every keyword schema and built-in module schema was compiled by the build', () => {
    const missing = [
      ...['play', 'block', 'task', 'config'].filter((n) => !table[schemaKey(loadSchemaFile(n))]),
      ...moduleNames().filter((n) => !table[schemaKey(lookupModule(n)!.schema)]),
    ];
    assert.deepEqual(missing, []);
  });

  test('a precompiled validator gives the same errors as one compiled now', () => {
    const cases: Array<[object, unknown]> = [
      [loadSchemaFile('play'), { hosts: 3, gather_facts: 'maybe', tasks: 'no', bogus: 1 }],
      [loadSchemaFile('task'), { name: ['x'], when: {}, loop: 5, become: 'yes', vars: [] }],
      [loadSchemaFile('play'), { hosts: 'all', tasks: [] }],
      [lookupModule('copy')!.schema, { dest: 5, mode: [], backup: 'no', force: 1 }],
      [lookupModule('file')!.schema, { path: '/x', state: 'sideways' }],
      [lookupModule('apt')!.schema, { name: 'x', pkg: 'y' }],
      [lookupModule('lineinfile')!.schema, {}],
    ];
    for (const [schema, data] of cases) {
      const pre = table[schemaKey(schema)]!;
      const now = runtime.compile(schema);
      assert.equal(pre(structuredClone(data)), now(structuredClone(data)));
      const strip = (errors: ValidateFunction['errors']) => (errors ?? []).map(({ instancePath, keyword, params, message, schemaPath }) => ({ instancePath, keyword, params, message, schemaPath }));
      assert.deepEqual(strip(pre.errors), strip(now.errors));
    }
  });
});
