// Child processes for the bench: timed, never blocking the event loop (the delay proxy runs in
// this process and must keep forwarding while a runner works).
import { spawn } from 'node:child_process';

export interface TimedResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to the child's exit and closed pipes. */
  ms: number;
}

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export function runTimed(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string | Buffer; timeoutMs?: number } = {}): Promise<TimedResult> {
  return new Promise((resolve, reject) => {
    const start = now();
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => err.push(d));
    child.stdin.on('error', () => {}); // a child that exits without reading its stdin
    child.on('error', reject);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), ms: now() - start });
    });
    child.stdin.end(opts.input ?? '');
  });
}
