// The image list (`rancher-images.txt`: one `NAME[:TAG][@DIGEST]` a line) and where each image goes:
// Rancher's rancher-load-images.sh puts `ns/name` at REGISTRY/ns/name and a bare `name` at
// REGISTRY/rancher/name. The mapping here is that rule, with knobs (default namespace, renames, prefix).
import { readFileSync } from 'node:fs';
import { ParseError } from '../errors.js';
import { RegistryError } from './errors.js';
import { type ImageRef, isRegistryComponent, parseReference } from './reference.js';

export interface NameMapping {
  /** namespace for names without one; Rancher's script uses 'rancher'; '' keeps them bare */
  defaultNamespace: string;
  /** first path component renames, e.g. { rancher: 'mirror-rancher' } */
  namespaceMap: Record<string, string>;
  /** put in front of every target path ('' for none) */
  prefix: string;
}

export const RANCHER_MAPPING: NameMapping = { defaultNamespace: 'rancher', namespaceMap: {}, prefix: '' };

export interface ImageListEntry {
  /** 1-based line in the list file */
  line: number;
  /** the line as written (trimmed) */
  text: string;
  source: ImageRef;
  target: ImageRef;
}

/** `host[:port][/path]` of --from / --to */
export function splitRegistryLocation(location: string): { registry: string; path: string } {
  const clean = location.replace(/^[a-z]+:\/\//i, '').replace(/\/+$/, '');
  const slash = clean.indexOf('/');
  return slash < 0 ? { registry: clean, path: '' } : { registry: clean.slice(0, slash), path: clean.slice(slash + 1) };
}

/** The target repository path for a list line's path (registry host already removed). */
export function mapTargetPath(path: string, mapping: NameMapping): string {
  const parts = path.split('/');
  if (parts.length === 1 && mapping.defaultNamespace) parts.unshift(mapping.defaultNamespace);
  if (parts.length > 1 && mapping.namespaceMap[parts[0]!] !== undefined) {
    const renamed = mapping.namespaceMap[parts[0]!]!;
    if (renamed) parts[0] = renamed;
    else parts.shift();
  }
  const mapped = parts.join('/');
  return mapping.prefix ? `${mapping.prefix.replace(/\/+$/, '')}/${mapped}` : mapped;
}

/** One line → source and target references. */
export function mapImage(text: string, from: string, to: string, mapping: NameMapping): { source: ImageRef; target: ImageRef } {
  const src = splitRegistryLocation(from);
  const dst = splitRegistryLocation(to);
  const firstSlash = text.indexOf('/');
  const namesRegistry = firstSlash > 0 && isRegistryComponent(text.slice(0, firstSlash));
  const pathText = namesRegistry ? text.slice(firstSlash + 1) : text;
  // the path as written, without tag and digest: the name the script re-tags
  const bare = pathText.replace(/@.*$/, '').replace(/:[^/]*$/, '');
  const source = parseReference(namesRegistry ? text : `${src.registry}/${src.path ? `${src.path}/` : ''}${pathText}`);
  const mapped = mapTargetPath(bare, mapping);
  const target: ImageRef = { registry: dst.registry, repository: dst.path ? `${dst.path}/${mapped}` : mapped };
  if (source.tag) target.tag = source.tag;
  if (source.digest && !source.tag) target.digest = source.digest;
  // validate the mapped name with docker's rules
  parseReference(`${target.registry}/${target.repository}${target.tag ? `:${target.tag}` : ''}`);
  return { source, target };
}

export function readImageList(file: string, from: string, to: string, mapping: NameMapping = RANCHER_MAPPING): ImageListEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ParseError('FILE_NOT_FOUND', `cannot read the image list ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, undefined, err);
  }
  const entries: ImageListEntry[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const hash = raw.indexOf('#');
    const line = (hash >= 0 ? raw.slice(0, hash) : raw).trim();
    if (!line) return;
    const col = raw.indexOf(line) + 1;
    try {
      const { source, target } = mapImage(line, from, to, mapping);
      const key = `${target.registry}/${target.repository}:${target.tag ?? ''}@${target.digest ?? ''}`;
      if (seen.has(key)) return; // the same image twice: copied once
      seen.add(key);
      entries.push({ line: index + 1, text: line, source, target });
    } catch (err) {
      if (err instanceof RegistryError) throw new ParseError('SCHEMA', err.message, { file, line: index + 1, col }, err);
      throw err;
    }
  });
  return entries;
}
