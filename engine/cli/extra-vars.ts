// -e / --extra-vars, as ansible-playbook reads it: key=value pairs, a YAML/JSON
// document, or @file. Later values win.
import path from 'node:path';
import { parseYaml, loadYamlFile } from '../load/yaml.js';
import { parseFreeForm } from '../load/freeform.js';
import { OptionError, type SourcePos } from '../errors.js';
import { locate, recordPosition } from '../load/positions.js';

// The merged mapping has no place of its own, only values from files do: locate() gives
// undefined for a value set by `-e key=value` rather than some other value's file.
const NOWHERE = undefined as unknown as SourcePos;

function asMapping(value: unknown, origin: string): Record<string, unknown> {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new OptionError(`--extra-vars ${origin}: expected a mapping of variable names to values`);
  }
  return value as Record<string, unknown>;
}

export function parseExtraVars(values: string[], cwd: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of values) {
    const text = raw.trim();
    if (text === '') continue;
    let vars: Record<string, unknown>;
    if (text.startsWith('@')) {
      const file = path.resolve(cwd, text.slice(1));
      vars = asMapping(loadYamlFile(file), text);
    } else if (text.startsWith('{') || text.startsWith('---')) {
      vars = asMapping(parseYaml(text, '<extra-vars>'), JSON.stringify(text));
    } else {
      let parsed;
      try {
        parsed = parseFreeForm(text, 'kv', []);
      } catch (err) {
        throw new OptionError(`--extra-vars ${JSON.stringify(text)}: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (parsed.bareWords.length > 0) {
        throw new OptionError(`--extra-vars: '${parsed.bareWords[0]!.text}' is not key=value (use key=value, YAML/JSON, or @file)`);
      }
      vars = parsed.args;
    }
    // keep where each value was written (-e @file), for messages about it (role argument specs)
    const positions = recordPosition(out, NOWHERE).values;
    for (const key of Object.keys(vars)) {
      out[key] = vars[key];
      const pos = locate(vars, key);
      if (pos) positions.set(key, pos);
      else positions.delete(key);
    }
  }
  return out;
}
