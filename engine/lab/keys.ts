// SSH keys of a lab: one client key pair that every host authorizes, one ed25519 host key per
// host (made when the host is made, so a fresh lab has fresh host keys), and the known_hosts
// file listing them so clients can check host keys strictly.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type LabConfig, labPaths } from './config.js';
import { run } from './system.js';

/** Creates the lab key pair (ed25519, no passphrase, mode 0600) unless it exists. */
export async function ensureLabKeyPair(lab: LabConfig): Promise<void> {
  const { privateKey, publicKey } = labPaths(lab);
  if (existsSync(privateKey) && existsSync(publicKey)) return;
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `tsplay-lab-${lab.name}`, '-f', privateKey], { input: 'y\n' });
  chmodSync(privateKey, 0o600);
}

/** The host's key files, written into the host's overlay upper dir so the host sees them as /etc/ssh/ssh_host_ed25519_key. */
export async function createHostKey(upperDir: string, hostName: string): Promise<void> {
  const sshDir = path.join(upperDir, 'etc', 'ssh');
  mkdirSync(sshDir, { recursive: true, mode: 0o755 });
  const keyFile = path.join(sshDir, 'ssh_host_ed25519_key');
  if (existsSync(keyFile)) return;
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `root@${hostName}`, '-f', keyFile]);
  chmodSync(keyFile, 0o600);
}

/** "ssh-ed25519 AAAA..." of a host, without the comment. */
export function hostPublicKey(upperDir: string): string {
  const text = readFileSync(path.join(upperDir, 'etc', 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8');
  const [type, blob] = text.trim().split(/\s+/);
  return `${type} ${blob}`;
}

/** known_hosts lines naming each host by name and address (port 22, so no [brackets]). */
export function writeKnownHosts(lab: LabConfig, hosts: { name: string; address: string; publicKey: string }[]): string {
  const file = labPaths(lab).knownHosts;
  const lines = hosts.map((host) => `${host.name},${host.address} ${host.publicKey}`);
  writeFileSync(file, lines.join('\n') + (lines.length ? '\n' : ''), { mode: 0o644 });
  return file;
}
