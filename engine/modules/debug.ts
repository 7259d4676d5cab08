// debug: print a message or a variable's value. Runs on the controller.
import { defineModule } from './types.js';
import { locate } from '../load/positions.js';

interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity?: number;
}

export default defineModule<DebugArgs>({
  name: 'debug',
  aliases: ['ansible.builtin.debug'],
  freeForm: 'kv',
  controllerOnly: true,
  // `var` names an expression, evaluated here rather than templated by the runner
  rawArgs: ['var'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      msg: {},
      var: { type: 'string' },
      verbosity: { type: 'integer', minimum: 0 },
    },
    not: { required: ['msg', 'var'] },
  },
  async run(args, ctx) {
    if (args.var !== undefined) {
      const value = ctx.evaluateExpression(args.var, locate(args, 'var') ?? ctx.taskPos);
      return { changed: false, [args.var]: value === undefined ? 'VARIABLE IS NOT DEFINED!' : value, _verbosity: args.verbosity ?? 0 };
    }
    return { changed: false, msg: args.msg === undefined ? 'Hello world!' : args.msg, _verbosity: args.verbosity ?? 0 };
  },
});
