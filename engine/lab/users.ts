// The become test users of a lab host: tsplay-nopw (sudo NOPASSWD) and tsplay-pw (sudo with a
// password), both authorized with the lab key. root gets the same password so `su` can be tested.
// The password reaches the host on stdin only, never in a command line (visible in ps).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { type LabConfig, labPaths } from './config.js';
import { execInHost } from './host.js';
import { LabError } from './lab-error.js';

export const NOPASSWD_USER = 'tsplay-nopw';
export const PASSWORD_USER = 'tsplay-pw';

/** The lab's become password: made once per lab, kept in the state dir with mode 0600. */
export function labBecomePassword(lab: LabConfig): string {
  const file = labPaths(lab).becomePassword;
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(file, password + '\n', { mode: 0o600 });
  return password;
}

// stdin: the password line, then the lab public key. Users are made only if missing (idempotent).
const CREATE_USERS = String.raw`
set -eu
IFS= read -r password
IFS= read -r pubkey
for user in ${NOPASSWD_USER} ${PASSWORD_USER}; do
  id "$user" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$user"
  home=$(getent passwd "$user" | cut -d: -f6)
  mkdir -p "$home/.ssh"
  printf '%s\n' "$pubkey" > "$home/.ssh/authorized_keys"
  chmod 700 "$home/.ssh"
  chmod 600 "$home/.ssh/authorized_keys"
  chown -R "$user:" "$home/.ssh"
done
printf '%s:%s\n%s:%s\n' ${PASSWORD_USER} "$password" root "$password" | chpasswd
umask 0337
printf '%s\n' '${NOPASSWD_USER} ALL=(ALL:ALL) NOPASSWD: ALL' '${PASSWORD_USER} ALL=(ALL:ALL) ALL' > /etc/sudoers.d/tsplay-lab
`;

export async function createBecomeUsers(lab: LabConfig, hostName: string): Promise<void> {
  const password = labBecomePassword(lab);
  const publicKey = readFileSync(labPaths(lab).publicKey, 'utf8').trim();
  const result = await execInHost(hostName, ['/bin/sh', '-c', CREATE_USERS], { input: `${password}\n${publicKey}\n` });
  if (result.code !== 0) {
    // the script never echoes its input, so stderr cannot hold the password
    throw new LabError(`creating the become users on ${hostName} failed: ${result.stderr.trim()}`);
  }
}
