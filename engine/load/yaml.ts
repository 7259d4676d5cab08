// YAML with Ansible's habits (YAML 1.1: yes/no booleans, 0755 octal, `<<` merge keys),
// turned into plain values while recording where every mapping, sequence, key and value
// was written (positions.ts), so later errors can name file:line:col.
import { readFileSync } from 'node:fs';
import {
  Alias,
  Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  Scalar,
  YAMLMap,
  YAMLSeq,
  type Node as YamlNode,
} from 'yaml';
import { ParseError, registerSource, type SourcePos, type ErrorCode } from '../errors.js';
import { recordPosition } from './positions.js';
import { decryptInline, parseVaultFile, VaultInline, vaultYamlTag } from '../vault/yaml-values.js';
import { isVaultText } from '../vault/envelope.js';

const MERGE_KEY = '<<';
const BOOL_TAG = 'tag:yaml.org,2002:bool';

/**
 * YAML 1.1 as PyYAML (and so Ansible) reads it: yes/no/on/off/true/false are booleans but
 * y/n are not; timestamps and sexagesimal numbers ("8080:80") stay strings; `<<` merges are
 * applied by PlainConverter so explicit keys keep their positions.
 */
function ansibleTags(tags: Array<{ tag: string; format?: string; test?: RegExp }>): unknown[] {
  const kept = tags.filter(
    (t) =>
      t.tag !== BOOL_TAG &&
      t.tag !== 'tag:yaml.org,2002:merge' &&
      t.tag !== 'tag:yaml.org,2002:timestamp' &&
      t.format !== 'TIME',
  );
  const bool = (test: RegExp, value: boolean) => ({
    identify: (v: unknown) => typeof v === 'boolean' && v === value,
    default: true,
    tag: BOOL_TAG,
    test,
    resolve: () => value,
    stringify: () => String(value),
  });
  return [
    ...kept,
    bool(/^(?:[Yy]es|YES|[Tt]rue|TRUE|[Oo]n|ON)$/, true),
    bool(/^(?:[Nn]o|NO|[Ff]alse|FALSE|[Oo]ff|OFF)$/, false),
    vaultYamlTag, // `!vault |` values: decrypted by PlainConverter, where the position is known
  ];
}

/** Parse YAML text into plain values with positions recorded. Throws ParseError. */
export function parseYaml(text: string, file: string): unknown {
  // a whole vault-encrypted file (vars files, group_vars, inventory): decrypt, then parse
  if (isVaultText(text)) return parseVaultFile(text, file, parseYaml);
  registerSource(file, text);
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    version: '1.1',
    merge: false, // merges are applied by toPlain so explicit keys can be positioned
    uniqueKeys: true,
    lineCounter: lines,
    prettyErrors: false,
    keepSourceTokens: false,
    customTags: ansibleTags as never,
  });
  const at = (offset: number): SourcePos => {
    const { line, col } = lines.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length > 0) throw yamlError(doc.errors[0]!, at, text);
  return new PlainConverter(doc, at).convert(doc.contents);
}

/** Read and parse a YAML file. A missing file is a ParseError FILE_NOT_FOUND. */
export function loadYamlFile(file: string, referencedFrom?: SourcePos): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new ParseError('FILE_NOT_FOUND', `${reason}: ${file}`, referencedFrom);
  }
  return parseYaml(text, file);
}

function yamlError(
  err: { code: string; message: string; pos: [number, number] },
  at: (offset: number) => SourcePos,
  text: string,
): ParseError {
  const pos = at(err.pos[0]);
  const firstLine = err.message.split('\n')[0] ?? err.message;
  let code: ErrorCode = 'YAML_SYNTAX';
  let message = `YAML syntax error: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`;
  if (err.code === 'DUPLICATE_KEY') {
    code = 'YAML_DUPLICATE_KEY';
    message = `duplicate key in mapping: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}`;
  } else if (err.code === 'TAB_AS_INDENT' || lineHasTabIndent(text, pos.line)) {
    code = 'YAML_TAB';
    message = 'tab character used for indentation: YAML allows only spaces';
    const lineText = text.split(/\r?\n/)[pos.line - 1] ?? '';
    const tab = lineText.indexOf('\t');
    if (tab >= 0) pos.col = tab + 1;
  }
  return new ParseError(code, message, pos);
}

function lineHasTabIndent(text: string, line: number): boolean {
  const lineText = text.split(/\r?\n/)[line - 1] ?? '';
  return /^ *\t/.test(lineText);
}

class PlainConverter {
  /** Converted value of each node, so aliases share it and merges reuse it. */
  private readonly done = new Map<YamlNode, unknown>();

  constructor(
    private readonly doc: Document,
    private readonly at: (offset: number) => SourcePos,
  ) {}

  convert(node: unknown): unknown {
    if (node === null || node === undefined) return null;
    if (isAlias(node)) return this.convert((node as Alias).resolve(this.doc));
    const cached = this.done.get(node as YamlNode);
    if (cached !== undefined) return cached;
    if (isMap(node)) return this.convertMap(node as YAMLMap);
    if (isSeq(node)) return this.convertSeq(node as YAMLSeq);
    if (isScalar(node)) {
      const value = (node as Scalar).value;
      return value instanceof VaultInline ? decryptInline(value, this.posOf(node)) : scalarValue(node as Scalar);
    }
    return null;
  }

  private posOf(node: unknown): SourcePos | undefined {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? this.at(range[0]) : undefined;
  }

  private convertSeq(seq: YAMLSeq): unknown[] {
    const out: unknown[] = [];
    this.done.set(seq, out);
    const entry = recordPosition(out, this.posOf(seq) ?? this.at(0));
    seq.items.forEach((item, index) => {
      const pos = this.posOf(item);
      if (pos) entry.values.set(index, pos);
      out.push(this.convert(item));
    });
    return out;
  }

  private convertMap(map: YAMLMap): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.done.set(map, out);
    const entry = recordPosition(out, this.posOf(map) ?? this.at(0));
    const merged: Array<Record<string, unknown>> = [];
    for (const pair of map.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key;
      const key = keyNode === null || keyNode === undefined ? '' : keyString(this.convert(keyNode));
      if (key === MERGE_KEY && !(isScalar(keyNode) && (keyNode as Scalar).type === 'QUOTE_DOUBLE')) {
        merged.push(...this.mergeSources(pair.value));
        continue;
      }
      const keyPos = this.posOf(keyNode);
      if (keyPos) entry.keys.set(key, keyPos);
      const valuePos = this.posOf(pair.value) ?? keyPos;
      if (valuePos) entry.values.set(key, valuePos);
      // define, not assign: a key named __proto__ must stay a plain own key
      Object.defineProperty(out, key, { value: this.convert(pair.value), enumerable: true, writable: true, configurable: true });
    }
    // YAML merge: explicit keys win; among merged maps, earlier ones win.
    for (const source of merged) {
      for (const [key, value] of Object.entries(source)) {
        if (Object.prototype.hasOwnProperty.call(out, key)) continue;
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      }
    }
    return out;
  }

  private mergeSources(value: unknown): Array<Record<string, unknown>> {
    const sources = isSeq(value) ? (value as YAMLSeq).items : [value];
    const out: Array<Record<string, unknown>> = [];
    for (const src of sources) {
      const plain = this.convert(src);
      if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) {
        throw new ParseError('YAML_SYNTAX', 'merge key << must refer to a mapping or a list of mappings', this.posOf(src));
      }
      out.push(plain as Record<string, unknown>);
    }
    return out;
  }
}

function keyString(key: unknown): string {
  if (typeof key === 'string') return key;
  if (key === null) return 'null';
  if (typeof key === 'object') return JSON.stringify(key);
  return String(key);
}

function scalarValue(scalar: Scalar): unknown {
  const value = scalar.value;
  // YAML 1.1 timestamps: Ansible users expect the text they wrote (a version, a date string).
  if (value instanceof Date) return scalar.source ?? value.toISOString();
  if (typeof value === 'bigint') return Number(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return value === undefined ? null : value;
}
