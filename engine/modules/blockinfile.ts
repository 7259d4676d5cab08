// blockinfile: keep a block of lines between two marker lines in a file (or remove it).
import { defineModule } from './types.js';
import { editBlockInFile } from './text-edit.js';
import { editTextFile, ONE_PATH, pathArg, TEXT_FILE_PROPERTIES } from './text-file.js';
import type { ModeSpec } from './mode.js';

export interface BlockInFileArgs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  block?: string;
  content?: string;
  marker?: string;
  marker_begin?: string;
  marker_end?: string;
  state?: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  create?: boolean;
  append_newline?: boolean;
  prepend_newline?: boolean;
  backup?: boolean;
  validate?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
}

export default defineModule<BlockInFileArgs>({
  name: 'blockinfile',
  aliases: ['ansible.builtin.blockinfile', 'ansible.legacy.blockinfile'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...TEXT_FILE_PROPERTIES,
      block: { type: 'string' },
      content: { type: 'string' },
      marker: { type: 'string', minLength: 1 },
      marker_begin: { type: 'string' },
      marker_end: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      insertafter: { type: 'string' },
      insertbefore: { type: 'string' },
      create: { type: 'boolean' },
      append_newline: { type: 'boolean' },
      prepend_newline: { type: 'boolean' },
    },
    allOf: [ONE_PATH, { not: { required: ['insertafter', 'insertbefore'] } }, { not: { required: ['block', 'content'] } }],
  },
  run: (args, ctx) => {
    const path = pathArg(args);
    const marker = args.marker ?? '# {mark} ANSIBLE MANAGED BLOCK';
    const beginEnd = { begin: args.marker_begin ?? 'BEGIN', end: args.marker_end ?? 'END' };
    if (marker.replace(/\{mark\}/g, beginEnd.begin) === marker.replace(/\{mark\}/g, beginEnd.end)) {
      // Ansible: "marker_begin and marker_end must be different" (the markers would be one line)
      return Promise.resolve({ changed: false, failed: true, msg: 'marker_begin and marker_end must be different' });
    }
    const missing = () => ({ changed: false, failed: true, rc: 257, msg: `Path ${path} does not exist !` });
    return editTextFile(ctx, { ...args, path, ...(args.create !== undefined ? { create: args.create } : {}) }, missing, (before) =>
      editBlockInFile(before, {
        block: args.block ?? args.content ?? '',
        state: args.state ?? 'present',
        marker,
        marker_begin: beginEnd.begin,
        marker_end: beginEnd.end,
        ...(args.insertafter !== undefined ? { insertafter: args.insertafter } : {}),
        ...(args.insertbefore !== undefined ? { insertbefore: args.insertbefore } : {}),
        ...(args.append_newline !== undefined ? { append_newline: args.append_newline } : {}),
        ...(args.prepend_newline !== undefined ? { prepend_newline: args.prepend_newline } : {}),
      }),
    );
  },
});
