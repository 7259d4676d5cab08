// assert: check conditions with the expression language (no eval). Runs on the controller.
import { defineModule } from './types.js';
import { locate } from '../load/positions.js';

interface AssertArgs {
  that: string | boolean | Array<string | boolean>;
  fail_msg?: unknown;
  msg?: unknown;
  success_msg?: unknown;
  quiet?: boolean;
}

export default defineModule<AssertArgs>({
  name: 'assert',
  aliases: ['ansible.builtin.assert'],
  controllerOnly: true,
  // conditions are expressions, not templates: the runner must not render them first
  rawArgs: ['that'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['that'],
    properties: {
      that: { anyOf: [{ type: ['string', 'boolean'] }, { type: 'array', items: { type: ['string', 'boolean'] } }] },
      fail_msg: {},
      msg: {},
      success_msg: {},
      quiet: { type: 'boolean' },
    },
  },
  async run(args, ctx) {
    const conditions = Array.isArray(args.that) ? args.that : [args.that];
    for (let i = 0; i < conditions.length; i++) {
      const condition = conditions[i]!;
      const pos = (Array.isArray(args.that) ? locate(args.that, i) : locate(args, 'that')) ?? ctx.taskPos;
      if (!ctx.evaluateCondition(condition, pos)) {
        const failMsg = args.fail_msg ?? args.msg;
        return {
          changed: false,
          failed: true,
          assertion: condition,
          evaluated_to: false,
          msg: failMsg === undefined ? 'Assertion failed' : failMsg,
        };
      }
    }
    const result: Record<string, unknown> = { changed: false, msg: args.success_msg ?? 'All assertions passed' };
    if (args.quiet) result._verbosity = 1;
    return result as { changed: boolean };
  },
});
