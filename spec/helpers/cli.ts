// Runs the built tsplay CLI (dist/, built by `npm test`) as a user would, in a pipe.
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeTempDir, removeTempDir } from './temp-dir.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const cliPath = path.join(repoRoot, 'dist/bundle/main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment for a run: colours off unless a test asks; an undefined value removes a variable. */
export function cliEnv(overrides: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR; // even an empty FORCE_COLOR forces colour (supports-color's rule)
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

export function tsplay(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): CliResult {
  const result = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: opts.cwd ?? repoRoot,
    env: cliEnv(opts.env),
    input: opts.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The same, without blocking the event loop (for tests that watch a run from outside). */
export function tsplayAsync(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: opts.cwd ?? repoRoot,
      env: cliEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** NDJSON events from a --json run. */
export function events(stdout: string): Array<Record<string, any>> {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l));
}

/** The PLAY RECAP of a --json run: host -> ok, changed, failed... */
export function recap(evs: Array<Record<string, any>>): Record<string, Record<string, number>> {
  return evs.find((e) => e.kind === 'recap')!.stats as Record<string, Record<string, number>>;
}

/** The host-result events of a --json run, keyed "host | task | item", in order. */
export function hostResults(evs: Array<Record<string, any>>): Map<string, Record<string, any>> {
  const out = new Map<string, Record<string, any>>();
  for (const e of evs) if (e.kind === 'host-result') out.set(`${e.host} | ${e.task} | ${e.item ?? ''}`, e);
  return out;
}

/** A temp dir to remove with cleanup(); removed anyway when the spec file ends (helpers/temp-dir.ts). */
export function tempDir(prefix = 'tsplay-spec-'): { dir: string; cleanup: () => void } {
  const dir = makeTempDir(prefix);
  return { dir, cleanup: () => removeTempDir(dir) };
}

/**
 * Everything a user could notice in a tree, the root included: names, types, link targets,
 * modes, owners, contents, mtimes and link counts. Equal fingerprints: nothing was touched.
 */
export function snapshotTree(dir: string): string {
  const lines: string[] = [];
  const walk = (full: string, rel: string): void => {
    const st = lstatSync(full);
    const what = st.isSymbolicLink() ? `link->${readlinkSync(full)}` : st.isDirectory() ? 'dir' : `file:${readFileSync(full).toString('base64')}`;
    lines.push(`${JSON.stringify(rel)} ${what} ${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid} ${st.mtimeMs} ${st.nlink}`);
    if (st.isDirectory()) for (const name of readdirSync(full).sort()) walk(path.join(full, name), `${rel}/${name}`);
  };
  walk(dir, '.');
  return lines.join('\n');
}
