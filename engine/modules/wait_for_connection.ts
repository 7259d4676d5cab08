// wait_for_connection: retry connecting to the host (a fresh transport connect and a trivial
// command each try) until it answers or the timeout passes, e.g. after a reboot. Runs on the
// controller so the runner does not fail the host as unreachable before the first try.
import { defineModule } from './types.js';
import { SECONDS_SCHEMA, sleepUnlessAborted } from './wait-timing.js';

export interface WaitForConnectionArgs {
  delay?: number | string;
  sleep?: number | string;
  timeout?: number | string;
  connect_timeout?: number | string;
}

class AttemptTimeout extends Error {}

/** Run `attempt`, failing it after `ms` (the transport's own timeouts may be longer). */
async function within<T>(ms: number, attempt: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      attempt(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new AttemptTimeout(`no answer within ${ms / 1000} seconds`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export default defineModule<WaitForConnectionArgs>({
  name: 'wait_for_connection',
  aliases: ['ansible.builtin.wait_for_connection'],
  freeForm: 'kv',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { delay: SECONDS_SCHEMA, sleep: SECONDS_SCHEMA, timeout: SECONDS_SCHEMA, connect_timeout: SECONDS_SCHEMA },
  },
  async run(args, ctx) {
    const delay = Number(args.delay ?? 0);
    const sleep = Number(args.sleep ?? 1);
    const timeout = Number(args.timeout ?? 600);
    const connectTimeout = Number(args.connect_timeout ?? 5);
    const start = Date.now();
    const deadline = start + timeout * 1000;
    const elapsed = () => Math.floor((Date.now() - start) / 1000);
    if (delay > 0 && !(await sleepUnlessAborted(delay * 1000, ctx.signal))) return { changed: false, failed: true, elapsed: elapsed(), msg: 'wait_for_connection interrupted' };
    let lastError = '';
    for (;;) {
      const conn = ctx.conn;
      try {
        const budget = Math.max(1, Math.min(connectTimeout * 1000, deadline - Date.now()));
        const res = await within(budget, async () => {
          await conn.connect();
          return conn.exec('true', { timeoutMs: budget });
        });
        if (res.rc === 0) return { changed: false, elapsed: elapsed() };
        lastError = `'true' exited with ${res.rc}: ${res.stderr.trim()}`;
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err);
        // a half-open connection would be reused: drop it so the next try connects afresh
        await conn.close().catch(() => undefined);
      }
      if (Date.now() + sleep * 1000 >= deadline) {
        return { changed: false, failed: true, elapsed: elapsed(), msg: `timed out waiting for ping module test: ${lastError}` };
      }
      if (!(await sleepUnlessAborted(sleep * 1000, ctx.signal))) return { changed: false, failed: true, elapsed: elapsed(), msg: 'wait_for_connection interrupted' };
    }
  },
});
