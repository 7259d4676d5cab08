// JSON Schema validation (ajv, draft 2020-12) with messages a user can act on, placed at
// the file:line:col of the offending YAML value. Runs before any template is evaluated,
// so a value that is still a template ("{{ x }}") is accepted wherever the schema wants
// a number, boolean, list…; it is checked again once templated.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { newAjv } from './ajv-lazy.js';
import { precompiledValidator } from './precompiled-schemas.js';
import { ParseError, type ErrorCode, type SourcePos } from '../errors.js';
import { locate, locateKey, locatePath } from './positions.js';
import { didYouMean } from './suggest.js';

export type JsonSchemaObject = Record<string, unknown>;

export interface SchemaCheckOptions {
  /** What the keys of the validated mapping are called: 'argument' (modules), 'keyword', 'key'… Default 'argument'. */
  noun?: string;
  /** Code for wrong types, missing keys, bad values. Default 'SCHEMA'. */
  code?: ErrorCode;
  /** Code for unknown keys. Default: `code`. */
  unknownCode?: ErrorCode;
  /**
   * Convert scalars the way Ansible's argument specs do, in place: "3" → 3 where an integer is
   * wanted, "yes"/"false" → booleans, 8080 → "8080" where only a string is wanted.
   */
  coerce?: boolean;
  /** Where to point when nothing more precise is known (e.g. the module's key). */
  fallbackPos?: SourcePos;
}

/** The options every validator is compiled with, here and at build time (schema-gen/precompile.ts). */
export const AJV_OPTIONS = { allErrors: true, strict: false, verbose: true, allowUnionTypes: true } as const;

/** Schemas registered for `$ref`s before ajv was needed: added when it is made. */
const registered: JsonSchemaObject[] = [];
let ajv: Ajv2020 | undefined;
const compiled = new WeakMap<object, ValidateFunction>();

/**
 * ajv, made on first need. validateSchema off: checking each schema against the draft 2020-12
 * meta-schema compiles that meta-schema first, ~0.1 s of a run's start for schemas tsplay itself
 * generated and tests. A schema from elsewhere (a custom module) is checked with checkSchema.
 */
function useAjv(): Ajv2020 {
  if (!ajv) {
    ajv = newAjv({ ...AJV_OPTIONS, validateSchema: false });
    for (const schema of registered.splice(0)) ajv.addSchema(schema);
  }
  return ajv;
}

/** Check a schema tsplay did not write (a custom module's) against the JSON Schema meta-schema; throws. */
export function checkSchema(schema: JsonSchemaObject): void {
  const a = useAjv();
  if (a.validateSchema(schema) !== true) throw new Error(a.errorsText(a.errors, { dataVar: 'schema' }));
}

/** Whether a value is still a template, to be checked after templating. */
export function isTemplated(value: unknown): boolean {
  return typeof value === 'string' && (value.includes('{{') || value.includes('{%'));
}

/** Make a schema available to `$ref`s by its `$id` (e.g. keywords.json used by task.json). */
export function registerSchema(schema: JsonSchemaObject): void {
  const id = schema.$id;
  if (!ajv) {
    const at = registered.findIndex((s) => s === schema || (typeof id === 'string' && s.$id === id));
    if (at >= 0) registered.splice(at, 1);
    registered.push(schema);
    return;
  }
  if (typeof id === 'string' && ajv.getSchema(id)?.schema === schema) return;
  if (typeof id === 'string') ajv.removeSchema(id);
  ajv.addSchema(schema);
}

/** The validator for a schema: compiled at build time when it was (same text), else now. */
function compile(schema: JsonSchemaObject): ValidateFunction {
  let fn = compiled.get(schema) ?? precompiledValidator(schema);
  if (fn) {
    compiled.set(schema, fn);
    return fn;
  }
  const a = useAjv();
  try {
    fn = a.compile(schema);
  } catch (err) {
    // Another object with the same $id was compiled before (e.g. a module reloaded in tests).
    const id = schema.$id;
    if (typeof id !== 'string' || !/already exists/.test((err as Error).message)) throw err;
    a.removeSchema(id);
    fn = a.compile(schema);
  }
  compiled.set(schema, fn);
  return fn;
}

/** Folder holding schemas/*.json, from the source tree (engine/load) or the build (dist/engine/load). */
function schemasDir(): string {
  for (const up of ['../../schemas/', '../../../schemas/']) {
    const dir = fileURLToPath(new URL(up, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error('schemas/ folder not found next to the engine');
}

const fileSchemas = new Map<string, JsonSchemaObject>();

/** Read schemas/NAME.schema.json once and register it for `$ref`s. */
export function loadSchemaFile(name: string): JsonSchemaObject {
  let schema = fileSchemas.get(name);
  if (!schema) {
    schema = JSON.parse(readFileSync(`${schemasDir()}${name}.schema.json`, 'utf8')) as JsonSchemaObject;
    fileSchemas.set(name, schema);
    registerSchema(schema);
  }
  return schema;
}

/**
 * Validate `data` against `schema`; return one ParseError per problem (empty when valid).
 * `rootForPositions` is the loaded YAML value whose recorded positions match `data`'s shape
 * (usually `data` itself); `context` starts each message, e.g. "copy" or "play".
 */
export function validateAgainstSchema(
  schema: JsonSchemaObject,
  data: unknown,
  rootForPositions: unknown,
  context: string,
  options: SchemaCheckOptions = {},
): ParseError[] {
  const validate = compile(schema);
  let errors = relevantErrors(validate, data);
  if (options.coerce && errors.some((e) => coerceAt(data, e))) errors = relevantErrors(validate, data);
  return describeErrors(errors, data, rootForPositions, context, options);
}

function relevantErrors(validate: ValidateFunction, data: unknown): ErrorObject[] {
  if (validate(data)) return [];
  // A template's value is unknown until run time: whatever a schema says about it waits.
  return (validate.errors ?? []).filter((e) => !isTemplated(valueAt(data, pathOf(e))) && e.keyword !== 'if');
}

/** The path of an ajv error's value ("/a/0/b" -> ['a', 0, 'b']). */
export function pathOf(e: ErrorObject): Array<string | number> {
  if (e.instancePath === '') return [];
  return e.instancePath
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((part) => (/^(0|[1-9][0-9]*)$/.test(part) ? Number(part) : part));
}

/** The value at a path inside loaded data (undefined when the path leaves it). */
export function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let node = root;
  for (const step of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[step];
  }
  return node;
}

const TRUE_WORDS = new Set(['yes', 'on', 'true', 'y', '1']);
const FALSE_WORDS = new Set(['no', 'off', 'false', 'n', '0']);

/** Ansible-style scalar conversion for one type error; true when the value was changed. */
function coerceAt(data: unknown, e: ErrorObject): boolean {
  if (e.keyword !== 'type') return false;
  const path = pathOf(e);
  if (path.length === 0) return false;
  const parent = valueAt(data, path.slice(0, -1));
  if (parent === null || typeof parent !== 'object') return false;
  const key = path[path.length - 1]!;
  const value = (parent as Record<string | number, unknown>)[key];
  const wanted = typesOf(e);
  let converted: unknown;
  if (typeof value === 'string') {
    const text = value.trim();
    if ((wanted.includes('integer') && /^[-+]?[0-9]+$/.test(text)) || (wanted.includes('number') && /^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text))) {
      converted = Number(text);
    } else if (wanted.includes('boolean') && TRUE_WORDS.has(text.toLowerCase())) {
      converted = true;
    } else if (wanted.includes('boolean') && FALSE_WORDS.has(text.toLowerCase())) {
      converted = false;
    }
  } else if (typeof value === 'number' && wanted.includes('string') && !wanted.includes('number') && !wanted.includes('integer')) {
    converted = String(value);
  }
  if (converted === undefined) return false;
  (parent as Record<string | number, unknown>)[key] = converted;
  return true;
}

function typesOf(e: ErrorObject): string[] {
  const t = (e.params as { type?: string | string[] }).type;
  if (Array.isArray(t)) return t;
  return typeof t === 'string' ? t.split(',') : [];
}

/** How Ansible users name JSON types. */
function typeWord(t: string): string {
  return t === 'array' ? 'list' : t === 'object' ? 'mapping' : t;
}

function typeOfValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (typeof v === 'object') return 'mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** "mode", "loop_control.pause", "vars_files[1]". */
function pathName(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

function isUnder(path: ReadonlyArray<string | number>, prefix: ReadonlyArray<string | number>): boolean {
  return path.length > prefix.length && prefix.every((p, i) => path[i] === p);
}

function samePath(a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>): boolean {
  return a.length === b.length && a.every((p, i) => b[i] === p);
}

/** Show a user-supplied value briefly (only used for enum choices, never for free text). */
function brief(v: unknown): string {
  const text = typeof v === 'string' ? `'${v}'` : JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function describeErrors(
  errors: ErrorObject[],
  data: unknown,
  root: unknown,
  context: string,
  options: SchemaCheckOptions,
): ParseError[] {
  const noun = options.noun ?? 'argument';
  const code = options.code ?? 'SCHEMA';
  const unknownCode = options.unknownCode ?? code;
  const paths = errors.map(pathOf);
  const out: ParseError[] = [];
  const seen = new Set<string>();
  const posAt = (path: ReadonlyArray<string | number>): SourcePos | undefined =>
    (path.length === 0 ? locate(root) : locatePath(root, path)) ?? options.fallbackPos;
  const push = (c: ErrorCode, message: string, pos: SourcePos | undefined) => {
    const key = `${message}@${pos?.line}:${pos?.col}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(new ParseError(c, message, pos));
  };
  // When an anyOf/type union failed deeper down (a list item), the deeper error is the real one.
  const hasDeeper = (path: ReadonlyArray<string | number>) => paths.some((p) => isUnder(p, path));
  const typeErrorsAt = new Map<string, { path: Array<string | number>; types: Set<string> }>();

  errors.forEach((e, i) => {
    const path = paths[i]!;
    const name = pathName(path);
    const subject = name ? `${noun} '${name}'` : `${noun}s`;
    const prefix = name ? `${name}.` : '';
    const value = valueAt(data, path);
    const params = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'type': {
        if (hasDeeper(path)) return;
        const key = JSON.stringify(path);
        const entry = typeErrorsAt.get(key) ?? { path, types: new Set<string>() };
        for (const t of typesOf(e)) entry.types.add(t);
        typeErrorsAt.set(key, entry);
        return;
      }
      case 'anyOf':
      case 'oneOf': {
        // the branches' own errors say more; keep this only when nothing else was said here
        const others = paths.some((p, j) => j !== i && (samePath(p, path) || isUnder(p, path)));
        if (!others) push(code, `${context}: ${subject} does not match any allowed form`, posAt(path));
        return;
      }
      case 'additionalProperties':
      case 'unevaluatedProperties': {
        const extra = String(params.additionalProperty ?? params.unevaluatedProperty);
        const props = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const what = name ? `unknown key '${extra}' in ${noun} '${name}'` : `unknown ${noun} '${extra}'`;
        push(unknownCode, `${context}: ${what}${didYouMean(extra, props)}`, locateKey(valueAt(root, path), extra) ?? posAt(path));
        return;
      }
      case 'required':
        push(code, `${context}: missing required ${noun} '${prefix}${String(params.missingProperty)}'`, posAt(path));
        return;
      case 'dependentRequired':
        push(code, `${context}: ${noun} '${prefix}${String(params.property)}' also needs '${prefix}${String(params.missingProperty)}'`, posAt(path));
        return;
      case 'enum':
        push(
          code,
          `${context}: ${subject} must be one of: ${(params.allowedValues as unknown[]).map(String).join(', ')}; got ${brief(value)}`,
          posAt(path),
        );
        return;
      case 'const':
        push(code, `${context}: ${subject} must be ${brief(params.allowedValue)}`, posAt(path));
        return;
      case 'not': {
        const excluded = (e.schema as { required?: string[] } | undefined)?.required;
        if (excluded) push(code, `${context}: ${noun}s are mutually exclusive: ${excluded.map((k) => prefix + k).join(', ')}`, posAt(path));
        else push(code, `${context}: ${subject} ${e.message ?? 'is not allowed'}`, posAt(path));
        return;
      }
      case 'propertyNames':
        return; // its inner error names the key
      case 'pattern':
        if (e.propertyName !== undefined) {
          const bad = e.propertyName;
          const what = name ? `invalid key '${bad}' in ${noun} '${name}'` : `invalid ${noun} name '${bad}'`;
          push(code, `${context}: ${what} (must match ${String(params.pattern)})`, locateKey(valueAt(root, path), bad) ?? posAt(path));
        } else {
          push(code, `${context}: ${subject} must match ${String(params.pattern)}`, posAt(path));
        }
        return;
      case 'minProperties':
        push(code, `${context}: at least ${String(params.limit)} ${noun}${params.limit === 1 ? '' : 's'} required`, posAt(path));
        return;
      default:
        push(code, `${context}: ${subject} ${e.message ?? 'is invalid'}`, posAt(path));
    }
  });
  for (const { path, types } of typeErrorsAt.values()) {
    const name = pathName(path);
    const subject = name ? `${noun} '${name}'` : `${noun}s`;
    const wanted = [...types].map(typeWord).join(' or ');
    push(code, `${context}: ${subject} must be ${path.length === 0 ? 'a ' : ''}${wanted}, got ${typeOfValue(valueAt(data, path))}`, posAt(path));
  }
  return out.sort(byPosition);
}

function byPosition(a: ParseError, b: ParseError): number {
  const pa = a.pos;
  const pb = b.pos;
  if (!pa || !pb || pa.file !== pb.file) return 0;
  return pa.line - pb.line || pa.col - pb.col;
}
