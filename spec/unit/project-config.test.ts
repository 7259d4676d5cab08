// The project config (tsplay.config.yaml): where it is found, how its paths resolve, how the
// environment and the command line win over it, and errors with file:line:col.
import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadProjectConfig, findProjectConfig, connectionDefaultsFrom } from '../../engine/config/project-config.js';
import { OptionError, ParseError } from '../../engine/errors.js';
import { tsplay, tempDir } from '../helpers/cli.js';

const NO_ENV: NodeJS.ProcessEnv = {};

function write(file: string, text: string): string {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

describe('project config', () => {
  let root: string;
  before(() => {
    root = tempDir('tsplay-config-').dir;
  });

  test('is found in a parent folder, and its relative paths are relative to the file', () => {
    const project = path.join(root, 'found');
    const file = write(
      path.join(project, 'tsplay.config.yaml'),
      'inventory: inventory/prod\nroles_path: [roles, /opt/roles]\nmodule_paths: library-extra\nforks: 10\ntimeout: 30\nstrategy: free\nremote_user: deploy\n',
    );
    const deep = path.join(project, 'playbooks/stage');
    mkdirSync(deep, { recursive: true });
    const config = loadProjectConfig({ cwd: deep, env: NO_ENV });
    assert.equal(config.file, file);
    assert.deepEqual(config.inventory, [path.join(project, 'inventory/prod')]);
    assert.deepEqual(config.rolesPath, [path.join(project, 'roles'), '/opt/roles']);
    assert.deepEqual(config.modulePaths, [path.join(project, 'library-extra')]);
    assert.equal(config.forks, 10);
    assert.equal(config.timeout, 30);
    assert.equal(config.strategy, 'free');
    assert.equal(config.remoteUser, 'deploy');
  });

  test('accepts tsplay.config.yml and .tsplay.yaml; tsplay.config.yaml is preferred', () => {
    const a = path.join(root, 'names-a');
    write(path.join(a, '.tsplay.yaml'), 'forks: 3\n');
    assert.equal(loadProjectConfig({ cwd: a, env: NO_ENV }).forks, 3);
    const b = path.join(root, 'names-b');
    write(path.join(b, 'tsplay.config.yml'), 'forks: 4\n');
    assert.equal(loadProjectConfig({ cwd: b, env: NO_ENV }).forks, 4);
    write(path.join(b, 'tsplay.config.yaml'), 'forks: 5\n');
    assert.equal(loadProjectConfig({ cwd: b, env: NO_ENV }).forks, 5);
  });

  test('the search stops at the repository root (a folder holding .git)', () => {
    const outer = path.join(root, 'outer');
    write(path.join(outer, 'tsplay.config.yaml'), 'forks: 7\n');
    const repo = path.join(outer, 'repo');
    mkdirSync(path.join(repo, '.git'), { recursive: true });
    mkdirSync(path.join(repo, 'sub'));
    assert.equal(findProjectConfig({ cwd: path.join(repo, 'sub'), env: NO_ENV }), undefined);
    assert.deepEqual(loadProjectConfig({ cwd: path.join(repo, 'sub'), env: NO_ENV }), {});
    // …but a config at the repository root itself is found
    write(path.join(repo, 'tsplay.config.yaml'), 'forks: 8\n');
    assert.equal(loadProjectConfig({ cwd: path.join(repo, 'sub'), env: NO_ENV }).forks, 8);
  });

  test('--config and TSPLAY_CONFIG name the file; --config wins; a missing one is an option error', () => {
    const project = path.join(root, 'explicit');
    write(path.join(project, 'tsplay.config.yaml'), 'forks: 1\n');
    const other = write(path.join(root, 'elsewhere/ci.yaml'), 'forks: 2\n');
    const third = write(path.join(root, 'elsewhere/env.yaml'), 'forks: 9\n');
    assert.equal(loadProjectConfig({ cwd: project, env: { TSPLAY_CONFIG: third } }).forks, 9);
    assert.equal(loadProjectConfig({ cwd: project, configFile: other, env: { TSPLAY_CONFIG: third } }).forks, 2);
    assert.throws(() => loadProjectConfig({ cwd: project, configFile: 'nope.yaml', env: NO_ENV }), (err: unknown) => {
      assert.ok(err instanceof OptionError);
      assert.match(err.message, /--config: config file 'nope\.yaml' not found/);
      return true;
    });
  });

  test('environment variables win over the file', () => {
    const project = path.join(root, 'env');
    write(path.join(project, 'tsplay.config.yaml'), 'forks: 10\nroles_path: roles\nhost_key_checking: false\nstrategy: linear\n');
    const config = loadProjectConfig({
      cwd: project,
      env: { TSPLAY_FORKS: '3', TSPLAY_ROLES_PATH: `/a${path.delimiter}rel`, TSPLAY_HOST_KEY_CHECKING: 'strict', TSPLAY_STRATEGY: 'free', TSPLAY_INVENTORY: 'web1,web2' },
    });
    assert.equal(config.forks, 3);
    assert.deepEqual(config.rolesPath, ['/a', path.join(project, 'rel')]);
    assert.equal(config.hostKeyChecking, 'strict');
    assert.equal(config.strategy, 'free');
    assert.deepEqual(config.inventory, ['web1', 'web2']);
    assert.throws(() => loadProjectConfig({ cwd: project, env: { TSPLAY_FORKS: 'lots' } }), /TSPLAY_FORKS must be a whole number >= 1, got 'lots'/);
  });

  test('connection settings become the lowest variable layer (inventory and plays win)', () => {
    const project = path.join(root, 'conn');
    write(
      path.join(project, 'tsplay.config.yaml'),
      'remote_user: deploy\nhost_key_checking: no\nknown_hosts_file: ssh/known_hosts\nbecome: yes\nbecome_method: su\nbecome_user: admin\nvault_password_file: ~/.vault-pass\nvault_identity_list: [prod@secrets/prod.txt, dev@prompt]\n',
    );
    const config = loadProjectConfig({ cwd: project, env: NO_ENV });
    assert.deepEqual(connectionDefaultsFrom(config), {
      ansible_user: 'deploy',
      tsplay_host_key_checking: 'off',
      tsplay_known_hosts_file: path.join(project, 'ssh/known_hosts'),
      ansible_become: true,
      ansible_become_method: 'su',
      ansible_become_user: 'admin',
    });
    assert.deepEqual(config.vaultPasswordFiles, [path.join(process.env.HOME ?? '', '.vault-pass')]);
    assert.deepEqual(config.vaultIdentityList, [`prod@${path.join(project, 'secrets/prod.txt')}`, 'dev@prompt']);
  });

  test('an unknown setting is an error at its file:line:col, with a suggestion', () => {
    const project = path.join(root, 'typo');
    const file = write(path.join(project, 'tsplay.config.yaml'), 'forks: 5\nrole_path: roles\n');
    assert.throws(() => loadProjectConfig({ cwd: project, env: NO_ENV }), (err: unknown) => {
      assert.ok(err instanceof ParseError);
      assert.deepEqual(err.pos, { file, line: 2, col: 1 });
      assert.match(err.message, /unknown setting 'role_path'.*roles_path/);
      return true;
    });
  });

  test('a value of the wrong type or outside its choices is an error at the value', () => {
    const project = path.join(root, 'types');
    const file = write(path.join(project, 'tsplay.config.yaml'), '# project\nforks: many\nstrategy: fastest\n');
    assert.throws(() => loadProjectConfig({ cwd: project, env: NO_ENV }), (err: unknown) => {
      assert.ok(err instanceof ParseError);
      const all = ((err as { errors?: ParseError[] }).errors ?? [err]).map((e) => `${e.pos?.line}:${e.pos?.col} ${e.message}`);
      assert.deepEqual(all, [
        "2:8 tsplay.config.yaml: setting 'forks' must be integer, got string",
        "3:11 tsplay.config.yaml: setting 'strategy' must be one of: linear, free; got 'fastest'",
      ]);
      assert.equal(err.pos?.file, file);
      return true;
    });
  });

  test('tsplay run: the config gives the inventory, module_paths and forks; the command line wins', () => {
    const project = path.join(root, 'cli');
    write(path.join(project, 'tsplay.config.yaml'), 'inventory: inv/hosts.ini\nmodule_paths: [shared-modules]\nforks: 0\n');
    write(path.join(project, 'inv/hosts.ini'), '[web]\nweb-from-config ansible_connection=local\n');
    write(path.join(project, 'other.ini'), '[web]\nweb-from-cli ansible_connection=local\n');
    write(path.join(project, 'shared-modules/cfg_probe.mjs'), `export default { name: 'cfg_probe', controllerOnly: true, schema: { type: 'object' }, async run() { return { changed: false, msg: 'probe' }; } };\n`);
    write(path.join(project, 'site.yml'), '- hosts: web\n  gather_facts: false\n  tasks:\n    - cfg_probe:\n');

    // forks: 0 in the file is rejected with its position…
    const bad = tsplay(['run', 'site.yml', '--list-hosts'], { cwd: project });
    assert.equal(bad.code, 4, bad.stderr);
    assert.match(bad.stderr, /tsplay\.config\.yaml:3:8: tsplay\.config\.yaml: setting 'forks' must be >= 1/);
    // …unless the environment or the command line gives forks (they win over the file, but the file must still be valid)
    write(path.join(project, 'tsplay.config.yaml'), 'inventory: inv/hosts.ini\nmodule_paths: [shared-modules]\nforks: 2\n');
    const fromConfig = tsplay(['run', 'site.yml', '--list-hosts'], { cwd: project });
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.match(fromConfig.stdout, /web-from-config/);
    const fromCli = tsplay(['run', 'site.yml', '--list-hosts', '-i', 'other.ini'], { cwd: project });
    assert.equal(fromCli.code, 0, fromCli.stderr);
    assert.match(fromCli.stdout, /web-from-cli/);
    assert.doesNotMatch(fromCli.stdout, /web-from-config/);
    const fromEnv = tsplay(['run', 'site.yml', '--list-hosts'], { cwd: project, env: { TSPLAY_INVENTORY: path.join(project, 'other.ini') } });
    assert.match(fromEnv.stdout, /web-from-cli/);
    const badEnv = tsplay(['run', 'site.yml', '--list-hosts'], { cwd: project, env: { TSPLAY_FORKS: '0' } });
    assert.equal(badEnv.code, 5);
    assert.match(badEnv.stderr, /TSPLAY_FORKS must be a whole number >= 1/);
    const cliWins = tsplay(['run', 'site.yml', '--list-hosts', '-f', '0'], { cwd: project, env: { TSPLAY_FORKS: '3' } });
    assert.equal(cliWins.code, 5);
    assert.match(cliWins.stderr, /--forks must be a whole number >= 1/);
  });
});
