import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadYamlFile } from '../../engine/load/yaml.js';
import { locatePath } from '../../engine/load/positions.js';
import { TemplateError } from '../../engine/vars/errors.js';
import { renderString, renderValue } from '../../engine/vars/template.js';
import { templateReferences } from '../../engine/vars/references.js';
import { buildScope } from '../../engine/vars/scope.js';
import { thrown, writeTemp } from '../helpers/template.js';

const vars = {
  x: 'X',
  a: 'A',
  b: 'B',
  port: 80,
  flag: true,
  nothing: null,
  items: [{ name: 'first' }, { name: 'second' }],
  groups: { web: ['web1', 'web2'], db: ['db1'] },
  servers: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }],
};

describe('Jinja mustaches: every form, alone (typed) and inside text', () => {
  const cases: Array<{ template: string; typed: unknown; inline: string }> = [
    { template: "{{ x | default('a') }}", typed: 'X', inline: 'X' },
    { template: "{{ missing | default('a') }}", typed: 'a', inline: 'a' },
    { template: "{{ groups['web'] | join(',') }}", typed: 'web1,web2', inline: 'web1,web2' },
    { template: "{{ a ~ '-' ~ b }}", typed: 'A-B', inline: 'A-B' },
    { template: '{{ port + 1 }}', typed: 81, inline: '81' },
    { template: '{{ items[0].name }}', typed: 'first', inline: 'first' },
    { template: "{{ 'yes' if flag else 'no' }}", typed: 'yes', inline: 'yes' },
    { template: "{{ groups['web'] }}", typed: ['web1', 'web2'], inline: "['web1', 'web2']" },
    { template: '{{ port > 79 and flag }}', typed: true, inline: 'True' },
    { template: '{{ not flag }}', typed: false, inline: 'False' },
    { template: '{{ missing is defined }}', typed: false, inline: 'False' },
    { template: "{{ {'k': port} }}", typed: { k: 80 }, inline: "{'k': 80}" },
    { template: '{{ None }}', typed: null, inline: '' },
    { template: '{{ nothing if flag else 1 }}', typed: null, inline: '' },
    { template: '{{ port // 3 }}', typed: 26, inline: '26' },
    { template: "{{ groups | length }}", typed: 2, inline: '2' },
  ];
  for (const { template, typed, inline } of cases) {
    test(template, () => {
      assert.deepEqual(renderValue(template, vars), typed);
      assert.deepEqual(renderValue(`  ${template} `, vars), typed, 'whitespace around one mustache keeps the type');
      assert.equal(renderString(`<${template}>`, vars), `<${inline}>`);
      assert.equal(renderValue(`v=${template};`, vars), `v=${inline};`);
    });
  }

  test('a bare path means the same in both syntaxes and stays handlebars', () => {
    assert.equal(renderString('{{ x }}/{{ items.1.name }}', vars), 'X/second');
    assert.deepEqual(renderValue('{{ groups.web }}', vars), ['web1', 'web2']);
  });

  test("Jinja's whitespace control strips like handlebars' ~", () => {
    assert.equal(renderString('a \n {{- x | lower -}} \n b', vars), 'axb');
    assert.equal(renderString('a  {{- x }}  b', vars), 'aX  b');
    assert.equal(renderString('a  {{ x -}}  b', vars), 'a  Xb');
    assert.equal(renderValue('{{- port * 2 -}}', vars), 160);
  });

  test('}} inside a string or a dict does not end the mustache', () => {
    assert.equal(renderString("{{ 'a}}b' ~ x }}!", vars), 'a}}bX!');
    assert.deepEqual(renderValue("{{ {'a': {'b': port}} }}", vars), { a: { b: 80 } });
  });

  test('dashes are subtraction, as in Ansible', () => {
    assert.equal(renderValue('{{ port-1 }}', vars), 79);
  });
});

describe('mixed handlebars and Jinja', () => {
  test('both kinds in one text', () => {
    const text = "{{#if flag}}on{{/if}} {{ port + 1 }} {{default missing 'd'}} {{ a ~ b }} {{join groups.web '+'}} {{ x }}";
    assert.equal(renderString(text, vars), 'on 81 d AB web1+web2 X');
  });

  test('handlebars helpers with sub-expressions and quotes stay handlebars', () => {
    assert.equal(renderString('{{ length (split s ",") }}|{{regex_replace s "(\\w+)" "<$1>"}}', { s: 'a,b' }), '2|<a>,<b>');
  });

  test('inside {{#each}}: block params, this and item members are visible, then the root', () => {
    const text = '{{#each servers as |s|}}[{{ s.ip | replace(".", "-") }} {{ ip ~ ":" ~ port }} {{ this.ip == s.ip }}]{{/each}}';
    assert.equal(renderString(text, vars), '[10-0-0-1 10.0.0.1:80 True][10-0-0-2 10.0.0.2:80 True]');
    assert.equal(renderString('{{#each groups.web}}{{ this | upper }},{{/each}}', vars), 'WEB1,WEB2,');
    assert.equal(
      renderString('{{#each servers as |s|}}{{#each ../groups.db as |d|}}{{ s.ip ~ "/" ~ d }};{{/each}}{{/each}}', vars),
      '10.0.0.1/db1;10.0.0.2/db1;',
    );
  });

  test('inside {{#if}} and {{else}} branches', () => {
    const text = '{{#if flag}}{{ port + 1 }}{{else}}{{ port - 1 }}{{/if}}';
    assert.equal(renderString(text, vars), '81');
    assert.equal(renderString(text, { ...vars, flag: false }), '79');
  });

  test('a Jinja mustache reads lazily templated variables of a scope, Jinja ones included', () => {
    const scope = buildScope([
      { name: 'play vars', vars: { base: "{{ name | upper }}", url: "http://{{ base ~ '.lan' }}:{{ port + 1 }}", name: 'web', port: 8080 } },
    ]);
    assert.equal(renderValue('{{ url }}', scope), 'http://WEB.lan:8081');
    assert.equal(renderValue("{{ url | replace('http', 'https') }}", scope), 'https://WEB.lan:8081');
  });

  test('renderValue renders Jinja in nested values and keys', () => {
    const out = renderValue({ "{{ a | lower }}": ['{{ port + 1 }}', 'p={{ port * 2 }}'] }, vars);
    assert.deepEqual(out, { a: [81, 'p=160'] });
  });
});

describe('Jinja mustache errors', () => {
  test('an undefined variable names it; default and is defined guard it', () => {
    const err = thrown(() => renderString('v={{ nope + 1 }}', vars));
    assert.equal(err.code, 'UNDEFINED_VARIABLE');
    assert.equal(err.variable, 'nope');
    assert.match(err.message, /undefined variable 'nope'/);
    const attr = thrown(() => renderValue('{{ items[0].nope | upper }}', vars));
    assert.match(attr.message, /undefined variable 'items\[0\]\.nope'/);
    assert.equal(renderValue("{{ nope.deeper | default('z') }}", vars), 'z');
    assert.equal(renderValue('{{ nope is defined and nope > 1 }}', vars), false);
  });

  test('an unknown filter and a type error are TEMPLATE errors', () => {
    assert.match(thrown(() => renderString('{{ x | frobnicate }}', vars)).message, /unknown filter 'frobnicate'/);
    const type = thrown(() => renderString("{{ port + 'a' }}", vars));
    assert.equal(type.code, 'TEMPLATE');
    assert.match(type.message, /unsupported operand types for \+: 'int' and 'str'/);
  });

  test('errors point at file:line:col of the offending part in a YAML file', () => {
    const yaml = [
      '- name: show',
      '  debug:',
      '    msg: "port {{ port + 1 }} and {{ nope | upper }}"',
      '- name: block',
      '  copy:',
      '    content: |',
      '      first {{ x }}',
      "      second {{ groups['web' }}",
      '- name: bad filter',
      "  debug: { msg: \"{{ x | default('a') | frob }}\" }",
      '',
    ].join('\n');
    const file = writeTemp('tasks.yml', yaml);
    const data = loadYamlFile(file) as Array<Record<string, Record<string, string>>>;
    const lines = yaml.split('\n');
    const at = (path: Array<string | number>) => locatePath(data, path);

    const undefinedErr = thrown(() => renderValue(data[0]!.debug, vars, (p) => at([0, 'debug', ...p])));
    assert.deepEqual(undefinedErr.pos, { file, line: 3, col: (lines[2] as string).indexOf('nope') + 1 });
    assert.match(undefinedErr.format(), /> 3 \|.*nope \| upper/);

    const syntaxErr = thrown(() => renderValue(data[1]!.copy, vars, (p) => at([1, 'copy', ...p])));
    assert.equal(syntaxErr.code, 'TEMPLATE');
    assert.match(syntaxErr.message, /syntax error in expression 'groups\['web'': expected '\]'/);
    assert.deepEqual(syntaxErr.pos, { file, line: 8, col: (lines[7] as string).indexOf(" }}") + 2 });

    const filterErr = thrown(() => renderValue(data[2]!.debug, vars, (p) => at([2, 'debug', ...p])));
    assert.deepEqual(filterErr.pos, { file, line: 10, col: (lines[9] as string).indexOf('frob') + 1 });

    // the same positions from the static check, which parses without variables
    const refErr = thrown(() => templateReferences(data[1]!.copy!.content as string, at([1, 'copy', 'content'])));
    assert.deepEqual(refErr.pos, syntaxErr.pos);
  });

  test('a handlebars error after a Jinja mustache keeps its column', () => {
    const line = "msg: \"{{ a ~ 'long text here' ~ b }} {{ missing_var }}\"";
    const file = writeTemp('play.yml', `${line}\n`);
    const err = thrown(() => renderString(line.slice(6, -1), vars, { file, line: 1, col: 6 }));
    assert.equal(err.code, 'UNDEFINED_VARIABLE');
    assert.deepEqual(err.pos, { file, line: 1, col: line.indexOf('missing_var') + 1 });
    const syntax = thrown(() => renderString("{{ a ~ 'x' }} {{#if}}", vars, { file, line: 1, col: 6 }));
    assert.equal(syntax.code, 'TEMPLATE');
    assert.match(syntax.message, /template syntax error/);
  });

  test('a mustache parsing in neither language: the expression error when it has | or (', () => {
    const pipe = thrown(() => renderString('{{ x | }}', vars));
    assert.match(pipe.message, /syntax error in expression 'x \|': expected a filter name/);
    const paren = thrown(() => renderString("{{ x | default('a' }}", vars));
    assert.match(paren.message, /syntax error in expression/);
    const plain = thrown(() => renderString('{{ oops }', vars));
    assert.match(plain.message, /template syntax error/);
  });
});

describe('Jinja mustache safety', () => {
  const cases = ['{{ x.__class__ }}', "{{ ''.__proto__ }}", '{{ constructor }}', "{{ x['constructor'] | string }}", '{{ a.constructor ~ 1 }}', "{{ (x | list).__proto__ }}"];
  for (const text of cases) {
    test(`${text} is a clean error, never code`, () => {
      const err = thrown(() => renderString(text, { x: 'X', a: {} }));
      assert.ok(['TEMPLATE', 'UNDEFINED_VARIABLE'].includes(err.code));
      assert.doesNotMatch(err.message, /function|\[native code\]/);
      assert.throws(() => renderValue(text, { x: 'X', a: {} }), TemplateError);
    });
  }

  test('prototype members are rejected before running', () => {
    assert.match(thrown(() => renderString("{{ ''.__proto__ }}", {})).message, /access to '__proto__' is not allowed/);
    assert.match(thrown(() => renderString("{{ a['constructor'] | string }}", { a: {} })).message, /access to 'constructor' is not allowed/);
  });

  test('method calls are refused; inherited members read as undefined', () => {
    assert.match(thrown(() => renderString("{{ x.upper() }}", vars)).message, /method calls are not supported/);
    assert.match(thrown(() => renderValue('{{ items.map | length }}', vars)).message, /undefined variable 'items\.map'/);
  });

  test('the internal helper name cannot be used', () => {
    assert.match(thrown(() => renderString("{{ a ~ b }}{{__tsplay_jinja__ 0}}", vars)).message, /is reserved/);
  });

  test('errors do not leak secret values', () => {
    const err = thrown(() => renderString('{{ password.x | upper }}', { password: 'hunter2' }));
    assert.doesNotMatch(err.message, /hunter2/);
  });
});

describe('templateReferences with Jinja mustaches', () => {
  test('guarded reads are left out, others are reported in order', () => {
    assert.deepEqual(templateReferences('{{ x | default(1) }}'), []);
    assert.deepEqual(templateReferences("{{ groups['web'] | join(',') }} {{ a ~ '-' ~ b }} {{ port + 1 }}"), ['groups', 'a', 'b', 'port']);
    assert.deepEqual(templateReferences("{{ 'yes' if flag else other }}"), ['flag', 'other']);
    assert.deepEqual(templateReferences('{{ y is defined and y > 1 }} {{ items[idx].name }}'), ['items', 'idx']);
  });

  test('mixed with handlebars, guards of {{#if}} apply, names inside {{#each}} are not reported', () => {
    const text = '{{ h }} {{ j | upper }} {{#if g}}{{ g ~ k }}{{/if}} {{#each list as |it|}}{{ it.x ~ name }}{{/each}}';
    assert.deepEqual(templateReferences(text), ['h', 'j', 'k', 'list']);
  });
});
