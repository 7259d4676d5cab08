// The lab's public API: labUp, labDown, labStatus, labInventory, labExec. `tsplay lab` and the
// spec tests both use it (tests bring a lab up in a before hook and down in an after hook).
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  DEFAULT_LAB_NAME,
  hostIndexOf,
  hostNames,
  type HostNames,
  LAB_RANGE_PREFIX,
  type LabConfig,
  type LabOptions,
  labPaths,
  MAX_HOSTS,
  resolveLabConfig,
} from './config.js';
import { execInHost, hostInitPid, hostLayout, removeHostFiles, sshdAnswers, startHost, stopHostProcesses } from './host.js';
import { renderLabInventory, type InventoryFormat, parseGroupSpec } from './inventory-file.js';
import { ensureLabKeyPair, hostPublicKey, writeKnownHosts } from './keys.js';
import { LabError } from './lab-error.js';
import { withLabLock } from './lock.js';
import {
  checkLabRangeIsFree,
  chooseSubnet,
  createHostNetwork,
  ensureBlackholeRoute,
  ensureBridge,
  netnsExists,
  netnsNames,
  removeBlackholeRouteIfUnused,
  removeBridge,
  removeHostNetwork,
  tidyNetnsDir,
} from './network.js';
import { disableLabNat, enableLabNat } from './nat.js';
import { ensureLabDir, isLabDir, type LabState, readLabState, writeLabState } from './state.js';
import { type RunResult, requireLinuxRoot, requireTools, run, type LabTool } from './system.js';
import { createBecomeUsers, NOPASSWD_USER, PASSWORD_USER } from './users.js';

export { LabError } from './lab-error.js';
export type { LabOptions } from './config.js';
export type { InventoryFormat } from './inventory-file.js';

export interface LabUpOptions extends LabOptions {
  /** Create the become test users (tsplay-nopw, tsplay-pw) in every host; once on, it stays on for the lab. */
  users?: boolean;
  /** Inventory group specs ("web=1-2,4", "all_hosts"); replace the lab's stored groups when given. */
  groups?: string[];
  /**
   * NAT from the lab to the machine's Debian package registry and DNS resolvers only
   * (engine/lab/nat.ts). true turns it on, false off; left out, the lab keeps what it had.
   */
  nat?: boolean;
}

export interface LabHost {
  index: number;
  /** Host name, netns name and hostname inside, e.g. tsplab-h1. */
  name: string;
  address: string;
}

export interface LabInfo {
  name: string;
  dir: string;
  bridge: string;
  /** e.g. 10.213.0.0/24 */
  subnet: string;
  hosts: LabHost[];
  inventoryFile: string;
  inventoryYamlFile: string;
  privateKeyFile: string;
  knownHostsFile: string;
  /** Present when the hosts have the become test users. */
  becomeUsers?: { nopasswd: string; password: string; passwordFile: string };
  /** Whether the hosts reach the package registry through NAT. */
  nat: boolean;
  /** Hosts this call created (labUp) — the others were already up. */
  created: string[];
  /** Hosts this call removed (labUp shrinking the lab). */
  removed: string[];
}

const BASE_TOOLS: LabTool[] = ['ip', 'nsenter', 'unshare', 'mount', 'umount', 'chroot', 'sshd', 'ssh-keygen'];
const USER_TOOLS: LabTool[] = ['useradd', 'chpasswd', 'sudo'];

/** Runs tasks with at most `limit` at a time; rejects with the first failure after all settle. */
export async function inParallel<T>(items: T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const errors: unknown[] = [];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      try {
        await task(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}

function subnetText(subnet: number): string {
  return `${LAB_RANGE_PREFIX}${subnet}.0/24`;
}

function labInfo(lab: LabConfig, state: LabState, created: string[] = [], removed: string[] = []): LabInfo {
  const paths = labPaths(lab);
  return {
    name: lab.name,
    dir: lab.dir,
    bridge: lab.bridge,
    subnet: subnetText(state.subnet),
    hosts: [...state.hosts].sort((a, b) => a.index - b.index),
    inventoryFile: paths.inventoryIni,
    inventoryYamlFile: paths.inventoryYaml,
    privateKeyFile: paths.privateKey,
    knownHostsFile: paths.knownHosts,
    ...(state.users ? { becomeUsers: { nopasswd: NOPASSWD_USER, password: PASSWORD_USER, passwordFile: paths.becomePassword } } : {}),
    nat: state.nat === true,
    created,
    removed,
  };
}

function renderInventoryFor(lab: LabConfig, state: LabState, format: InventoryFormat, groups = state.groups): string {
  const paths = labPaths(lab);
  return renderLabInventory(
    {
      labName: lab.name,
      hosts: state.hosts,
      privateKeyFile: paths.privateKey,
      knownHostsFile: paths.knownHosts,
      groups,
      ...(state.users ? { becomePasswordFile: paths.becomePassword } : {}),
    },
    format,
  );
}

/** A host is kept when its init is alive; sshd stopped inside it is started again. */
async function hostIsRunning(host: HostNames): Promise<boolean> {
  if (!(await netnsExists(host.name)) || hostInitPid(host.name) === undefined) return false;
  if (!(await sshdAnswers(host.address, 500))) {
    await execInHost(host.name, ['/usr/sbin/sshd']);
    const deadline = Date.now() + 5000;
    while (!(await sshdAnswers(host.address, 300))) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return true;
}

async function removeHost(lab: LabConfig, name: string): Promise<void> {
  await stopHostProcesses(name);
  await removeHostNetwork(name);
  removeHostFiles(lab, name);
}

/**
 * Brings the lab to exactly `count` hosts: keeps running ones, creates missing ones, removes
 * hosts numbered above `count`. Writes known_hosts and the inventory files in the state dir.
 */
export async function labUp(count = 3, opts: LabUpOptions = {}): Promise<LabInfo> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) throw new LabError(`the lab has 1 to ${MAX_HOSTS} hosts, not ${count}`);
  requireLinuxRoot();
  return withLabLock(() => bringUp(count, opts));
}

async function bringUp(count: number, opts: LabUpOptions): Promise<LabInfo> {
  const wantUsers = Boolean(opts.users);
  const lab = resolveLabConfig(opts);
  const existing = readLabState(lab);
  requireTools(wantUsers || existing?.users ? [...BASE_TOOLS, ...USER_TOOLS] : BASE_TOOLS);
  for (const spec of opts.groups ?? []) parseGroupSpec(spec, count);

  await checkLabRangeIsFree();
  ensureLabDir(lab);
  const state: LabState = existing ?? {
    version: 1,
    name: lab.name,
    subnet: await chooseSubnet(lab, lab.name === DEFAULT_LAB_NAME),
    users: false,
    groups: [],
    hosts: [],
  };
  state.users = state.users || wantUsers;
  if (opts.groups) state.groups = opts.groups;
  if (opts.nat !== undefined) state.nat = opts.nat;
  writeLabState(lab, state); // the marker first: `down` may then clean up whatever follows

  await ensureLabKeyPair(lab);
  await ensureBlackholeRoute();
  await ensureBridge(lab, state.subnet);
  // after ensureBridge, which turns the bridge's forwarding off
  if (state.nat) await enableLabNat(lab, state.subnet);
  else await disableLabNat(lab);

  // Hosts above `count`, recorded or left behind by an interrupted run, go.
  const known = new Set([...state.hosts.map((h) => h.name), ...(await netnsNames()).filter((n) => hostIndexOf(lab, n) !== undefined)]);
  const byIndex = (a: string, b: string) => (hostIndexOf(lab, a) ?? 0) - (hostIndexOf(lab, b) ?? 0);
  const removed = [...known].filter((name) => (hostIndexOf(lab, name) ?? 0) > count).sort(byIndex);
  await inParallel(removed, 8, (name) => removeHost(lab, name));

  const wanted = Array.from({ length: count }, (_, i) => hostNames(lab, state.subnet, i + 1));
  const created: string[] = [];
  state.hosts = [];
  await inParallel(wanted, 16, async (host) => {
    if (!(await hostIsRunning(host))) {
      await removeHost(lab, host.name); // leftovers of a crashed host
      await createHostNetwork(lab, state.subnet, host);
      state.hosts.push(host);
      await startHost(lab, host);
      created.push(host.name);
    } else {
      state.hosts.push(host);
    }
  });
  state.hosts.sort((a, b) => a.index - b.index);
  created.sort(byIndex);
  writeLabState(lab, state);

  if (state.users) await inParallel(state.hosts, 16, (host) => createBecomeUsers(lab, host.name));

  writeKnownHosts(
    lab,
    state.hosts.map((host) => ({ ...host, publicKey: hostPublicKey(hostLayout(lab, host.name).upper) })),
  );
  const paths = labPaths(lab);
  writeFileSync(paths.inventoryIni, renderInventoryFor(lab, state, 'ini'));
  writeFileSync(paths.inventoryYaml, renderInventoryFor(lab, state, 'yaml'));
  return labInfo(lab, state, created, removed);
}

function mountsUnder(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((mountPoint): mountPoint is string => mountPoint !== undefined && (mountPoint === dir || mountPoint.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
}

export interface LabDownResult {
  name: string;
  dir: string;
  /** Hosts that were torn down (empty when the lab was already down). */
  removed: string[];
}

/** Removes every host, the bridge, the state dir and (when no other lab is up) the blackhole route. Idempotent. */
export async function labDown(opts: LabOptions = {}): Promise<LabDownResult> {
  requireLinuxRoot();
  requireTools(['ip']);
  return withLabLock(() => tearDown(opts));
}

async function tearDown(opts: LabOptions): Promise<LabDownResult> {
  const lab = resolveLabConfig(opts);
  const state = isLabDir(lab) ? readLabState(lab) : undefined;
  // Names from the state and from the machine, so a lab whose state was lost still goes away.
  const names = new Set([...(state?.hosts ?? []).map((h) => h.name), ...(await netnsNames()).filter((n) => hostIndexOf(lab, n) !== undefined)]);
  const removed = [...names].sort((a, b) => (hostIndexOf(lab, a) ?? 0) - (hostIndexOf(lab, b) ?? 0));
  await inParallel(removed, 16, async (name) => {
    await stopHostProcesses(name);
    await removeHostNetwork(name);
  });
  await disableLabNat(lab);
  await removeBridge(lab);
  await removeBlackholeRouteIfUnused();
  await tidyNetnsDir();
  // The lab mounts nothing in the machine's namespace; anything found here was mounted by hand
  // and must not be followed by the recursive delete below.
  for (const mountPoint of mountsUnder(lab.dir)) await run('umount', ['-l', mountPoint], { allowFailure: true });
  if (isLabDir(lab)) rmSync(lab.dir, { recursive: true, force: true });
  return { name: lab.name, dir: lab.dir, removed };
}

export interface LabHostStatus extends LabHost {
  /** The host's network namespace exists. */
  netns: boolean;
  /** Something accepts TCP connections on address:22. */
  sshd: boolean;
}

export interface LabStatus {
  name: string;
  dir: string;
  /** False when the lab has no state (never up, or down). */
  up: boolean;
  info?: LabInfo;
  hosts: LabHostStatus[];
}

/** What the state dir says, checked against the machine: netns present, sshd answering. Needs no root. */
export async function labStatus(opts: LabOptions = {}): Promise<LabStatus> {
  if (process.platform !== 'linux') throw new LabError('the lab needs Linux (network namespaces)');
  const lab = resolveLabConfig(opts);
  const state = isLabDir(lab) ? readLabState(lab) : undefined;
  if (!state) return { name: lab.name, dir: lab.dir, up: false, hosts: [] };
  const hosts = await Promise.all(
    state.hosts.map(async (host) => ({ ...host, netns: await netnsExists(host.name), sshd: await sshdAnswers(host.address, 1000) })),
  );
  return { name: lab.name, dir: lab.dir, up: true, info: labInfo(lab, state), hosts };
}

/** The lab's inventory text; `groups` overrides the groups given at `up`. */
export function labInventory(opts: LabOptions & { format?: InventoryFormat; groups?: string[] } = {}): string {
  const lab = resolveLabConfig(opts);
  const state = isLabDir(lab) ? readLabState(lab) : undefined;
  if (!state) throw new LabError(`lab ${lab.name} is not up (no state in ${lab.dir}): run \`tsplay lab up\` first`);
  const groups = opts.groups ?? state.groups;
  for (const spec of groups) parseGroupSpec(spec, Math.max(0, ...state.hosts.map((h) => h.index)));
  return renderInventoryFor(lab, state, opts.format ?? 'ini', groups);
}

/**
 * Runs a command as root inside a lab host, without ssh (nsenter into its namespaces and root):
 * for tests that change a host from outside, e.g. stop its sshd or add a firewall rule.
 * Never rejects for a non-zero exit: the caller reads `code`.
 */
export async function labExec(host: string, command: string[], opts: LabOptions & { input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  requireLinuxRoot();
  const lab = resolveLabConfig(opts);
  if (hostIndexOf(lab, host) === undefined) throw new LabError(`${host} is not a host of lab ${lab.name}`);
  return execInHost(host, command, opts);
}
