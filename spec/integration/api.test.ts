// The programmatic API as a user meets it: `npm pack` this repo, install the tarball into a
// separate project without network (every dependency comes from the npm cache), typecheck a
// TypeScript program and a custom module against the published .d.ts, compile and run it with
// plain node. Takes ~30 s (npm install and tsc). Needs the built dist/ (npm test builds it).
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, tempDir } from '../helpers/cli.js';

function run(cmd: string, args: string[], cwd: string): { code: number; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 180_000, env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' } });
  return { code: r.status ?? -1, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

const versionOf = (pkg: string) => (JSON.parse(readFileSync(path.join(repoRoot, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

const DEPLOY_TS = `
import { runPlaybook, loadInventory, loadProjectConfig, ParseError, type RunEvent, type RunOutcome } from 'tsplay';

const inventory = loadInventory(['localhost,']);
const events: RunEvent[] = [];
const outcome: RunOutcome = await runPlaybook({
  playbook: 'site.yml',
  inventory: 'localhost,',
  extraVars: { marker_path: process.argv[2] },
  check: process.argv[3] === 'check',
  diff: true,
  projectConfig: loadProjectConfig(),
  reporter: { onEvent: (e) => events.push(e) },
});
let parseError = '';
try {
  await runPlaybook({ playbook: 'missing.yml' });
} catch (err) {
  if (!(err instanceof ParseError)) throw err;
  parseError = err.code;
}
const results = events.flatMap((e) => (e.kind === 'host-result' ? [{ task: e.task, status: e.status, diff: e.diff }] : []));
console.log(JSON.stringify({ exitCode: outcome.exitCode, stats: outcome.stats, results, hosts: inventory.hostNames(), parseError }));
`;

const MODULE_TS = `
import { defineModule } from 'tsplay';

interface MarkerArgs {
  path: string;
  text: string;
}

export default defineModule<MarkerArgs>({
  name: 'app_marker',
  schema: { type: 'object', additionalProperties: false, required: ['path', 'text'], properties: { path: { type: 'string' }, text: { type: 'string' } } },
  async run(args, ctx) {
    const before = (await ctx.ops.readFile(args.path))?.toString('utf8') ?? '';
    const after = args.text + '\\n';
    if (before === after) return { changed: false };
    if (!ctx.check) await ctx.ops.writeFileAtomic(args.path, Buffer.from(after));
    return { changed: true, diff: ctx.diff ? [{ before, after }] : undefined };
  },
});
`;

describe('the published package', () => {
  let app: string;
  let skipReason: string | undefined;

  before(() => {
    const dir = tempDir('tsplay-api-').dir;
    if (!existsSync(path.join(repoRoot, 'dist/engine/index.d.ts'))) {
      skipReason = 'dist/ is not built (npm run build)';
      return;
    }
    const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], repoRoot);
    assert.equal(pack.code, 0, pack.out);
    const tarball = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    app = path.join(dir, 'app');
    mkdirSync(path.join(app, 'library'), { recursive: true });
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'ops-app', private: true, type: 'module' }));
    // --offline: everything must come from the npm cache (the repo's own install filled it)
    const install = run('npm', ['install', '--offline', '--ignore-scripts', tarball, `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`], app);
    if (install.code !== 0) {
      skipReason = /ENOTCACHED|offline/i.test(install.out) ? `npm install --offline is impossible here: a dependency is not in the npm cache\n${install.out.slice(-400)}` : undefined;
      assert.ok(skipReason, `npm install failed:\n${install.out}`);
      return;
    }
    writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: ['node'] },
        include: ['deploy.ts', 'library/*.ts'],
      }),
    );
    writeFileSync(path.join(app, 'deploy.ts'), DEPLOY_TS);
    writeFileSync(path.join(app, 'library/app_marker.ts'), MODULE_TS);
    writeFileSync(
      path.join(app, 'site.yml'),
      '- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - name: marker\n      app_marker:\n        path: "{{ marker_path }}"\n        text: deployed\n',
    );
  });

  test('typechecks against the published .d.ts and runs with plain node, with a custom TypeScript module', (t) => {
    if (skipReason) return t.skip(skipReason);
    const tsc = run(process.execPath, [path.join(app, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], app);
    assert.equal(tsc.code, 0, `tsc found errors:\n${tsc.out}`);

    const marker = path.join(app, 'marker.txt');
    const runDeploy = (mode = '') => {
      const r = run(process.execPath, ['out/deploy.js', marker, mode], app);
      assert.equal(r.code, 0, r.out);
      return JSON.parse(r.out.trim().split('\n').pop()!) as { exitCode: number; results: Array<{ status: string; diff?: unknown }>; hosts: string[]; parseError: string };
    };
    const planned = runDeploy('check');
    assert.deepEqual(planned.results.map((r) => r.status), ['changed']);
    assert.deepEqual(planned.results[0]!.diff, [{ before: '', after: 'deployed\n' }]);
    assert.equal(existsSync(marker), false, 'check mode wrote nothing');

    const first = runDeploy();
    assert.equal(first.exitCode, 0);
    assert.deepEqual(first.hosts, ['localhost']);
    assert.equal(first.parseError, 'FILE_NOT_FOUND', 'a missing playbook is a ParseError the caller can catch');
    assert.deepEqual(first.results.map((r) => r.status), ['changed']);
    assert.equal(readFileSync(marker, 'utf8'), 'deployed\n');
    assert.deepEqual(runDeploy().results.map((r) => r.status), ['ok']);
  });
});
