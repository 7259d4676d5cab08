// One-line descriptions of the built-in modules for editor hovers, taken from the header
// comment every module file starts with ("// copy: put a controller file, ..."), so the
// description lives next to the code and cannot drift from it.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** engine/modules/ in the source tree (the generator runs from source, not from dist). */
const MODULES_DIR = fileURLToPath(new URL('../modules/', import.meta.url));

/** The first sentence of the module file's header comment, without the leading "name:". */
export function moduleDescription(name: string): string | undefined {
  const file = `${MODULES_DIR}${name}.ts`;
  if (!existsSync(file)) return undefined;
  const header: string[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^\/\/\s?(.*)$/.exec(line);
    if (!m) break;
    header.push(m[1]!.trim());
  }
  const text = header.join(' ').replace(/\s+/g, ' ').trim();
  const body = text.replace(/^[\w ()]+?:\s*/, '');
  if (!body) return undefined;
  // "e.g." and "i.e." do not end the sentence
  const sentence = /^(.+?(?<!\be\.g|\bi\.e)[.!?])(\s|$)/.exec(body)?.[1] ?? body;
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}
