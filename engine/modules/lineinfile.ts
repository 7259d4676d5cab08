// lineinfile: make sure one line is in a file (or is not), replacing the line a regexp or a
// search string finds, else inserting it after/before a matching line (BOF/EOF too).
import { defineModule } from './types.js';
import { editLineInFile } from './text-edit.js';
import { editTextFile, ONE_PATH, pathArg, TEXT_FILE_PROPERTIES } from './text-file.js';
import type { ModeSpec } from './mode.js';

export interface LineInFileArgs {
  path?: string;
  dest?: string;
  destfile?: string;
  name?: string;
  regexp?: string;
  regex?: string;
  search_string?: string;
  line?: string;
  value?: string;
  state?: 'present' | 'absent';
  insertafter?: string;
  insertbefore?: string;
  create?: boolean;
  backrefs?: boolean;
  firstmatch?: boolean;
  backup?: boolean;
  validate?: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
}

export default defineModule<LineInFileArgs>({
  name: 'lineinfile',
  aliases: ['ansible.builtin.lineinfile', 'ansible.legacy.lineinfile'],
  schema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...TEXT_FILE_PROPERTIES,
      regexp: { type: 'string' },
      regex: { type: 'string' },
      search_string: { type: 'string' },
      line: { type: 'string' },
      value: { type: 'string' },
      state: { enum: ['present', 'absent'] },
      insertafter: { type: 'string' },
      insertbefore: { type: 'string' },
      create: { type: 'boolean' },
      backrefs: { type: 'boolean' },
      firstmatch: { type: 'boolean' },
      others: { type: 'string' },
    },
    allOf: [
      ONE_PATH,
      { not: { required: ['insertafter', 'insertbefore'] } },
      { not: { anyOf: [{ required: ['regexp', 'search_string'] }, { required: ['regex', 'search_string'] }, { required: ['regexp', 'regex'] }] } },
      { not: { required: ['line', 'value'] } },
    ],
  },
  run: (args, ctx) => {
    const path = pathArg(args);
    const state = args.state ?? 'present';
    const regexp = args.regexp ?? args.regex;
    const line = args.line ?? args.value;
    // Ansible's argument checks, with its messages
    if (args.backrefs && args.search_string !== undefined) return Promise.resolve({ changed: false, failed: true, msg: 'parameters are mutually exclusive: backrefs|search_string' });
    if (state === 'present' && line === undefined) return Promise.resolve({ changed: false, failed: true, msg: 'state is present but all of the following are missing: line' });
    if (args.backrefs && regexp === undefined) return Promise.resolve({ changed: false, failed: true, msg: 'regexp is required with backrefs=true' });
    if (state === 'absent' && regexp === undefined && args.search_string === undefined && line === undefined) {
      return Promise.resolve({ changed: false, failed: true, msg: 'one of line, search_string, or regexp is required with state=absent' });
    }
    const create = state === 'present' && args.create === true;
    const missing = () =>
      state === 'absent'
        ? { changed: false, found: 0, msg: 'file not present' }
        : { changed: false, failed: true, rc: 257, msg: `Destination ${path} does not exist !` };
    return editTextFile(ctx, { ...args, path, create }, missing, (before) => {
      const outcome = editLineInFile(before ?? '', {
        state,
        ...(line !== undefined ? { line } : {}),
        ...(regexp !== undefined ? { regexp } : {}),
        ...(args.search_string !== undefined ? { search_string: args.search_string } : {}),
        ...(args.insertafter !== undefined ? { insertafter: args.insertafter } : {}),
        ...(args.insertbefore !== undefined ? { insertbefore: args.insertbefore } : {}),
        ...(args.backrefs !== undefined ? { backrefs: args.backrefs } : {}),
        ...(args.firstmatch !== undefined ? { firstmatch: args.firstmatch } : {}),
      });
      return { ...outcome, ...(state === 'absent' ? { extra: { found: outcome.found ?? 0 } } : {}) };
    });
  },
});
