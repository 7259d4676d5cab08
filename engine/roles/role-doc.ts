// A role's documentation from its argument specs, the way `ansible-doc -t role` shows it:
// every entry point, every option with its type, whether it is mandatory (=) or not (-),
// default, choices, aliases and nested options. Also the JSON form (ansible-doc --json) and
// the Markdown used for a scaffolded role's README.
import type { EntryPointSpec, OptionSpec } from './argument-specs.js';

export interface RoleDocInput {
  name: string;
  dir: string;
  entryPoints: Record<string, EntryPointSpec>;
}

const INDENT = '        ';

function wrap(text: string, indent: string, width = 80): string[] {
  const out: string[] = [];
  for (const paragraph of text.split(/\n/)) {
    let line = '';
    for (const word of paragraph.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > width) {
        out.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(indent + line);
  }
  return out;
}

/** A value as YAML-minded users write it: strings bare, everything else as JSON. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return value === '' ? "''" : value;
  return JSON.stringify(value) ?? 'null';
}

function optionLines(option: OptionSpec, indent: string): string[] {
  const lines = [`${indent}${option.required ? '=' : '-'} ${option.name}`];
  const inner = indent + INDENT;
  for (const d of option.description) lines.push(...wrap(d, inner));
  if (option.aliases.length) lines.push(`${inner}aliases: [${option.aliases.join(', ')}]`);
  if (option.choices) lines.push(`${inner}choices: [${option.choices.map(showValue).join(', ')}]`);
  if (option.hasDefault) lines.push(`${inner}default: ${option.noLog ? '(hidden: no_log)' : showValue(option.default)}`);
  if (option.elements) lines.push(`${inner}elements: ${option.elements}`);
  if (option.noLog) lines.push(`${inner}no_log: true`);
  lines.push(`${inner}type: ${option.type}`);
  if (option.options && Object.keys(option.options).length) {
    lines.push('', `${inner}OPTIONS:`, '');
    for (const sub of Object.values(option.options)) lines.push(...optionLines(sub, inner), '');
    if (lines[lines.length - 1] === '') lines.pop();
  }
  return lines;
}

/** The text `tsplay role doc NAME` prints. */
export function renderRoleDoc(doc: RoleDocInput): string {
  const out: string[] = [`> ROLE: ${doc.name}    (${doc.dir})`, ''];
  const entries = Object.values(doc.entryPoints);
  if (entries.length === 0) out.push('This role has no entry points in its argument specs.', '');
  for (const entry of entries) {
    out.push(`ENTRY POINT: ${entry.name}${entry.shortDescription ? ` - ${entry.shortDescription}` : ''}`, '');
    for (const d of entry.description) out.push(...wrap(d, INDENT), '');
    const options = Object.values(entry.options);
    if (options.length === 0) out.push('This entry point has no options.', '');
    else {
      out.push('OPTIONS (= is mandatory):', '');
      for (const option of options) out.push(...optionLines(option, ''), '');
    }
    if (entry.author.length) out.push(`AUTHOR: ${entry.author.join(', ')}`, '');
  }
  return out.join('\n');
}

function optionJson(option: OptionSpec): Record<string, unknown> {
  const out: Record<string, unknown> = { type: option.type, required: option.required };
  if (option.description.length) out.description = option.description;
  if (option.hasDefault) out.default = option.noLog ? null : option.default;
  if (option.choices) out.choices = option.choices;
  if (option.elements) out.elements = option.elements;
  if (option.aliases.length) out.aliases = option.aliases;
  if (option.noLog) out.no_log = true;
  if (option.options) out.options = Object.fromEntries(Object.values(option.options).map((o) => [o.name, optionJson(o)]));
  return out;
}

/** ansible-doc -t role --json's shape: { NAME: { collection, entry_points: {…}, path } }. */
export function roleDocJson(doc: RoleDocInput): Record<string, unknown> {
  const entryPoints: Record<string, unknown> = {};
  for (const entry of Object.values(doc.entryPoints)) {
    entryPoints[entry.name] = {
      ...(entry.shortDescription ? { short_description: entry.shortDescription } : {}),
      ...(entry.description.length ? { description: entry.description } : {}),
      ...(entry.author.length ? { author: entry.author } : {}),
      options: Object.fromEntries(Object.values(entry.options).map((o) => [o.name, optionJson(o)])),
    };
  }
  return { [doc.name]: { collection: '', entry_points: entryPoints, path: doc.dir } };
}

function markdownOption(option: OptionSpec, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const facts = [`type: ${option.type}${option.elements ? ` of ${option.elements}` : ''}`, option.required ? 'required' : 'optional'];
  if (option.hasDefault) facts.push(`default: \`${option.noLog ? '(hidden)' : showValue(option.default)}\``);
  if (option.choices) facts.push(`choices: ${option.choices.map((c) => `\`${showValue(c)}\``).join(', ')}`);
  if (option.aliases.length) facts.push(`aliases: ${option.aliases.join(', ')}`);
  const lines = [`${pad}- \`${option.name}\` (${facts.join('; ')})${option.description.length ? ': ' + option.description.join(' ') : ''}`];
  for (const sub of Object.values(option.options ?? {})) lines.push(...markdownOption(sub, depth + 1));
  return lines;
}

/** README.md for a role, from its argument specs. */
export function renderRoleReadme(doc: RoleDocInput, extra: { usage?: string } = {}): string {
  const out: string[] = [`# ${doc.name}`, ''];
  const main = doc.entryPoints.main;
  if (main?.shortDescription) out.push(main.shortDescription, '');
  out.push('## Role variables', '', 'Generated from `meta/argument_specs.yml` (`tsplay role doc ' + doc.name + '` shows the same).', '');
  for (const entry of Object.values(doc.entryPoints)) {
    out.push(`### Entry point \`${entry.name}\``, '');
    for (const d of entry.description) out.push(d, '');
    const options = Object.values(entry.options);
    if (options.length === 0) out.push('No options.', '');
    else out.push(...options.flatMap((o) => markdownOption(o, 0)), '');
  }
  if (extra.usage) out.push('## Example playbook', '', '```yaml', extra.usage.trimEnd(), '```', '');
  return out.join('\n');
}
