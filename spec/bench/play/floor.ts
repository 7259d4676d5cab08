// The floor: what the play costs with no engine at all. One OpenSSH connection per host (all
// hosts in parallel) running a generated POSIX shell script that reaches the same end state
// idempotently (test -d / cmp / grep before changing) and prints how many tasks changed
// something. Its check mode is the same script with DRY=1: the same tests, no writes.
import { renderedTemplate, TARGET_ROOT, type BenchTask } from './scenario.js';
import { runTimed, type TimedResult } from './process.js';

/** Quoted for sh: a single-quoted word. */
const sq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const mode = (m: string) => m.replace(/^0(?=\d{3})/, '');

const PRELUDE = `set -u
umask 022
changed=0
t=0
end_task() { if [ "$t" = 1 ]; then changed=$((changed + 1)); fi; t=0; }
# directory with a mode
dir_state() {
  if [ -d "$1" ]; then
    [ "$(stat -c %a "$1")" = "$2" ] || { t=1; [ "$DRY" = 1 ] || chmod "$2" "$1"; }
  else
    t=1; [ "$DRY" = 1 ] || { mkdir -p "$1" && chmod "$2" "$1"; }
  fi
}
# file with exact contents (base64) and a mode, written through a temp file and mv
file_content() {
  if [ -f "$1" ] && printf '%s' "$3" | base64 -d | cmp -s - "$1"; then
    [ "$(stat -c %a "$1")" = "$2" ] || { t=1; [ "$DRY" = 1 ] || chmod "$2" "$1"; }
  else
    t=1
    [ "$DRY" = 1 ] || { printf '%s' "$3" | base64 -d > "$1.floor-tmp" && chmod "$2" "$1.floor-tmp" && mv -f "$1.floor-tmp" "$1"; }
  fi
}
# a line in a file (replacing the lines matching a regexp, else appended), the file created with a mode
line_in_file() {
  if [ -f "$1" ]; then
    [ "$(stat -c %a "$1")" = "$2" ] || { t=1; [ "$DRY" = 1 ] || chmod "$2" "$1"; }
    grep -qxF -- "$4" "$1" || {
      t=1
      [ "$DRY" = 1 ] || { awk -v re="$3" -v line="$4" '$0 ~ re { if (!done) print line; done = 1; next } { print } END { if (!done) print line }' "$1" > "$1.floor-tmp" && chmod "$2" "$1.floor-tmp" && mv -f "$1.floor-tmp" "$1"; }
    }
  else
    t=1; [ "$DRY" = 1 ] || { printf '%s\\n' "$4" > "$1.floor-tmp" && chmod "$2" "$1.floor-tmp" && mv -f "$1.floor-tmp" "$1"; }
  fi
}
# a command unless its result exists (command's creates:)
run_unless_exists() {
  if [ ! -e "$1" ]; then t=1; shift; [ "$DRY" = 1 ] || "$@"; fi
}
package_present() {
  dpkg-query -W -f='\${Status}' "$1" 2>/dev/null | grep -q 'install ok installed' || { t=1; [ "$DRY" = 1 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y "$1" >/dev/null; }
}
`;

export interface FloorOptions {
  dry: boolean;
  /** Leave out the task with this name (to see the verification catch a runner that skips one). */
  skipTask?: string;
}

/** The script for one host (templates are rendered per host, as the engines render them). */
export function floorScript(tasks: BenchTask[], host: string, opts: FloorOptions): string {
  const lines = [`#!/bin/sh`, `# floor script for ${host}: ${tasks.length} tasks under ${TARGET_ROOT}`, `DRY=${opts.dry ? 1 : 0}`, PRELUDE];
  for (const t of tasks) {
    if (t.name === opts.skipTask) continue;
    lines.push(`# ${t.name}`);
    switch (t.module) {
      case 'file':
        lines.push(`dir_state ${sq(t.dir)} ${mode(t.mode)}`);
        break;
      case 'file-loop':
        for (const d of t.dirs) lines.push(`dir_state ${sq(d)} ${mode(t.mode)}`);
        break;
      case 'copy':
        lines.push(`file_content ${sq(t.dest)} ${mode(t.mode)} ${t.content.toString('base64')}`);
        break;
      case 'template':
        lines.push(`file_content ${sq(t.dest)} ${mode(t.mode)} ${Buffer.from(renderedTemplate(t.index, host)).toString('base64')}`);
        break;
      case 'lineinfile':
        lines.push(`line_in_file ${sq(t.dest)} ${mode(t.mode)} ${sq(t.regexp)} ${sq(t.line)}`);
        break;
      case 'command':
        lines.push(`run_unless_exists ${sq(t.creates)} touch ${sq(t.creates)}`);
        break;
      case 'apt':
        lines.push(`package_present ${sq(t.pkg)}`);
        break;
    }
    lines.push('end_task');
  }
  lines.push('echo "changed=$changed"');
  return lines.join('\n') + '\n';
}

export interface SshTarget {
  host: string;
  address: string;
  port: number;
}

export interface FloorRun {
  ms: number;
  /** Tasks that changed (or would change, dry) per host. */
  changed: Map<string, number>;
  failures: string[];
}

/** The OpenSSH options every floor connection uses: a fresh connection each time (no ControlMaster). */
export function floorSshArgs(target: SshTarget, privateKeyFile: string, knownHostsFile: string): string[] {
  return [
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
    '-o', 'GSSAPIAuthentication=no',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${knownHostsFile}`,
    '-o', 'LogLevel=ERROR',
    '-i', privateKeyFile,
    '-p', String(target.port),
    `root@${target.address}`,
  ];
}

/** One ssh per host, all at once, each feeding its script to `/bin/sh -s` on stdin. */
export async function runFloor(tasks: BenchTask[], targets: SshTarget[], keys: { privateKeyFile: string; knownHostsFile: string }, opts: FloorOptions): Promise<FloorRun> {
  const scripts = targets.map((t) => floorScript(tasks, t.host, opts)); // generated before the clock starts
  const start = Number(process.hrtime.bigint()) / 1e6;
  const results: TimedResult[] = await Promise.all(
    targets.map((t, i) => runTimed('ssh', [...floorSshArgs(t, keys.privateKeyFile, keys.knownHostsFile), '/bin/sh -s'], { input: scripts[i]!, timeoutMs: 300_000 })),
  );
  const ms = Number(process.hrtime.bigint()) / 1e6 - start;
  const changed = new Map<string, number>();
  const failures: string[] = [];
  results.forEach((r, i) => {
    const host = targets[i]!.host;
    const m = /changed=(\d+)\s*$/.exec(r.stdout);
    if (r.code !== 0 || !m) failures.push(`floor on ${host} exited ${r.code}: ${(r.stderr || r.stdout).trim().slice(-500)}`);
    else changed.set(host, Number(m[1]));
    if (r.stderr.trim()) failures.push(`floor on ${host} wrote to stderr: ${r.stderr.trim().slice(-500)}`);
  });
  return { ms, changed, failures };
}

