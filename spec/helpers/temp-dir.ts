// Temp dirs for specs that never outlive their spec file: each one made here is removed when the
// file's tests end, whether they passed or failed (a root-level `after` hook, which node's test
// runner runs even after a failed assertion or hook), and again at process exit in case the
// runner was cut short. Import it from a spec file, not from code that runs outside a test.
import { after } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const made = new Set<string>();

function removeAll(): void {
  for (const dir of made) {
    // force: a test may have removed it already; a failure here must not hide the test's own result
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // e.g. a mount left inside by a failed test: nothing more a cleanup hook can do
    }
    made.delete(dir);
  }
}

after(removeAll);
process.once('exit', removeAll);

/** A new empty dir under the system temp dir (`<tmp>/<prefix>XXXXXX`), removed when this spec file ends. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

/** Removes a dir made by makeTempDir now (for specs that clean up per test or per suite). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}
