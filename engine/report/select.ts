// Which reporter a run gets: --json → NDJSON; a terminal → bars and lines; else lines.
import type { Reporter } from './events.js';
import { createColors } from './color.js';
import { JsonReporter } from './json.js';
import { PlainReporter } from './plain.js';
import { TtyReporter, type TtyOutput } from './tty.js';
import type { TextOutput } from './output.js';
import { redactingReporter } from './redact.js';

export interface CreateReporterOptions {
  json: boolean;
  out: NodeJS.WriteStream | TtyOutput;
  verbosity: number;
  diff: boolean;
  env?: NodeJS.ProcessEnv;
  /** Warnings in line mode (Ansible prints them on stderr); default process.stderr. */
  err?: NodeJS.WriteStream | TextOutput;
  /** "[CHECK MODE]" markers; default: the run-start event's check flag. */
  check?: boolean;
}

/** Every reporter sees events with registered secrets masked (redact.ts). */
export function createReporter(opts: CreateReporterOptions): Reporter {
  return redactingReporter(createPlainOrRichReporter(opts));
}

function createPlainOrRichReporter(opts: CreateReporterOptions): Reporter {
  const env = opts.env ?? process.env;
  if (opts.json) return new JsonReporter({ out: opts.out });
  const colors = createColors(opts.out, env);
  const check = opts.check === undefined ? {} : { check: opts.check };
  // A dumb terminal cannot move the cursor: lines only.
  if (opts.out.isTTY === true && env.TERM !== 'dumb') {
    return new TtyReporter({ out: opts.out, colors, verbosity: opts.verbosity, showDiff: opts.diff, env, ...check });
  }
  const err = opts.err ?? process.stderr;
  return new PlainReporter({
    out: opts.out,
    err,
    colors,
    errColors: createColors(err, env),
    verbosity: opts.verbosity,
    showDiff: opts.diff,
    ...check,
  });
}
