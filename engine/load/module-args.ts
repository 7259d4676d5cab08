// A task's module arguments: free-form text split, `args:` merged underneath, positions
// recorded on the new mapping (so modules and later errors can still say file:line:col),
// then validated against the module's schema.
import { ParseError, type SourcePos } from '../errors.js';
import type { ModuleDef } from '../modules/types.js';
import { META_ACTIONS } from '../modules/meta.js';
import { locate, locateKey, recordPosition } from './positions.js';
import { parseFreeForm, positionInScalar, FreeFormError } from './freeform.js';
import { validateAgainstSchema } from './schema.js';
import { didYouMean } from './suggest.js';
import type { LoadContext, LoadOptions } from './context.js';

type Mapping = Record<string, unknown>;

/** meta is an engine action: accepted even when no module definition is registered for it. */
export const META_MODULE = new Set(['meta', 'ansible.builtin.meta']);

function isMapping(v: unknown): v is Mapping {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  return Array.isArray(v) ? 'a list' : `a ${typeof v}`;
}

/** A scalar the arguments were read from, so words inside it can be positioned. */
interface ScalarSource {
  text: string;
  /** Where in `text` the argument string starts (after "copy " in `action: copy src=a`). */
  offset: number;
}

export interface ResolvedAction {
  def: ModuleDef | undefined;
  name: string;
  value: unknown;
  valuePos: SourcePos;
  keyPos: SourcePos;
  skipKeys?: Set<string>;
  scalar?: ScalarSource;
}

/** `action: copy src=a dest=b` / `local_action: {module: copy, src: a}` → the module and its raw arguments. */
export function resolveActionKeyword(raw: Mapping, key: string, opts: LoadOptions, suggest: (name: string) => string): ResolvedAction {
  const value = raw[key];
  const valuePos = locate(raw, key) ?? locate(raw)!;
  let name: string;
  let namePos: SourcePos;
  let args: unknown;
  let skipKeys: Set<string> | undefined;
  let scalar: ScalarSource | undefined;
  if (typeof value === 'string') {
    const m = /^(\s*)(\S+)\s*/.exec(value);
    if (!m) throw new ParseError('MODULE_ARGS', `${key}: missing the module name`, valuePos);
    name = m[2]!;
    namePos = positionInScalar(valuePos, value, m[1]!.length);
    args = value.slice(m[0].length);
    scalar = { text: value, offset: m[0].length };
  } else if (isMapping(value)) {
    if (typeof value.module !== 'string') throw new ParseError('MODULE_ARGS', `${key}: missing 'module' (the module to run)`, valuePos);
    name = value.module;
    namePos = locate(value, 'module') ?? valuePos;
    args = value;
    skipKeys = new Set(['module']);
  } else {
    throw new ParseError('MODULE_ARGS', `${key}: expected "module arguments…" or a mapping with 'module', got ${kindOf(value)}`, valuePos);
  }
  const def = opts.lookupModule(name);
  if (!def && !META_MODULE.has(name)) {
    throw new ParseError('UNKNOWN_MODULE', `couldn't resolve module/action '${name}'${suggest(name)}`, namePos);
  }
  const resolved: ResolvedAction = { def, name, value: args, valuePos, keyPos: namePos };
  if (skipKeys) resolved.skipKeys = skipKeys;
  if (scalar) resolved.scalar = scalar;
  return resolved;
}

/**
 * Build and validate the arguments of module `def` (undefined: meta without a definition)
 * written as `value` (a mapping, free-form text, or nothing), with `argsKeyword` beneath.
 */
export function buildModuleArgs(
  def: ModuleDef | undefined,
  writtenName: string,
  value: unknown,
  valuePos: SourcePos,
  keyPos: SourcePos,
  argsKeyword: Mapping | undefined,
  ctx: LoadContext,
  skipKeys?: Set<string>,
  scalar?: ScalarSource,
): { action: string; args: Mapping } {
  const action = def?.name ?? 'meta';
  const args: Mapping = {};
  const positions = recordPosition(args, keyPos);
  const put = (key: string, v: unknown, kPos: SourcePos | undefined, vPos: SourcePos | undefined) => {
    Object.defineProperty(args, key, { value: v, enumerable: true, writable: true, configurable: true });
    if (kPos) positions.keys.set(key, kPos);
    if (vPos) positions.values.set(key, vPos);
  };
  // `args:` first, so arguments written on the module line win, as in Ansible
  if (argsKeyword) for (const key of Object.keys(argsKeyword)) put(key, argsKeyword[key], locateKey(argsKeyword, key), locate(argsKeyword, key));

  if (typeof value === 'string') {
    const text = scalar ? scalar.text : value;
    const base = scalar ? scalar.offset : 0;
    const at = (offset: number) => positionInScalar(valuePos, text, base + offset);
    if (!def) {
      put('_raw_params', value.trim(), at(0), at(0));
    } else {
      const properties = Object.keys((def.schema.properties as Mapping | undefined) ?? {});
      let parsed;
      try {
        parsed = parseFreeForm(value, def.freeForm ?? 'kv', properties);
      } catch (err) {
        if (!(err instanceof FreeFormError)) throw err;
        throw new ParseError('MODULE_ARGS', `${action}: ${err.message}`, at(err.offset));
      }
      if (parsed.bareWords.length > 0) {
        const words = parsed.bareWords.map((w) => w.text).join(' ');
        throw new ParseError(
          'MODULE_ARGS',
          `${action}: unexpected free-form text '${words}': ${action} takes key=value arguments (or a mapping)`,
          at(parsed.bareWords[0]!.start),
        );
      }
      for (const [key, v] of Object.entries(parsed.args)) {
        const offset = parsed.offsets.get(key) ?? 0;
        put(key, v, at(offset), at(key === '_raw_params' ? offset : offset + key.length + 1));
      }
    }
  } else if (isMapping(value)) {
    for (const key of Object.keys(value)) {
      if (!skipKeys?.has(key)) put(key, value[key], locateKey(value, key), locate(value, key));
    }
  } else if (value !== null && value !== undefined) {
    throw new ParseError('MODULE_ARGS', `${writtenName}: arguments must be a mapping or key=value text, got ${kindOf(value)}`, valuePos);
  }

  if (def) {
    const errors = validateAgainstSchema(def.schema, args, args, action, { code: 'MODULE_ARGS', unknownCode: 'MODULE_ARGS', coerce: true, fallbackPos: keyPos });
    for (const err of errors) ctx.errors.add(err);
  } else {
    checkMeta(args, keyPos, ctx);
  }
  return { action, args };
}

function checkMeta(args: Mapping, keyPos: SourcePos, ctx: LoadContext): void {
  const what = args._raw_params;
  const known: readonly string[] = META_ACTIONS;
  if (typeof what === 'string' && known.includes(what) && Object.keys(args).length === 1) return;
  const shown = typeof what === 'string' ? `'${what}'` : 'nothing';
  const hint = typeof what === 'string' ? didYouMean(what, known) : '';
  ctx.errors.add(new ParseError('MODULE_ARGS', `meta: unknown action ${shown}${hint}; expected one of: ${known.join(', ')}`, locate(args, '_raw_params') ?? keyPos));
}
