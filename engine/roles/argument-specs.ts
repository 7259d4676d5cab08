// Role argument specs (meta/argument_specs.yml, or `argument_specs:` in meta/main.yml), as
// Ansible defines them: entry points (`main`, …) whose options have a type, required, default,
// choices, elements, nested options, no_log and aliases. A spec is checked when loaded (a bad
// type name is a ParseError at its line), turned into a JSON Schema, and values are validated
// with ajv — one compiled validator per role and entry point, cached.
//
// Conversions, as Ansible does them (ArgumentSpecValidator, used by validate_argument_spec):
// type checking is *coercive*: '8080' passes for int, 'yes' for bool, 'a,b' for a list,
// 'k=v k2=v2' or a JSON text for a dict, 8080 for str. But Ansible validates a converted copy
// and the role then runs with the variables as they were (ansible-documentation PR 3803:
// "values that can be converted to the expected type will pass type validation"; the role
// still sees the original). tsplay does the same: validateRoleArguments returns the values
// unconverted. What it adds (as tsplay's API asks): options left unset get the spec's
// `default` (Ansible documents that the real default comes from defaults/main.yml, so
// callers should pass role defaults in `values`; the spec default then only fills a gap).
// A value that is still a template ("{{ x }}") is not judged: it is unknown until templated.
// Deviation: null for a required option (or one with a non-null default) is an error for
// every type but raw; Ansible would turn it into the string 'None' for a str option.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { lazy, newAjv } from '../load/ajv-lazy.js';
import { ParseError, type ErrorCode, type SourcePos } from '../errors.js';
import { locate, locateKey, locatePath } from '../load/positions.js';
import { loadYamlFile } from '../load/yaml.js';
import { displayPath } from '../load/context.js';
import { didYouMean } from '../load/suggest.js';
import { pathOf, valueAt } from '../load/schema.js';

/** Not yet in errors.ts's ErrorCode union (shared file): asked for in the report. */
const ARGUMENT_SPEC: ErrorCode = 'ARGUMENT_SPEC';

export interface ArgumentValue {
  value: unknown;
  origin?: SourcePos;
}

export const OPTION_TYPES = ['str', 'int', 'float', 'bool', 'list', 'dict', 'path', 'raw', 'bytes', 'bits', 'json', 'jsonarg'] as const;
export type OptionType = (typeof OPTION_TYPES)[number];

/** One option of an entry point, normalised from the spec file. */
export interface OptionSpec {
  name: string;
  type: OptionType;
  required: boolean;
  /** Present only when the spec gives a default. */
  default?: unknown;
  hasDefault: boolean;
  choices?: unknown[];
  elements?: OptionType;
  /** Sub-options of a dict, or of each dict element of a list. */
  options?: Record<string, OptionSpec>;
  description: string[];
  noLog: boolean;
  aliases: string[];
  /** Where the option's key is written in the spec file. */
  pos: SourcePos;
}

export interface EntryPointSpec {
  name: string;
  shortDescription?: string;
  description: string[];
  author: string[];
  options: Record<string, OptionSpec>;
  pos: SourcePos;
}

type Mapping = Record<string, unknown>;
const isMapping = (v: unknown): v is Mapping => v !== null && typeof v === 'object' && !Array.isArray(v);

// ---------------------------------------------------------------------------------------------
// Loading and checking the spec itself

/** Keys Ansible (and ansible-doc, ansible-test) know on an option; anything else is a typo. */
const OPTION_KEYS = new Set([
  'type', 'required', 'default', 'choices', 'elements', 'options', 'description', 'no_log', 'aliases',
  'version_added', 'version_added_collection', 'apply_defaults', 'mutually_exclusive', 'required_together',
  'required_one_of', 'required_if', 'required_by', 'deprecated_aliases', 'removed_in_version',
  'removed_at_date', 'removed_from_collection', 'fallback', 'deprecated', 'suboptions', 'seealso', 'notes',
]);
const ENTRY_POINT_KEYS = new Set([
  'short_description', 'description', 'author', 'options', 'version_added', 'seealso', 'notes', 'attributes',
  'requirements', 'mutually_exclusive', 'required_together', 'required_one_of', 'required_if', 'required_by', 'examples',
]);

const parsedCache = new WeakMap<object, Record<string, EntryPointSpec>>();

/** The entry-point mapping: `argument_specs:` of the document, or the document itself. */
function entryPointsOf(specs: unknown, specFile: string): Mapping {
  const root = isMapping(specs) && 'argument_specs' in specs ? specs.argument_specs : specs;
  if (root === null || root === undefined) return {};
  if (!isMapping(root)) {
    throw new ParseError(ARGUMENT_SPEC, `argument_specs must be a mapping of entry points (main: …), got ${typeName(root)}`, locate(root) ?? locate(specs) ?? { file: specFile, line: 1, col: 1 });
  }
  return root;
}

/**
 * Check and normalise a parsed argument spec document. Every problem is listed in one
 * ParseError (code ARGUMENT_SPEC) positioned at the first one.
 */
export function parseArgumentSpecs(specs: unknown, specFile: string): Record<string, EntryPointSpec> {
  if (specs !== null && typeof specs === 'object') {
    const cached = parsedCache.get(specs);
    if (cached) return cached;
  }
  const problems: Problem[] = [];
  const fallback: SourcePos = locate(specs) ?? { file: specFile, line: 1, col: 1 };
  const root = entryPointsOf(specs, specFile);
  const out: Record<string, EntryPointSpec> = Object.create(null); // entry point "constructor" is no prototype key
  for (const [name, raw] of Object.entries(root)) {
    const pos = locateKey(root, name) ?? fallback;
    if (!isMapping(raw)) {
      problems.push({ text: `entry point '${name}' must be a mapping (short_description, description, options), got ${typeName(raw)}`, pos: locate(root, name) ?? pos });
      continue;
    }
    for (const key of Object.keys(raw)) {
      if (!ENTRY_POINT_KEYS.has(key)) problems.push({ text: `entry point '${name}': unknown key '${key}'${didYouMean(key, ENTRY_POINT_KEYS)}`, pos: locateKey(raw, key) ?? pos });
    }
    const entry: EntryPointSpec = {
      name,
      description: textList(raw, 'description', `entry point '${name}'`, problems, pos),
      author: textList(raw, 'author', `entry point '${name}'`, problems, pos),
      options: parseOptions(raw.options, raw, 'options', `entry point '${name}'`, problems, pos),
      pos,
    };
    if (raw.short_description !== undefined && raw.short_description !== null) entry.shortDescription = String(raw.short_description);
    out[name] = entry;
  }
  throwProblems(problems, `invalid argument spec ${displayPath(specFile)}`);
  if (specs !== null && typeof specs === 'object') parsedCache.set(specs, out);
  return out;
}

interface Problem {
  text: string;
  pos: SourcePos;
  /** The value is no_log: name its place, but show no code frame (it would print the line). */
  secret?: boolean;
  /** Placed in the spec file (a missing option), listed after the values' problems. */
  atSpec?: boolean;
  /** Where the value was set is unknown (e.g. -e): `pos` is the option's spec instead. */
  unplaced?: boolean;
}

function placeText(p: Problem): string {
  return p.unplaced ? `value set where tsplay cannot tell, e.g. -e; option at ${where(p.pos)}` : where(p.pos);
}

/** Values' problems in reading order (file, line, column), then missing options in spec order. */
function byPlace(a: Problem, b: Problem): number {
  const rank = (p: Problem) => (p.atSpec ? 2 : p.unplaced ? 1 : 0);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a.atSpec || a.unplaced) return 0;
  return a.pos.file.localeCompare(b.pos.file) || a.pos.line - b.pos.line || a.pos.col - b.pos.col;
}

function throwProblems(problems: Problem[], heading: string): void {
  if (problems.length === 0) return;
  const framed = problems.find((p) => !p.secret);
  if (problems.length === 1) {
    const only = problems[0]!;
    throw new ParseError(ARGUMENT_SPEC, `${heading}: ${only.text}${only.secret || only.unplaced ? ` (${placeText(only)})` : ''}`, framed?.pos);
  }
  const lines = problems.map((p) => `  - ${p.text} (${placeText(p)})`);
  throw new ParseError(ARGUMENT_SPEC, `${heading}: ${problems.length} problems:\n${lines.join('\n')}`, framed?.pos);
}

function where(pos: SourcePos): string {
  return `${displayPath(pos.file)}:${pos.line}:${pos.col}`;
}

function textList(raw: Mapping, key: string, context: string, problems: Problem[], pos: SourcePos): string[] {
  const value = raw[key];
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
  problems.push({ text: `${context}: '${key}' must be a string or a list of strings, got ${typeName(value)}`, pos: locate(raw, key) ?? pos });
  return [];
}

function parseOptions(value: unknown, parent: Mapping, key: string, context: string, problems: Problem[], pos: SourcePos): Record<string, OptionSpec> {
  if (value === undefined || value === null) return Object.create(null);
  if (!isMapping(value)) {
    problems.push({ text: `${context}: '${key}' must be a mapping of option names to their specs, got ${typeName(value)}`, pos: locate(parent, key) ?? pos });
    return {};
  }
  const out: Record<string, OptionSpec> = Object.create(null);
  for (const [name, raw] of Object.entries(value)) {
    const option = parseOption(name, raw, value, `${context}, option '${name}'`, problems, locateKey(value, name) ?? pos);
    if (option) out[name] = option;
  }
  return out;
}

function isOptionType(v: unknown): v is OptionType {
  return typeof v === 'string' && (OPTION_TYPES as readonly string[]).includes(v);
}

function parseOption(name: string, raw: unknown, parent: Mapping, context: string, problems: Problem[], pos: SourcePos): OptionSpec | undefined {
  if (!isMapping(raw)) {
    problems.push({ text: `${context}: must be a mapping (type, required, default, description…), got ${typeName(raw)}`, pos: locate(parent, name) ?? pos });
    return undefined;
  }
  const before = problems.length;
  const at = (key: string) => locate(raw, key) ?? pos;
  for (const key of Object.keys(raw)) {
    if (!OPTION_KEYS.has(key)) problems.push({ text: `${context}: unknown key '${key}'${didYouMean(key, OPTION_KEYS)}`, pos: locateKey(raw, key) ?? pos });
  }
  const typeName_ = raw.type ?? 'str';
  const type: OptionType = isOptionType(typeName_) ? typeName_ : 'raw';
  if (!isOptionType(typeName_)) {
    problems.push({ text: `${context}: unknown type '${String(typeName_)}'${didYouMean(String(typeName_), OPTION_TYPES)}; valid types: ${OPTION_TYPES.join(', ')}`, pos: at('type') });
  }
  const option: OptionSpec = {
    name,
    type,
    required: false,
    hasDefault: false,
    description: textList(raw, 'description', context, problems, pos),
    noLog: false,
    aliases: [],
    pos,
  };
  for (const flag of ['required', 'no_log'] as const) {
    const v = raw[flag];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'boolean') problems.push({ text: `${context}: '${flag}' must be true or false, got ${brief(v)}`, pos: at(flag) });
    else if (flag === 'required') option.required = v;
    else option.noLog = v;
  }
  if (raw.elements !== undefined && raw.elements !== null) {
    if (!isOptionType(raw.elements)) {
      problems.push({ text: `${context}: unknown elements type '${String(raw.elements)}'${didYouMean(String(raw.elements), OPTION_TYPES)}; valid types: ${OPTION_TYPES.join(', ')}`, pos: at('elements') });
    } else if (type !== 'list') {
      problems.push({ text: `${context}: 'elements' only applies to type list (this option is ${type})`, pos: at('elements') });
    } else option.elements = raw.elements;
  }
  if (raw.choices !== undefined && raw.choices !== null) {
    if (!Array.isArray(raw.choices)) problems.push({ text: `${context}: 'choices' must be a list, got ${typeName(raw.choices)}`, pos: at('choices') });
    else option.choices = raw.choices;
  }
  if (raw.aliases !== undefined && raw.aliases !== null) {
    if (!Array.isArray(raw.aliases) || !raw.aliases.every((a) => typeof a === 'string')) problems.push({ text: `${context}: 'aliases' must be a list of names`, pos: at('aliases') });
    else option.aliases = raw.aliases as string[];
  }
  const subKey = raw.options !== undefined ? 'options' : raw.suboptions !== undefined ? 'suboptions' : undefined;
  if (subKey && raw[subKey] !== null) {
    if (type !== 'dict' && !(type === 'list' && (option.elements ?? 'dict') === 'dict')) {
      problems.push({ text: `${context}: nested '${subKey}' need type dict, or type list with elements dict (this option is ${type})`, pos: at(subKey) });
    } else {
      if (type === 'list' && option.elements === undefined) option.elements = 'dict';
      option.options = parseOptions(raw[subKey], raw, subKey, context, problems, pos);
    }
  }
  if ('default' in raw) {
    option.hasDefault = true;
    option.default = raw.default;
    if (option.required && raw.default !== null) {
      problems.push({ text: `${context}: required and default are mutually exclusive`, pos: at('default') });
    }
  }
  if (problems.length > before) return option;
  // The spec's own default must pass its own checks (ansible-test's rule; a wrong default is a spec bug).
  if (option.hasDefault && option.default !== null && !hasTemplate(option.default)) {
    const checked = checkValue(option, option.default);
    if (checked) problems.push({ text: `${context}: default ${brief(option.default)} ${checked}`, pos: at('default') });
  }
  return option;
}

/** A short reason the value fails this option's type or choices, or undefined when it passes. */
function checkValue(option: OptionSpec, value: unknown): string | undefined {
  const converted = convertOption(option, value);
  if (!converted.ok) return `is not a valid ${typeLabel(option)}`;
  if (option.choices && !choicesAccept(option, converted.value)) return `is not one of the choices: ${option.choices.map(brief).join(', ')}`;
  return undefined;
}

function choicesAccept(option: OptionSpec, value: unknown): boolean {
  const choices = option.choices ?? [];
  const values = option.type === 'list' && Array.isArray(value) ? value : [value];
  return values.every((v) => choices.some((c) => sameValue(c, v)));
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

// ---------------------------------------------------------------------------------------------
// Finding a role's spec file

const fileCache = new Map<string, { stamp: string; result: { specFile: string; specs: unknown } | undefined }>();

/**
 * A role's argument specs: meta/argument_specs.yml (or .yaml), else `argument_specs:` in
 * meta/main.yml (or .yaml), as Ansible looks for them. undefined when the role has none.
 * The spec is checked here: a malformed one throws ParseError at its line.
 */
export function loadArgumentSpecs(roleDir: string): { specFile: string; specs: unknown } | undefined {
  for (const name of ['argument_specs.yml', 'argument_specs.yaml', 'main.yml', 'main.yaml']) {
    const file = join(roleDir, 'meta', name);
    if (!existsSync(file)) continue;
    const st = statSync(file);
    const stamp = `${st.mtimeMs}:${st.size}`;
    const cached = fileCache.get(file);
    if (cached && cached.stamp === stamp) {
      if (cached.result || !name.startsWith('main')) return cached.result;
      continue;
    }
    const specs = loadYamlFile(file);
    const isMain = name.startsWith('main');
    let result: { specFile: string; specs: unknown } | undefined;
    if (isMapping(specs) && 'argument_specs' in specs) result = { specFile: file, specs };
    else if (!isMain) {
      throw new ParseError(ARGUMENT_SPEC, `${displayPath(file)} must have a top-level 'argument_specs:' mapping of entry points`, locate(specs) ?? { file, line: 1, col: 1 });
    }
    if (result) parseArgumentSpecs(result.specs, file); // check it now, where the user is looking
    fileCache.set(file, { stamp, result });
    if (result || !isMain) return result;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// JSON Schema

export type JsonSchema = Record<string, unknown>;

const JSON_TYPE: Record<OptionType, JsonSchema> = {
  str: { type: 'string' },
  path: { type: 'string' },
  int: { type: 'integer' },
  float: { type: 'number' },
  bool: { type: 'boolean' },
  list: { type: 'array' },
  dict: { type: 'object' },
  raw: {},
  json: {},
  jsonarg: {},
  bytes: { type: 'integer' },
  bits: { type: 'integer' },
};

function optionSchema(option: OptionSpec): JsonSchema {
  const schema: JsonSchema = { ...JSON_TYPE[option.type] };
  if (option.description.length) schema.description = option.description.join('\n');
  if (option.hasDefault) schema.default = option.default;
  if (option.type === 'list') {
    const items = option.elements ? elementSchema(option) : {};
    if (option.choices) items.enum = option.choices;
    schema.items = items;
  } else if (option.type === 'dict' && option.options) {
    Object.assign(schema, objectSchema(option.options, false));
  } else if (option.choices) {
    schema.enum = option.choices;
  }
  return schema;
}

function elementSchema(option: OptionSpec): JsonSchema {
  const elements = option.elements!;
  const schema: JsonSchema = { ...JSON_TYPE[elements] };
  if (elements === 'dict' && option.options) Object.assign(schema, objectSchema(option.options, false));
  return schema;
}

function objectSchema(options: Record<string, OptionSpec>, openEnded: boolean): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const option of Object.values(options)) {
    properties[option.name] = optionSchema(option);
    // editors may see aliases; validation renames them to the option first
    for (const alias of option.aliases) properties[alias] = optionSchema(option);
  }
  const required = Object.values(options).filter((o) => o.required).map((o) => o.name);
  return { type: 'object', properties, ...(required.length ? { required } : {}), additionalProperties: openEnded };
}

/**
 * The JSON Schema (draft 2020-12) of one entry point's options: a mapping of variable names.
 * Other variables are allowed at the top level (a role sees every variable); nested dict
 * options accept only their declared sub-options, as Ansible does.
 */
export function argumentSpecsToJsonSchema(specs: unknown, entryPoint: string): JsonSchema {
  const entries = parseArgumentSpecs(specs, locate(specs)?.file ?? '<argument_specs>');
  const entry = entries[entryPoint];
  if (!entry) throw new ParseError(ARGUMENT_SPEC, `no entry point '${entryPoint}' in the argument specs${didYouMean(entryPoint, Object.keys(entries))}`, locate(specs));
  return schemaFor(entry);
}

function schemaFor(entry: EntryPointSpec): JsonSchema {
  const schema: JsonSchema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `entry point ${entry.name}`,
    ...(entry.shortDescription ? { description: entry.shortDescription } : {}),
    ...objectSchema(entry.options, true),
  };
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Ansible's conversions (module_utils/common/validation.py check_type_*), on a copy

type Converted = { ok: true; value: unknown } | { ok: false };
const fail: Converted = { ok: false };
const ok = (value: unknown): Converted => ({ ok: true, value });

const TRUE_VALUES = new Set(['y', 'yes', 'on', '1', 'true', 't']);
const FALSE_VALUES = new Set(['n', 'no', 'off', '0', 'false', 'f']);

/** Python's str() of a scalar, as Ansible's str conversion produces it. */
function pythonStr(value: unknown): string {
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return JSON.stringify(value);
}

function convertScalar(type: OptionType, value: unknown): Converted {
  if (hasTemplate(value)) return ok(value);
  switch (type) {
    case 'raw':
    case 'json':
    case 'jsonarg':
      return ok(value);
    case 'str':
    case 'path':
      return value === null ? fail : ok(pythonStr(value));
    case 'int':
      if (typeof value === 'boolean') return ok(value ? 1 : 0); // Python: bool is an int
      if (typeof value === 'number') return Number.isInteger(value) ? ok(value) : fail;
      if (typeof value === 'string' && /^\s*[-+]?\d+(_\d+)*\s*$/.test(value)) return ok(Number(value.replace(/_/g, '').trim()));
      return fail;
    case 'float':
      if (typeof value === 'boolean') return ok(value ? 1 : 0);
      if (typeof value === 'number') return ok(value);
      if (typeof value === 'string') {
        const text = value.trim().replace(/(\d)_(?=\d)/g, '$1');
        if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return ok(Number(text));
        if (/^[-+]?(inf|infinity|nan)$/i.test(text)) return ok(text);
      }
      return fail;
    case 'bool':
      if (typeof value === 'boolean') return ok(value);
      if (typeof value === 'string' || typeof value === 'number') {
        const word = String(value).toLowerCase().trim();
        if (TRUE_VALUES.has(word) || value === 1) return ok(true);
        if (FALSE_VALUES.has(word) || value === 0) return ok(false);
      }
      return fail;
    case 'list':
      if (Array.isArray(value)) return ok([...value]);
      if (typeof value === 'string') return ok(value.split(','));
      if (typeof value === 'number' || typeof value === 'boolean') return ok([pythonStr(value)]);
      return fail;
    case 'dict':
      if (isMapping(value)) return ok({ ...value });
      if (typeof value === 'string') return dictFromString(value);
      return fail;
    case 'bytes':
    case 'bits':
      return humanToNumber(value, type === 'bits');
  }
}

/** check_type_dict: a JSON object text, or "k1=v1, k2=v2" / "k1=v1 k2=v2". */
function dictFromString(text: string): Converted {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      return isMapping(parsed) ? ok(parsed) : fail;
    } catch {
      return fail;
    }
  }
  if (!trimmed.includes('=')) return fail;
  const out: Mapping = {};
  for (const field of trimmed.match(/(?:[^\s,"']+|"[^"]*"|'[^']*')+/g) ?? []) {
    const eq = field.indexOf('=');
    if (eq <= 0) return fail;
    out[field.slice(0, eq)] = field.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
  }
  return ok(out);
}

const UNIT_POWER: Record<string, number> = { '': 0, K: 1, M: 2, G: 3, T: 4, P: 5, E: 6, Z: 7, Y: 8 };

/** human_to_bytes: 10, '10', '1K', '2.5MB', '1Mb' (bits). */
function humanToNumber(value: unknown, bits: boolean): Converted {
  if (typeof value === 'number') return Number.isFinite(value) ? ok(Math.round(value)) : fail;
  if (typeof value !== 'string') return fail;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGTPEZY]?)(?:i?([Bb]))?\s*$/i.exec(value);
  if (!m) return fail;
  const power = UNIT_POWER[m[2]!.toUpperCase()] ?? 0;
  if (m[3] && ((bits && m[3] !== 'b' && power > 0) || (!bits && m[3] !== 'B' && power > 0))) return fail;
  return ok(Math.round(Number(m[1]) * 1024 ** power));
}

/**
 * Convert one option's value as Ansible would for validation: the type, then each list
 * element, then nested options (aliases renamed, nulls of optional sub-options dropped).
 * A value that cannot be converted stays as it was, so the schema reports it.
 */
function convertOption(option: OptionSpec, value: unknown): Converted {
  const converted = convertScalar(option.type, value);
  if (!converted.ok) return converted;
  let result = converted.value;
  if (option.type === 'list' && Array.isArray(result)) {
    const elementOption: OptionSpec | undefined = option.elements ? { ...option, type: option.elements, elements: undefined, choices: undefined } : undefined;
    result = result.map((item) => {
      if (!elementOption) return item;
      const c = convertScalar(elementOption.type, item);
      const v = c.ok ? c.value : item;
      return elementOption.options && isMapping(v) ? convertSubOptions(elementOption.options, v) : v;
    });
  } else if (option.type === 'dict' && option.options && isMapping(result)) {
    result = convertSubOptions(option.options, result);
  }
  return ok(result);
}

function convertSubOptions(options: Record<string, OptionSpec>, value: Mapping): Mapping {
  const out: Mapping = { ...value };
  for (const option of Object.values(options)) {
    for (const alias of option.aliases) {
      if (Object.hasOwn(out, alias) && !Object.hasOwn(out, option.name)) {
        out[option.name] = out[alias];
        delete out[alias];
      }
    }
    if (!Object.hasOwn(out, option.name)) continue;
    const v = out[option.name];
    if (v === null && !option.required && (option.default === undefined || option.default === null)) {
      delete out[option.name];
      continue;
    }
    const c = convertOption(option, v);
    out[option.name] = c.ok ? c.value : v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Validation

const ajv = lazy(() => newAjv({ allErrors: true, strict: false, allowUnionTypes: true }));

interface CompiledEntry {
  entry: EntryPointSpec;
  validate: ValidateFunction;
}

const validators = new WeakMap<object, Map<string, CompiledEntry>>();

function compiledFor(specs: unknown, specFile: string, entryPoint: string): CompiledEntry | undefined {
  const key = specs !== null && typeof specs === 'object' ? specs : undefined;
  const perEntry = key ? validators.get(key) : undefined;
  const hit = perEntry?.get(entryPoint);
  if (hit) return hit;
  const entry = parseArgumentSpecs(specs, specFile)[entryPoint];
  if (!entry) return undefined;
  const compiled = { entry, validate: ajv().compile(schemaFor(entry)) };
  if (key) {
    const map = perEntry ?? new Map<string, CompiledEntry>();
    map.set(entryPoint, compiled);
    validators.set(key, map);
  }
  return compiled;
}

/**
 * Validate a role's variables against one entry point of its argument specs. `values` holds
 * the variables the role will see (templated), each with where it was set. Returns them
 * unconverted (as Ansible runs the role), plus the spec default of every option left unset.
 * Throws one ParseError (code ARGUMENT_SPEC) listing every violation; no_log values are
 * never shown. A role without this entry point in its specs is not validated.
 */
export function validateRoleArguments(
  role: { name: string; specFile: string; specs: unknown },
  entryPoint: string,
  values: Record<string, ArgumentValue>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, arg] of Object.entries(values)) if (arg.value !== undefined) result[name] = arg.value;
  const compiled = compiledFor(role.specs, role.specFile, entryPoint);
  if (!compiled) return result;
  const { entry, validate } = compiled;

  const candidate: Mapping = {};
  for (const option of Object.values(entry.options)) {
    if (!Object.hasOwn(result, option.name)) continue;
    const value = result[option.name];
    // Ansible skips a null only when the option is optional and has no default
    if (value === null && !option.required && (option.default === undefined || option.default === null)) continue;
    const c = convertOption(option, value);
    candidate[option.name] = c.ok ? c.value : value;
  }
  const problems = validate(candidate) ? [] : describe(validate.errors ?? [], entry, candidate, values);
  throwProblems(problems, `role '${role.name}': argument validation failed for entry point '${entryPoint}'`);

  for (const option of Object.values(entry.options)) {
    if (!Object.hasOwn(result, option.name) && option.hasDefault) result[option.name] = structuredClone(option.default);
  }
  return result;
}


/** "web_port", "web_users[0].name". */
function pathName(path: ReadonlyArray<string | number>): string {
  let out = '';
  for (const step of path) out += typeof step === 'number' ? `[${step}]` : out ? `.${step}` : step;
  return out;
}

/** The option (or list element) a value path lands on, and whether any option on the way is no_log. */
function specAt(entry: EntryPointSpec, path: ReadonlyArray<string | number>): { option?: OptionSpec; element: boolean; noLog: boolean } {
  let options: Record<string, OptionSpec> | undefined = entry.options;
  let option: OptionSpec | undefined;
  let element = false;
  let noLog = false;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!option || option.type !== 'list') return { element: false, noLog };
      element = true;
      options = option.options;
      continue;
    }
    option = options?.[step];
    if (!option) return { element: false, noLog };
    noLog ||= option.noLog;
    element = false;
    options = option.options;
  }
  return { ...(option ? { option } : {}), element, noLog };
}

function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  return false;
}

function underTemplate(candidate: unknown, path: ReadonlyArray<string | number>, values: Record<string, ArgumentValue>): boolean {
  for (let i = 1; i <= path.length; i++) {
    if (hasTemplate(valueAt(candidate, path.slice(0, i)))) return true;
    const top = path[0];
    if (typeof top === 'string' && hasTemplate(valueAt(values[top]?.value, path.slice(1, i)))) return true;
  }
  return false;
}

function describe(
  errors: ErrorObject[],
  entry: EntryPointSpec,
  candidate: Mapping,
  values: Record<string, ArgumentValue>,
): Problem[] {
  const problems: Problem[] = [];
  const reported = new Set<string>();
  const typeFailed = new Set(errors.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  for (const e of errors) {
    const path = pathOf(e);
    if (underTemplate(candidate, path, values)) continue;
    if (e.keyword === 'enum' && typeFailed.has(e.instancePath)) continue; // the type says it already
    const { option, element, noLog } = specAt(entry, path);
    const name = pathName(path);
    const valueWhere = valuePos(path, values);
    const pos = valueWhere ?? option?.pos ?? entry.pos;
    let problem: Problem | undefined;
    switch (e.keyword) {
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        const full = [...path, missing];
        const spec = specAt(entry, full).option;
        const specWhere = spec ? where(spec.pos) : where(entry.pos);
        if (path.length === 0) problem = { text: `missing required argument '${missing}' (spec: ${specWhere})`, pos: spec?.pos ?? entry.pos, atSpec: true };
        else problem = { text: `${name}: missing required sub-option '${missing}' (spec: ${specWhere})`, pos };
        break;
      }
      case 'additionalProperties': {
        const extra = (e.params as { additionalProperty: string }).additionalProperty;
        const supported = option?.options ? Object.keys(option.options) : [];
        const extraPos = locateKey(valueAt(values[String(path[0])]?.value, path.slice(1)), extra) ?? pos;
        problem = { text: `${name}: unsupported parameter '${extra}'${didYouMean(extra, supported)}; supported: ${supported.join(', ')}`, pos: extraPos };
        break;
      }
      case 'type': {
        const original = originalAt(path, values, candidate);
        const wanted = option ? (element ? option.elements ?? 'raw' : option.type) : String((e.params as { type: unknown }).type);
        const got = noLog ? `a ${typeName(original)} value (hidden: no_log)` : `${brief(original)} (${typeName(original)})`;
        problem = { text: `${name}: expected ${element ? `a list of ${wanted}` : wanted}, got ${got}, which cannot be converted to ${wanted}`, pos };
        break;
      }
      case 'enum': {
        const choices = (e.params as { allowedValues: unknown[] }).allowedValues;
        const got = noLog ? 'a value hidden by no_log' : brief(valueAt(candidate, path));
        problem = { text: `${name}: value must be one of: ${choices.map(brief).join(', ')}; got ${got}`, pos };
        break;
      }
      default:
        problem = { text: `${name || 'arguments'}: ${e.message ?? 'invalid'}`, pos };
    }
    if (noLog && e.keyword !== 'required') problem.secret = true;
    if (!valueWhere && !problem.atSpec) problem.unplaced = true;
    const key = `${problem.text}@${where(problem.pos)}`;
    if (reported.has(key)) continue;
    reported.add(key);
    problems.push(problem);
  }
  return problems.sort(byPlace);
}

/** The value as the user wrote it (before conversion), for messages; falls back to the converted copy. */
function originalAt(path: ReadonlyArray<string | number>, values: Record<string, ArgumentValue>, candidate: Mapping): unknown {
  const top = path[0];
  if (typeof top !== 'string') return valueAt(candidate, path);
  const original = valueAt(values[top]?.value, path.slice(1));
  return original === undefined ? valueAt(candidate, path) : original;
}

/** Where a value was written: the deepest position the loader recorded, else where the variable was set. */
function valuePos(path: ReadonlyArray<string | number>, values: Record<string, ArgumentValue>): SourcePos | undefined {
  const top = path[0];
  if (typeof top !== 'string') return undefined;
  const arg = values[top];
  if (!arg) return undefined;
  if (path.length > 1) {
    const nested = locatePath(arg.value, path.slice(1));
    if (nested) return nested;
  }
  return arg.origin ?? locate(arg.value);
}

// ---------------------------------------------------------------------------------------------
// Words

/** Ansible's type names for a value. */
export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'dict';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'boolean') return 'bool';
  return 'str';
}

function typeLabel(option: OptionSpec): string {
  return option.type === 'list' && option.elements ? `list of ${option.elements}` : option.type;
}

function brief(value: unknown): string {
  const text = typeof value === 'string' ? `'${value}'` : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
