// fail: stop the host with a message. Runs on the controller.
import { defineModule } from './types.js';

export default defineModule<{ msg?: unknown }>({
  name: 'fail',
  aliases: ['ansible.builtin.fail'],
  freeForm: 'kv',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: { msg: {} },
  },
  async run(args) {
    return { changed: false, failed: true, msg: args.msg === undefined ? 'Failed as requested from task' : String(args.msg) };
  },
});
