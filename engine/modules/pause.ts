// pause: wait on the controller for seconds/minutes. Off a terminal a prompt cannot be
// answered, so it is shown and ignored (a pause without a time then returns at once, as
// Ansible does with no TTY), never blocking a CI run.
import { defineModule, type ModuleResult } from './types.js';
import { SECONDS_SCHEMA, sleepUnlessAborted } from './wait-timing.js';

export interface PauseArgs {
  seconds?: number | string;
  minutes?: number | string;
  prompt?: string;
  echo?: boolean;
}

export default defineModule<PauseArgs>({
  name: 'pause',
  aliases: ['ansible.builtin.pause'],
  freeForm: 'kv',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { seconds: SECONDS_SCHEMA, minutes: SECONDS_SCHEMA, prompt: { type: 'string' }, echo: { type: 'boolean' } },
    not: { required: ['seconds', 'minutes'] },
  },
  async run(args, ctx) {
    const seconds = args.seconds !== undefined ? Number(args.seconds) : args.minutes !== undefined ? Number(args.minutes) * 60 : undefined;
    if (seconds !== undefined && !Number.isFinite(seconds)) return { changed: false, failed: true, msg: `pause: '${String(args.seconds ?? args.minutes)}' is not a number` };
    const start = Date.now();
    const result: ModuleResult = { changed: false, user_input: '' };
    if (seconds === undefined) {
      // only a prompt: it waits for Enter on a terminal; tsplay runs without one, like Ansible off a TTY
      result.msg = `Paused for 0.0 minutes (no terminal to read the prompt${args.prompt ? ` '${args.prompt}'` : ''} from: not waiting)`;
      result.start = new Date(start).toISOString();
      result.stop = result.start;
      result.delta = 0;
      result.echo = args.echo ?? true;
      return result;
    }
    const completed = await sleepUnlessAborted(seconds * 1000, ctx.signal);
    const stop = Date.now();
    const delta = Math.round((stop - start) / 1000);
    return {
      ...result,
      start: new Date(start).toISOString(),
      stop: new Date(stop).toISOString(),
      delta,
      echo: args.echo ?? true,
      ...(completed ? { stdout: `Paused for ${args.minutes !== undefined ? `${Number(args.minutes)} minutes` : `${seconds} seconds`}` } : { failed: true, msg: 'pause interrupted' }),
      ...(args.prompt && completed ? { msg: `${args.prompt} (ignored: no terminal)` } : {}),
    };
  },
});
