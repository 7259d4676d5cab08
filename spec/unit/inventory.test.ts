import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { loadInventory } from '../../engine/inventory/load.js';
import { inventoryGraph, inventoryHostJson, inventoryListJson, inventoryListText } from '../../engine/inventory/show.js';
import { expandHostRange } from '../../engine/inventory/ranges.js';
import { parseIniValue } from '../../engine/inventory/python-literal.js';
import { ParseError, TsplayError } from '../../engine/errors.js';
import { parseYaml } from '../../engine/load/yaml.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = join(here, '..', 'fixtures', 'inventory');
const repoRoot = join(here, '..', '..');

/** A temp directory with the given files (paths relative to it). */
function tempTree(files: Record<string, string>): string {
  const dir = makeTempDir('tsplay-inv-');
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** The ParseError a load throws, with its position. */
function loadError(files: Record<string, string>, source: string): { err: ParseError; file: string } {
  const dir = tempTree(files);
  try {
    loadInventory([join(dir, source)]);
  } catch (err) {
    assert.ok(err instanceof ParseError, `expected a ParseError, got ${String(err)}`);
    return { err, file: join(dir, source) };
  }
  assert.fail('expected the inventory to be rejected');
}

function withoutSourceVars(vars: Record<string, unknown>): Record<string, unknown> {
  const { inventory_file: _f, inventory_dir: _d, ...rest } = vars;
  return rest;
}

describe('INI inventory', () => {
  const inv = loadInventory([join(fixtures, 'ini-full', 'hosts')]);

  test('hosts in inventory order, ranges expanded with padding and letters', () => {
    assert.deepEqual(inv.hostNames(), ['bastion', 'web01', 'web02', 'web03', 'web-extra.example.com', 'db-a', 'db-b', 'lb01']);
  });

  test('groups: all and ungrouped always exist; parentless groups are children of all', () => {
    assert.deepEqual(inv.groupNames(), ['all', 'ungrouped', 'web', 'db', 'lb', 'prod']);
    assert.deepEqual(inv.group('all')!.children, ['ungrouped', 'lb', 'prod']);
    assert.deepEqual(inv.group('prod')!.children, ['web', 'db']);
    assert.deepEqual(inv.group('ungrouped')!.hosts, ['bastion']);
    assert.deepEqual(inv.hostsOf('prod'), ['web01', 'web02', 'web03', 'web-extra.example.com', 'db-a', 'db-b']);
  });

  test('groupsOf includes ancestors, excludes all, sorted', () => {
    assert.deepEqual(inv.groupsOf('web02'), ['prod', 'web']);
    assert.deepEqual(inv.groupsOf('bastion'), ['ungrouped']);
    assert.deepEqual(inv.groupsOf('lb01'), ['lb']);
  });

  test('host-line values are Python literals; quotes are removed by shlex first', () => {
    const vars = inv.hostVars('web-extra.example.com');
    assert.equal(vars['ansible_port'], 2222);
    assert.equal(vars['enabled'], true);
    assert.equal(vars['motd'], 'hello world');
    const db = inv.hostVars('db-b');
    assert.equal(db['backup'], 'yes');
    assert.equal(db['ratio'], 0.5);
    assert.deepEqual(db['tags'], ['a', 'b']);
  });

  test(':vars values: literals parsed, words kept as text', () => {
    const vars = inv.group('web')!.vars;
    assert.equal(vars['max_conns'], 512);
    assert.equal(vars['label'], 'quoted');
    assert.equal(inv.group('prod')!.vars['flag'], 'yes');
  });

  test('variable precedence: all < parent group < child group < host', () => {
    const web01 = inv.hostVars('web01');
    assert.equal(web01['tier'], 'frontend'); // web (depth 2) beats prod (depth 1) beats all
    assert.equal(web01['env'], 'production');
    assert.equal(web01['ntp_server'], 'pool.ntp.org');
    assert.equal(web01['http_port'], 8080);
    assert.equal(inv.hostVars('db-a')['tier'], 'prod');
    assert.equal(inv.hostVars('lb01')['tier'], 'none');
    assert.equal(web01['inventory_file'], join(fixtures, 'ini-full', 'hosts'));
    assert.equal(web01['inventory_dir'], join(fixtures, 'ini-full'));
  });

  test('hostVars gives a copy: changing it changes nothing in the inventory', () => {
    const vars = inv.hostVars('web01');
    vars['tier'] = 'changed';
    assert.equal(inv.hostVars('web01')['tier'], 'frontend');
  });

  test('groupsMap lists every group including all and ungrouped', () => {
    const map = inv.groupsMap();
    assert.deepEqual(map['ungrouped'], ['bastion']);
    assert.deepEqual(map['db'], ['db-a', 'db-b']);
    assert.equal(map['all']!.length, 8);
  });
});

describe('YAML inventory', () => {
  test('the YAML equivalent of the INI fixture gives the same model', () => {
    const ini = loadInventory([join(fixtures, 'ini-full', 'hosts')]);
    const yaml = loadInventory([join(fixtures, 'yaml-full', 'hosts.yml')]);
    assert.deepEqual(yaml.hostNames(), ini.hostNames());
    assert.deepEqual(yaml.groupNames(), ini.groupNames());
    for (const group of ini.groupNames()) assert.deepEqual(yaml.group(group), ini.group(group), `group ${group}`);
    for (const host of ini.hostNames()) {
      assert.deepEqual(withoutSourceVars(yaml.hostVars(host)), withoutSourceVars(ini.hostVars(host)), `host ${host}`);
      assert.deepEqual(yaml.groupsOf(host), ini.groupsOf(host));
    }
    assert.deepEqual(inventoryListJson(yaml), inventoryListJson(ini));
    assert.equal(inventoryGraph(yaml, 'all', true), inventoryGraph(ini, 'all', true));
  });

  test('all: hosts/children/vars, null hosts, string sections, ranges in keys', () => {
    const dir = tempTree({
      'inv.yaml': [
        'all:',
        '  hosts:',
        '    solo:',
        '  vars:',
        '    x: 1',
        '  children:',
        '    web:',
        '      hosts: web[1:3:2]',
        '    empty:',
        '    nested:',
        '      children: web',
      ].join('\n'),
    });
    const inv = loadInventory([join(dir, 'inv.yaml')]);
    assert.deepEqual(inv.hostNames(), ['solo', 'web1', 'web3']);
    assert.deepEqual(inv.group('ungrouped')!.hosts, ['solo']);
    assert.deepEqual(inv.group('nested')!.children, ['web']);
    assert.deepEqual(inv.groupsOf('web3'), ['nested', 'web']);
    assert.ok(inv.group('empty'));
    assert.equal(inv.hostVars('web1')['x'], 1);
  });

  test('an extension-less file that starts with a group mapping is YAML', () => {
    const dir = tempTree({ hosts: '# comment\nall:\n  hosts:\n    a1:\n      ansible_port: 22\n' });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(inv.hostNames(), ['a1']);
    assert.equal(inv.hostVars('a1')['ansible_port'], 22);
  });

  test('an unknown key under a group is an error at its line:col with a suggestion', () => {
    const { err, file } = loadError({ 'inv.yml': 'all:\n  children:\n    web:\n      host:\n        web01:\n' }, 'inv.yml');
    assert.equal(err.code, 'INVENTORY');
    assert.deepEqual(err.pos, { file, line: 4, col: 7 });
    assert.match(err.message, /unknown key 'host' in group 'web'.*did you mean 'hosts'\?/);
    assert.match(err.format(), />\s+4 \|       host:/);
  });

  test('hosts written as a list is an error naming the group', () => {
    const { err, file } = loadError({ 'inv.yml': 'web:\n  hosts:\n    - web01\n' }, 'inv.yml');
    assert.deepEqual(err.pos, { file, line: 3, col: 5 });
    assert.match(err.message, /Invalid "hosts" entry for "web" group, requires a dictionary, found "list" instead/);
  });

  test('a YAML document that is not a mapping is rejected', () => {
    const { err } = loadError({ 'inv.yml': '- a\n- b\n' }, 'inv.yml');
    assert.match(err.message, /should be a dictionary, got: list/);
  });

  test('host vars that are not a mapping are rejected at the value', () => {
    const { err, file } = loadError({ 'inv.yml': 'web:\n  hosts:\n    web01: 10.0.0.1\n' }, 'inv.yml');
    assert.deepEqual(err.pos, { file, line: 3, col: 12 });
    assert.match(err.message, /host 'web01' in group 'web' must have a mapping of variables/);
  });

  test('a bad range in a YAML host key points at the key', () => {
    const { err, file } = loadError({ 'inv.yml': 'web:\n  hosts:\n    web[9:1]:\n' }, 'inv.yml');
    assert.deepEqual(err.pos, { file, line: 3, col: 5 });
    assert.match(err.message, /begin <= end/);
  });

  test('schemas/inventory.schema.json accepts the fixture and rejects what the loader rejects', () => {
    const schema = JSON.parse(readFileSync(join(repoRoot, 'schemas', 'inventory.schema.json'), 'utf8'));
    const validate = new Ajv2020({ allErrors: true, strict: false }).compile(schema);
    const fixture = parseYaml(readFileSync(join(fixtures, 'yaml-full', 'hosts.yml'), 'utf8'), 'hosts.yml');
    assert.equal(validate(fixture), true, JSON.stringify(validate.errors));
    assert.equal(validate(parseYaml('web:\n  host:\n    a:\n', 'x.yml')), false);
    assert.equal(validate(parseYaml('web:\n  hosts:\n    - a\n', 'x.yml')), false);
    assert.equal(validate(parseYaml('plugin: aws_ec2\n', 'x.yml')), false);
  });
});

describe('INI errors name the exact line and column', () => {
  test('a section header with a space', () => {
    const { err, file } = loadError({ hosts: 'a\n\n[web servers]\nb\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 3, col: 1 });
    assert.match(err.message, /Invalid section entry: '\[web servers\]'/);
  });

  test('an unknown section type', () => {
    const { err, file } = loadError({ hosts: '[web:child]\nweb01\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 1, col: 6 });
    assert.match(err.message, /Section \[web:child\] has unknown type: child/);
  });

  test('a :children entry that is a host line with vars', () => {
    const { err, file } = loadError({ hosts: '[web]\nweb01\n[prod:children]\n  web01 ansible_host=10.0.0.1\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 4, col: 3 });
    assert.match(err.message, /Expected group name, got: web01 ansible_host=10\.0\.0\.1/);
  });

  test('a range whose start is after its end', () => {
    const { err, file } = loadError({ hosts: '[web]\nweb[10:02] x=1\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 2, col: 1 });
    assert.match(err.message, /begin <= end/);
  });

  test('a child cycle', () => {
    const { err, file } = loadError({ hosts: '[a:children]\nb\n[b:children]\nc\n[c:children]\na\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 6, col: 1 });
    assert.match(err.message, /Adding group 'a' as child to 'c' creates a recursive dependency loop/);
  });

  test('a child group never declared in the file', () => {
    const { err, file } = loadError({ hosts: '[prod:children]\nweb\nmissing\n[web]\nw1\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 3, col: 1 });
    assert.match(err.message, /Section \[prod:children\] includes undefined group: missing/);
  });

  test('[group:vars] for a group never declared', () => {
    const { err, file } = loadError({ hosts: 'h1\n[ghost:vars]\nx=1\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 2, col: 1 });
    assert.match(err.message, /Section \[ghost:vars\] not valid for undefined group: ghost/);
  });

  test('a host variable without "="', () => {
    const { err, file } = loadError({ hosts: '[web]\nweb01 ansible_host=1.2.3.4 oops\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 2, col: 28 });
    assert.match(err.message, /Expected key=value host variable assignment, got: oops/);
  });

  test('an unclosed quote', () => {
    const { err, file } = loadError({ hosts: '[web]\nweb01 motd="hi\n' }, 'hosts');
    assert.deepEqual(err.pos, { file, line: 2, col: 12 });
    assert.match(err.message, /No closing quotation/);
  });

  test('a missing source', () => {
    assert.throws(
      () => loadInventory(['/nonexistent/tsplay-inventory']),
      (err: unknown) => err instanceof ParseError && err.code === 'INVENTORY' && err.message === 'inventory source not found: /nonexistent/tsplay-inventory' && err.pos === undefined,
    );
  });
});

describe('ranges', () => {
  test('padding, step, letters and several ranges as a product', () => {
    assert.deepEqual(expandHostRange('web[01:03]'), ['web01', 'web02', 'web03']);
    assert.deepEqual(expandHostRange('web[1:10:4]'), ['web1', 'web5', 'web9']);
    assert.deepEqual(expandHostRange('db-[a:c]'), ['db-a', 'db-b', 'db-c']);
    assert.deepEqual(expandHostRange('r[1:2]n[a:b].x'), ['r1na.x', 'r1nb.x', 'r2na.x', 'r2nb.x']);
    assert.deepEqual(expandHostRange('h[8:10]'), ['h8', 'h9', 'h10']);
    assert.deepEqual(expandHostRange('10.0.0.[1:2]'), ['10.0.0.1', '10.0.0.2']);
  });

  test('bad ranges are errors', () => {
    assert.throws(() => expandHostRange('web[3:1]'), /begin <= end/);
    assert.throws(() => expandHostRange('web[c:a]'), /begin <= end/);
    assert.throws(() => expandHostRange('web[01:100]'), /equal-length/);
    assert.throws(() => expandHostRange('web[1]'), /begin:end/);
    assert.throws(() => expandHostRange('web[1:3:0]'), /step/);
  });

  test('an INI host range with a port gives every host the port', () => {
    const dir = tempTree({ hosts: '[web]\nweb[1:2].example.com:2200\n' });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(inv.hostNames(), ['web1.example.com', 'web2.example.com']);
    assert.equal(inv.hostVars('web2.example.com')['ansible_port'], 2200);
  });
});

describe('INI values (ast.literal_eval)', () => {
  test('literals and non-literals', () => {
    assert.equal(parseIniValue('8080'), 8080);
    assert.equal(parseIniValue('8080 # comment'), 8080);
    assert.equal(parseIniValue('True'), true);
    assert.equal(parseIniValue('None'), null);
    assert.equal(parseIniValue('FALSE'), 'FALSE');
    assert.equal(parseIniValue('yes'), 'yes');
    assert.equal(parseIniValue('0755'), '0755');
    assert.equal(parseIniValue('0o755'), 493);
    assert.equal(parseIniValue('-2.5'), -2.5);
    assert.equal(parseIniValue("'quoted'"), 'quoted');
    assert.equal(parseIniValue('10.0.0.1'), '10.0.0.1');
    assert.deepEqual(parseIniValue("{'a': [1, (2, 3)], 'b': None}"), { a: [1, [2, 3]], b: null });
    assert.equal(parseIniValue('foo # not a comment here'), 'foo # not a comment here');
  });
});

describe('directory inventory with group_vars and host_vars', () => {
  const source = join(fixtures, 'dir-inv');

  test('every inventory file is read in name order, sub-directories too, ignored files skipped', () => {
    const inv = loadInventory([source]);
    assert.deepEqual(inv.hostNames(), ['web01', 'web02', 'db01', 'web03', 'cache01', 'cache02']);
    assert.deepEqual(inv.hostsOf('cache'), ['cache01', 'cache02']);
  });

  test('a .retry file in a directory source is not inventory', () => {
    const dir = tempTree({ 'hosts.ini': '[web]\nw1\n', 'site.retry': 'w2\n' });
    assert.deepEqual(loadInventory([dir]).hostNames(), ['w1']);
  });

  test('group_vars as a file (with and without extension) and as a folder, host_vars too', () => {
    const inv = loadInventory([source]);
    assert.equal(inv.hostVars('db01')['port'], 5432); // group_vars/db (no extension)
    assert.equal(inv.hostVars('db01')['role'], 'primary'); // host_vars/db01/main.yml
    assert.equal(inv.hostVars('web02')['port'], 80); // group_vars/web/10-base.yml
    assert.equal(inv.hostVars('web02')['who'], 'web_override'); // 20-override.yaml after 10-base.yml; .hidden.yml skipped
    assert.equal(inv.hostVars('web01')['who'], 'web01_host'); // host_vars beat group_vars
    assert.equal(inv.hostVars('cache01')['who'], 'all_file');
    assert.equal(inv.group('web')!.vars['who'], 'web_override');
    assert.equal(inv.host('db01')!.vars['role'], 'primary');
  });

  test('group_vars/all.yml beats inventory-file group vars, as in Ansible', () => {
    const inv = loadInventory([source]);
    assert.equal(inv.hostVars('web01')['level'], 'all_file');
  });

  test('a file source uses group_vars beside it', () => {
    const inv = loadInventory([join(source, '01-hosts.ini')]);
    assert.equal(inv.hostVars('web02')['who'], 'web_override');
    assert.deepEqual(inv.hostNames(), ['web01', 'web02', 'db01']);
  });

  test('group_vars and host_vars next to the playbook override those next to the inventory', () => {
    const inv = loadInventory([source], { playbookDir: join(fixtures, 'playbook') });
    assert.equal(inv.hostVars('web03')['who'], 'play_web');
    assert.equal(inv.hostVars('web02')['who'], 'play_web02');
    assert.equal(inv.hostVars('web01')['who'], 'web01_host'); // host_vars still beat any group_vars
    assert.equal(inv.hostVars('db01')['ntp'], 'playbook');
    assert.equal(inv.hostVars('db01')['port'], 5432);
  });

  test('a bad group_vars file is an error at load time', () => {
    const dir = tempTree({ 'hosts.ini': '[web]\nw1\n', 'group_vars/web.yml': '- not\n- a mapping\n' });
    assert.throws(() => loadInventory([join(dir, 'hosts.ini')]), (err: unknown) => err instanceof ParseError && /must contain a mapping/.test(err.message) && err.pos?.line === 1);
  });
});

describe('several sources, precedence, localhost, add_host', () => {
  test('later sources add hosts, groups and vars', () => {
    const dir = tempTree({ 'a.ini': '[web]\nw1 x=1\n[web:vars]\ng=a\n', 'b.yml': 'web:\n  hosts:\n    w2:\n    w1: {y: 2}\n  vars: {g: b}\n' });
    const inv = loadInventory([join(dir, 'a.ini'), join(dir, 'b.yml')]);
    assert.deepEqual(inv.hostsOf('web'), ['w1', 'w2']);
    assert.deepEqual(withoutSourceVars(inv.hostVars('w1')), { g: 'b', x: 1, y: 2 });
  });

  test('groups of the same depth merge by name, unless ansible_group_priority says otherwise', () => {
    const base = '[b]\nh1\n[a]\nh1\n[a:vars]\nx=from_a\n[b:vars]\nx=from_b\n';
    const dir = tempTree({ plain: base, prio: base + '[a:vars]\nansible_group_priority=10\n' });
    assert.equal(loadInventory([join(dir, 'plain')]).hostVars('h1')['x'], 'from_b');
    const prio = loadInventory([join(dir, 'prio')]);
    assert.equal(prio.hostVars('h1')['x'], 'from_a');
    assert.equal(prio.group('a')!.vars['ansible_group_priority'], undefined);
  });

  test('a deeper group wins over a shallower one whatever the names', () => {
    const dir = tempTree({ hosts: '[zz]\nh1\n[aa:children]\nzz\n[zz:vars]\nx=child\n[aa:vars]\nx=parent\n' });
    assert.equal(loadInventory([join(dir, 'hosts')]).hostVars('h1')['x'], 'child');
  });

  test('a comma-separated host list is a source', () => {
    const inv = loadInventory(['web01,web02:2222,']);
    assert.deepEqual(inv.hostNames(), ['web01', 'web02']);
    assert.deepEqual(inv.group('ungrouped')!.hosts, ['web01', 'web02']);
    assert.equal(inv.hostVars('web02')['ansible_port'], 2222);
  });

  test('implicit localhost: selectable by name, not part of all, local connection', () => {
    const dir = tempTree({ hosts: '[web]\nw1\n[all:vars]\nshared=1\n' });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(inv.select('localhost'), ['localhost']);
    assert.deepEqual(inv.select('all'), ['w1']);
    assert.equal(inv.hasHost('localhost'), false);
    assert.deepEqual(inv.hostNames(), ['w1']);
    assert.equal(inv.hostVars('localhost')['ansible_connection'], 'local');
    assert.equal(inv.hostVars('localhost')['shared'], 1);
    assert.deepEqual(inv.groupsOf('localhost'), []);
  });

  test('addHost at run time joins groups (new ones under all) and sets vars', () => {
    const dir = tempTree({ hosts: '[web]\nw1\n' });
    const inv = loadInventory([join(dir, 'hosts')]);
    assert.deepEqual(inv.select('new'), []);
    inv.addHost('n1', ['new', 'web'], { ansible_host: '10.9.9.9' });
    assert.deepEqual(inv.select('new'), ['n1']);
    // Ansible's add_host puts the host in `all` itself, whose own hosts come before its children's
    assert.deepEqual(inv.select('all'), ['n1', 'w1']);
    assert.deepEqual(inv.hostNames(), ['w1', 'n1']);
    assert.deepEqual(inv.groupsOf('n1'), ['new', 'web']);
    assert.equal(inv.hostVars('n1')['ansible_host'], '10.9.9.9');
    assert.ok(inv.group('all')!.children.includes('new'));
    inv.addHost('n2', [], {});
    assert.deepEqual(inv.group('ungrouped')!.hosts, ['n2']);
  });
});

describe('ansible-inventory views', () => {
  const inv = loadInventory([join(fixtures, 'show', 'hosts.ini')]);

  test('--list prints what ansible-inventory --list prints', () => {
    const expected = `{
    "_meta": {
        "hostvars": {
            "web01": {
                "ansible_host": "10.0.0.1",
                "env": "prod"
            },
            "web02": {
                "env": "prod"
            }
        }
    },
    "all": {
        "children": [
            "ungrouped",
            "prod"
        ]
    },
    "prod": {
        "children": [
            "web",
            "db"
        ]
    },
    "ungrouped": {
        "hosts": [
            "solo"
        ]
    },
    "web": {
        "hosts": [
            "web01",
            "web02"
        ]
    }
}`;
    assert.equal(inventoryListText(inv), expected);
  });

  test('--graph prints the group tree', () => {
    const expected = ['@all:', '  |--@ungrouped:', '  |  |--solo', '  |--@prod:', '  |  |--@web:', '  |  |  |--web01', '  |  |  |--web02', '  |  |--@db:'].join('\n');
    assert.equal(inventoryGraph(inv), expected);
    assert.equal(inventoryGraph(inv, 'web'), ['@web:', '  |--web01', '  |--web02'].join('\n'));
  });

  test('--graph --vars adds each host\'s and group\'s variables', () => {
    const expected = [
      '@all:',
      '  |--@ungrouped:',
      '  |  |--solo',
      '  |--@prod:',
      '  |  |--@web:',
      '  |  |  |--web01',
      '  |  |  |  |--{ansible_host = 10.0.0.1}',
      '  |  |  |  |--{env = prod}',
      '  |  |  |--web02',
      '  |  |  |  |--{env = prod}',
      '  |  |--@db:',
      '  |  |--{env = prod}',
    ].join('\n');
    assert.equal(inventoryGraph(inv, 'all', true), expected);
  });

  test('--graph of an unknown group is an option error', () => {
    assert.throws(() => inventoryGraph(inv, 'nosuch'), (err: unknown) => err instanceof TsplayError && err.code === 'CLI_OPTION' && /valid group name/.test(err.message));
  });

  test('--host gives the merged variables of exactly one host', () => {
    assert.deepEqual(inventoryHostJson(inv, 'web01'), { ansible_host: '10.0.0.1', env: 'prod' });
    assert.deepEqual(inventoryHostJson(inv, 'solo'), {});
    assert.throws(() => inventoryHostJson(inv, 'web'), /single valid host/);
  });
});
