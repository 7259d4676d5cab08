// group_by: put the current host into a group named by `key` (created when missing), e.g.
// `key: os_{{ ansible_distribution }}`, so later plays can target it. Controller only.
import { defineModule } from './types.js';
import { groupList } from './add_host.js';

export interface GroupByArgs {
  key: string;
  parents?: string | string[];
}

export default defineModule<GroupByArgs>({
  name: 'group_by',
  aliases: ['ansible.builtin.group_by'],
  freeForm: 'kv',
  controllerOnly: true,
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      key: { type: 'string', minLength: 1 },
      parents: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
    },
    required: ['key'],
  },
  async run(args, ctx) {
    // Ansible's group_by turns spaces into dashes and keeps everything else
    const group = args.key.trim().replace(/ /g, '-');
    const parents = groupList(args.parents ?? 'all');
    // the Inventory interface has no way to nest groups; the run's InventoryModel has
    const nesting = ctx.inventory as unknown as Partial<{ addChild(parent: string, child: string): void }>;
    try {
      for (const parent of parents) {
        if (parent === 'all') continue;
        if (typeof nesting.addChild === 'function') nesting.addChild(parent, group);
      }
    } catch (err) {
      return { changed: false, failed: true, msg: err instanceof Error ? err.message : String(err) };
    }
    const direct = typeof nesting.addChild === 'function' ? [group] : [group, ...parents.filter((p) => p !== 'all')];
    ctx.inventory.addHost(ctx.host, direct, {});
    // Ansible reports group_by as ok, never changed
    return { changed: false, add_group: group, parent_groups: parents };
  },
});
