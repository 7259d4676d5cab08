// Running the machine's tools (ip, nsenter, ssh-keygen...) and checking they are there.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { LabError } from './lab-error.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs a program (no shell) and resolves with its output; rejects with a LabError unless allowFailure. */
export function run(file: string, args: string[], opts: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      resolveTool(file),
      args,
      { encoding: 'utf8', timeout: opts.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
        if (err && !opts.allowFailure) {
          reject(new LabError(`${file} ${args.join(' ')} failed: ${stderr.trim() || err.message}`, { cause: err }));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    // a program that exits without reading its input must not crash us with EPIPE
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}

// sudo and cron environments often lack /usr/sbin in PATH; the lab's tools live there.
const SEARCH_DIRS = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/bin', '/bin'];

function findTool(name: string): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of SEARCH_DIRS) {
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this dir
    }
  }
  return undefined;
}

const resolved = new Map<string, string>();
export function resolveTool(name: string): string {
  let full = resolved.get(name);
  if (!full) {
    full = findTool(name) ?? name;
    resolved.set(name, full);
  }
  return full;
}

/** The tools the lab runs, with the Debian package that provides each. */
const TOOL_PACKAGES: Record<string, string> = {
  ip: 'iproute2',
  nsenter: 'util-linux',
  unshare: 'util-linux',
  mount: 'mount',
  umount: 'mount',
  chroot: 'coreutils',
  sshd: 'openssh-server',
  'ssh-keygen': 'openssh-client',
  useradd: 'passwd',
  chpasswd: 'passwd',
  sudo: 'sudo',
};

export type LabTool = keyof typeof TOOL_PACKAGES;

/** Fails with the first missing tool and the package to install, e.g. "sshd is missing: apt-get install openssh-server". */
export function requireTools(tools: LabTool[]): void {
  const missing = tools.filter((tool) => !findTool(tool));
  if (missing.length === 0) return;
  const packages = [...new Set(missing.map((tool) => TOOL_PACKAGES[tool]))];
  throw new LabError(
    `the lab needs ${missing.join(', ')}, not found on this machine: install ${missing.length > 1 ? 'them' : 'it'} with \`apt-get install ${packages.join(' ')}\``,
  );
}

/** The lab builds hosts from Linux namespaces, mounts and veth links: Linux and root only. */
export function requireLinuxRoot(): void {
  if (process.platform !== 'linux') throw new LabError('the lab needs Linux (network namespaces)');
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the lab needs root (it creates network namespaces, mounts and links): run it with sudo');
  }
}
