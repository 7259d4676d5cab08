// meta: engine actions (flush_handlers, end_play, ...). The runner performs them; this
// definition exists so the action and its argument are validated at load like any module.
import { defineModule } from './types.js';

export const META_ACTIONS = ['flush_handlers', 'end_play', 'end_host', 'end_batch', 'noop', 'clear_host_errors', 'refresh_inventory', 'clear_facts', 'reset_connection'] as const;
export type MetaAction = (typeof META_ACTIONS)[number];

export default defineModule<{ _raw_params: MetaAction }>({
  name: 'meta',
  aliases: ['ansible.builtin.meta'],
  freeForm: 'raw',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['_raw_params'],
    properties: { _raw_params: { enum: [...META_ACTIONS] } },
  },
  async run() {
    // Reached only if the runner did not intercept the action itself.
    return { changed: false, skipped: true, msg: 'meta actions are performed by the runner' };
  },
});
