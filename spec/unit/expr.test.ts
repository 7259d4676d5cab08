import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExpressionError } from '../../engine/vars/errors.js';
import { evaluateExpression } from '../../engine/vars/expr/evaluate.js';
import { evaluateCondition } from '../../engine/vars/condition.js';
import { expressionReferences } from '../../engine/vars/references.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const vars = {
  a: 1,
  b: 2,
  s: 'Hello',
  l: [1, 2, 3],
  d: { k: 'v', n: { m: 5 } },
  ok_result: { failed: false, changed: true, rc: 0 },
  bad_result: { failed: true, changed: false, rc: 2 },
  skipped_result: { skipped: true, changed: false },
  yes_word: 'yes',
  no_word: 'no',
  nothing: null,
  empty: [],
};
const e = (expr: string, v: object = vars) => evaluateExpression(expr, v);

function thrown(fn: () => unknown): ExpressionError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ExpressionError, `expected an ExpressionError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected an error');
}

describe('operators and precedence', () => {
  test('arithmetic with Jinja precedence', () => {
    assert.equal(e('1 + 2 * 3'), 7);
    assert.equal(e('(1 + 2) * 3'), 9);
    assert.equal(e('7 / 2'), 3.5);
    assert.equal(e('7 // 2'), 3);
    assert.equal(e('-7 // 2'), -4);
    assert.equal(e('-7 % 3'), 2);
    assert.equal(e('2 ** 10'), 1024);
    assert.equal(e('10 - 2 - 3'), 5);
    assert.equal(e('-3 | abs'), 3);
    // Jinja: * binds tighter than ~, which binds tighter than +
    assert.equal(e('1 ~ 2 * 3'), '16');
    assert.match(thrown(() => e('1 + 2 ~ 3')).message, /unsupported operand types for \+: 'int' and 'str'/);
  });

  test('string and list +, * repetition, ~ concatenation', () => {
    assert.equal(e("'a' + 'b'"), 'ab');
    assert.deepEqual(e('l + [4]'), [1, 2, 3, 4]);
    assert.equal(e("'ab' * 2"), 'abab');
    assert.equal(e("'v' ~ 1 ~ true ~ none"), 'v1TrueNone');
    assert.equal(thrown(() => e("'a' + 1")).code, 'EXPRESSION');
  });

  test('comparisons, chained comparisons, in, not in', () => {
    assert.equal(e('a == 1 and b != 1'), true);
    assert.equal(e('a < b <= 2'), true);
    assert.equal(e('1 < a < 3'), false);
    assert.equal(e("'b' > 'a'"), true);
    assert.equal(e('a in l'), true);
    assert.equal(e('4 not in l'), true);
    assert.equal(e("'ell' in s"), true);
    assert.equal(e("'k' in d"), true);
    assert.equal(e('[1, [2]] == [1, [2]]'), true);
    assert.equal(e("{'x': 1} == {'x': 1}"), true);
    assert.equal(e("'1' == 1"), false);
    assert.match(thrown(() => e("1 < 'a'")).message, /'<' not supported between 'int' and 'str'/);
  });

  test('and/or/not precedence and Python results', () => {
    assert.equal(e('not a == 1'), false);
    assert.equal(e('True or False and False'), true);
    assert.equal(e('(True or False) and False'), false);
    assert.equal(e('not not 0'), false);
    assert.equal(e("0 or 'x'"), 'x');
    assert.equal(e("'' and 'x'"), '');
  });

  test('ternary, literals, attribute and index access, slices', () => {
    assert.equal(e("'yes' if a == 1 else 'no'"), 'yes');
    assert.equal(e("'yes' if a == 2 else 'no'"), 'no');
    assert.deepEqual(e("{'a': [1, 2.5, 'x', \"y\\n\", none, None, null, True, false]}"), { a: [1, 2.5, 'x', 'y\n', null, null, null, true, false] });
    assert.equal(e('d.n.m'), 5);
    assert.equal(e("d['n']['m']"), 5);
    assert.equal(e('l[0] + l[-1]'), 4);
    assert.equal(e('l.1'), 2);
    assert.deepEqual(e('l[1:]'), [2, 3]);
    assert.equal(e('s[:2]'), 'He');
  });

  test('a {{ }} wrapper around the whole expression is ignored', () => {
    assert.equal(e('{{ a == 1 }}'), true);
    assert.equal(e('  {{ l | length }}  '), 3);
  });
});

describe('tests (is ...)', () => {
  test('defined, undefined, not defined, on names and attribute chains', () => {
    assert.equal(e('a is defined'), true);
    assert.equal(e('zz is defined'), false);
    assert.equal(e('zz is undefined'), true);
    assert.equal(e('zz is not defined'), true);
    assert.equal(e('zz.x.y is defined'), false);
    assert.equal(e('d.zz is defined'), false);
    assert.equal(e('d.n is defined'), true);
  });

  test('none, true, false and type tests', () => {
    assert.equal(e('nothing is none'), true);
    assert.equal(e('a is not none'), true);
    assert.equal(e('(a == 1) is true'), true);
    assert.equal(e('(a == 2) is false'), true);
    assert.equal(e('s is string'), true);
    assert.equal(e('a is number'), true);
    assert.equal(e('d is mapping'), true);
    assert.equal(e('l is iterable and l is sequence'), true);
    assert.equal(e('l is mapping'), false);
    assert.equal(e('zz is string'), false);
  });

  test('succeeded, failed, changed, skipped on registered results', () => {
    assert.equal(e('ok_result is succeeded'), true);
    assert.equal(e('ok_result is changed'), true);
    assert.equal(e('bad_result is failed'), true);
    assert.equal(e('bad_result is not succeeded'), true);
    assert.equal(e('skipped_result is skipped'), true);
    assert.equal(e('ok_result is skipped'), false);
    assert.match(thrown(() => e('s is failed')).message, /expects a registered task result/);
  });

  test('match (anchored), search, regex, version, divisibleby', () => {
    assert.equal(e("s is match('He')"), true);
    assert.equal(e("s is match('ell')"), false);
    assert.equal(e("s is search('ell')"), true);
    assert.equal(e("s is match('hello', ignorecase=true)"), true);
    assert.equal(e("s is regex('l{2}')"), true);
    assert.equal(e("v is version('20.04', '>=')", { v: '22.04' }), true);
    assert.equal(e("v is version('1.9', '>')", { v: '1.10' }), true);
    assert.equal(e('9 is divisibleby 3'), true);
    assert.equal(e("'A' is upper"), true);
  });

  test('an unknown test is an error naming it', () => {
    assert.match(thrown(() => e('a is bogus')).message, /unknown test 'bogus'/);
  });
});

describe('filters', () => {
  test('conversions', () => {
    assert.equal(e("'yes' | bool"), true);
    assert.equal(e("'off' | bool"), false);
    assert.equal(e("'5' | int + 1"), 6);
    assert.equal(e("'2.5' | float"), 2.5);
    assert.equal(e("'x' | int"), 0);
    assert.equal(e('1.9 | int'), 1);
    assert.equal(e('a | string'), '1');
    assert.equal(e('true | string'), 'True');
  });

  test('strings', () => {
    assert.equal(e('s | lower'), 'hello');
    assert.equal(e('s | upper'), 'HELLO');
    assert.equal(e("'  x ' | trim"), 'x');
    assert.equal(e('s | length'), 5);
    assert.equal(e("s | regex_search('l+')"), 'll');
    assert.equal(e("s | regex_replace('l+', 'L')"), 'HeLo');
    assert.equal(e("s | replace('l', '_')"), 'He__o');
    assert.deepEqual(e("'a,b' | split(',')"), ['a', 'b']);
  });

  test('default / d: undefined and none, falsy with true', () => {
    assert.equal(e('zz | default(5)'), 5);
    assert.equal(e("zz.x | d('x')"), 'x');
    assert.equal(e('nothing | default(3)'), 3);
    assert.equal(e("'' | default(3)"), '');
    assert.equal(e("'' | default(3, true)"), 3);
    assert.equal(e('a | default(3)'), 1);
  });

  test('lists', () => {
    assert.equal(e('l | length'), 3);
    assert.equal(e("l | join('-')"), '1-2-3');
    assert.equal(e('l | first'), 1);
    assert.equal(e('l | last'), 3);
    assert.deepEqual(e('[3, 1, 2, 1] | unique | sort'), [1, 2, 3]);
    assert.deepEqual(e('[3, 1, 2] | sort(reverse=true)'), [3, 2, 1]);
    assert.deepEqual(e('d | list'), ['k', 'n']);
    assert.deepEqual(e("l | select('odd') | list"), [1, 3]);
    assert.deepEqual(e("l | reject('odd')"), [2]);
    assert.deepEqual(e("l | map('string') | join(',')"), '1,2,3');
    assert.deepEqual(e("[{'n': 1}, {'n': 2}] | map(attribute='n') | list"), [1, 2]);
    assert.deepEqual(e("[{'on': true, 'n': 1}, {'on': false, 'n': 2}] | selectattr('on') | map(attribute='n') | list"), [1]);
    assert.equal(e('l | sum'), 6);
    assert.equal(e('l | max'), 3);
  });

  test('an unknown filter is an error naming it', () => {
    assert.match(thrown(() => e('a | bogus')).message, /unknown filter 'bogus'/);
  });
});

describe('errors', () => {
  test('an undefined name is UNDEFINED_VARIABLE naming it, exit code 4', () => {
    const err = thrown(() => e('zz == 1'));
    assert.equal(err.code, 'UNDEFINED_VARIABLE');
    assert.equal(err.exitCode, 4);
    assert.equal(err.variable, 'zz');
    assert.match(err.message, /undefined variable 'zz'/);
  });

  test('a missing attribute names the path and its holder', () => {
    assert.match(thrown(() => e('d.n.zz + 1')).message, /undefined variable 'd\.n\.zz': 'd\.n' has no attribute 'zz'/);
  });

  test('a syntax error is EXPRESSION with the column in the file', () => {
    const line = "    when: result.rc == and x";
    const dir = makeTempDir('tsplay-expr-');
    const file = join(dir, 'tasks.yml');
    writeFileSync(file, `- name: x\n${line}\n`);
    const err = thrown(() => evaluateExpression('result.rc == and x', { result: { rc: 0 } }, { file, line: 2, col: 11 }));
    assert.equal(err.code, 'EXPRESSION');
    assert.match(err.message, /syntax error in expression 'result\.rc == and x': unexpected 'and'/);
    assert.deepEqual(err.pos, { file, line: 2, col: line.indexOf('and') + 1 });
  });

  test('the column of an undefined name is found, also in a quoted value', () => {
    const line = `    when: "a == 1 and nope"`;
    const dir = makeTempDir('tsplay-expr-');
    const file = join(dir, 'tasks.yml');
    writeFileSync(file, `- name: x\n${line}\n`);
    const err = thrown(() => evaluateExpression('a == 1 and nope', { a: 1 }, { file, line: 2, col: 11 }));
    assert.deepEqual(err.pos, { file, line: 2, col: line.indexOf('nope') + 1 });
  });

  test('division by zero and bad operands are clean errors', () => {
    assert.match(thrown(() => e('1 / 0')).message, /division by zero/);
    assert.match(thrown(() => e('-s')).message, /bad operand type/);
    assert.match(thrown(() => e("a in 5")).message, /not iterable/);
  });
});

describe('safety: no prototypes, no globals, no calls', () => {
  const undefinedNames = ['constructor', '__proto__', 'process', 'globalThis', 'require', 'Function', 'eval', 'this', 'toString'];
  for (const name of undefinedNames) {
    test(`'${name}' is an undefined variable`, () => {
      const err = thrown(() => e(name, {}));
      assert.equal(err.code, 'UNDEFINED_VARIABLE');
      assert.equal(e(`${name} is defined`, {}), false);
    });
  }

  test('prototype members of values are undefined', () => {
    for (const expr of ['"".__proto__', '[].map', 'd.constructor', "d['__proto__']", 's.constructor', 'l.push', "d['hasOwnProperty']", 's.length']) {
      const err = thrown(() => e(expr));
      assert.equal(err.code, 'UNDEFINED_VARIABLE', expr);
      assert.equal(e(`${expr} is defined`), false, expr);
    }
  });

  test('calls are impossible by grammar', () => {
    for (const expr of ["x.constructor.constructor('return process')()", 'a()', "s.upper()", '(a)(1)', 'l[0]()']) {
      const err = thrown(() => e(expr, { x: {}, a: 1, s: 's', l: [1] }));
      assert.equal(err.code, 'EXPRESSION', expr);
      assert.match(err.message, /calls are not supported/, expr);
    }
  });

  test('a dict literal with a __proto__ key does not change a prototype', () => {
    const out = e("{'__proto__': {'polluted': 1}}") as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('evaluateCondition', () => {
  test('booleans, strings and lists (all must hold)', () => {
    assert.equal(evaluateCondition(true, vars), true);
    assert.equal(evaluateCondition(false, vars), false);
    assert.equal(evaluateCondition('a == 1', vars), true);
    assert.equal(evaluateCondition(['a == 1', 'b == 2'], vars), true);
    assert.equal(evaluateCondition(['a == 1', 'b == 3'], vars), false);
    assert.equal(evaluateCondition([], vars), true);
  });

  test('a list stops at the first false item (later items are not evaluated)', () => {
    assert.equal(evaluateCondition(['zz is defined', 'zz.x == 1'], vars), false);
  });

  test('Jinja truthiness of results', () => {
    assert.equal(evaluateCondition('empty', vars), false);
    assert.equal(evaluateCondition('l', vars), true);
    assert.equal(evaluateCondition('nothing', vars), false);
    assert.equal(evaluateCondition('0', vars), false);
  });

  test('a string result decides like |bool words', () => {
    assert.equal(evaluateCondition('yes_word', vars), true);
    assert.equal(evaluateCondition('no_word', vars), false);
    assert.equal(evaluateCondition('{{ no_word }}', vars), false);
    assert.equal(evaluateCondition("'false'", vars), false);
    assert.equal(evaluateCondition("'True'", vars), true);
    assert.equal(evaluateCondition('s', vars), true);
  });

  test('an undefined variable fails the condition with its position from the list', () => {
    const err = thrown(() => evaluateCondition(['a == 1', 'zz'], vars, (i) => ({ file: '/nonexistent.yml', line: 10 + i, col: 9 })));
    assert.equal(err.code, 'UNDEFINED_VARIABLE');
    assert.deepEqual(err.pos, { file: '/nonexistent.yml', line: 11, col: 9 });
  });
});

describe('expressionReferences', () => {
  test('root names that must be defined, in order', () => {
    assert.deepEqual(expressionReferences("a.b == c['d'] and e | length > f"), ['a', 'c', 'e', 'f']);
  });

  test('is defined / is undefined / default guard a name', () => {
    assert.deepEqual(expressionReferences('x is defined'), []);
    assert.deepEqual(expressionReferences('x.y is not defined'), []);
    assert.deepEqual(expressionReferences('x | default(y)'), ['y']);
    assert.deepEqual(expressionReferences('v[idx] is defined'), ['idx']);
  });

  test('a guard earlier in and/or/ternary covers later uses', () => {
    assert.deepEqual(expressionReferences('x is defined and x > 1'), []);
    assert.deepEqual(expressionReferences('x is undefined or x.y == 1'), []);
    assert.deepEqual(expressionReferences('x is not defined or x == 1'), []);
    assert.deepEqual(expressionReferences('x if x is defined else y'), ['y']);
    assert.deepEqual(expressionReferences('x > 1 and x is defined'), ['x']);
    assert.deepEqual(expressionReferences('x is defined or x > 1'), ['x']);
  });

  test('a syntax error is thrown', () => {
    assert.equal(thrown(() => expressionReferences('a ==')).code, 'EXPRESSION');
  });
});
