// Collects every load error instead of stopping at the first, so one run shows a user all
// the typos in a playbook. The aggregate is itself the first error (code and pos), so code
// frames and exit codes work unchanged for callers that only look at one error.
import { ParseError } from '../errors.js';

/** Stop collecting after this many: past it, the rest is usually noise from one mistake. */
const MAX_ERRORS = 50;

export class ParseErrors extends ParseError {
  readonly errors: ParseError[];

  constructor(errors: ParseError[]) {
    const first = errors[0]!;
    const more = errors.length - 1;
    super(first.code, more > 0 ? `${first.message} (and ${more} more error${more === 1 ? '' : 's'})` : first.message, first.pos, first);
    this.name = 'ParseErrors';
    this.errors = errors;
  }

  /** Every error with its own file:line:col and code frame. */
  override format(): string {
    if (this.errors.length === 1) return this.errors[0]!.format();
    const body = this.errors.map((e) => e.format()).join('\n\n');
    return `${body}\n\n${this.errors.length} errors found while loading`;
  }
}

export class ErrorList {
  readonly errors: ParseError[] = [];

  add(err: ParseError): void {
    if (err instanceof ParseErrors) {
      for (const inner of err.errors) this.add(inner);
      return;
    }
    if (this.errors.length >= MAX_ERRORS) return;
    // the same problem reached twice (a file imported twice) is reported once
    const dup = this.errors.some(
      (e) => e.code === err.code && e.message === err.message && e.pos?.file === err.pos?.file && e.pos?.line === err.pos?.line && e.pos?.col === err.pos?.col,
    );
    if (!dup) this.errors.push(err);
  }

  /** Run `fn`; a ParseError it throws is recorded and `fallback` returned. Other errors propagate. */
  attempt<T>(fn: () => T, fallback: T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof ParseError) {
        this.add(err);
        return fallback;
      }
      throw err;
    }
  }

  get count(): number {
    return this.errors.length;
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw new ParseErrors(this.errors);
  }
}
