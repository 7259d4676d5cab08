// The end state on the hosts, read from outside (labExec: nsenter into the host, no ssh, so the
// check costs the runners nothing and does not go through the delay proxy): resetting a host
// to fresh, and comparing what is under TARGET_ROOT with the expected state (every path, its
// type, mode and, for files, the sha256 of its contents).
import { inParallel, labExec, type LabHost } from '../../../engine/lab/lab.js';
import { expectedState, TARGET_ROOT, type BenchTask, type StateEntry } from './scenario.js';

export interface LabRef {
  name: string;
  dir: string;
}

const PARALLEL = 8;

/** Removes the play's target dir on every host: the fresh state of cold and check runs. */
export async function resetHosts(lab: LabRef, hosts: LabHost[]): Promise<void> {
  await inParallel(hosts, PARALLEL, async (h) => {
    const r = await labExec(h.name, ['rm', '-rf', TARGET_ROOT], { name: lab.name, dir: lab.dir });
    if (r.code !== 0) throw new Error(`resetting ${h.name}: rm -rf ${TARGET_ROOT} exited ${r.code}: ${r.stderr}`);
  });
}

const READ_STATE = [
  `cd ${TARGET_ROOT} 2>/dev/null || { echo ABSENT; exit 0; }`,
  `find . -printf '%y %m %p\\n'`,
  'echo --',
  'find . -type f -exec sha256sum {} +',
].join('\n');

/** What is under TARGET_ROOT on a host, or undefined when it does not exist. */
async function readState(lab: LabRef, host: LabHost): Promise<Map<string, StateEntry> | undefined> {
  const r = await labExec(host.name, ['/bin/sh', '-c', READ_STATE], { name: lab.name, dir: lab.dir });
  if (r.code !== 0) throw new Error(`reading the state of ${host.name} exited ${r.code}: ${r.stderr}`);
  if (r.stdout.trim() === 'ABSENT') return undefined;
  const [listing = '', sums = ''] = r.stdout.split('\n--\n');
  const state = new Map<string, StateEntry>();
  for (const line of listing.split('\n').filter(Boolean)) {
    const [type, mode, ...path] = line.split(' ');
    state.set(path.join(' '), { type: type!, mode: mode! });
  }
  for (const line of sums.split('\n').filter(Boolean)) {
    const m = /^([0-9a-f]{64}) {2}(.*)$/.exec(line);
    if (m) state.get(m[2]!)!.sha256 = m[1]!;
  }
  return state;
}

function describe(e: StateEntry | undefined): string {
  if (!e) return 'missing';
  return `${e.type === 'd' ? 'dir' : e.type === 'f' ? 'file' : `find type ${e.type}`} mode ${e.mode}${e.sha256 ? ` sha256 ${e.sha256.slice(0, 12)}` : ''}`;
}

/** Differences between a host's state and the expected one, as readable lines ([] = equal). */
function differences(actual: Map<string, StateEntry>, expected: Map<string, StateEntry>): string[] {
  const out: string[] = [];
  for (const [path, want] of expected) {
    const got = actual.get(path);
    if (!got || got.type !== want.type || got.mode !== want.mode || got.sha256 !== want.sha256) out.push(`${path}: ${describe(got)}, expected ${describe(want)}`);
  }
  for (const [path, got] of actual) if (!expected.has(path)) out.push(`${path}: unexpected ${describe(got)}`);
  return out;
}

/**
 * Every host has exactly the play's end state ('converged') or has no TARGET_ROOT at all
 * ('fresh', after a check run). Returns problems as lines naming host and path; [] = verified.
 */
export async function verifyHosts(lab: LabRef, hosts: LabHost[], tasks: BenchTask[], want: 'converged' | 'fresh'): Promise<string[]> {
  const problems: string[] = [];
  await inParallel(hosts, PARALLEL, async (h) => {
    const actual = await readState(lab, h);
    if (want === 'fresh') {
      if (actual) problems.push(`${h.name}: ${TARGET_ROOT} exists after a check run (${actual.size} entries): check mode wrote`);
      return;
    }
    if (!actual) {
      problems.push(`${h.name}: ${TARGET_ROOT} does not exist`);
      return;
    }
    for (const d of differences(actual, expectedState(tasks, h.name))) problems.push(`${h.name}: ${d}`);
  });
  return problems;
}
