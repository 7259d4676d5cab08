// The smallest stream reporters write to, so tests can pass a string collector and the
// CLI process.stdout. Writes are issued in order and never dropped; flushOutput waits
// until a real stream has handed everything to the OS (pipes are async on some systems).

export interface TextOutput {
  write(chunk: string, callback?: (err?: Error | null) => void): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Resolves once every earlier write has been flushed (or at once for plain collectors). */
export function flushOutput(out: TextOutput): Promise<void> {
  const stream = out as TextOutput & { writable?: boolean; writableLength?: number };
  // Only node streams call the write callback; a collector object would leave us waiting.
  if (stream.writable !== true || typeof stream.writableLength !== 'number') return Promise.resolve();
  return new Promise((resolve) => {
    try {
      stream.write('', () => resolve());
    } catch {
      resolve();
    }
  });
}
