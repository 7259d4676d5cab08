// Names and places of one lab: its state dir, bridge, netns and veth names, and subnet.
// Everything is derived from the lab name so two labs (a user's and the tests') can coexist.
import path from 'node:path';
import { LabError } from './lab-error.js';

export const DEFAULT_LAB_NAME = 'tsplab';
/** Every lab lives in this /16; the default lab takes 10.213.0.0/24, other labs the next free /24. */
export const LAB_RANGE = '10.213.0.0/16';
export const LAB_RANGE_PREFIX = '10.213.';
/** Host N gets 10.213.S.(10+N): up to 240 hosts a lab. */
export const HOST_ADDRESS_OFFSET = 10;
export const MAX_HOSTS = 240;

export interface LabOptions {
  /** Lab name: bridge `<name>0`, hosts and netns `<name>-h<N>`. Default TSPLAY_LAB_NAME or 'tsplab'. */
  name?: string;
  /** State dir (keys, overlay layers, inventory). Default TSPLAY_LAB_DIR or /var/lib/tsplay-lab[-<name>]. */
  dir?: string;
}

export interface LabConfig {
  name: string;
  dir: string;
  bridge: string;
}

// Interface names are limited to 15 bytes: `<name>-h240` must fit, so names are at most 10 characters.
const LAB_NAME = /^[a-z][a-z0-9]{0,9}$/;

export function resolveLabConfig(opts: LabOptions = {}): LabConfig {
  const name = opts.name ?? process.env.TSPLAY_LAB_NAME ?? DEFAULT_LAB_NAME;
  if (!LAB_NAME.test(name)) {
    throw new LabError(`bad lab name "${name}": use 1-10 lower-case letters and digits, starting with a letter (it names network interfaces)`);
  }
  const defaultDir = name === DEFAULT_LAB_NAME ? '/var/lib/tsplay-lab' : `/var/lib/tsplay-lab-${name}`;
  const dir = path.resolve(opts.dir ?? process.env.TSPLAY_LAB_DIR ?? defaultDir);
  return { name, dir, bridge: `${name}0` };
}

export interface HostNames {
  index: number;
  /** Host name, netns name and root-side veth name are all this, e.g. tsplab-h1. */
  name: string;
  address: string;
}

export function hostName(lab: LabConfig, index: number): string {
  return `${lab.name}-h${index}`;
}

export function hostNames(lab: LabConfig, subnet: number, index: number): HostNames {
  return { index, name: hostName(lab, index), address: `${LAB_RANGE_PREFIX}${subnet}.${HOST_ADDRESS_OFFSET + index}` };
}

export function bridgeAddress(subnet: number): string {
  return `${LAB_RANGE_PREFIX}${subnet}.1`;
}

/** Index N of a host name of this lab, or undefined for any other name. */
export function hostIndexOf(lab: LabConfig, name: string): number | undefined {
  const match = new RegExp(`^${lab.name}-h(\\d+)$`).exec(name);
  return match ? Number(match[1]) : undefined;
}

export function hostDir(lab: LabConfig, name: string): string {
  return path.join(lab.dir, 'hosts', name);
}

export const labPaths = (lab: LabConfig) => ({
  state: path.join(lab.dir, 'tsplay-lab.json'),
  privateKey: path.join(lab.dir, 'id_ed25519'),
  publicKey: path.join(lab.dir, 'id_ed25519.pub'),
  knownHosts: path.join(lab.dir, 'known_hosts'),
  inventoryIni: path.join(lab.dir, 'inventory.ini'),
  inventoryYaml: path.join(lab.dir, 'inventory.yml'),
  becomePassword: path.join(lab.dir, 'become-password'),
});
