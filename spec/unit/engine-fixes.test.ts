// Engine fixes found by the role authors: where an inventory or -e @file value was written
// (for messages about it), and templates: errors inside {{#each}} at the failing mustache,
// handlebars @data variables, and booleans printed inside text as Ansible prints them.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadInventory } from '../../engine/inventory/load.js';
import { parseExtraVars } from '../../engine/cli/extra-vars.js';
import { buildScope, renderString, renderValue, variableOrigin, TemplateError } from '../../engine/vars/index.js';
import { makeTempDir, removeTempDir } from '../helpers/temp-dir.js';

const tmp = makeTempDir('tsplay-engine-fixes-');
after(() => removeTempDir(tmp));

function write(rel: string, text: string): string {
  const file = path.join(tmp, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Where the scope says `key` of host `host` was written, as file:line:col relative to tmp. */
function originOf(hostVars: Record<string, unknown>, key: string): string | undefined {
  const pos = variableOrigin(buildScope([{ name: 'inventory', vars: hostVars }]), key)?.pos;
  return pos ? `${path.relative(tmp, pos.file)}:${pos.line}:${pos.col}` : undefined;
}

describe('inventory variables keep where they were written', () => {
  const hosts = write('inv/hosts', '# the hosts\nweb1 ansible_connection=local  web_port=http\ndb1\n\n[db]\ndb1\n\n[db:vars]\ndb_port=mysql\n');
  write('inv/group_vars/all.yml', '# defaults\ncommon_port: ssh\nweb_port: overridden-by-host-line\n');
  write('inv/host_vars/db1/main.yml', 'db_user:\n  name: admin\nhost_only: x\n');
  const yamlInventory = write('yaml-inv/hosts.yml', 'all:\n  hosts:\n    y1:\n      y_port: https\n  children:\n    g:\n      vars:\n        g_port: smtp\n      hosts:\n        y1:\n');

  test('INI host lines and [group:vars] name file:line:col of the value', () => {
    const inv = loadInventory([hosts]);
    assert.equal(originOf(inv.hostVars('web1'), 'web_port'), 'inv/hosts:2:32');
    assert.equal(originOf(inv.hostVars('db1'), 'db_port'), 'inv/hosts:9:1');
  });

  test('group_vars and host_vars files (also a folder of files), after the merge by precedence', () => {
    const inv = loadInventory([hosts]);
    assert.equal(originOf(inv.hostVars('web1'), 'common_port'), 'inv/group_vars/all.yml:2:14');
    assert.equal(originOf(inv.hostVars('db1'), 'db_user'), 'inv/host_vars/db1/main.yml:2:3');
    assert.equal(originOf(inv.hostVars('db1'), 'host_only'), 'inv/host_vars/db1/main.yml:3:12');
  });

  test('a YAML inventory: host and group variables', () => {
    const inv = loadInventory([yamlInventory]);
    assert.equal(originOf(inv.hostVars('y1'), 'y_port'), 'yaml-inv/hosts.yml:4:15');
    assert.equal(originOf(inv.hostVars('y1'), 'g_port'), 'yaml-inv/hosts.yml:8:17');
  });

  test('a value nobody wrote in a file (inventory_file) has no position, not some other value\'s', () => {
    const inv = loadInventory([hosts]);
    assert.equal(originOf(inv.hostVars('web1'), 'inventory_file'), undefined);
  });

  test('-e @file values name the file; -e key=value ones have no position', () => {
    write('extra.yml', '---\nport: eighty\nname: x\n');
    const vars = parseExtraVars(['@extra.yml', 'name=y'], tmp);
    assert.equal(originOf(vars, 'port'), 'extra.yml:2:7');
    assert.equal(originOf(vars, 'name'), undefined, 'the later -e name=y wins, and was written nowhere');
  });
});

function templateError(text: string, vars: Record<string, unknown>): TemplateError {
  try {
    renderString(text, buildScope([{ name: 'vars', vars }]), { file: '/t/a.j2', line: 1, col: 1 });
  } catch (err) {
    assert.ok(err instanceof TemplateError, String(err));
    return err;
  }
  assert.fail('the template rendered');
}

describe('template errors inside {{#each}} name the failing mustache', () => {
  const vars = { port: 22, names: ['a', 'b'], rules: [{ port: 1, sources: ['s'] }], extra: 'e' };

  test('a plain name inside each reads the item: the error is at that mustache, with the @root hint', () => {
    const err = templateError('line1\n{{#each names as |p|}}\n{{ p }}\n{{ port }}|{{ p | upper }}\n{{/each}}\n{{ extra }}\n', vars);
    assert.deepEqual([err.pos?.line, err.pos?.col], [4, 4]);
    assert.match(err.message, /^undefined variable 'port' \(inside \{\{#each\}\} or \{\{#with\}\} a plain name is read from the current item, here string "a"; write @root\.port/);
  });

  test('nested each over a block param: the missing name, not an earlier block param', () => {
    const err = templateError('{{#each rules as |r|}}\n{{#each r.sources as |src|}}\n{{ r.port }}|{{ src }}|{{ nothere }}\n{{/each}}\n{{/each}}\nx{{ extra }}', vars);
    assert.deepEqual([err.pos?.line, err.pos?.col], [3, 27]);
    assert.equal(err.message, "undefined variable 'nothere'");
  });

  test('a missing attribute of a block param names the block param path', () => {
    const err = templateError('{{#each names as |p|}}{{ p.name.first }}{{/each}}', vars);
    assert.deepEqual([err.pos?.line, err.pos?.col], [1, 26]);
    assert.equal(err.message, "undefined variable 'p.name': 'p' has no attribute 'name'");
  });

  test('@root, @index, @key, @first and @last work in template text', () => {
    const scope = buildScope([{ name: 'vars', vars: { x: true, names: ['a', 'b'], m: { k: 1 } } }]);
    assert.equal(renderString('{{#if @root.x}}on{{/if}}', scope), 'on');
    assert.equal(renderString('{{#each names as |p|}}{{@index}}{{p}}{{#if @first}}<{{/if}}{{#if @last}}>{{/if}};{{/each}}', scope), '0a<;1b>;');
    assert.equal(renderString('{{#each names}}{{@first}}/{{@last}} {{/each}}', scope), 'True/False False/True ');
    assert.equal(renderString('{{#each m}}{{@key}}={{this}}{{/each}}', scope), 'k=1');
    assert.equal(renderString('{{#each names}}{{#if @root.x}}{{ this | upper }}{{/if}}{{/each}}', scope), 'AB');
  });

  test('an unknown @data variable is an error naming it', () => {
    assert.match(templateError('{{#each names}}{{@first}}{{/each}}{{@first}}', vars).message, /undefined data variable '@first'/);
  });
});

describe('booleans inside text print as Ansible prints them', () => {
  const scope = buildScope([{ name: 'vars', vars: { flag: true, off: false, n: 3, names: ['a'] } }]);

  test('a handlebars mustache in a longer string prints True/False, as a Jinja one does', () => {
    assert.equal(renderString('a {{ flag }} b {{off}}', scope), 'a True b False');
    assert.equal(renderString('{{ flag | string }}-{{ flag }}', scope), 'True-True');
    assert.equal(renderString('{{#each names}}{{ @root.flag }}{{/each}} n={{ n }}', scope), 'True n=3');
  });

  test('a value that is exactly one mustache keeps its type', () => {
    assert.equal(renderValue('{{ flag }}', scope), true);
    assert.equal(renderValue('{{ off }}', scope), false);
    assert.deepEqual(renderValue({ env: '{{ flag }}', text: 'x{{ flag }}' }, scope), { env: true, text: 'xTrue' });
  });
});
