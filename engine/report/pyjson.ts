// Results are shown the way ansible-playbook shows them: Python's
// json.dumps(result, sort_keys=True, ensure_ascii=False[, indent=4]). Users grep and copy
// these lines, so the spacing (", " and ": " when compact) and key order matter.

/** Serialize like Python's json.dumps with sort_keys=True; indent 4 gives the pretty form. */
export function pythonJson(value: unknown, indent?: number): string {
  return dump(value, indent, 0, new Set());
}

function dump(value: unknown, indent: number | undefined, depth: number, seen: Set<object>): string {
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      // Python prints NaN/Infinity too (not valid JSON, but readable).
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return 'null';
    default:
      break;
  }
  const obj = value as object;
  if (seen.has(obj)) return '"[Circular]"';
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    return dump((obj as { toJSON(): unknown }).toJSON(), indent, depth, seen);
  }
  seen.add(obj);
  try {
    const entries: Array<[string | undefined, unknown]> = Array.isArray(obj)
      ? obj.map((v): [undefined, unknown] => [undefined, v])
      : Object.keys(obj)
          .filter((k) => (obj as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k): [string, unknown] => [k, (obj as Record<string, unknown>)[k]]);
    const [open, close] = Array.isArray(obj) ? ['[', ']'] : ['{', '}'];
    if (entries.length === 0) return open + close;
    const parts = entries.map(([k, v]) => {
      const body = dump(v, indent, depth + 1, seen);
      return k === undefined ? body : `${JSON.stringify(k)}: ${body}`;
    });
    if (indent === undefined) return open + parts.join(', ') + close;
    const pad = ' '.repeat(indent * (depth + 1));
    const closePad = ' '.repeat(indent * depth);
    return `${open}\n${pad}${parts.join(`,\n${pad}`)}\n${closePad}${close}`;
  } finally {
    seen.delete(obj);
  }
}
