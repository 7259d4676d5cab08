// One lab change at a time on this machine: labs share the 10.213.0.0/16 range, the blackhole
// route and /run/netns, and node's test runner runs spec files in parallel processes.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { LabError } from './lab-error.js';

const LOCK_FILE = '/run/tsplay-lab.lock';

function holderAlive(): boolean {
  try {
    const pid = Number(readFileSync(LOCK_FILE, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return false;
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but is not ours to signal
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs `work` holding the machine-wide lab lock; a lock left by a dead process is taken over. */
export async function withLabLock<T>(work: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(LOCK_FILE, 'wx', 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!holderAlive()) {
        try {
          unlinkSync(LOCK_FILE);
        } catch {
          // someone else took it over first
        }
        continue;
      }
      if (Date.now() > deadline) throw new LabError(`another tsplay lab command holds ${LOCK_FILE}: waited ${timeoutMs / 1000}s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  try {
    return await work();
  } finally {
    try {
      unlinkSync(LOCK_FILE);
    } catch {
      // already gone
    }
  }
}
