// The typed event stream the runner emits and reporters consume. Events carry only
// data that is safe to show: no_log results are censored before they are emitted.
import type { FileDiff } from '../modules/types.js';

export type HostStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface HostStats {
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type RunEvent =
  | { kind: 'run-start'; playbook: string; check: boolean; diff: boolean; time: number }
  | { kind: 'play-start'; name: string; hosts: string[]; time: number }
  | { kind: 'task-start'; taskId: string; name: string; hosts: string[]; handler: boolean; path?: string; time: number }
  | {
      kind: 'host-result';
      taskId: string;
      task: string;
      host: string;
      /** delegate_to target, shown as "host -> delegate". */
      delegatedTo?: string;
      status: HostStatus;
      /** Failed but ignore_errors: shown as failed, counted as ignored. */
      ignored?: boolean;
      /** Loop item label, for per-item lines. */
      item?: string;
      /** The item results rolled up into one task result. */
      loopSummary?: boolean;
      msg?: string;
      diff?: FileDiff[];
      /**
       * The module's result (censored under no_log), for -v and --json. Keys starting with
       * `_` are internal and never displayed, except `_show: true`: print the result like
       * debug does even without -v (Ansible's _ansible_verbose_always).
       */
      result: Record<string, unknown>;
      time: number;
    }
  | { kind: 'handler-notified'; host: string; handler: string; time: number }
  | { kind: 'play-end'; name: string; time: number }
  | { kind: 'warning'; message: string; host?: string; time: number }
  | { kind: 'recap'; stats: Record<string, HostStats>; time: number }
  | { kind: 'run-end'; exitCode: number; durationMs: number; retryFile?: string; time: number };

/** A reporter consumes events; hooks are optional like Vitest's. */
export interface Reporter {
  onEvent?(event: RunEvent): void;
  /** Called once after run-end; flush and release the terminal. */
  close?(): void | Promise<void>;
}

export function emptyStats(): HostStats {
  return { ok: 0, changed: 0, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 };
}
