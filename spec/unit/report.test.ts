import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { colorEnabled, createColors, noColors, stripAnsi, colorsFromFlag } from '../../engine/report/color.js';
import { renderDiff } from '../../engine/report/diff.js';
import { formatRecap } from '../../engine/report/recap.js';
import { banner } from '../../engine/report/banner.js';
import { pythonJson } from '../../engine/report/pyjson.js';
import { PlainReporter } from '../../engine/report/plain.js';
import { JsonReporter } from '../../engine/report/json.js';
import { TtyReporter } from '../../engine/report/tty.js';
import { createReporter } from '../../engine/report/select.js';
import { wrapText } from '../../engine/report/wrap.js';
import { emptyStats, type HostStats, type RunEvent } from '../../engine/report/events.js';

const fixtureDir = new URL('../fixtures/report/', import.meta.url);
const runEvents = JSON.parse(readFileSync(new URL('run-events.json', fixtureDir), 'utf8')) as RunEvent[];
const expectedPlainDiff = readFileSync(new URL('expected-plain-diff.txt', fixtureDir), 'utf8');

const ESC = '\u001b';
const green = (s: string) => `${ESC}[0;32m${s}${ESC}[0m`;
const yellow = (s: string) => `${ESC}[0;33m${s}${ESC}[0m`;
const red = (s: string) => `${ESC}[0;31m${s}${ESC}[0m`;
const cyan = (s: string) => `${ESC}[0;36m${s}${ESC}[0m`;

/** A stream stand-in that keeps what was written. */
function collector(isTTY = false) {
  const chunks: string[] = [];
  return {
    isTTY,
    write(s: string) {
      chunks.push(s);
      return true;
    },
    get text() {
      return chunks.join('');
    },
  };
}

function replay(reporter: { onEvent?(e: RunEvent): void }, events: RunEvent[]) {
  for (const e of events) reporter.onEvent?.(e);
}

let clock = 1000;
function ev<K extends RunEvent['kind']>(kind: K, fields: Omit<Extract<RunEvent, { kind: K }>, 'kind' | 'time'>): RunEvent {
  return { kind, time: clock++, ...fields } as unknown as RunEvent;
}

function stats(partial: Partial<HostStats>): HostStats {
  return { ...emptyStats(), ...partial };
}

describe('colours', () => {
  test('NO_COLOR, FORCE_COLOR, TERM=dumb and the TTY decide', () => {
    assert.equal(colorEnabled({ isTTY: true }, {}), true);
    assert.equal(colorEnabled({ isTTY: false }, {}), false);
    assert.equal(colorEnabled({}, {}), false);
    assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(colorEnabled({ isTTY: true }, { NO_COLOR: '' }), true, 'empty NO_COLOR is ignored');
    assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '' }), true);
    assert.equal(colorEnabled({ isTTY: true }, { FORCE_COLOR: '0' }), false);
    assert.equal(colorEnabled({ isTTY: true }, { FORCE_COLOR: 'false' }), false);
    assert.equal(colorEnabled({ isTTY: false }, { FORCE_COLOR: '1', NO_COLOR: 'x' }), false, 'NO_COLOR wins');
    assert.equal(colorEnabled({ isTTY: true }, { TERM: 'dumb' }), false);
  });

  test("Ansible's default colour codes, each line wrapped on its own", () => {
    const c = colorsFromFlag(true);
    assert.equal(c.ok('ok: [a]'), green('ok: [a]'));
    assert.equal(c.changed('x'), yellow('x'));
    assert.equal(c.error('x'), red('x'));
    assert.equal(c.unreachable('x'), `${ESC}[1;31mx${ESC}[0m`);
    assert.equal(c.skip('x'), cyan('x'));
    assert.equal(c.warn('x'), `${ESC}[1;35mx${ESC}[0m`);
    assert.equal(c.ok('a\nb'), `${green('a')}\n${green('b')}`);
    assert.equal(createColors({ isTTY: false }, {}).ok('a'), 'a');
    assert.equal(stripAnsi(c.changed('a\nb')), 'a\nb');
  });
});

describe('renderDiff', () => {
  test('a unified diff with Ansible headers and 3 lines of context', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', ''].join('\n');
    const after = ['a', 'b', 'c', 'd', 'E', 'f', 'g', 'h', 'i', 'j', 'k', ''].join('\n');
    assert.equal(
      renderDiff({ before, after, beforeHeader: '/etc/app.conf', afterHeader: '/etc/app.conf' }, noColors),
      [
        '--- before: /etc/app.conf',
        '+++ after: /etc/app.conf',
        '@@ -2,9 +2,10 @@',
        ' b',
        ' c',
        ' d',
        '-e',
        '+E',
        ' f',
        ' g',
        ' h',
        ' i',
        ' j',
        '+k',
        '',
      ].join('\n'),
    );
  });

  test('separate hunks when changes are more than 6 lines apart', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line${i + 1}`);
    const changed = [...lines];
    changed[1] = 'X';
    changed[17] = 'Y';
    const out = renderDiff({ before: lines.join('\n') + '\n', after: changed.join('\n') + '\n' }, noColors);
    assert.deepEqual(
      out.split('\n').filter((l) => l.startsWith('@@')),
      ['@@ -1,5 +1,5 @@', '@@ -15,6 +15,6 @@'],
    );
    assert.ok(out.startsWith('--- before\n+++ after\n'), 'default headers are before/after');
  });

  test('"\\ No newline at end of file" and one-line ranges like difflib', () => {
    assert.equal(
      renderDiff({ before: 'x', after: 'y\n' }, noColors),
      '--- before\n+++ after\n@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+y\n',
    );
    assert.equal(
      renderDiff({ before: 'a\nb\n', after: 'a\nb' }, noColors),
      '--- before\n+++ after\n@@ -1,2 +1,2 @@\n a\n-b\n+b\n\\ No newline at end of file\n',
    );
  });

  test('a new file and a removed file', () => {
    assert.equal(renderDiff({ before: '', after: 'one\ntwo\n' }, noColors), '--- before\n+++ after\n@@ -0,0 +1,2 @@\n+one\n+two\n');
    assert.equal(renderDiff({ before: 'one\n', after: '' }, noColors), '--- before\n+++ after\n@@ -1 +0,0 @@\n-one\n');
  });

  test('identical texts render nothing', () => {
    assert.equal(renderDiff({ before: 'same\n', after: 'same\n', beforeHeader: '/x' }, noColors), '');
    assert.equal(renderDiff({ before: '', after: '' }, noColors), '');
  });

  test('colours: + green, - red, @@ cyan, context plain, the marker like its line', () => {
    const out = renderDiff({ before: 'keep\nold', after: 'keep\nnew\n' }, colorsFromFlag(true));
    assert.deepEqual(out.split('\n'), [
      red('--- before'),
      green('+++ after'),
      cyan('@@ -1,2 +1,2 @@'),
      ' keep',
      red('-old'),
      red('\\ No newline at end of file'),
      green('+new'),
      '',
    ]);
  });
});

describe('banner and recap', () => {
  test('banners are 80 characters off a terminal, at least 3 stars', () => {
    const line = banner('TASK [install]').split('\n')[1]!;
    assert.equal(line.length, 80);
    assert.match(line, /^TASK \[install\] \*+$/);
    assert.equal(banner('x'.repeat(100)).trimEnd().slice(-4), ' ***');
    assert.ok(banner('PLAY [a]').startsWith('\n'), 'a blank line before each banner');
  });

  test("recap columns match ansible-playbook's", () => {
    const text = formatRecap(
      {
        'web2.example.com': stats({ ok: 12, changed: 3, skipped: 1 }),
        db1: stats({ unreachable: 1 }),
      },
      noColors,
    );
    assert.equal(
      text,
      '\nPLAY RECAP *********************************************************************\n' +
        'db1                        : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   \n' +
        'web2.example.com           : ok=12   changed=3    unreachable=0    failed=0    skipped=1    rescued=0    ignored=0   \n' +
        '\n',
    );
  });

  test('coloured recap: host by worst outcome, only non-zero counters, same alignment', () => {
    const s = {
      bad: stats({ ok: 1, failed: 2, ignored: 1 }),
      changer: stats({ ok: 2, changed: 1, rescued: 1 }),
      good: stats({ ok: 3 }),
    };
    const colored = formatRecap(s, colorsFromFlag(true));
    assert.equal(stripAnsi(colored), formatRecap(s, noColors));
    const [bad, changer, good] = colored.split('\n').slice(2, 5);
    assert.ok(bad!.startsWith(red('bad') + ' '.repeat(23) + ' : '));
    assert.ok(bad!.includes(red('failed=2   ')));
    assert.ok(bad!.includes(`${ESC}[1;35mignored=1   ${ESC}[0m`));
    assert.ok(bad!.includes(' changed=0    '), 'zero counters stay uncoloured');
    assert.ok(changer!.startsWith(yellow('changer')));
    assert.ok(changer!.includes(green('rescued=1   ')));
    assert.ok(good!.startsWith(green('good')));
  });
});

describe('pythonJson', () => {
  test("json.dumps(sort_keys=True) spacing and order", () => {
    assert.equal(pythonJson({ b: [1, 'x', null], a: { d: true, c: {} }, e: [] }), '{"a": {"c": {}, "d": true}, "b": [1, "x", null], "e": []}');
    assert.equal(pythonJson({ msg: 'héllo "q"\n' }), '{"msg": "héllo \\"q\\"\\n"}');
    assert.equal(pythonJson({ b: 1, a: [1, { z: 2 }] }, 4), '{\n    "a": [\n        1,\n        {\n            "z": 2\n        }\n    ],\n    "b": 1\n}');
  });
});

describe('PlainReporter', () => {
  test('the scripted run prints exactly the expected ansible-playbook text', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: noColors, verbosity: 0, showDiff: true }), runEvents);
    assert.equal(out.text, expectedPlainDiff);
  });

  test('colour only changes escapes, and each line has its status colour', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: colorsFromFlag(true), verbosity: 0, showDiff: true }), runEvents);
    assert.equal(stripAnsi(out.text), expectedPlainDiff);
    const lines = out.text.split('\n');
    assert.ok(lines.includes(green('ok: [web1]')));
    assert.ok(lines.includes(yellow('changed: [web1]')));
    assert.ok(lines.includes(cyan('skipping: [web2]')));
    assert.ok(lines.includes(cyan('...ignoring')));
    assert.ok(lines.some((l) => l.startsWith(`${ESC}[1;31mfatal: [db1]: UNREACHABLE! => `)));
    assert.ok(lines.some((l) => l.startsWith(`${ESC}[0;31mfatal: [web2]: FAILED! => `)));
    assert.ok(lines.includes(red('-worker_processes 1;')));
    assert.ok(lines.includes(cyan('@@ -1,4 +1,5 @@')));
    assert.ok(lines.some((l) => l.startsWith(`${ESC}[1;35m[WARNING]: `)));
  });

  test('NO_COLOR and FORCE_COLOR reach the output through createReporter', () => {
    const forced = collector(false);
    replay(createReporter({ json: false, out: forced as never, verbosity: 0, diff: false, env: { FORCE_COLOR: '1' }, err: forced }), runEvents);
    assert.ok(forced.text.includes(green('ok: [web1]')));
    const piped = collector(false);
    replay(createReporter({ json: false, out: piped as never, verbosity: 0, diff: false, env: {}, err: piped }), runEvents);
    assert.ok(!piped.text.includes(ESC), 'no escapes in a pipe');
    assert.ok(piped.text.includes('\nok: [web1]\n'));
  });

  test('without --diff no diff is printed; diffs only for changed results', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: noColors, verbosity: 0, showDiff: false }), runEvents);
    assert.ok(!out.text.includes('--- before'));
    assert.equal(out.text, expectedPlainDiff.replace(/--- before: [^]*?\n\n(?=changed: \[web1\])/, ''));

    const okWithDiff = collector();
    replay(new PlainReporter({ out: okWithDiff, colors: noColors, verbosity: 0, showDiff: true }), [
      ev('play-start', { name: 'p', hosts: ['h'] }),
      ev('task-start', { taskId: 't', name: 't', hosts: ['h'], handler: false }),
      ev('host-result', { taskId: 't', task: 't', host: 'h', status: 'ok', diff: [{ before: 'a\n', after: 'b\n' }], result: { changed: false } }),
    ]);
    assert.ok(!okWithDiff.text.includes('--- before'));
  });

  test('the diff comes before the changed line, followed by a blank line (as in Ansible)', () => {
    const lines = expectedPlainDiff.split('\n');
    const changed = lines.indexOf('changed: [web1]');
    assert.equal(lines[changed - 1], '');
    assert.equal(lines[changed - 2], ' }');
    assert.ok(lines.indexOf('--- before: /etc/nginx/nginx.conf') < changed);
  });

  test('-v shows results as compact sorted JSON, -vvv indented with task paths', () => {
    const v = collector();
    replay(new PlainReporter({ out: v, colors: noColors, verbosity: 1, showDiff: false }), runEvents);
    assert.ok(v.text.includes('\nok: [web1 -> bastion] => {"changed": false, "rc": 0, "stdout": "v1.17.4+k3s1"}\n'));
    assert.ok(v.text.includes('\nchanged: [web1] => (item=443/tcp) => {"changed": true, "item": "443/tcp"}\n'));
    assert.ok(v.text.includes('\nchanged: [web1] => {"changed": true, "dest": "/etc/nginx/nginx.conf"}\n'), 'internal _keys hidden');
    assert.ok(!v.text.includes('task path:'));
    assert.ok(!v.text.includes('NOTIFIED HANDLER'));

    const vvv = collector();
    replay(new PlainReporter({ out: vvv, colors: noColors, verbosity: 3, showDiff: false }), runEvents);
    assert.ok(vvv.text.includes('\nok: [web1] => {\n    "changed": false\n}\n'));
    assert.ok(vvv.text.includes('\ntask path: roles/nginx-lb/tasks/main.yml:5\n'));
    assert.ok(vvv.text.includes('\nNOTIFIED HANDLER restart nginx for web1\n'));
    assert.ok(vvv.text.startsWith('\nPLAYBOOK: site.yml ****'));
  });

  test('results marked _show print like debug without -v: msg only, indented', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: noColors, verbosity: 0, showDiff: false }), [
      ev('play-start', { name: 'p', hosts: ['h'] }),
      ev('task-start', { taskId: 't', name: 'debug', hosts: ['h'], handler: false }),
      ev('host-result', { taskId: 't', task: 'debug', host: 'h', status: 'ok', result: { changed: false, msg: 'hi', _show: true } }),
      ev('host-result', { taskId: 't', task: 'debug', host: 'h2', status: 'ok', result: { changed: false, version: '1.2', _show: true } }),
    ]);
    assert.ok(out.text.endsWith('\nok: [h] => {\n    "msg": "hi"\n}\nok: [h2] => {\n    "version": "1.2"\n}\n'));
  });

  test('failed items, ...ignoring after an ignored loop, item skip lines', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: noColors, verbosity: 0, showDiff: false }), [
      ev('play-start', { name: '', hosts: ['h'] }),
      ev('task-start', { taskId: 't', name: 'loop', hosts: ['h'], handler: false }),
      ev('host-result', { taskId: 't', task: 'loop', host: 'h', status: 'skipped', item: 'a', result: { changed: false } }),
      ev('host-result', { taskId: 't', task: 'loop', host: 'h', status: 'failed', item: 'b', result: { changed: false, msg: 'boom' } }),
      ev('host-result', { taskId: 't', task: 'loop', host: 'h', status: 'failed', ignored: true, loopSummary: true, result: { changed: false, msg: 'One or more items failed' } }),
    ]);
    assert.equal(
      out.text.split('\n').slice(1).join('\n'),
      'PLAY ***************************************************************************\n\n' +
        'TASK [loop] ********************************************************************\n' +
        'skipping: [h] => (item=a) \n' +
        'failed: [h] (item=b) => {"changed": false, "msg": "boom"}\n' +
        '...ignoring\n',
    );
  });

  test('a loop that produced no items prints its roll-up line', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: noColors, verbosity: 0, showDiff: false }), [
      ev('play-start', { name: 'p', hosts: ['h'] }),
      ev('task-start', { taskId: 't', name: 'loop', hosts: ['h'], handler: false }),
      ev('host-result', { taskId: 't', task: 'loop', host: 'h', status: 'skipped', loopSummary: true, result: { changed: false } }),
    ]);
    assert.ok(out.text.endsWith('\nskipping: [h]\n'));
  });

  test('interleaved tasks (free strategy) repeat the banner; no hosts matched', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: noColors, verbosity: 0, showDiff: false }), [
      ev('play-start', { name: 'free', hosts: ['a', 'b'] }),
      ev('task-start', { taskId: '1', name: 'one', hosts: ['a', 'b'], handler: false }),
      ev('task-start', { taskId: '2', name: 'two', hosts: ['a'], handler: false }),
      ev('host-result', { taskId: '1', task: 'one', host: 'b', status: 'ok', result: { changed: false } }),
      ev('play-start', { name: 'empty', hosts: [] }),
    ]);
    const lines = out.text.split('\n').filter((l) => l !== '');
    assert.deepEqual(lines.map((l) => l.replace(/ \*+$/, '')), [
      'PLAY [free]',
      'TASK [one]',
      'TASK [two]',
      'TASK [one]',
      'ok: [b]',
      'PLAY [empty]',
      'skipping: no hosts matched',
    ]);
  });

  test('warnings go to err, wrapped to 79 columns, each text once', () => {
    const out = collector();
    const err = collector();
    const long = 'word '.repeat(30).trim();
    replay(new PlainReporter({ out, err, colors: noColors, verbosity: 0, showDiff: false }), [
      ev('warning', { message: long }),
      ev('warning', { message: long }),
      ev('warning', { message: 'Could not match supplied host pattern, ignoring: nosuch', host: 'web1' }),
    ]);
    assert.equal(out.text, '');
    const lines = err.text.trimEnd().split('\n');
    assert.ok(lines.every((l) => l.length <= 79));
    assert.equal(lines[0], '[WARNING]: ' + 'word '.repeat(13).trim());
    assert.equal(err.text.split('[WARNING]').length - 1, 2, 'the repeated text is printed once');
    assert.ok(err.text.endsWith('[WARNING]: [web1] Could not match supplied host pattern, ignoring: nosuch\n'));
  });

  test('check mode marks banners like check_mode_markers', () => {
    const out = collector();
    replay(new PlainReporter({ out, colors: noColors, verbosity: 0, showDiff: false }), [
      ev('run-start', { playbook: 'site.yml', check: true, diff: false }),
      ev('play-start', { name: 'p', hosts: ['h'] }),
      ev('task-start', { taskId: 't', name: 'copy', hosts: ['h'], handler: false }),
    ]);
    const titles = out.text.split('\n').filter((l) => l !== '').map((l) => l.replace(/ \*+$/, ''));
    assert.deepEqual(titles, ['DRY RUN', 'PLAY [p] [CHECK MODE]', 'TASK [copy] [CHECK MODE]']);
    const off = collector();
    replay(new PlainReporter({ out: off, colors: noColors, verbosity: 0, showDiff: false, check: false }), [
      ev('run-start', { playbook: 'site.yml', check: true, diff: false }),
      ev('play-start', { name: 'p', hosts: ['h'] }),
    ]);
    assert.ok(!off.text.includes('CHECK MODE'));
  });

  test('wrapText breaks like textwrap.wrap, cutting words longer than a line', () => {
    assert.deepEqual(wrapText('aaa bbb   ccc', 7), ['aaa bbb', 'ccc']);
    assert.deepEqual(wrapText('x ' + 'y'.repeat(10), 6), ['x yyyy', 'yyyyyy']);
  });
});

describe('JsonReporter', () => {
  test('one parseable line per event, exactly the event, then the summary', () => {
    const out = collector();
    replay(new JsonReporter({ out }), runEvents);
    const lines = out.text.split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    assert.equal(lines.length, runEvents.length + 1);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(parsed.slice(0, -1), runEvents);
    const recap = runEvents.find((e) => e.kind === 'recap') as Extract<RunEvent, { kind: 'recap' }>;
    assert.deepEqual(parsed.at(-1), { kind: 'summary', stats: recap.stats, exitCode: 3, changed: true, durationMs: 4210 });
  });

  test('changed is false when no host changed; odd values never break a line', () => {
    const out = collector();
    const cyclic: Record<string, unknown> = { big: 10n };
    cyclic.self = cyclic;
    replay(new JsonReporter({ out }), [
      ev('play-start', { name: 'p', hosts: ['h'] }),
      ev('host-result', { taskId: 't', task: 't', host: 'h', status: 'ok', result: cyclic }),
      ev('recap', { stats: { h: stats({ ok: 1 }) } }),
      ev('run-end', { exitCode: 0, durationMs: 5 }),
    ]);
    const parsed = out.text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual((parsed[1] as { result: unknown }).result, { big: '10', self: '[Circular]' });
    assert.equal((parsed.at(-1) as { changed: boolean }).changed, false);
  });

  test('createReporter --json: JSON even on a terminal, no colour, no bars', () => {
    const out = collector(true);
    const reporter = createReporter({ json: true, out: out as never, verbosity: 3, diff: true, env: { FORCE_COLOR: '1' } });
    assert.ok(reporter instanceof JsonReporter);
    replay(reporter, runEvents);
    assert.ok(!out.text.includes(ESC));
    for (const line of out.text.trimEnd().split('\n')) JSON.parse(line);
  });
});

describe('createReporter', () => {
  test('a terminal gets the TTY reporter, a pipe the plain one', () => {
    assert.ok(createReporter({ json: false, out: collector(true) as never, verbosity: 0, diff: false, env: {} }) instanceof TtyReporter);
    assert.ok(createReporter({ json: false, out: collector(false) as never, verbosity: 0, diff: false, env: {} }) instanceof PlainReporter);
    assert.ok(
      createReporter({ json: false, out: collector(true) as never, verbosity: 0, diff: false, env: { TERM: 'dumb' } }) instanceof PlainReporter,
    );
  });
});
