// On a terminal: ansible-playbook's lines scroll above cli-progress bars (one for the
// play, one for each running task). Off a terminal it is the plain reporter, because
// cli-progress draws nothing there and MultiBar.log lines would be lost.
//
// Bars are redrawn at most `fps` times a second whatever the event rate, and each redraw
// reaches the terminal as one write (a frame), skipped when it is the same as the last:
// no flicker, and idle bars cost nothing.
import cliProgress from 'cli-progress';
import type { HostStatus, Reporter, RunEvent } from './events.js';
import type { Colors } from './color.js';
import { AnsibleLineFormatter, type OutputChunk } from './line-formatter.js';
import { displayColumns } from './banner.js';
import { PlainReporter } from './plain.js';
import { flushOutput, type TextOutput } from './output.js';
import { barCharsFor, formatElapsed, formatProgressLine, type BarChars } from './progress-line.js';

export interface TtyOutput extends TextOutput {
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface TtyReporterOptions {
  out: TtyOutput;
  colors: Colors;
  verbosity: number;
  showDiff: boolean;
  check?: boolean;
  /** Redraws per second (default 10). */
  fps?: number;
  /** For the locale (block characters when UTF-8). */
  env?: NodeJS.ProcessEnv;
  /** Where warnings go when out is not a terminal (plain fallback). */
  err?: TextOutput;
  errColors?: Colors;
}

/** At most this many task bars; more concurrent tasks (free strategy) share the oldest. */
const MAX_TASK_BARS = 3;

const SHOW_CURSOR = '\u001b[?25h';
const CLEAR_SCREEN_DOWN = '\u001b[0J';

interface BarPayload {
  line: () => string;
}

/**
 * The stream cli-progress writes to. Between a redraw's update-pre and update-post it
 * collects the writes into a frame and sends it as one write; other writes pass through.
 */
class FrameWriter {
  readonly isTTY = true;
  private frame: string[] | undefined;
  private lastFrame = '';

  constructor(private readonly out: TtyOutput) {}

  get columns(): number {
    return this.out.columns || 80;
  }

  write(text: string, callback?: (err?: Error | null) => void): boolean {
    if (this.frame) this.frame.push(text);
    else {
      this.lastFrame = '';
      this.out.write(text);
    }
    if (typeof callback === 'function') callback();
    return true;
  }

  begin(): void {
    this.frame = [];
  }

  /** Sends the frame unless it repeats the last one exactly (nothing moved on screen). */
  end(mayRepeat: boolean): void {
    const text = (this.frame ?? []).join('');
    this.frame = undefined;
    if (mayRepeat && text === this.lastFrame) return;
    this.out.write(text);
    this.lastFrame = mayRepeat ? text : '';
  }

  invalidate(): void {
    this.lastFrame = '';
  }
}

interface TaskProgress {
  label: string;
  hosts: number;
  done: Set<string>;
  startedAt: number;
}

interface TaskBar {
  bar: cliProgress.SingleBar;
  taskId: string | undefined;
}

interface PlayProgress {
  label: string;
  done: number;
  total: number;
  counts: Record<HostStatus, number>;
  startedAt: number;
}

function emptyCounts(): Record<HostStatus, number> {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0 };
}

export class TtyReporter implements Reporter {
  private readonly plain: PlainReporter | undefined;
  private readonly out: TtyOutput;
  private readonly formatter: AnsibleLineFormatter | undefined;
  private readonly fps: number;
  private readonly chars: BarChars;
  private frames: FrameWriter | undefined;
  private multibar: cliProgress.MultiBar | undefined;
  private playBar: cliProgress.SingleBar | undefined;
  private play: PlayProgress | undefined;
  private readonly tasks = new Map<string, TaskProgress>();
  private taskBars: TaskBar[] = [];
  private logsPending = false;
  private clearPending = false;
  private closed = false;
  private readonly onResize = (): void => {
    this.clearPending = true;
    this.frames?.invalidate();
  };
  private readonly onExit = (): void => {
    // The process is ending without close(): print what is queued and give the cursor back.
    this.stopBars();
  };

  constructor(opts: TtyReporterOptions) {
    this.out = opts.out;
    this.fps = opts.fps ?? 10;
    this.chars = barCharsFor(opts.env ?? process.env);
    if (opts.out.isTTY !== true) {
      this.plain = new PlainReporter({
        out: opts.out,
        colors: opts.colors,
        verbosity: opts.verbosity,
        showDiff: opts.showDiff,
        ...(opts.err ? { err: opts.err } : {}),
        ...(opts.errColors ? { errColors: opts.errColors } : {}),
        ...(opts.check === undefined ? {} : { check: opts.check }),
      });
      return;
    }
    this.formatter = new AnsibleLineFormatter({
      colors: opts.colors,
      verbosity: opts.verbosity,
      showDiff: opts.showDiff,
      columns: displayColumns(opts.out),
      ...(opts.check === undefined ? {} : { check: opts.check }),
    });
  }

  onEvent(event: RunEvent): void {
    if (this.plain) return this.plain.onEvent(event);
    if (this.closed || !this.formatter) return;
    if (event.kind === 'recap') {
      // The recap is printed below the run, with the bars gone: exactly the plain text.
      this.stopBars();
    }
    this.print(this.formatter.format(event));
    this.track(event);
  }

  async close(): Promise<void> {
    if (this.plain) return this.plain.close();
    this.stopBars();
    this.closed = true;
    await flushOutput(this.out);
  }

  private print(chunks: OutputChunk[]): void {
    for (const chunk of chunks) {
      if (this.multibar) {
        this.multibar.log(chunk.text);
        this.logsPending = true;
      } else {
        this.out.write(chunk.text);
      }
    }
  }

  private track(event: RunEvent): void {
    switch (event.kind) {
      case 'play-start':
        this.startPlay(event.name);
        break;
      case 'task-start':
        this.startTask(
          event.taskId,
          `${event.handler ? 'RUNNING HANDLER' : 'TASK'} [${event.name.trim()}]`,
          event.hosts.length,
        );
        break;
      case 'host-result':
        // Loop items are progress within a host's task; the host is done with its roll-up.
        if (event.item === undefined || event.loopSummary) this.hostDone(event.taskId, event.host, event.status);
        break;
      case 'play-end':
        this.releaseTaskBars();
        break;
      default:
        break;
    }
  }

  private ensureBars(): cliProgress.MultiBar {
    if (this.multibar) return this.multibar;
    const frames = new FrameWriter(this.out);
    const multibar = new cliProgress.MultiBar({
      stream: frames as unknown as NodeJS.WritableStream,
      fps: this.fps,
      hideCursor: true,
      // Keep the terminal's own wrapping: long result lines and diffs must wrap, not be cut.
      linewrap: true,
      clearOnComplete: true,
      // Every frame redraws every bar; identical frames are dropped by FrameWriter.
      forceRedraw: true,
      format: (_options, _params, payload: BarPayload) => payload.line(),
    });
    multibar.on('update-pre', () => frames.begin());
    multibar.on('redraw-pre', () => {
      // Log lines are about to be written over the bars: wipe the bars first, or the tail
      // of a longer bar line would stay visible after a short log line.
      if (this.logsPending || this.clearPending) frames.write(CLEAR_SCREEN_DOWN);
    });
    multibar.on('update-post', () => {
      frames.end(!this.logsPending && !this.clearPending);
      this.logsPending = false;
      this.clearPending = false;
      // Redraw timers must not keep the process alive if close() is never called.
      (multibar as unknown as { timer?: NodeJS.Timeout | null }).timer?.unref?.();
    });
    this.out.on?.('resize', this.onResize);
    process.once('exit', this.onExit);
    this.frames = frames;
    this.multibar = multibar;
    return multibar;
  }

  private startPlay(name: string): void {
    const multibar = this.ensureBars();
    this.releaseTaskBars();
    this.tasks.clear();
    this.play = {
      label: name.trim() ? `PLAY [${name.trim()}]` : 'PLAY',
      done: 0,
      total: 0,
      counts: emptyCounts(),
      // Elapsed time on the bars is wall-clock time seen here, not the runner's clock.
      startedAt: Date.now(),
    };
    const payload: BarPayload = { line: () => this.playLine() };
    if (this.playBar) this.playBar.start(0, 0, payload);
    else this.playBar = multibar.create(0, 0, payload);
  }

  private startTask(taskId: string, label: string, hosts: number): void {
    const multibar = this.multibar;
    if (!multibar || !this.play) return;
    this.tasks.set(taskId, { label, hosts, done: new Set(), startedAt: Date.now() });
    this.play.total += hosts;
    this.playBar?.setTotal(this.play.total);
    const payload: BarPayload = { line: () => this.taskLine(taskId) };
    // Reuse a finished task's bar, else add one, else take over the oldest.
    let slot = this.taskBars.find((b) => b.taskId === undefined || this.isTaskDone(b.taskId));
    if (!slot && this.taskBars.length < MAX_TASK_BARS) {
      slot = { bar: multibar.create(hosts, 0, payload), taskId };
      this.taskBars.push(slot);
      return;
    }
    slot ??= this.taskBars.shift()!;
    if (!this.taskBars.includes(slot)) this.taskBars.push(slot);
    slot.taskId = taskId;
    slot.bar.start(hosts, 0, payload);
  }

  private isTaskDone(taskId: string): boolean {
    const task = this.tasks.get(taskId);
    return !task || task.done.size >= task.hosts;
  }

  private hostDone(taskId: string, host: string, status: HostStatus): void {
    const task = this.tasks.get(taskId);
    if (!task || task.done.has(host) || !this.play) return;
    task.done.add(host);
    this.play.done++;
    this.play.counts[status]++;
    this.playBar?.update(this.play.done);
    this.taskBars.find((b) => b.taskId === taskId)?.bar.update(task.done.size);
  }

  private playLine(): string {
    const play = this.play;
    if (!play) return '';
    const c = play.counts;
    // ok and changed always; the rarer outcomes only when they happened (keeps it short).
    const rare = (['failed', 'unreachable', 'skipped'] as const)
      .filter((status) => c[status] > 0)
      .map((status) => ` ${status}=${c[status]}`)
      .join('');
    return formatProgressLine({
      label: play.label,
      value: play.done,
      total: play.total,
      suffix: `ok=${c.ok} changed=${c.changed}${rare} ${formatElapsed(Date.now() - play.startedAt)}`,
      columns: this.out.columns || 80,
      chars: this.chars,
    });
  }

  private taskLine(taskId: string): string {
    const task = this.tasks.get(taskId);
    if (!task) return '';
    return formatProgressLine({
      label: task.label,
      value: task.done.size,
      total: task.hosts,
      suffix: `hosts ${formatElapsed(Date.now() - task.startedAt)}`,
      columns: this.out.columns || 80,
      chars: this.chars,
    });
  }

  /** Task bars go when their play ends; the play bar stays for the next play. */
  private releaseTaskBars(): void {
    if (!this.multibar || this.taskBars.length === 0) return;
    for (const slot of this.taskBars) this.multibar.remove(slot.bar);
    this.taskBars = [];
    this.frames?.invalidate();
  }

  /** Flush queued lines, erase the bars, give back the cursor. Safe to call twice. */
  private stopBars(): void {
    const multibar = this.multibar;
    if (!multibar) return;
    this.multibar = undefined;
    multibar.update();
    multibar.stop();
    this.out.off?.('resize', this.onResize);
    process.removeListener('exit', this.onExit);
    // stop() shows the cursor only if it hid it; make sure whatever happened.
    this.out.write(SHOW_CURSOR);
    this.playBar = undefined;
    this.taskBars = [];
    this.play = undefined;
  }
}
