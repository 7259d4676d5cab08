#!/usr/bin/env node
// Runs the spec files with node's test runner. Node 20's runner takes no globs, so the
// files are listed here: every spec/**/*.test.ts, or the files/folders given as arguments.
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function findTests(target) {
  const stat = statSync(target);
  if (stat.isFile()) return [target];
  return readdirSync(target, { withFileTypes: true })
    .flatMap((entry) => {
      const full = path.join(target, entry.name);
      if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : findTests(full);
      return entry.name.endsWith('.test.ts') ? [full] : [];
    })
    .sort();
}

const targets = process.argv.slice(2);
const files = (targets.length ? targets : [path.join(root, 'spec')]).flatMap((t) => findTests(path.resolve(t)));
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...files], { stdio: 'inherit', cwd: root });
process.exit(result.status ?? 1);
