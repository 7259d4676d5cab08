// --json: one JSON object a line (NDJSON) for every event, as emitted, then a summary line.
// Nothing else is ever written to stdout, so `tsplay run --json | jq` always parses.
import type { HostStats, Reporter, RunEvent } from './events.js';
import { flushOutput, type TextOutput } from './output.js';

export interface RunSummary {
  kind: 'summary';
  stats: Record<string, HostStats>;
  exitCode: number;
  /** Whether any host changed anything. */
  changed: boolean;
  durationMs: number;
}

/** JSON.stringify that never throws: bigints become strings, cycles "[Circular]". */
export function safeJsonLine(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v !== null && typeof v === 'object') {
        if (seen.has(v)) return '[Circular]';
        seen.add(v);
      }
      return v;
    });
  }
}

export class JsonReporter implements Reporter {
  private readonly out: TextOutput;
  private stats: Record<string, HostStats> = {};

  constructor(opts: { out: TextOutput }) {
    this.out = opts.out;
  }

  onEvent(event: RunEvent): void {
    this.out.write(safeJsonLine(event) + '\n');
    if (event.kind === 'recap') this.stats = event.stats;
    if (event.kind === 'run-end') {
      const summary: RunSummary = {
        kind: 'summary',
        stats: this.stats,
        exitCode: event.exitCode,
        changed: Object.values(this.stats).some((s) => s.changed > 0),
        durationMs: event.durationMs,
      };
      this.out.write(safeJsonLine(summary) + '\n');
    }
  }

  close(): Promise<void> {
    return flushOutput(this.out);
  }
}
