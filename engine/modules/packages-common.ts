// What apt, dnf and yum share: the name list (string, comma list or list), the package-set
// diff, running one planned command with the failure Ansible users expect (cmd, rc, stdout,
// stderr), and staging a package file from the controller on the host.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { shQuote } from '../connection/shell.js';
import { findControllerSource } from './source-path.js';
import type { FileDiff, ModuleContext, ModuleResult } from './types.js';

/** `name:` as Ansible takes it: one name, a comma-separated string, or a list. */
export const NAME_LIST_SCHEMA = {
  anyOf: [
    { type: 'string' },
    { type: 'array', items: { type: 'string' } },
  ],
};

export function nameList(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const items = Array.isArray(value) ? value : value.split(',');
  return items.map((n) => n.trim()).filter((n) => n !== '');
}

/** One package's state: its version, or undefined when not installed. */
export type PackageSet = Map<string, string | undefined>;

/**
 * The diff users see for a package change: the affected packages, one `name version` line
 * each, before and after (absent packages are not listed).
 */
export function packageSetDiff(before: PackageSet, after: PackageSet): FileDiff {
  const render = (set: PackageSet): string =>
    [...set.entries()]
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, version]) => (version ? `${name} ${version}` : name))
      .map((line) => `${line}\n`)
      .join('');
  return { before: render(before), after: render(after), beforeHeader: 'installed packages (before)', afterHeader: 'installed packages (after)' };
}

function lines(text: string): string[] {
  if (text === '') return [];
  return text.replace(/\r?\n$/, '').split(/\r?\n/);
}

/** The result of a failed package command: what ran, its rc and output. */
export function commandFailure(msg: string, cmd: string, res: { rc: number; stdout: string; stderr: string }): ModuleResult {
  return {
    changed: false,
    failed: true,
    msg,
    cmd,
    rc: res.rc,
    stdout: res.stdout,
    stderr: res.stderr,
    stdout_lines: lines(res.stdout),
    stderr_lines: lines(res.stderr),
  };
}

/** Run a package tool's script with the task's environment and timeout (ownScript: see ExecOptions). */
export function runTool(ctx: ModuleContext, script: string, env: Record<string, string> = {}, opts: { ownScript?: boolean } = {}) {
  return ctx.ops.run(script, {
    env: { ...env, ...(ctx.environment ?? {}) },
    ...(ctx.timeoutMs !== undefined ? { timeoutMs: ctx.timeoutMs } : {}),
    ...(opts.ownScript ? { ownScript: true } : {}),
  });
}

/** A package file (.deb, .rpm) to install: on the host already, or staged there from the controller. */
export interface StagedPackage {
  /** Path on the host. */
  path: string;
  /** Remove the staged copy (a no-op for a file that was on the host). */
  cleanup(): Promise<void>;
}

/**
 * Find a package file: an absolute path that exists on the host is used in place (as Ansible
 * reads `deb:`); otherwise the file is looked up on the controller (files/ beside the task,
 * like copy's src) and copied into a private temp folder on the host, also in check mode,
 * where it is only inspected and then removed.
 */
export async function stagePackageFile(ctx: ModuleContext, file: string, onHost: boolean): Promise<StagedPackage | { missing: string }> {
  if (onHost) return { path: file, cleanup: async () => {} };
  const lookup = findControllerSource(ctx, file, 'files');
  if (!lookup.found) return { missing: `${file} was found neither on the host nor on the controller (searched ${lookup.searched.join(', ')})` };
  const data = readFileSync(lookup.found);
  const dir = `/tmp/.tsplay-pkg.${randomBytes(8).toString('hex')}`;
  const made = await ctx.ops.run(`umask 077 && mkdir -- ${shQuote(dir)}`);
  if (made.rc !== 0) return { missing: `could not make a temp folder on the host for ${file}: ${made.stderr.trim()}` };
  const path = posix.join(dir, posix.basename(lookup.found.replace(/\\/g, '/')));
  await ctx.ops.writeFileAtomic(path, data, { mode: 0o600 });
  return { path, cleanup: async () => void (await ctx.ops.run(`rm -rf -- ${shQuote(dir)}`)) };
}

/** Shell words for a list of values. */
export function words(values: readonly string[]): string {
  return values.map(shQuote).join(' ');
}
