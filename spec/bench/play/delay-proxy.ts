// A user-space TCP delay proxy: this kernel has no netem, so the latency mode puts one of these
// in front of each lab host's sshd. Every chunk read from one side is written to the other
// rtt/2 later, in order (a FIFO per direction, one timer for its head: constant delay keeps the
// due times monotonic), with no batching beyond that: each chunk leaves when it is due. EOF
// travels the same queue, so a half-close arrives after the data before it. Nagle is off on
// both sockets, or the kernel would add its own wait on top.
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { now } from './process.js';

interface Pending {
  due: number;
  chunk?: Buffer;
  /** the sender half-closed: end the receiver after the data before it */
  end?: true;
}

/** Forwards `from` to `to` with a fixed delay per chunk. */
function delayedPipe(from: Socket, to: Socket, delayMs: number): void {
  const queue: Pending[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const t = now();
    while (queue.length > 0 && queue[0]!.due <= t + 0.5) {
      const item = queue.shift()!;
      if (to.destroyed) return;
      if (item.end) to.end();
      else to.write(item.chunk!);
    }
    schedule();
  };
  const schedule = () => {
    if (timer || queue.length === 0) return;
    timer = setTimeout(flush, Math.max(0, queue[0]!.due - now()));
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ due: now() + delayMs, chunk });
    schedule();
  });
  from.on('end', () => {
    queue.push({ due: now() + delayMs, end: true });
    schedule();
  });
}

export interface DelayProxy {
  /** 127.0.0.1 port the proxy listens on */
  port: number;
  upstream: { host: string; port: number };
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 (an ephemeral port) and forwards every connection to upstream with rtt/2 each way. */
export async function startDelayProxy(upstream: { host: string; port: number }, rttMs: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const server: Server = createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    track(client);
    client.setNoDelay(true);
    const remote = connect({ host: upstream.host, port: upstream.port, allowHalfOpen: true, noDelay: true });
    track(remote);
    remote.setNoDelay(true);
    const fail = () => {
      client.destroy();
      remote.destroy();
    };
    client.on('error', fail);
    remote.on('error', fail);
    client.on('close', () => setTimeout(() => remote.destroy(), rttMs / 2 + 50));
    remote.on('close', () => setTimeout(() => client.destroy(), rttMs / 2 + 50));
    delayedPipe(client, remote, rttMs / 2);
    delayedPipe(remote, client, rttMs / 2);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    upstream,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * The round trip through a proxy, measured: a local echo server behind a proxy of the same
 * delay, `samples` one-byte ping-pongs on one connection; returns the sorted times (ms).
 */
export async function measureProxyRoundTrip(rttMs: number, samples = 20): Promise<number[]> {
  const echo = createServer({ noDelay: true }, (s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
  const proxy = await startDelayProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port }, rttMs);
  const socket = connect({ host: '127.0.0.1', port: proxy.port, noDelay: true });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  });
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const start = now();
      await new Promise<void>((resolve) => {
        socket.once('data', () => resolve());
        socket.write('x');
      });
      times.push(now() - start);
    }
  } finally {
    socket.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  }
  return times.sort((a, b) => a - b);
}

/** A TCP connect + the server's first bytes (sshd's banner), in ms. */
export async function measureBannerTime(host: string, port: number): Promise<number> {
  const start = now();
  const socket = connect({ host, port, noDelay: true });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('data', () => resolve());
      socket.once('error', reject);
    });
    return now() - start;
  } finally {
    socket.destroy();
  }
}
