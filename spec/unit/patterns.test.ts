import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../engine/inventory/load.js';
import { checkHostPattern, parseLimit, selectWithLimit, splitHostPattern } from '../../engine/inventory/patterns.js';
import { ParseError } from '../../engine/errors.js';
import { makeTempDir } from '../helpers/temp-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
// bastion (ungrouped); web: web01 web02 web03 web-extra.example.com; db: db-a db-b; lb: lb01;
// prod: children web, db. `all`'s children: ungrouped, lb, prod.
const inv = loadInventory([join(here, '..', 'fixtures', 'inventory', 'ini-full', 'hosts')]);
const WEB = ['web01', 'web02', 'web03', 'web-extra.example.com'];

function patternError(pattern: string, message: RegExp): void {
  assert.throws(
    () => inv.select(pattern),
    (err: unknown) => err instanceof ParseError && err.code === 'HOST_PATTERN' && message.test(err.message) && err.message.includes(pattern),
  );
}

describe('splitting patterns', () => {
  test('commas, colons and whitespace separate terms; addresses and slices stay whole', () => {
    assert.deepEqual(splitHostPattern('a,b[1], c[2:3] , d'), ['a', 'b[1]', 'c[2:3]', 'd']);
    assert.deepEqual(splitHostPattern('web:&prod:!db'), ['web', '&prod', '!db']);
    assert.deepEqual(splitHostPattern('web db'), ['web', 'db']);
    assert.deepEqual(splitHostPattern('web[0:2]'), ['web[0:2]']);
    assert.deepEqual(splitHostPattern('fe80::1'), ['fe80::1']);
    assert.deepEqual(splitHostPattern('web[0:2]:db'), ['web[0:2]', 'db']);
    assert.deepEqual(splitHostPattern(['a:b', 'c']), ['a', 'b', 'c']);
  });
});

describe('selecting hosts', () => {
  test('all and * walk the group tree the way Ansible does', () => {
    const all = ['bastion', 'lb01', ...WEB, 'db-a', 'db-b'];
    assert.deepEqual(inv.select('all'), all);
    assert.deepEqual(inv.select('*'), all);
  });

  test('group names, host names, and unions in the order written', () => {
    assert.deepEqual(inv.select('web'), WEB);
    assert.deepEqual(inv.select('db:web'), ['db-a', 'db-b', ...WEB]);
    assert.deepEqual(inv.select('db,web01,db-a'), ['db-a', 'db-b', 'web01']);
    assert.deepEqual(inv.select('prod'), [...WEB, 'db-a', 'db-b']);
    assert.deepEqual(inv.select('ungrouped'), ['bastion']);
  });

  test('exclusion and intersection apply after the unions, whatever their place', () => {
    assert.deepEqual(inv.select('prod:!db'), WEB);
    assert.deepEqual(inv.select('!db:prod'), WEB);
    assert.deepEqual(inv.select('all:&prod:!web'), ['db-a', 'db-b']);
    assert.deepEqual(inv.select('&web'), WEB); // only modifiers: applied to all
    assert.deepEqual(inv.select('!prod'), ['bastion', 'lb01']);
    assert.deepEqual(inv.select('web:db:&prod:!~web0[12]'), ['web03', 'web-extra.example.com', 'db-a', 'db-b']);
    // as in Ansible, a trailing [digits] is a subscript, not a character class: 'web0' item 12
    assert.deepEqual(inv.select('web0[12]'), []);
  });

  test('globs match group names and host names (fnmatch: * crosses dots, case matters)', () => {
    assert.deepEqual(inv.select('web0*'), ['web01', 'web02', 'web03']);
    assert.deepEqual(inv.select('*.example.com'), ['web-extra.example.com']);
    assert.deepEqual(inv.select('d?'), ['db-a', 'db-b']); // the group db
    assert.deepEqual(inv.select('db-[!a]'), ['db-b']);
    assert.deepEqual(inv.select('WEB*'), []);
  });

  test('~regex matches from the start, like Python re.match', () => {
    assert.deepEqual(inv.select('~web0[13]'), ['web01', 'web03']);
    assert.deepEqual(inv.select('~eb0'), []);
    assert.deepEqual(inv.select('~(?i)LB'), ['lb01']);
    assert.deepEqual(inv.select('~(?P<n>db)-[ab]'), ['db-a', 'db-b']);
  });

  test('subscripts: index, negative index, inclusive slices, open-ended slices', () => {
    assert.deepEqual(inv.select('web[0]'), ['web01']);
    assert.deepEqual(inv.select('web[-1]'), ['web-extra.example.com']);
    assert.deepEqual(inv.select('web[0:2]'), ['web01', 'web02', 'web03']);
    assert.deepEqual(inv.select('web[1:]'), ['web02', 'web03', 'web-extra.example.com']);
    assert.deepEqual(inv.select('web[1:1]'), ['web02']);
    assert.deepEqual(inv.select('prod:!web[0]'), ['web02', 'web03', 'web-extra.example.com', 'db-a', 'db-b']);
    assert.deepEqual(inv.select('nosuch[0]'), []);
  });

  test('a pattern matching nothing selects nothing', () => {
    assert.deepEqual(inv.select('nosuch'), []);
    assert.deepEqual(inv.select('web:&db'), []);
  });

  test('localhost is implicit: selectable by name, never part of all', () => {
    assert.deepEqual(inv.select('localhost'), ['localhost']);
    assert.deepEqual(inv.select('web01:localhost'), ['web01', 'localhost']);
    assert.ok(!inv.select('all').includes('localhost'));
    assert.ok(!inv.select('*').includes('localhost'));
  });

  test('a list of patterns is their union', () => {
    assert.deepEqual(inv.select(['lb', 'db'] as unknown as string), ['lb01', 'db-a', 'db-b']);
  });
});

describe('malformed patterns are HOST_PATTERN errors naming the pattern', () => {
  test('unbalanced brackets', () => {
    patternError('web[0', /unbalanced '\['/);
    patternError('web,db[1', /unbalanced '\['/);
    patternError('web]', /unbalanced '\]'/);
  });

  test('a bad regular expression', () => {
    patternError('~web(', /bad regular expression/);
  });

  test('a bad subscript', () => {
    patternError('web[1:2:3]', /bad subscript/);
    patternError('web[:3]', /bad subscript/);
    patternError('web[-1:2]', /bad subscript/);
  });

  test('an index past the end', () => {
    patternError('web[9]', /No hosts matched the subscripted pattern/);
  });

  test('a lone modifier', () => {
    patternError('web:!', /names nothing/);
  });

  test('checkHostPattern validates without an inventory', () => {
    assert.doesNotThrow(() => checkHostPattern('web:&prod:!db[0]'));
    assert.throws(() => checkHostPattern('web[0'), ParseError);
  });
});

describe('--limit', () => {
  const dir = makeTempDir('tsplay-limit-');
  mkdirSync(join(dir, 'retry'));
  writeFileSync(join(dir, 'retry', 'site.retry'), 'web02\ndb-b\n\n');
  writeFileSync(join(dir, 'empty.retry'), '\n');

  test('@file reads one host a line, relative to cwd; other terms are kept', () => {
    assert.equal(parseLimit('@retry/site.retry', dir), 'web02,db-b');
    assert.equal(parseLimit(`lb01,@${join(dir, 'retry', 'site.retry')}`, '/'), 'lb01,web02,db-b');
    assert.equal(parseLimit('web:!web01', dir), 'web:!web01');
    assert.deepEqual(selectWithLimit(inv, 'all', parseLimit('@retry/site.retry', dir)), ['web02', 'db-b']);
  });

  test('an empty retry file limits to no host at all', () => {
    assert.deepEqual(selectWithLimit(inv, 'all', parseLimit('@empty.retry', dir)), []);
  });

  test('a missing limit file or a directory is an error', () => {
    assert.throws(() => parseLimit('@nope.retry', dir), (err: unknown) => err instanceof ParseError && /Unable to find limit file .*nope\.retry/.test(err.message));
    assert.throws(() => parseLimit('@retry', dir), /must be a file, not a directory/);
  });

  test('a limit keeps the pattern\'s order', () => {
    assert.deepEqual(selectWithLimit(inv, 'db:web', 'web01,db-b'), ['db-b', 'web01']);
    assert.deepEqual(selectWithLimit(inv, 'web', undefined), WEB);
  });
});
