// template: render a controller template with the task's variables and put the text at dest,
// exactly as copy does with content (same comparison, diff, atomic write, validate, backup).
import { readFileSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import { defineModule, type ModuleContext, type ModuleResult } from './types.js';
import { type ModeSpec } from './mode.js';
import { checkDestDir, FILE_WRITE_PROPERTIES, ensureFileContent, guarded, MAX_DIFF_BYTES, speculateFileContent, unlessChained } from './file-write.js';
import { findControllerSource, notFoundMessage } from './source-path.js';

export interface TemplateArgs {
  src: string;
  dest: string;
  mode?: ModeSpec;
  owner?: string;
  group?: string;
  backup?: boolean;
  validate?: string;
  force?: boolean;
  follow?: boolean;
  newline_sequence?: '\n' | '\r' | '\r\n';
}

export default defineModule<TemplateArgs>({
  name: 'template',
  aliases: ['ansible.builtin.template', 'ansible.legacy.template'],
  schema: {
    type: 'object',
    additionalProperties: false,
    required: ['src', 'dest'],
    properties: {
      ...FILE_WRITE_PROPERTIES,
      src: { type: 'string', minLength: 1 },
      newline_sequence: { enum: ['\n', '\r', '\r\n', '\\n', '\\r', '\\r\\n'] },
    },
  },
  run: (args, ctx) => guarded(() => runTemplate(args, ctx)),
});

async function runTemplate(args: TemplateArgs, ctx: ModuleContext): Promise<ModuleResult> {
  const lookup = findControllerSource(ctx, args.src, 'templates');
  if (!lookup.found) return { changed: false, failed: true, msg: notFoundMessage(args.src, lookup.searched) };
  const text = ctx.renderTemplate(readFileSync(lookup.found, 'utf8'), lookup.found);
  const newline = (args.newline_sequence ?? '\n').replace(/\\r/g, '\r').replace(/\\n/g, '\n');
  const rendered = newline === '\n' ? text : text.replace(/\r\n|\r|\n/g, newline);
  const content = Buffer.from(rendered, 'utf8');

  const name = posix.basename(lookup.found).replace(/\.(j2|hbs)$/, '');
  const inside = posix.join(args.dest, name);
  const write = {
    dest: args.dest,
    content,
    src: lookup.found,
    srcLabel: lookup.found,
    ...(args.mode !== undefined ? { mode: args.mode === 'preserve' ? statSync(lookup.found).mode & 0o7777 : args.mode } : {}),
    ...(args.owner !== undefined ? { owner: args.owner } : {}),
    ...(args.group !== undefined ? { group: args.group } : {}),
    ...(args.backup !== undefined ? { backup: args.backup } : {}),
    ...(args.validate !== undefined ? { validate: args.validate } : {}),
    ...(args.force !== undefined ? { force: args.force } : {}),
    ...(args.follow !== undefined ? { follow: args.follow } : {}),
  };
  // a new or changed file: written in the probe's round trip (file-write.ts)
  const speculation = speculateFileContent(ctx, write, posix.dirname(args.dest));
  const { stats, umask, then } = await ctx.ops.probe(
    [args.dest, inside, posix.dirname(args.dest)],
    { follow: true, checksum: 'sha1', ...(ctx.diff ? { contentUpTo: MAX_DIFF_BYTES } : {}) },
    speculation,
  );
  const intoDir = stats[0]!.type === 'directory';
  if (!intoDir) {
    const missingDir = checkDestDir(stats[2]!, ctx.check);
    if (missingDir) return unlessChained(then, missingDir);
  }
  return ensureFileContent(ctx, { ...write, dest: intoDir ? inside : args.dest, stat: intoDir ? stats[1]! : stats[0]!, umask }, { speculation, then });
}
