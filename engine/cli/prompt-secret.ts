// --ask-pass / --ask-become-pass: read a secret without echo on a terminal, or one line
// from standard input when it is not a terminal (scripts, CI).
import { createInterface, type Interface } from 'node:readline';

/** Off a terminal, one reader hands out stdin's lines in order (-k then -K read two lines). */
let piped: { reader: Interface; lines: AsyncIterator<string> } | undefined;

/** Stop reading standard input, so an open pipe does not keep the process alive. */
export function closePrompts(): void {
  piped?.reader.close();
  piped = undefined;
  process.stdin.pause();
}

export async function promptSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    if (!piped) {
      const reader = createInterface({ input, terminal: false });
      piped = { reader, lines: reader[Symbol.asyncIterator]() };
    }
    const next = await piped.lines.next();
    return next.done ? '' : next.value;
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  let secret = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            input.off('data', onData);
            resolve(secret);
            return;
          }
          if (ch === '\u0003') {
            input.off('data', onData);
            reject(new Error('interrupted'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') secret = secret.slice(0, -1);
          else secret += ch;
        }
      };
      input.on('data', onData);
    });
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}
