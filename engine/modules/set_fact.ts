// set_fact: set host variables (higher precedence than play vars). Runs on the controller.
import { defineModule } from './types.js';

export default defineModule<Record<string, unknown>>({
  name: 'set_fact',
  aliases: ['ansible.builtin.set_fact'],
  freeForm: 'kv',
  controllerOnly: true,
  schema: {
    type: 'object',
    minProperties: 1,
    properties: { cacheable: { type: ['boolean', 'string'] } },
    // any other key is a fact name: it must be a valid variable name
    propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  },
  async run(args) {
    const facts: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(args)) {
      if (key === 'cacheable') continue;
      facts[key] = value;
    }
    return { changed: false, ansible_facts: facts, facts };
  },
});
