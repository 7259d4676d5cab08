// One HTTP exchange with a registry: http or https (system CAs plus the configured ones), keep-alive
// agents per registry, request bodies from a Buffer or a stream. No auth and no retries here
// (client.ts); errors become RegistryErrors that never hold a header value.
import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import { RegistryError, redactUrl } from './errors.js';

// node:https (and node:tls under it) only when a registry speaks https: loading them is a few ms of
// every start-up, and a sync between plain-http registries (a lab, a mirror on loopback) needs neither
const requireBuiltin = createRequire(import.meta.url);
let httpsModule: typeof import('node:https') | undefined;
const https = () => (httpsModule ??= requireBuiltin('node:https') as typeof import('node:https'));

export interface TlsSettings {
  /** PEM bundles trusted besides the system CAs */
  ca: string[];
}

const TLS_CODES = /^(CERT_|UNABLE_TO_|DEPTH_ZERO|SELF_SIGNED|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME_MISMATCH|ERR_TLS_CERT)/;

export class HttpTransport {
  private readonly agents = new Map<string, http.Agent>();

  constructor(private readonly idleTimeoutMs = 60_000) {}

  private agentFor(url: URL, tls: TlsSettings): http.Agent {
    const key = `${url.protocol}//${url.host}`;
    let agent = this.agents.get(key);
    if (!agent) {
      agent =
        url.protocol === 'https:'
          ? new (https().Agent)({ keepAlive: true, maxSockets: 64, ...(tls.ca.length ? { ca: [...(requireBuiltin('node:tls') as typeof import('node:tls')).rootCertificates, ...tls.ca] } : {}) })
          : new http.Agent({ keepAlive: true, maxSockets: 64 });
      this.agents.set(key, agent);
    }
    return agent;
  }

  /**
   * Sends one request; resolves with the response (body unread). A stream body's own error rejects
   * with that error as is (it is the source's failure, not the registry's).
   */
  request(method: string, url: URL, headers: OutgoingHttpHeaders, body: Buffer | Readable | undefined, tls: TlsSettings): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === 'https:' ? https() : http;
      let bodyError: unknown;
      let settled = false;
      const req = mod.request(url, { method, headers, agent: this.agentFor(url, tls), timeout: this.idleTimeoutMs });
      req.on('response', (res) => {
        settled = true;
        resolve(res);
      });
      req.on('timeout', () => req.destroy(Object.assign(new Error('no answer within ' + this.idleTimeoutMs / 1000 + ' s'), { code: 'ETIMEDOUT' })));
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        reject(bodyError ?? networkError(method, url, err));
      });
      if (body instanceof Readable) {
        body.on('error', (err) => {
          bodyError = err;
          req.destroy(err);
        });
        body.pipe(req);
      } else {
        req.end(body);
      }
    });
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

export function networkError(method: string, url: URL, err: NodeJS.ErrnoException): RegistryError {
  const code = err.code ?? '';
  const where = `${method} ${redactUrl(url)}`;
  if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(err.message)) {
    const hint = /wrong version number|EPROTO/i.test(code + err.message)
      ? ' (the registry may speak plain http: name it with --insecure-registry)'
      : ' (trust its CA with --ca-file, or name it with --insecure-registry)';
    return new RegistryError('tls', `${where}: TLS failed: ${err.message}${hint}`, { cause: err });
  }
  return new RegistryError('network', `${where}: ${code || err.message}`, { retriable: true, cause: err });
}

/** Reads a (small) response body; `limit` guards against a registry sending a huge error page.
 *  Events rather than `for await`: a stream's async iterator costs ~10 ms to set up the first time,
 *  a sizeable part of a warm sync's whole run. */
export function readBody(res: IncomingMessage, limit = 16 * 1024 * 1024): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // already read to its end (drained): nothing left, as `for await` would find
    if (res.readableEnded) return resolve(Buffer.alloc(0));
    if (res.destroyed) return reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        reject(new RegistryError('http', `response body larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    res.on('error', reject);
    // a connection dropped mid-body: 'aborted' (Node 20) then 'close' without 'end'
    res.on('close', () => {
      if (!res.complete) reject(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    });
  });
}

/** Lets the socket go back to the pool without reading a body we do not need. */
export function drain(res: IncomingMessage): void {
  res.resume();
  res.on('error', () => {});
}

/** `errors[].code: message` of a distribution error body, for messages. */
export function describeErrorBody(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    if (Array.isArray(parsed.errors) && parsed.errors.length) {
      return parsed.errors.map((e) => [e.code, e.message].filter(Boolean).join(': ')).join('; ');
    }
  } catch {
    // not JSON
  }
  const text = body.toString('utf8').trim().replace(/\s+/g, ' ');
  return text.length > 200 ? text.slice(0, 200) + '...' : text;
}

/** Retry-After: seconds or an HTTP date; ms or undefined. */
export function retryAfterMs(header: string | string[] | undefined): number | undefined {
  if (typeof header !== 'string' || !header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const when = Date.parse(header);
  return Number.isNaN(when) ? undefined : Math.max(0, when - Date.now());
}
