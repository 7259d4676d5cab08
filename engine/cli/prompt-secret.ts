// --ask-pass / --ask-become-pass: read a secret without echo on a terminal, or one line
// from standard input when it is not a terminal (scripts, CI).
import { createInterface } from 'node:readline';

export async function promptSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const lines = createInterface({ input, terminal: false });
    try {
      for await (const line of lines) return line;
    } finally {
      lines.close();
    }
    return '';
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
