// Helpers for the template specs: a template file in a fresh temp folder, and the
// TemplateError a call throws.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TemplateError } from '../../engine/vars/errors.js';
import { makeTempDir } from './temp-dir.js';

/** Write `text` to `name` in a new temp folder (removed at exit); returns the file's path. */
export function writeTemp(name: string, text: string, prefix = 'tsplay-template-'): string {
  const file = join(makeTempDir(prefix), name);
  writeFileSync(file, text);
  return file;
}

/** The TemplateError `fn` throws; fails the test if it throws nothing or something else. */
export function thrown(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof TemplateError, `expected a TemplateError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}
