import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordPosition } from '../../engine/load/positions.js';
import { buildScope, isScope, scopeWith, variableOrigin } from '../../engine/vars/scope.js';
import { renderString, renderValue } from '../../engine/vars/template.js';
import { evaluateCondition } from '../../engine/vars/condition.js';
import { makeTempDir } from '../helpers/temp-dir.js';
import { thrown } from '../helpers/template.js';

/** A vars object whose keys' values have recorded positions, as the YAML loader would record them. */
function positioned(file: string, vars: Record<string, unknown>, lines: Record<string, number>): Record<string, unknown> {
  const entry = recordPosition(vars, { file, line: 1, col: 1 });
  for (const [key, line] of Object.entries(lines)) entry.values.set(key, { file, line, col: 4 });
  return vars;
}

describe('buildScope precedence', () => {
  test('later layers win per top-level key, without deep merge', () => {
    const scope = buildScope([
      { name: 'role defaults', vars: { port: 80, cfg: { a: 1, b: 2 }, only_default: true } },
      { name: 'play vars', vars: { port: 8080, cfg: { a: 9 } } },
      { name: 'extra vars', vars: { port: 443 } },
    ]);
    assert.equal(scope.port, 443);
    assert.deepEqual(scope.cfg, { a: 9 });
    assert.equal(scope.only_default, true);
    assert.equal(scope.nope, undefined);
  });

  test('magic variables cannot be overridden by any layer', () => {
    const scope = buildScope([{ name: 'extra vars', vars: { inventory_hostname: 'evil' } }], {
      magic: { inventory_hostname: 'node1', groups: { all: ['node1'] } },
    });
    assert.equal(scope.inventory_hostname, 'node1');
    assert.deepEqual(scope.groups, { all: ['node1'] });
  });

  test('handlebars and expressions read the scope', () => {
    const scope = buildScope([{ name: 'play vars', vars: { a: 'x', n: { m: 2 } } }]);
    assert.equal(renderString('{{a}}-{{n.m}}', scope), 'x-2');
    assert.equal(evaluateCondition('n.m == 2 and a is defined and zz is undefined', scope), true);
    assert.throws(() => renderString('{{ zz }}', scope), /undefined variable 'zz'/);
  });

  test('the scope looks like a plain object to keys/JSON and is read-only', () => {
    const scope = buildScope([{ name: 'l', vars: { a: 1, b: '{{ a }}' } }], { magic: { m: true } });
    assert.deepEqual(Object.keys(scope), ['a', 'b', 'm']);
    assert.equal(JSON.stringify(scope), '{"a":1,"b":1,"m":true}');
    assert.equal('a' in scope, true);
    assert.equal(isScope(scope), true);
    assert.equal(isScope({}), false);
    assert.throws(() => {
      (scope as Record<string, unknown>).a = 2;
    }, TypeError);
    assert.equal(scope.a, 1);
  });

  test('inherited members are not variables of a scope', () => {
    const scope = buildScope([{ name: 'l', vars: { a: 1 } }]);
    for (const name of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      if (name === 'constructor' || name === '__proto__') {
        assert.throws(() => renderString(`{{ ${name} }}`, scope), /not allowed/);
      } else {
        assert.throws(() => renderString(`{{ ${name} }}`, scope), /undefined variable/, name);
      }
      assert.equal(evaluateCondition(`${name} is defined`, scope), false, name);
    }
  });
});

describe('lazy templating', () => {
  test('a templated value renders against the winning value of another layer', () => {
    const scope = buildScope([
      { name: 'role defaults', vars: { url: 'https://{{ host }}:{{ port }}', port: 80, host: 'a' } },
      { name: 'extra vars', vars: { port: 8443 } },
    ]);
    assert.equal(scope.url, 'https://a:8443');
    assert.equal(renderString('{{ url }}/x', scope), 'https://a:8443/x');
  });

  test('a single mustache keeps its type; nested templated values render', () => {
    const scope = buildScope([
      { name: 'inventory', vars: { nodes: ['10.0.0.1', '10.0.0.2'] } },
      { name: 'play vars', vars: { servers: '{{ nodes }}', cfg: { first: '{{ first nodes }}', count: '{{ length nodes }}' } } },
    ]);
    assert.deepEqual(scope.servers, ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(scope.cfg, { first: '10.0.0.1', count: 2 });
  });

  test('values render once and are memoised', () => {
    let reads = 0;
    const counted = {
      get n() {
        reads++;
        return 1;
      },
    };
    const scope = buildScope([{ name: 'l', vars: { src: counted, v: '{{ src.n }}' } }]);
    assert.equal(reads, 0, 'nothing is read while building the scope');
    assert.equal(scope.v, 1);
    const afterFirst = reads;
    assert.ok(afterFirst > 0);
    assert.equal(scope.v, 1);
    assert.equal(renderString('{{v}}{{v}}', scope), '11');
    assert.equal(reads, afterFirst);
  });

  test('a value is not rendered unless read', () => {
    const scope = buildScope([{ name: 'l', vars: { broken: '{{ missing }}', fine: 1 } }]);
    assert.equal(scope.fine, 1);
    assert.equal('broken' in scope, true);
    assert.equal(Object.prototype.hasOwnProperty.call(scope, 'broken'), true);
    assert.throws(() => scope.broken, /undefined variable 'missing'/);
  });

  test('a reference loop is reported with its chain and where it was written', () => {
    const dir = makeTempDir('tsplay-scope-');
    const file = join(dir, 'vars.yml');
    writeFileSync(file, 'a: "{{ b }}"\nb: "{{ c }}"\nc: "{{ a }}"\n');
    const vars = positioned(file, { a: '{{ b }}', b: '{{ c }}', c: '{{ a }}' }, { a: 1, b: 2, c: 3 });
    const scope = buildScope([{ name: 'play vars', vars }]);
    const err = thrown(() => renderString('{{ a }}', scope));
    assert.equal(err.message, 'recursive loop detected in template: a -> b -> c -> a');
    assert.equal(err.pos?.file, file);
    assert.equal(err.pos?.line, 1);
    const self = buildScope([{ name: 'l', vars: { x: 'again {{ x }}' } }]);
    assert.throws(() => self.x, /recursive loop detected in template: x -> x/);
  });

  test('an error in a lazily templated value names the file and line of that value', () => {
    const dir = makeTempDir('tsplay-scope-');
    const file = join(dir, 'defaults.yml');
    const lines = ['port: 80', 'url: "http://{{ hostname }}:{{ port }}"', ''];
    writeFileSync(file, lines.join('\n'));
    const vars = { port: 80, url: 'http://{{ hostname }}:{{ port }}' };
    const entry = recordPosition(vars, { file, line: 1, col: 1 });
    entry.values.set('port', { file, line: 1, col: 7 });
    entry.values.set('url', { file, line: 2, col: 6 });
    const scope = buildScope([{ name: 'role defaults', vars }]);
    const err = thrown(() => renderString('server {{ url }}', scope, { file: '/other.yml', line: 9, col: 9 }));
    assert.equal(err.code, 'UNDEFINED_VARIABLE');
    assert.match(err.message, /undefined variable 'hostname'/);
    assert.deepEqual(err.pos, { file, line: 2, col: (lines[1] as string).indexOf('hostname') + 1 });
  });
});

describe('scopeWith', () => {
  test('adds and overrides keys without changing the parent', () => {
    const parent = buildScope([{ name: 'l', vars: { a: 1, b: 2 } }]);
    const child = scopeWith(parent, { b: 3, item: 'x' });
    assert.equal(child.a, 1);
    assert.equal(child.b, 3);
    assert.equal(child.item, 'x');
    assert.equal(parent.b, 2);
    assert.equal(parent.item, undefined);
    assert.deepEqual(Object.keys(child).sort(), ['a', 'b', 'item']);
    assert.equal(renderString('{{a}}{{b}}{{item}}', child), '13x');
    assert.equal(evaluateCondition('item == "x" and b == 3', child), true);
  });

  test('templated values follow the loop item', () => {
    const scope = buildScope([{ name: 'task vars', vars: { path: '/srv/{{ item }}' } }], { magic: { item: 'none' } });
    const values = ['a', 'b'].map((item) => scopeWith(scope, { item }).path);
    assert.deepEqual(values, ['/srv/a', '/srv/b']);
    assert.equal(scope.path, '/srv/none');
  });

  test('works over a plain object and nests', () => {
    const child = scopeWith({ a: 1 }, { item: { n: 2 } });
    const grandchild = scopeWith(child, { ansible_loop: { index: 1 } });
    assert.equal(renderString('{{a}}{{item.n}}{{ansible_loop.index}}', grandchild), '121');
    assert.deepEqual(renderValue('{{ item }}', grandchild), { n: 2 });
  });
});

describe('variableOrigin', () => {
  test('tells which layer won and where it was written', () => {
    const vars = positioned('/x/group_vars/all.yml', { port: 80 }, { port: 3 });
    const scope = buildScope([{ name: 'group_vars/all', vars }, { name: 'play vars', vars: { other: 1 } }], { magic: { m: 1 } });
    assert.deepEqual(variableOrigin(scope, 'port'), { layer: 'group_vars/all', pos: { file: '/x/group_vars/all.yml', line: 3, col: 4 } });
    assert.deepEqual(variableOrigin(scope, 'm'), { layer: 'magic' });
    assert.equal(variableOrigin(scope, 'nope'), undefined);
  });
});
