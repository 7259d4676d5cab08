import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TsplayError } from '../../engine/errors.js';
import { TemplateError } from '../../engine/vars/errors.js';
import { isTemplate, renderString, renderValue } from '../../engine/vars/template.js';
import { templateReferences } from '../../engine/vars/references.js';
import { thrown, writeTemp } from '../helpers/template.js';

describe('renderString', () => {
  test('returns text without mustaches unchanged', () => {
    assert.equal(renderString('plain a<b & "c"', {}), 'plain a<b & "c"');
    assert.equal(isTemplate('plain'), false);
    assert.equal(isTemplate('x {{ y }}'), true);
  });

  test('does not HTML-escape (config files are not HTML)', () => {
    assert.equal(renderString('if a<b {{ v }}', { v: '<&>"\'' }), 'if a<b <&>"\'');
  });

  test('adjacent numbers are joined as text, not added (handlebars noEscape quirk)', () => {
    assert.equal(renderString('{{a}}{{b}}', { a: 1, b: 3 }), '13');
    assert.equal(renderString('{{#each l}}{{this}}{{../a}}{{/each}}', { a: 1, l: [5, 6] }), '5161');
    assert.equal(renderString('{{#if a}}{{a}}{{b}}{{/if}}', { a: 1, b: 3 }), '13');
  });

  test('an undefined variable is an error naming it, with exit code 4', () => {
    const err = thrown(() => renderString('port={{ port }}', {}));
    assert.equal(err.code, 'UNDEFINED_VARIABLE');
    assert.equal(err.exitCode, 4);
    assert.match(err.message, /undefined variable 'port'/);
    assert.equal(err.variable, 'port');
  });

  test('names the missing attribute of a nested path', () => {
    const err = thrown(() => renderString('{{ db.host.name }}', { db: {} }));
    assert.match(err.message, /undefined variable 'db\.host': 'db' has no attribute 'host'/);
    const deeper = thrown(() => renderString('{{ db.host.name }}', { db: { host: {} } }));
    assert.match(deeper.message, /'db\.host' has no attribute 'name'/);
  });

  test('positions the error on the real file line of a block scalar', () => {
    const text = ['- name: write config', '  copy:', '    content: |', '      line one', '      port {{ port }}', '      host {{ hostx }}', ''].join('\n');
    const file = writeTemp('tasks.yml', text);
    const template = 'line one\nport {{ port }}\nhost {{ hostx }}\n';
    const err = thrown(() => renderString(template, { port: 80 }, { file, line: 3, col: 14 }));
    assert.equal(err.pos?.file, file);
    assert.equal(err.pos?.line, 6);
    assert.equal(err.pos?.col, '      host {{ hostx }}'.indexOf('hostx') + 1);
    assert.match(err.format(), /> 6 \|\s+host \{\{ hostx \}\}/);
  });

  test('positions the error after the quote of a quoted scalar', () => {
    const line = 'msg: "hello {{ nope }}"';
    const file = writeTemp('play.yml', `${line}\n`);
    const err = thrown(() => renderString('hello {{ nope }}', {}, { file, line: 1, col: 6 }));
    assert.deepEqual(err.pos, { file, line: 1, col: line.indexOf('nope') + 1 });
  });

  test('an unknown helper is a TEMPLATE error naming it', () => {
    const err = thrown(() => renderString('{{ frobnicate x }}', { x: 1 }));
    assert.equal(err.code, 'TEMPLATE');
    assert.match(err.message, /unknown helper 'frobnicate'/);
  });

  test('a syntax error is a TEMPLATE error with the line', () => {
    const err = thrown(() => renderString('a\nb {{ oops }', {}, { file: '/nonexistent.yml', line: 10, col: 3 }));
    assert.equal(err.code, 'TEMPLATE');
    assert.match(err.message, /template syntax error/);
    assert.equal(err.pos?.line, 11);
  });

  test('mismatched blocks are a TEMPLATE error', () => {
    const err = thrown(() => renderString('{{#if a}}x{{/each}}', { a: 1 }));
    assert.equal(err.code, 'TEMPLATE');
    assert.match(err.message, /if doesn't match each/);
  });

  test('if/else blocks with comparison helpers, missing condition allowed', () => {
    assert.equal(renderString('{{#if (eq a 1)}}one{{else}}other{{/if}}', { a: 1 }), 'one');
    assert.equal(renderString('{{#if (gt a 5)}}big{{else}}small{{/if}}', { a: 1 }), 'small');
    assert.equal(renderString('{{#if missing}}y{{else}}n{{/if}}', {}), 'n');
  });

  test('each over a list with block params', () => {
    const out = renderString('{{#each servers as |s|}}server {{s.ip}}:{{../port}};\n{{/each}}', {
      servers: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
      port: 6443,
    });
    assert.equal(out, 'server 10.0.0.1:6443;\nserver 10.0.0.2:6443;\n');
  });

  test('a variable named like a helper is the variable, not the helper', () => {
    assert.equal(renderString('{{ first }}-{{ length }}', { first: 'a', length: 3 }), 'a-3');
    assert.deepEqual(renderValue('{{ range }}', { range: [1, 2] }), [1, 2]);
    const err = thrown(() => renderString('{{ first }}', {}));
    assert.equal(err.code, 'UNDEFINED_VARIABLE');
    const typed = thrown(() => renderValue('{{ first }}', {}));
    assert.equal(typed.code, 'UNDEFINED_VARIABLE');
    assert.match(typed.message, /undefined variable 'first'/);
  });
});

describe('renderValue keeps types of a single mustache', () => {
  const vars = { list: ['a', 'b'], n: 42, flag: false, obj: { k: { z: 1 } }, s: 'x,y' };

  test('list, number, bool and object come back as values', () => {
    assert.deepEqual(renderValue('{{ list }}', vars), ['a', 'b']);
    assert.equal(renderValue('{{n}}', vars), 42);
    assert.equal(renderValue('  {{ flag }}  ', vars), false);
    assert.deepEqual(renderValue('{{ obj.k }}', vars), { z: 1 });
    assert.equal(renderValue('{{ list.[1] }}', vars), 'b');
  });

  test('helper calls, sub-expressions and hash arguments are evaluated to values', () => {
    assert.equal(renderValue('{{default missing 5}}', vars), 5);
    assert.deepEqual(renderValue('{{ split s "," }}', vars), ['x', 'y']);
    assert.equal(renderValue('{{ length (split s ",") }}', vars), 2);
    assert.deepEqual(renderValue('{{ lookup obj "k" }}', vars), { z: 1 });
    assert.deepEqual(renderValue('{{ combine obj (lookup obj "k") recursive=true }}', vars), { k: { z: 1 }, z: 1 });
  });

  test('mixed text renders to a string', () => {
    assert.equal(renderValue('n={{ n }}', vars), 'n=42');
  });

  test('strict: a missing path is an error, a missing helper parameter is not', () => {
    assert.throws(() => renderValue('{{ nope }}', vars), /undefined variable 'nope'/);
    assert.throws(() => renderValue('{{ obj.x.y }}', vars), /undefined variable 'obj\.x'/);
    assert.equal(renderValue('{{ default obj.x 7 }}', vars), 7);
  });

  test('deep: arrays and objects are copied with templated members and keys', () => {
    const input = { '{{ key }}': ['{{ n }}', 'port {{ n }}'], plain: 1 };
    const out = renderValue(input, { ...vars, key: 'ports' });
    assert.deepEqual(out, { ports: [42, 'port 42'], plain: 1 });
    assert.deepEqual(input, { '{{ key }}': ['{{ n }}', 'port {{ n }}'], plain: 1 });
  });

  test('a position function is asked for the failing member', () => {
    const asked: Array<Array<string | number>> = [];
    const err = thrown(() =>
      renderValue({ a: ['ok', '{{ bad }}'] }, {}, (path) => {
        asked.push(path);
        return { file: '/nonexistent.yml', line: 7, col: 9 };
      }),
    );
    assert.deepEqual(asked, [['a', 1]]);
    assert.deepEqual(err.pos, { file: '/nonexistent.yml', line: 7, col: 12 });
  });

  test('a key rendering to __proto__ stays an own key and changes no prototype', () => {
    const out = renderValue({ '{{ k }}': { polluted: true } }, { k: '__proto__' }) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('helpers', () => {
  const r = (text: string, vars: object = {}) => renderString(text, vars);
  const v = (text: string, vars: object = {}) => renderValue(text, vars);

  test('default: undefined and null use the fallback; falsy only with true', () => {
    assert.equal(r('{{default x "d"}}'), 'd');
    assert.equal(r('{{default x "d"}}', { x: null }), 'd');
    assert.equal(r('{{default x "d"}}', { x: '' }), '');
    assert.equal(r('{{default x "d" true}}', { x: '' }), 'd');
    assert.equal(v('{{default x 1 true}}', { x: 0 }), 1);
  });

  test('join, split, first, last, length', () => {
    assert.equal(r('{{join l ", "}}', { l: ['a', 1, true] }), 'a, 1, True');
    assert.deepEqual(v('{{split "a b  c"}}'), ['a', 'b', 'c']);
    assert.equal(r('{{first l}}/{{last l}}/{{length l}}', { l: [1, 2, 3] }), '1/3/3');
    assert.equal(v('{{length m}}', { m: { a: 1, b: 2 } }), 2);
  });

  test('to_json, to_nice_json, to_yaml, to_nice_yaml', () => {
    assert.equal(r('{{to_json m}}', { m: { b: [1, 'x'], a: null } }), '{"b": [1, "x"], "a": null}');
    assert.equal(r('{{to_nice_json m}}', { m: { b: 1, a: 2 } }), '{\n    "a": 2,\n    "b": 1\n}');
    assert.equal(r('{{to_yaml m}}', { m: { a: [1, 2] } }), 'a:\n  - 1\n  - 2\n');
    assert.equal(r('{{to_nice_yaml m}}', { m: { a: { b: 1 } } }), 'a:\n    b: 1\n');
  });

  test('indent', () => {
    assert.equal(r('{{indent t 2}}', { t: 'a\nb\n\nc' }), 'a\n  b\n\n  c');
    assert.equal(r('{{indent t 2 true}}', { t: 'a\nb' }), '  a\n  b');
    assert.equal(r('{{indent t first=true}}', { t: 'a' }), '    a');
  });

  test('b64encode and b64decode round trip UTF-8', () => {
    assert.equal(r('{{b64encode s}}', { s: 'héllo' }), 'aMOpbGxv');
    assert.equal(r('{{b64decode s}}', { s: 'aMOpbGxv' }), 'héllo');
  });

  test('lower, upper, trim, replace, string, int, float, bool', () => {
    assert.equal(r('{{lower "AbC"}}{{upper "d"}}[{{trim "  x "}}]'), 'abcD[x]');
    assert.equal(r('{{replace "a-b-c" "-" "+"}}'), 'a+b+c');
    assert.equal(v('{{int "12"}}'), 12);
    assert.equal(v('{{int "x" 3}}'), 3);
    assert.equal(v('{{float "1.5"}}'), 1.5);
    assert.equal(v('{{bool "yes"}}'), true);
    assert.equal(v('{{bool "off"}}'), false);
    assert.equal(v('{{string 5}}'), '5');
  });

  test('regex_replace with \\1 and $1 backrefs, regex_search', () => {
    assert.equal(r('{{regex_replace s "(\\w+)@(\\w+)" "\\2 at $1"}}', { s: 'me@host' }), 'host at me');
    assert.equal(r('{{regex_replace s "^v" ""}}', { s: 'v1.2' }), '1.2');
    assert.equal(v('{{regex_search s "\\d+"}}', { s: 'abc 123 x' }), '123');
    assert.equal(v('{{regex_search s "zzz"}}', { s: 'abc' }), null);
    assert.throws(() => r('{{regex_replace s "(" ""}}', { s: 'a' }), /helper 'regex_replace' failed: invalid regular expression/);
  });

  test('quote makes one shell word of anything', () => {
    assert.equal(r('{{quote p}}', { p: "it's $(rm -rf /)" }), `'it'"'"'s $(rm -rf /)'`);
  });

  test('comparison and logic helpers', () => {
    assert.equal(v('{{eq a "1"}}', { a: 1 }), false);
    assert.equal(v('{{ne a 2}}', { a: 1 }), true);
    assert.equal(v('{{lt 1 2}}'), true);
    assert.equal(v('{{le 2 2}}'), true);
    assert.equal(v('{{gt "b" "a"}}'), true);
    assert.equal(v('{{ge 1 2}}'), false);
    assert.equal(v('{{and 1 "" 2}}'), '');
    assert.equal(v('{{or 0 "" "x"}}'), 'x');
    assert.equal(v('{{not e}}', { e: [] }), true);
    assert.throws(() => v('{{lt 1 "a"}}'), /helper 'lt' failed/);
  });

  test('basename, dirname (Python semantics)', () => {
    assert.equal(r('{{basename "/etc/nginx/nginx.conf"}}|{{dirname "/etc/nginx/nginx.conf"}}'), 'nginx.conf|/etc/nginx');
    assert.equal(r('{{basename "/etc/"}}|{{dirname "/x"}}'), '|/');
  });

  test('dict2items, items2dict, combine', () => {
    assert.deepEqual(v('{{dict2items m}}', { m: { a: 1 } }), [{ key: 'a', value: 1 }]);
    assert.deepEqual(v('{{items2dict l}}', { l: [{ key: 'a', value: 1 }] }), { a: 1 });
    assert.deepEqual(v('{{dict2items m key_name="k" value_name="v"}}', { m: { a: 1 } }), [{ k: 'a', v: 1 }]);
    assert.deepEqual(v('{{combine a b}}', { a: { x: { y: 1 } }, b: { x: { z: 2 } } }), { x: { z: 2 } });
    assert.deepEqual(v('{{combine a b recursive=true}}', { a: { x: { y: 1 } }, b: { x: { z: 2 } } }), { x: { y: 1, z: 2 } });
  });

  test('ternary, range, unique, sort, flatten, contains, concat', () => {
    assert.equal(v('{{ternary c "on" "off"}}', { c: 0 }), 'off');
    assert.deepEqual(v('{{range 3}}'), [0, 1, 2]);
    assert.deepEqual(v('{{range 1 7 2}}'), [1, 3, 5]);
    assert.deepEqual(v('{{sort (unique l)}}', { l: [3, 1, 3, 2] }), [1, 2, 3]);
    assert.deepEqual(v('{{flatten l}}', { l: [1, [2, [3]]] }), [1, 2, 3]);
    assert.equal(v('{{contains l 2}}', { l: [1, 2] }), true);
    assert.equal(r('{{concat "a" 1 true}}'), 'a1True');
  });
});

describe('template safety', () => {
  test('constructor and __proto__ in paths are rejected before running', () => {
    for (const text of ['{{constructor.constructor}}', '{{ a.__proto__ }}', '{{ lookup a.constructor "x" }}', '{{ a.prototype }}']) {
      const err = thrown(() => renderString(text, { a: {} }));
      assert.equal(err.code, 'TEMPLATE');
      assert.match(err.message, /is not allowed/);
      assert.throws(() => renderValue(text, { a: {} }), TemplateError);
    }
  });

  test('lookup cannot reach inherited members', () => {
    assert.equal(renderString('[{{lookup a "constructor"}}]', { a: {} }), '[]');
    assert.equal(renderValue('{{lookup a "toString"}}', { a: {} }), undefined);
  });

  test('inherited members of the variables are never their functions', () => {
    // handlebars' own runtime denies them (renders nothing); the typed evaluator says undefined
    assert.equal(renderString('[{{ toString }}][{{ a.valueOf }}][{{ l.map }}]', { a: {}, l: [] }), '[][][]');
    assert.throws(() => renderValue('{{ hasOwnProperty }}', {}), /undefined variable 'hasOwnProperty'/);
    assert.throws(() => renderValue('{{ l.map }}', { l: [] }), /undefined variable 'l\.map'/);
  });

  test('errors are TsplayErrors that do not leak values', () => {
    const err = thrown(() => renderString('{{ password.x }}', { password: 'hunter2' }));
    assert.ok(err instanceof TsplayError);
    assert.doesNotMatch(err.message, /hunter2/);
    assert.match(err.message, /undefined variable 'password\.x'/);
  });
});

describe('templateReferences', () => {
  test('root names read unguarded, in order', () => {
    const refs = templateReferences(
      '{{ a }} {{ b.c }} {{default d 1}} {{#if e}}{{e.x}}{{f}}{{else}}{{e}}{{/if}} ' +
        '{{#each list as |it|}}{{it.x}}{{name}}{{@index}}{{@root.g}}{{/each}} {{join (split h ",") sep}} {{this}}',
    );
    assert.deepEqual(refs, ['a', 'b', 'f', 'e', 'list', 'g', 'h', 'sep']);
  });

  test('unless guards its else branch; plain text has none', () => {
    assert.deepEqual(templateReferences('{{#unless u}}{{u}}{{else}}{{u.v}}{{/unless}}'), ['u']);
    assert.deepEqual(templateReferences('no templates'), []);
    assert.deepEqual(templateReferences('{{default x.y 1}}{{x}}'), ['x']);
  });

  test('a syntax error is thrown with the position', () => {
    const err = thrown(() => templateReferences('{{ a', { file: '/nonexistent.yml', line: 4, col: 8 }));
    assert.equal(err.code, 'TEMPLATE');
    assert.equal(err.pos?.line, 4);
  });
});

describe('a single mustache with a newline around it is text', () => {
  test('content: "{{ line }}\\n" keeps its newline; spaces around still keep the type', () => {
    assert.equal(renderValue('{{ line }}\n', { line: 'with space' }), 'with space\n');
    assert.equal(renderValue("{{ n | default(0) }}\n", { n: 3 }), '3\n');
    assert.deepEqual(renderValue('  {{ list }} ', { list: [1, 2] }), [1, 2]);
  });
});
