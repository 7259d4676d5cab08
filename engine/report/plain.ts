// Line output for pipes, logs and CI: exactly ansible-playbook's lines, written as each
// event arrives (no buffering, so nothing is lost if the process dies afterwards).
import type { Reporter, RunEvent } from './events.js';
import type { Colors } from './color.js';
import { AnsibleLineFormatter } from './line-formatter.js';
import { displayColumns } from './banner.js';
import { flushOutput, type TextOutput } from './output.js';

export interface PlainReporterOptions {
  out: TextOutput;
  /** Where warnings go (Ansible: stderr); default: out. */
  err?: TextOutput;
  colors: Colors;
  /** Colours for err when it is a different stream; default: colors. */
  errColors?: Colors;
  verbosity: number;
  showDiff: boolean;
  /** "[CHECK MODE]" banner markers; default: the run-start event's check flag. */
  check?: boolean;
  /** Banner width; default: Ansible's (79, or the terminal width - 1 on a terminal). */
  columns?: number;
}

export class PlainReporter implements Reporter {
  private readonly out: TextOutput;
  private readonly err: TextOutput;
  private readonly errColors: Colors | undefined;
  private readonly formatter: AnsibleLineFormatter;

  constructor(opts: PlainReporterOptions) {
    this.out = opts.out;
    this.err = opts.err ?? opts.out;
    this.errColors = opts.errColors;
    this.formatter = new AnsibleLineFormatter({
      colors: opts.colors,
      verbosity: opts.verbosity,
      showDiff: opts.showDiff,
      columns: opts.columns ?? displayColumns(opts.out),
      ...(opts.check === undefined ? {} : { check: opts.check }),
    });
  }

  onEvent(event: RunEvent): void {
    for (const chunk of this.formatter.format(event)) {
      if (chunk.stream === 'out') {
        this.out.write(chunk.text);
      } else {
        // err may be a terminal while out is a pipe (or the reverse): paint for err.
        const text =
          this.errColors && chunk.warning !== undefined ? this.errColors.warn(chunk.warning) + '\n' : chunk.text;
        this.err.write(text);
      }
    }
  }

  async close(): Promise<void> {
    await flushOutput(this.out);
    if (this.err !== this.out) await flushOutput(this.err);
  }
}
