// The lab's record of itself (tsplay-lab.json in the state dir). It doubles as the marker that a
// directory is a lab dir: `down` deletes a state dir only when that file is in it.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type LabConfig, labPaths } from './config.js';
import { LabError } from './lab-error.js';

export interface LabHostRecord {
  index: number;
  name: string;
  address: string;
}

export interface LabState {
  version: 1;
  name: string;
  /** Third octet of the lab's /24 inside 10.213.0.0/16. */
  subnet: number;
  /** Whether hosts get the become test users (tsplay-nopw, tsplay-pw). */
  users: boolean;
  /** Group specs for the inventory, e.g. ["web=1-2", "db=3"]. */
  groups: string[];
  hosts: LabHostRecord[];
  /** NAT to the machine's package registry (engine/lab/nat.ts); absent in labs made before it existed. */
  nat?: boolean;
}

export function readLabState(lab: LabConfig): LabState | undefined {
  const file = labPaths(lab).state;
  if (!existsSync(file)) return undefined;
  try {
    const state = JSON.parse(readFileSync(file, 'utf8')) as LabState;
    if (state.version !== 1 || state.name !== lab.name) throw new Error(`written for lab "${state.name}" (version ${state.version})`);
    return state;
  } catch (err) {
    throw new LabError(`cannot read the lab state ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export function writeLabState(lab: LabConfig, state: LabState): void {
  const file = labPaths(lab).state;
  const temp = `${file}.tmp`;
  writeFileSync(temp, JSON.stringify(state, null, 2) + '\n', { mode: 0o644 });
  renameSync(temp, file);
}

/** Creates the state dir, refusing a directory that holds anything but a lab (down would delete it). */
export function ensureLabDir(lab: LabConfig): void {
  if (existsSync(lab.dir)) {
    const entries = readdirSync(lab.dir);
    if (entries.length > 0 && !existsSync(labPaths(lab).state)) {
      throw new LabError(`${lab.dir} exists and is not a tsplay lab directory (no tsplay-lab.json): choose another TSPLAY_LAB_DIR`);
    }
  }
  mkdirSync(lab.dir, { recursive: true, mode: 0o755 });
}

export function isLabDir(lab: LabConfig): boolean {
  return existsSync(labPaths(lab).state);
}
