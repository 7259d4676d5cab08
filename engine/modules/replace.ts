// replace: replace every match of a regexp (Python syntax, MULTILINE) in a file, optionally
// only between the `after` and `before` patterns.
import { defineModule } from './types.js';
import { editReplace } from './text-edit.js';
import { editTextFile, ONE_PATH, pathArg, TEXT_FILE_PROPERTIES } from './text-file.js';
import type { ModeSpec } from './mode.js';

export interface ReplaceArgs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  regexp: string;
  replace?: string;
  after?: string;
  before?: string;
  backup?: boolean;
  validate?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
}

export default defineModule<ReplaceArgs>({
  name: 'replace',
  aliases: ['ansible.builtin.replace', 'ansible.legacy.replace'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['regexp'],
    properties: {
      ...TEXT_FILE_PROPERTIES,
      regexp: { type: 'string' },
      replace: { type: 'string' },
      after: { type: 'string' },
      before: { type: 'string' },
      others: { type: 'string' },
    },
    allOf: [ONE_PATH],
  },
  run: (args, ctx) => {
    const path = pathArg(args);
    const missing = () => ({ changed: false, failed: true, rc: 257, msg: `Path ${path} does not exist !` });
    return editTextFile(ctx, { ...args, path, create: false }, missing, (before) => {
      const outcome = editReplace(before ?? '', {
        regexp: args.regexp,
        replace: args.replace ?? '',
        ...(args.after !== undefined ? { after: args.after } : {}),
        ...(args.before !== undefined ? { before: args.before } : {}),
      });
      return outcome;
    });
  },
});
