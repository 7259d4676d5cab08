import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { TtyReporter } from '../../engine/report/tty.js';
import { PlainReporter } from '../../engine/report/plain.js';
import { colorsFromFlag, noColors, stripAnsi } from '../../engine/report/color.js';
import type { RunEvent } from '../../engine/report/events.js';
import { renderScreen } from '../fixtures/report/virtual-terminal.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtureDir = new URL('../fixtures/report/', import.meta.url);
const runEvents = JSON.parse(readFileSync(new URL('run-events.json', fixtureDir), 'utf8')) as RunEvent[];
const expectedPlainDiff = readFileSync(new URL('expected-plain-diff.txt', fixtureDir), 'utf8');
const driver = 'spec/fixtures/report/tty-driver.ts';
const ESC = '\u001b';

function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** What is left on the screen at the end, colours removed. */
function finalScreen(capture: string): string {
  return stripAnsi(renderScreen(capture).join('\n'));
}

/** A pretend terminal: records writes, has a width and emits resize like a tty.WriteStream. */
class FakeTerminal extends EventEmitter {
  readonly isTTY = true;
  columns = 80;
  readonly writes: string[] = [];
  write(s: string): boolean {
    this.writes.push(s);
    return true;
  }
  get text(): string {
    return this.writes.join('');
  }
}

describe('TtyReporter under a real pseudo-terminal', { skip: !hasScript() && 'script(1) is not installed' }, () => {
  test('draws bars with cursor movement, prints the lines above them and the recap', () => {
    const capture = execFileSync(
      'script',
      ['-qfec', `node --import tsx ${driver} --delay 60 --diff`, '/dev/null'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8', NO_COLOR: '', FORCE_COLOR: undefined, TERM: 'xterm' }, timeout: 60_000 },
    );
    // Bar drawing: cursor up / column 1 / erase, block characters and host counts.
    assert.match(capture, /\u001b\[1A/, 'cursor moves up to redraw the bars');
    assert.match(capture, /\u001b\[\?25l/, 'cursor hidden while bars are shown');
    assert.ok(capture.lastIndexOf(`${ESC}[?25h`) > capture.lastIndexOf(`${ESC}[?25l`), 'cursor shown again at the end');
    assert.match(capture, /PLAY \[Install Rancher\] [█░]+ \d+\/\d+/);
    assert.match(capture, /TASK \[write nginx\.conf\] [█░]+ \d\/2 hosts/);
    assert.match(capture, /█{10,} 12\/12/, 'the play bar reaches every host-task');
    // The ok/changed lines were printed above the bars, coloured (script gives a terminal).
    assert.ok(capture.includes(`${ESC}[0;33mchanged: [web1]${ESC}[0m`));
    assert.ok(capture.includes(`${ESC}[0;32mok: [web1 -> bastion]${ESC}[0m`));
    // At the end the bars are gone and the screen reads exactly like the plain output:
    // every line once, in order, and the same recap.
    assert.equal(finalScreen(capture), expectedPlainDiff);
    const recapAt = capture.indexOf('PLAY RECAP');
    assert.ok(recapAt > capture.lastIndexOf('█'), 'the recap comes after the last bar drawing');
  });

  test('through a pipe the same driver prints plain lines without any escape', () => {
    const piped = execFileSync('node', ['--import', 'tsx', driver, '--delay', '0', '--diff'], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '', FORCE_COLOR: undefined, TERM: 'xterm' },
    });
    assert.ok(!piped.includes(ESC));
    assert.equal(piped, expectedPlainDiff);
  });
});

describe('TtyReporter on a pretend terminal', () => {
  test('every line reaches the screen once, in order, and matches the plain text', async () => {
    const term = new FakeTerminal();
    const reporter = new TtyReporter({ out: term, colors: noColors, verbosity: 0, showDiff: true, fps: 200, env: {} });
    for (const e of runEvents) {
      reporter.onEvent(e);
      await sleep(2);
    }
    await reporter.close();
    assert.equal(finalScreen(term.text), expectedPlainDiff);
    assert.match(term.text, /TASK \[Gathering Facts\] #+-* \d\/3 hosts/, 'ascii bars without a UTF-8 locale');
  });

  test('banners follow the terminal width like Ansible (columns - 1)', async () => {
    const term = new FakeTerminal();
    term.columns = 120;
    const reporter = new TtyReporter({ out: term, colors: noColors, verbosity: 0, showDiff: false, env: {} });
    reporter.onEvent({ kind: 'play-start', name: 'wide', hosts: [], time: 1 });
    await reporter.close();
    const bannerLine = finalScreen(term.text).split('\n').find((l) => l.startsWith('PLAY [wide]'));
    assert.equal(bannerLine?.length, 120);
  });

  test('fast events are drawn at most fps times a second, identical frames dropped', async () => {
    const term = new FakeTerminal();
    const reporter = new TtyReporter({ out: term, colors: noColors, verbosity: 0, showDiff: false, fps: 10, env: {} });
    const events: RunEvent[] = [
      { kind: 'play-start', name: 'many', hosts: ['h'], time: 1 },
      { kind: 'task-start', taskId: 't', name: 'loop', hosts: Array.from({ length: 500 }, (_, i) => `h${i}`), handler: false, time: 2 },
    ];
    for (const e of events) reporter.onEvent(e);
    for (let i = 0; i < 500; i++) {
      reporter.onEvent({ kind: 'host-result', taskId: 't', task: 'loop', host: `h${i}`, status: 'ok', result: {}, time: 3 });
    }
    await sleep(250);
    const drawsWhileBusy = term.writes.filter((w) => w.includes('TASK [loop] #')).length;
    assert.ok(drawsWhileBusy >= 1 && drawsWhileBusy <= 5, `redraws: ${drawsWhileBusy}`);
    const before = term.writes.length;
    await sleep(250);
    assert.equal(term.writes.length, before, 'nothing changed, nothing written');
    await reporter.close();
    const lines = stripAnsi(term.text).split('\n');
    assert.equal(lines.filter((l) => /^ok: \[h\d+\]$/.test(l)).length, 500, 'no line lost');
  });

  test('lines still queued for the next redraw are printed on close', async () => {
    const term = new FakeTerminal();
    const reporter = new TtyReporter({ out: term, colors: noColors, verbosity: 0, showDiff: false, fps: 1, env: {} });
    reporter.onEvent({ kind: 'play-start', name: 'p', hosts: ['a'], time: 1 });
    reporter.onEvent({ kind: 'task-start', taskId: 't', name: 't', hosts: ['a'], handler: false, time: 2 });
    reporter.onEvent({ kind: 'host-result', taskId: 't', task: 't', host: 'a', status: 'changed', result: {}, time: 3 });
    await reporter.close();
    const screen = finalScreen(term.text);
    assert.ok(screen.endsWith('\nchanged: [a]\n'), screen);
    assert.ok(!screen.includes('#'), 'bars erased');
    assert.ok(term.text.endsWith('\u001b[?25h'), 'cursor visible again');
  });

  test('a resize redraws at the new width; bars never exceed it', async () => {
    const term = new FakeTerminal();
    const reporter = new TtyReporter({ out: term, colors: colorsFromFlag(true), verbosity: 0, showDiff: false, fps: 100, env: {} });
    reporter.onEvent({ kind: 'play-start', name: 'p'.repeat(80), hosts: ['a'], time: 1 });
    reporter.onEvent({ kind: 'task-start', taskId: 't', name: 'x'.repeat(80), hosts: ['a'], handler: false, time: 2 });
    await sleep(50);
    term.columns = 40;
    term.emit('resize');
    const from = term.writes.length;
    await sleep(50);
    const after = term.writes.slice(from).join('');
    assert.match(after, /\u001b\[0J/, 'the old, wider bars are erased');
    const barLines = stripAnsi(after.replace(/\u001b\[[0-9]*[GK]/g, '\n')).split('\n').filter((l) => / [#-]+ \d+\/\d+/.test(l));
    assert.ok(barLines.length > 0);
    for (const l of barLines) assert.ok([...l].length <= 39, `too wide: ${l}`);
    await reporter.close();
    assert.equal(term.listenerCount('resize'), 0, 'listener removed on close');
  });

  test('off a terminal it prints exactly what the plain reporter prints', async () => {
    const chunks: string[] = [];
    const pipe = { isTTY: false, write: (s: string) => chunks.push(s) > 0 };
    const reporter = new TtyReporter({ out: pipe, colors: noColors, verbosity: 0, showDiff: true });
    for (const e of runEvents) reporter.onEvent(e);
    await reporter.close();
    const plain: string[] = [];
    const p = new PlainReporter({ out: { write: (s: string) => plain.push(s) > 0 }, colors: noColors, verbosity: 0, showDiff: true });
    for (const e of runEvents) p.onEvent(e);
    assert.equal(chunks.join(''), plain.join(''));
    assert.equal(chunks.join(''), expectedPlainDiff);
  });
});
