// The local transport: scripts run in /bin/sh on the controller itself (connection: local,
// localhost, delegate_to: localhost). Same contract as ssh, so host-ops and modules do not care.
import { spawn } from 'node:child_process';
import { CommandTimeoutError, type Connection, type ExecOptions, type ExecResult } from './types.js';
import { BecomeStdinFeeder, prepareScript, wrapBecome } from './shell.js';

/** exec's result with stdout kept as bytes, for binary-safe reads. */
export interface ExecBufferResult {
  rc: number;
  stdout: Buffer;
  stderr: string;
}

export class LocalConnection implements Connection {
  readonly transport = 'local';

  constructor(readonly host: string) {}

  async connect(): Promise<void> {}

  async close(): Promise<void> {}

  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const result = await this.execBuffer(script, opts);
    return { rc: result.rc, stdout: result.stdout.toString('utf8'), stderr: result.stderr };
  }

  execBuffer(script: string, opts: ExecOptions = {}): Promise<ExecBufferResult> {
    const plan = wrapBecome(prepareScript(script, opts), opts.become);
    const stdin = opts.stdin === undefined ? undefined : Buffer.isBuffer(opts.stdin) ? opts.stdin : Buffer.from(opts.stdin, 'utf8');
    return new Promise((resolve, reject) => {
      // detached: the child leads its own process group, so a timeout kills the whole tree
      const child = spawn('/bin/sh', ['-c', plan.script], { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env: process.env });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;

      // The command may exit without reading its stdin; that is not our error.
      child.stdin.on('error', () => {});
      const feeder = new BecomeStdinFeeder(plan, stdin, {
        write: (data) => child.stdin.write(data),
        end: () => child.stdin.end(),
      });
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => {
        const own = feeder.onStderr(chunk);
        if (own.length > 0) stderr.push(own);
      });

      if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(child.pid);
        }, opts.timeoutMs);
      }

      child.on('error', (err) => {
        if (timer) clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        if (timedOut) {
          reject(new CommandTimeoutError(`The command timed out after ${opts.timeoutMs} ms`, opts.timeoutMs ?? 0));
          return;
        }
        const rest = feeder.flush();
        if (rest.length > 0) stderr.push(rest);
        // A signal death reads as 128+n, as a shell would report it.
        const rc = code ?? (signal ? 128 + signalNumber(signal) : 1);
        resolve({ rc, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString('utf8') });
      });
      feeder.start();
    });
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // the group is already gone
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 };
  return numbers[signal] ?? 0;
}
