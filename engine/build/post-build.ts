// `npm run build`, after tsc: the two steps that make the CLI start fast (issue 8).
// 1. Validators for every built-in schema, precompiled (schema-gen/precompile.ts).
// 2. The CLI bundled into dist/bundle/ (esbuild; dependencies stay in node_modules): Node's ESM
//    loader took ~0.15 s to resolve, read and link dist/'s ~240 modules on every start, one
//    bundle (and a chunk per lazily loaded command) ~0.06 s. dist/engine/ stays as it is for
//    the API (`import { runPlaybook } from 'tsplay'`) and for the bundle's relative paths
//    (schemas/, the precompiled validators), which resolve the same from dist/bundle/.
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { writePrecompiledValidators } from '../schema-gen/precompile.js';

const dist = (rel: string) => fileURLToPath(new URL(`../../${rel}`, import.meta.url));

async function main(): Promise<void> {
  const count = writePrecompiledValidators();
  const outdir = dist('bundle');
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: [dist('engine/cli/main.js')],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  process.stdout.write(`precompiled ${count} schema validators; bundled the CLI into ${outdir}\n`);
}

await main();
