// Turns the event stream into ansible-playbook's screen lines. Shared by the plain and the
// TTY reporter so both print exactly the same text; only where it goes differs.
import { basename } from 'node:path';
import type { RunEvent } from './events.js';
import type { Colors } from './color.js';
import { banner, DEFAULT_COLUMNS } from './banner.js';
import { renderDiffs } from './diff.js';
import { formatRecap } from './recap.js';
import { dumpResult, isVerboseResult } from './result-display.js';
import { wrapText } from './wrap.js';

export interface LineFormatterOptions {
  colors: Colors;
  verbosity: number;
  showDiff: boolean;
  /** Mark banners "[CHECK MODE]" (Ansible's check_mode_markers); default: the run-start event's check. */
  check?: boolean;
  /** Banner width (Ansible's Display.columns); 79 by default. */
  columns?: number;
}

/** A piece of output and where Ansible sends it: warnings to stderr, the rest to stdout. */
export interface OutputChunk {
  stream: 'out' | 'err';
  text: string;
  /** For warnings: the wrapped text without colour, to repaint for another stream. */
  warning?: string;
}

type HostResultEvent = Extract<RunEvent, { kind: 'host-result' }>;

interface TaskInfo {
  name: string;
  handler: boolean;
  path?: string;
}

interface ItemsSeen {
  lines: number;
  diffs: number;
}

export class AnsibleLineFormatter {
  private readonly colors: Colors;
  private readonly verbosity: number;
  private readonly showDiff: boolean;
  private readonly columns: number;
  private checkMarkers: boolean | undefined;
  private readonly tasks = new Map<string, TaskInfo>();
  private lastBannerTaskId: string | undefined;
  /** Item lines printed per task and host, so the loop's roll-up result is not printed twice. */
  private readonly items = new Map<string, ItemsSeen>();
  /** Ansible prints a warning text once per run. */
  private readonly warned = new Set<string>();

  constructor(opts: LineFormatterOptions) {
    this.colors = opts.colors;
    this.verbosity = opts.verbosity;
    this.showDiff = opts.showDiff;
    this.columns = opts.columns ?? DEFAULT_COLUMNS;
    this.checkMarkers = opts.check;
  }

  format(event: RunEvent): OutputChunk[] {
    switch (event.kind) {
      case 'run-start': {
        this.checkMarkers ??= event.check;
        const out: OutputChunk[] = [];
        if (this.verbosity > 1) out.push(this.out(banner(`PLAYBOOK: ${basename(event.playbook)}`, this.columns)));
        if (this.checkMarkers) out.push(this.out(banner('DRY RUN', this.columns)));
        return out;
      }
      case 'play-start': {
        this.tasks.clear();
        this.items.clear();
        this.lastBannerTaskId = undefined;
        const name = event.name.trim();
        const title = (name ? `PLAY [${name}]` : 'PLAY') + (this.checkMarkers ? ' [CHECK MODE]' : '');
        const out = [this.out(banner(title, this.columns))];
        if (event.hosts.length === 0) out.push(this.out(this.colors.skip('skipping: no hosts matched') + '\n'));
        return out;
      }
      case 'task-start': {
        const info: TaskInfo = { name: event.name, handler: event.handler };
        if (event.path !== undefined) info.path = event.path;
        this.tasks.set(event.taskId, info);
        return [this.taskBanner(event.taskId, info)];
      }
      case 'host-result':
        return this.hostResult(event);
      case 'handler-notified':
        if (this.verbosity <= 1) return [];
        return [this.out(this.colors.verbose(`NOTIFIED HANDLER ${event.handler} for ${event.host}`) + '\n')];
      case 'warning':
        return this.warning(event.host === undefined ? event.message : `[${event.host}] ${event.message}`);
      case 'recap':
        return [this.out(formatRecap(event.stats, this.colors, this.columns))];
      case 'run-end':
        if (event.retryFile === undefined) return [];
        return [this.out(`\tto retry, use: --limit @${event.retryFile}\n\n`)];
      case 'play-end':
        return [];
      default:
        return [];
    }
  }

  private out(text: string): OutputChunk {
    return { stream: 'out', text };
  }

  private taskBanner(taskId: string, info: TaskInfo): OutputChunk {
    this.lastBannerTaskId = taskId;
    const prefix = info.handler ? 'RUNNING HANDLER' : 'TASK';
    let text = banner(`${prefix} [${info.name.trim()}]${this.checkMarkers ? ' [CHECK MODE]' : ''}`, this.columns);
    if (this.verbosity >= 2 && info.path) text += this.colors.debug(`task path: ${info.path}`) + '\n';
    return this.out(text);
  }

  /** Ansible's Display.warning: "[WARNING]: " wrapped to the screen width, once per text. */
  private warning(message: string): OutputChunk[] {
    const text = wrapText(`[WARNING]: ${message}`, this.columns).join('\n');
    if (this.warned.has(text)) return [];
    this.warned.add(text);
    return [{ stream: 'err', text: this.colors.warn(text) + '\n', warning: text }];
  }

  private hostResult(e: HostResultEvent): OutputChunk[] {
    const chunks: OutputChunk[] = [];
    // Results of another task than the last banner's (free strategy, handlers): repeat the
    // banner so every line sits under the task it belongs to, as Ansible does for free.
    const info = this.tasks.get(e.taskId);
    if (info && e.taskId !== this.lastBannerTaskId) chunks.push(this.taskBanner(e.taskId, info));

    const result: Record<string, unknown> = { ...e.result };
    if (e.msg !== undefined && result.msg === undefined) result.msg = e.msg;
    if (Array.isArray(result.warnings)) {
      for (const w of result.warnings) chunks.push(...this.warning(String(w)));
    }

    const key = `${e.taskId}\u0000${e.host}`;
    const diffText =
      this.showDiff && e.status === 'changed' && e.diff && e.diff.length > 0 ? renderDiffs(e.diff, this.colors) : '';

    if (e.item !== undefined && !e.loopSummary) {
      const seen = this.items.get(key) ?? { lines: 0, diffs: 0 };
      seen.lines++;
      if (diffText) seen.diffs++;
      this.items.set(key, seen);
    } else if (e.loopSummary) {
      const seen = this.items.get(key);
      this.items.delete(key);
      if (seen && seen.lines > 0) {
        // The items already said everything; Ansible adds only the diffs it has not shown
        // and "...ignoring".
        if (diffText && seen.diffs === 0) chunks.push(this.out(diffText));
        if (e.ignored && e.status === 'failed') chunks.push(this.out(this.colors.skip('...ignoring') + '\n'));
        return chunks;
      }
    }

    // Ansible prints the diff before the host line (v2_on_file_diff comes first).
    if (diffText) chunks.push(this.out(diffText));
    chunks.push(this.out(this.resultLine(e, result) + '\n'));
    if (e.ignored && e.status === 'failed' && e.item === undefined) {
      chunks.push(this.out(this.colors.skip('...ignoring') + '\n'));
    }
    return chunks;
  }

  private resultLine(e: HostResultEvent, result: Record<string, unknown>): string {
    const label = e.delegatedTo ? `${e.host} -> ${e.delegatedTo}` : e.host;
    const hasItem = e.item !== undefined && !e.loopSummary;
    const verbose = isVerboseResult(result, this.verbosity);
    const dump = () => dumpResult(result, this.verbosity);
    const { colors } = this;
    if (e.status === 'ok' && typeof result.included === 'string') {
      // include_tasks: Ansible's "included: FILE for HOST", in the skip colour
      return colors.skip(`included: ${result.included} for ${e.host}${hasItem ? ` => (item=${e.item})` : ''}`);
    }
    switch (e.status) {
      case 'ok':
      case 'changed': {
        let line = `${e.status}: [${label}]`;
        if (hasItem) line += ` => (item=${e.item})`;
        if (verbose) line += ` => ${dump()}`;
        return e.status === 'ok' ? colors.ok(line) : colors.changed(line);
      }
      case 'skipped': {
        // Ansible's item form ends with a space before any "=>"; kept for grep compatibility.
        let line = hasItem ? `skipping: [${e.host}] => (item=${e.item}) ` : `skipping: [${e.host}]`;
        if (verbose) line += ` => ${dump()}`;
        return colors.skip(line);
      }
      case 'failed':
        return colors.error(
          hasItem ? `failed: [${label}] (item=${e.item}) => ${dump()}` : `fatal: [${label}]: FAILED! => ${dump()}`,
        );
      case 'unreachable':
        return colors.unreachable(`fatal: [${label}]: UNREACHABLE! => ${dump()}`);
      default:
        return `${String(e.status)}: [${label}]`;
    }
  }
}
