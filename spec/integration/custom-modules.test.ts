// Custom modules, as a user writes them: a TypeScript file in library/ next to the playbook,
// a JavaScript module shipped in an npm package (package.json "tsplay": {"modules": ...}),
// folders named by TSPLAY_LIBRARY. They obey the module contract (check mode, diff) and their
// argument schemas are checked at load, before any host is touched. Runs the built CLI.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { tsplay, events, tempDir, repoRoot } from '../helpers/cli.js';

// A module that keeps one `key=value` line in a file: reads, compares, writes only on a difference.
const KV_LINE_TS = `
import type { ModuleDef } from ${JSON.stringify(path.join(repoRoot, 'engine/modules/types.js'))};

interface KvLineArgs {
  path: string;
  key: string;
  value: string;
}

const kvLine: ModuleDef<KvLineArgs> = {
  name: 'kv_line',
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['path', 'key', 'value'],
    properties: { path: { type: 'string' }, key: { type: 'string' }, value: { type: 'string' } },
  },
  async run(args, ctx) {
    const before: string = (await ctx.ops.readFile(args.path))?.toString('utf8') ?? '';
    const kept = before.split('\\n').filter((l) => l !== '' && !l.startsWith(args.key + '='));
    const after = [...kept, args.key + '=' + args.value].join('\\n') + '\\n';
    if (after === before) return { changed: false, msg: 'already set' };
    if (!ctx.check) await ctx.ops.writeFileAtomic(args.path, Buffer.from(after));
    return { changed: true, diff: ctx.diff ? [{ before, after, beforeHeader: args.path, afterHeader: args.path }] : undefined };
  },
};
export default kvLine;
`;

function hostResults(stdout: string): Array<Record<string, any>> {
  return events(stdout).filter((e) => e.kind === 'host-result');
}

describe('custom modules', () => {
  let dir: string;
  before(() => {
    dir = tempDir('tsplay-custom-mod-').dir;
  });

  test('A custom TypeScript module in library/ runs with check mode and diff', () => {
    const project = path.join(dir, 'ts-project');
    mkdirSync(path.join(project, 'library'), { recursive: true });
    writeFileSync(path.join(project, 'library/kv_line.ts'), KV_LINE_TS);
    const target = path.join(project, 'app.env');
    writeFileSync(
      path.join(project, 'site.yml'),
      `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - name: port line\n      kv_line:\n        path: ${target}\n        key: port\n        value: "8080"\n`,
    );
    writeFileSync(target, 'name=app\nport=80\n');
    const run = (extra: string[]) => tsplay(['run', 'site.yml', '--json', '--no-retry-files', ...extra], { cwd: project });

    const check = run(['--check', '--diff']);
    assert.equal(check.code, 0, check.stderr + check.stdout);
    const [planned] = hostResults(check.stdout);
    assert.equal(planned?.status, 'changed', 'check mode predicts the change');
    assert.deepEqual(planned?.diff, [{ before: 'name=app\nport=80\n', after: 'name=app\nport=8080\n', beforeHeader: target, afterHeader: target }]);
    assert.equal(readFileSync(target, 'utf8'), 'name=app\nport=80\n', 'check mode wrote nothing');

    const text = tsplay(['run', 'site.yml', '--check', '--diff', '--no-retry-files'], { cwd: project });
    assert.match(text.stdout, /^-port=80$/m, 'the rendered diff shows the old line');
    assert.match(text.stdout, /^\+port=8080$/m, 'the rendered diff shows the new line');

    const real = run(['--diff']);
    assert.equal(real.code, 0, real.stderr);
    assert.equal(hostResults(real.stdout)[0]?.status, 'changed');
    assert.equal(readFileSync(target, 'utf8'), 'name=app\nport=8080\n', 'the real run changed the file');

    const again = run([]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(hostResults(again.stdout)[0]?.status, 'ok', 'the second run changes nothing');
  });

  test("a custom module's argument schema is checked at load: a misspelt argument is an error before any host", () => {
    const project = path.join(dir, 'bad-args');
    mkdirSync(path.join(project, 'library'), { recursive: true });
    writeFileSync(path.join(project, 'library/kv_line.ts'), KV_LINE_TS);
    const target = path.join(project, 'never.env');
    writeFileSync(path.join(project, 'site.yml'), `- hosts: localhost\n  connection: local\n  gather_facts: false\n  tasks:\n    - kv_line:\n        path: ${target}\n        key: port\n        valeu: "1"\n`);
    const r = tsplay(['run', 'site.yml'], { cwd: project });
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /site\.yml:8:9: kv_line: unknown argument 'valeu'/);
    assert.equal(existsSync(target), false);
  });

  test('without the library/ folder the module is unknown at load', () => {
    const project = path.join(dir, 'no-library');
    mkdirSync(project);
    writeFileSync(path.join(project, 'site.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - kv_line: {path: /x, key: a, value: b}\n`);
    const r = tsplay(['run', 'site.yml'], { cwd: project });
    assert.equal(r.code, 4);
    assert.match(r.stderr, /couldn't resolve module\/action 'kv_line'/);
  });

  test('a JavaScript module from an npm package that declares "tsplay": {"modules": ...}', () => {
    const project = path.join(dir, 'npm-project');
    const pkg = path.join(project, 'node_modules/@acme/tsplay-modules');
    mkdirSync(path.join(pkg, 'modules'), { recursive: true });
    writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'ops', private: true, dependencies: { '@acme/tsplay-modules': '1.0.0' } }));
    writeFileSync(path.join(pkg, 'package.json'), JSON.stringify({ name: '@acme/tsplay-modules', version: '1.0.0', type: 'module', tsplay: { modules: 'modules' } }));
    writeFileSync(
      path.join(pkg, 'modules/acme_greet.js'),
      `export default {\n  name: 'acme_greet',\n  controllerOnly: true,\n  schema: { type: 'object', additionalProperties: false, required: ['who'], properties: { who: { type: 'string' } } },\n  async run(args) { return { changed: false, msg: 'hello ' + args.who + ' from a package' }; },\n};\n`,
    );
    mkdirSync(path.join(project, 'playbooks'));
    writeFileSync(path.join(project, 'playbooks/site.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - acme_greet:\n        who: ops\n`);
    const r = tsplay(['run', 'playbooks/site.yml', '--json', '--no-retry-files'], { cwd: project });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(hostResults(r.stdout)[0]?.msg, 'hello ops from a package');
  });

  test('folders named by TSPLAY_LIBRARY are searched', () => {
    const project = path.join(dir, 'env-project');
    const shared = path.join(dir, 'shared-modules');
    mkdirSync(project);
    mkdirSync(shared);
    writeFileSync(path.join(shared, 'env_probe.mjs'), `export default { name: 'env_probe', controllerOnly: true, schema: { type: 'object' }, async run() { return { changed: false, msg: 'from TSPLAY_LIBRARY' }; } };\n`);
    writeFileSync(path.join(project, 'site.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - env_probe:\n`);
    const r = tsplay(['run', 'site.yml', '--json', '--no-retry-files'], { cwd: project, env: { TSPLAY_LIBRARY: shared } });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(hostResults(r.stdout)[0]?.msg, 'from TSPLAY_LIBRARY');
  });

  test('a module file that does not compile is a parse error naming the file', () => {
    const project = path.join(dir, 'broken');
    mkdirSync(path.join(project, 'library'), { recursive: true });
    const broken = path.join(project, 'library/half_done.ts');
    writeFileSync(broken, `export default {\n  name: 'half_done',\n  schema: { type: 'object' ,\n};\n`);
    writeFileSync(path.join(project, 'site.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n`);
    const r = tsplay(['run', 'site.yml'], { cwd: project });
    assert.equal(r.code, 4, r.stderr);
    assert.ok(r.stderr.includes(broken), `the error names the file:\n${r.stderr}`);
    assert.match(r.stderr, /half_done\.ts:4:1: custom module .*half_done\.ts: could not be loaded: Expected "}" but found ";"/);
  });

  test('a module file whose default export is not a module definition is a parse error naming the file', () => {
    const project = path.join(dir, 'not-a-module');
    mkdirSync(path.join(project, 'library'), { recursive: true });
    const file = path.join(project, 'library/helper.mjs');
    writeFileSync(file, `export default function helper() { return 1; }\n`);
    writeFileSync(path.join(project, 'site.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: msg=hi\n`);
    const r = tsplay(['run', 'site.yml'], { cwd: project });
    assert.equal(r.code, 4, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.match(r.stderr, /not a module definition/);
  });

  test('a module whose argument schema is not JSON Schema is a parse error naming the file and the mistake', () => {
    const project = path.join(dir, 'bad-schema');
    mkdirSync(path.join(project, 'library'), { recursive: true });
    const file = path.join(project, 'library/typo_type.mjs');
    writeFileSync(file, `export default { name: 'typo_type', schema: { type: 'object', properties: { path: { type: 'strin' } } }, run: async () => ({ changed: false }) };\n`);
    writeFileSync(path.join(project, 'site.yml'), `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - typo_type: {path: /x}\n`);
    const r = tsplay(['run', 'site.yml'], { cwd: project });
    assert.equal(r.code, 4, r.stderr);
    assert.ok(r.stderr.includes(file), r.stderr);
    assert.match(r.stderr, /its argument schema is not valid JSON Schema: schema\/properties\/path\/type must be equal to one of the allowed values/);
  });
});
