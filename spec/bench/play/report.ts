// The bench's printed results: the machine's description, medians, ratios and markdown tables.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const firstLine = (cmd: string, args: string[], stream: 'stdout' | 'stderr' = 'stdout'): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) return 'not installed';
  return (r[stream] || r.stdout || r.stderr).split('\n')[0]!.trim();
};

export function machineDescription(ansibleVersion: string | undefined): string[] {
  const cpu = cpus();
  let model = cpu[0]?.model.trim() ?? 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch {
    // not Linux: keep os.cpus()'s
  }
  return [
    `- CPU: nproc ${firstLine('nproc', [])}, ${model}`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- kernel: ${firstLine('uname', ['-sr'])} (${release()})`,
    `- node: ${process.version}`,
    `- ansible: ${ansibleVersion ?? 'not run'}`,
    `- OpenSSH (client; the lab hosts' sshd is the same build): ${firstLine('ssh', ['-V'], 'stderr')}`,
    `- load average at the start: ${readFileSafe('/proc/loadavg').split(' ').slice(0, 3).join(' ')}`,
  ];
}

function readFileSafe(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

export function markdownTable(header: string[], rows: string[][], leftColumns = 1): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (i < leftColumns ? '---' : '---:')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ];
}

export const seconds = (ms: number) => (Number.isFinite(ms) ? (ms / 1000).toFixed(2) : '–');
export const ratio = (a: number, b: number) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–');
