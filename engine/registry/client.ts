// RegistryClient: the Registry HTTP API v2 (manifests, blobs, uploads, mounts, tags) with auth,
// retries and digest checks. The API is documented in README.md; sync.ts and the bundle code use it.
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import {
  basicHeader,
  type Challenge,
  defaultDockerConfigPath,
  parseWwwAuthenticate,
  readDockerConfigCredentials,
  type RegistryCredentials,
  scopeFor,
  TokenCache,
} from './auth.js';
import { DigestVerifier, isSha256, isVerified, sha256Digest } from './digest.js';
import { RegistryError, redactUrl } from './errors.js';
import { describeErrorBody, drain, HttpTransport, readBody, retryAfterMs, type TlsSettings } from './http.js';
import { Semaphore } from '../run/semaphore.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { MANIFEST_ACCEPT, manifestMediaType } from './media-types.js';
import { apiHost, formatReference, formatRepo, type ImageRef, type RepoRef } from './reference.js';

export type { RegistryCredentials } from './auth.js';

export interface RegistryHostOptions {
  /** plain http (no TLS) for this registry */
  insecure?: boolean;
  /** PEM bundle trusted for this registry, besides the system CAs */
  caFile?: string;
  credentials?: RegistryCredentials;
}

export interface RegistryClientOptions {
  registries?: Record<string, RegistryHostOptions>;
  insecureRegistries?: string[];
  caFile?: string;
  /** docker's config.json; default $DOCKER_CONFIG/config.json or ~/.docker/config.json; false: not read */
  dockerConfig?: string | false;
  /** requests waiting for their response at once; default 16 */
  maxConcurrentRequests?: number;
  /** attempts after the first for 5xx, 429 and dropped connections; default 4 */
  retries?: number;
  /** first backoff delay in ms, doubled each attempt; default 250 */
  retryDelayMs?: number;
  /** blobs bigger than this are uploaded with a resumable PATCH; default 8 MiB */
  chunkThreshold?: number;
  /** bytes per PATCH of a chunked upload; default 16 MiB */
  chunkSize?: number;
  /** tags asked for per page of a tags list (`n=`); default 1000 */
  tagsPageSize?: number;
  /** each HTTP exchange (method, URL without query, status); never headers */
  onRequest?: (event: { method: string; url: string; status: number }) => void;
}

export type PutBlobResult = 'pushed' | 'mounted' | 'exists';

interface RegistryState {
  name: string;
  base: URL;
  tls: TlsSettings;
  credentials?: RegistryCredentials;
  credentialSource: string;
  challenge?: Challenge;
}

interface CallOptions {
  scopes: string[];
  headers?: OutgoingHttpHeaders;
  /** a stream body cannot be replayed: no retry, a 401 becomes a retriable error for the caller */
  body?: Buffer | Readable;
  /** follow redirects (GET/HEAD of blobs may go to object storage) */
  follow?: boolean;
}

const MAX_MANIFEST_BYTES = 8 * 1024 * 1024;

export class RegistryClient {
  private readonly opts: RegistryClientOptions;
  private readonly transport = new HttpTransport();
  private readonly limiter: Semaphore;
  private readonly tokens = new TokenCache();
  private readonly states = new Map<string, RegistryState>();
  private dockerCredentials?: Map<string, RegistryCredentials>;
  private readonly retries: number;
  private readonly retryDelayMs: number;

  constructor(opts: RegistryClientOptions = {}) {
    this.opts = opts;
    this.limiter = new Semaphore(opts.maxConcurrentRequests ?? 16);
    this.retries = opts.retries ?? 4;
    this.retryDelayMs = opts.retryDelayMs ?? 250;
  }

  /** Frees the keep-alive sockets (a CLI run ends sooner). */
  close(): void {
    this.transport.close();
  }

  // ---------------------------------------------------------------- manifests

  async getManifest(ref: ImageRef, opts: { accept?: string[] } = {}): Promise<{ mediaType: string; digest: string; bytes: Buffer }> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const what = `manifest ${formatReference(ref)}`;
    return this.retryBody(async () => {
      const res = await this.call(ref.registry, 'GET', `/v2/${ref.repository}/manifests/${reference}`, {
        scopes: [scopeFor(ref.repository, false)],
        headers: { accept: (opts.accept ?? MANIFEST_ACCEPT).join(', ') },
      });
      await this.expectOk(res, what, [200]);
      const bytes = await readBody(res, MAX_MANIFEST_BYTES);
      const digest = sha256Digest(bytes);
      const header = headerValue(res, 'docker-content-digest');
      const expected = ref.digest ?? (header && isSha256(header) ? header : undefined);
      if (expected && expected !== digest) {
        throw new RegistryError('digest', `${what}: the registry sent content with digest ${digest}, expected ${expected}; refused`);
      }
      return { mediaType: manifestMediaType(bytes, headerValue(res, 'content-type')), digest, bytes };
    });
  }

  async headManifest(ref: ImageRef): Promise<{ mediaType: string; digest: string; size: number } | undefined> {
    const reference = ref.digest ?? ref.tag ?? 'latest';
    const res = await this.call(ref.registry, 'HEAD', `/v2/${ref.repository}/manifests/${reference}`, {
      scopes: [scopeFor(ref.repository, false)],
      headers: { accept: MANIFEST_ACCEPT.join(', ') },
    });
    drain(res);
    if (res.statusCode === 404) return undefined;
    await this.expectOk(res, `manifest ${formatReference(ref)}`, [200]);
    const digest = headerValue(res, 'docker-content-digest');
    const contentType = headerValue(res, 'content-type');
    if (!digest || !contentType) {
      // some registries leave these out of HEAD: the body tells
      const got = await this.getManifest(ref);
      return { mediaType: got.mediaType, digest: got.digest, size: got.bytes.length };
    }
    return { mediaType: contentType.split(';')[0]!.trim(), digest, size: Number(headerValue(res, 'content-length') ?? -1) };
  }

  async putManifest(ref: ImageRef, mediaType: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    const reference = ref.tag ?? ref.digest ?? digest;
    if (ref.digest && !ref.tag && ref.digest !== digest) {
      throw new RegistryError('digest', `manifest for ${formatReference(ref)} has digest ${digest}; refused`);
    }
    const what = `manifest ${formatRepo(ref)}:${reference}`;
    const res = await this.call(ref.registry, 'PUT', `/v2/${ref.repository}/manifests/${reference}`, {
      scopes: [scopeFor(ref.repository, true)],
      headers: { 'content-type': mediaType, 'content-length': bytes.length },
      body: bytes,
    });
    await this.expectOk(res, `pushing ${what}`, [200, 201, 202]);
    drain(res);
    const stored = headerValue(res, 'docker-content-digest');
    if (stored && isSha256(stored) && stored !== digest) {
      throw new RegistryError('digest', `${what}: the registry stored it as ${stored}, not ${digest} (it rewrote the manifest)`);
    }
    return digest;
  }

  // ---------------------------------------------------------------- blobs

  async hasBlob(repo: RepoRef, digest: string): Promise<boolean> {
    const res = await this.call(repo.registry, 'HEAD', `/v2/${repo.repository}/blobs/${digest}`, {
      scopes: [scopeFor(repo.repository, false)],
      follow: true,
    });
    drain(res);
    if (res.statusCode === 404) return false;
    await this.expectOk(res, `blob ${digest} in ${formatRepo(repo)}`, [200]);
    return true;
  }

  /** opts.onBytes: told of each chunk as it arrives (progress), without a stream stage of its own */
  async getBlob(repo: RepoRef, digest: string, opts: { onBytes?: (n: number) => void } = {}): Promise<Readable> {
    const what = `blob ${digest} of ${formatRepo(repo)}`;
    const mismatch = (actual: string, size: number) =>
      new RegistryError('digest', `${what}: the content received (${size} bytes, ${actual}) does not match its digest; refused`);
    const first = await this.openBlob(repo, digest, 0);
    const total = Number(headerValue(first, 'content-length') ?? -1);
    // room for a few 64 KiB socket reads: the 16 KiB default would pause the source after every one of
    // them; more would only hold more memory per blob in flight (peak RSS must not grow with blob size)
    const verifier = new DigestVerifier(digest, -1, mismatch, 256 * 1024);
    let received = 0;
    let attempt = 0;
    const retry = async (err: unknown): Promise<void> => {
      const retriable = err instanceof RegistryError ? err.retriable : true; // a socket reset mid-body
      if (!retriable || attempt >= this.retries) {
        verifier.destroy(err instanceof RegistryError ? err : new RegistryError('network', `${what}: ${(err as Error).message}`, { cause: err }));
        return;
      }
      await sleep(this.backoff(attempt++));
      if (verifier.destroyed) return;
      try {
        follow(await this.openBlob(repo, digest, received));
      } catch (openErr) {
        verifier.destroy(openErr as Error);
      }
    };
    // 'data' events, not `for await`: the async iterator concatenates what the socket buffered (a copy
    // of every byte) and costs a promise per chunk
    const follow = (res: IncomingMessage): void => {
      let skip = res.statusCode === 200 ? received : 0; // a registry ignoring Range sends it all again
      let settled = false;
      const settle = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        res.removeListener('data', onData);
        if (verifier.destroyed) {
          res.destroy();
        } else if (err === undefined) {
          verifier.end();
        } else {
          res.destroy();
          void retry(err);
        }
      };
      const onData = (raw: Buffer): void => {
        let chunk = raw;
        if (skip > 0) {
          const cut = Math.min(skip, chunk.length);
          skip -= cut;
          chunk = chunk.subarray(cut);
          if (!chunk.length) return;
        }
        received += chunk.length;
        opts.onBytes?.(chunk.length);
        if (!verifier.write(chunk)) {
          res.pause();
          verifier.once('drain', () => res.resume());
        }
      };
      res.on('data', onData);
      res.on('end', () => {
        if (total >= 0 && received < total) settle(new RegistryError('network', `${what}: connection closed after ${received} of ${total} bytes`, { retriable: true }));
        else settle();
      });
      res.on('error', (err) => settle(err));
      res.on('close', () => {
        if (!res.complete) settle(new RegistryError('network', `${what}: connection closed after ${received} bytes`, { retriable: true }));
      });
      // the consumer went away (an upload failed, or it was cancelled): stop reading
      verifier.once('close', () => settle());
    };
    follow(first);
    return verifier;
  }

  private async openBlob(repo: RepoRef, digest: string, offset: number): Promise<IncomingMessage> {
    const res = await this.call(repo.registry, 'GET', `/v2/${repo.repository}/blobs/${digest}`, {
      scopes: [scopeFor(repo.repository, false)],
      headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
      follow: true,
    });
    await this.expectOk(res, `blob ${digest} of ${formatRepo(repo)}`, offset > 0 ? [200, 206] : [200]);
    return res;
  }

  async putBlob(
    repo: RepoRef,
    digest: string,
    size: number,
    open: (offset: number) => Readable | Promise<Readable>,
    opts: { mountFrom?: string; checked?: boolean } = {},
  ): Promise<PutBlobResult> {
    // checked: the caller has just asked hasBlob (sync.ts does, before it takes a copy slot)
    if (!opts.checked && (await this.hasBlob(repo, digest))) return 'exists';
    const what = `blob ${digest} to ${formatRepo(repo)}`;
    let location: URL | undefined;
    if (opts.mountFrom && opts.mountFrom !== repo.repository) {
      const query = `?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(opts.mountFrom)}`;
      const res = await this.call(repo.registry, 'POST', `/v2/${repo.repository}/blobs/uploads/${query}`, {
        scopes: [scopeFor(repo.repository, true), scopeFor(opts.mountFrom, false)],
        headers: { 'content-length': 0 },
        body: Buffer.alloc(0),
      });
      drain(res);
      if (res.statusCode === 201) return 'mounted';
      await this.expectOk(res, `mounting ${what}`, [202]);
      location = this.resolveLocation(repo.registry, res);
    }
    for (let attempt = 0; ; attempt++) {
      try {
        location ??= await this.startUpload(repo, what);
        if (size <= (this.opts.chunkThreshold ?? 8 * 1024 * 1024)) await this.uploadMonolithic(repo, location, digest, size, open, what);
        else await this.uploadChunked(repo, location, digest, size, open, what);
        return 'pushed';
      } catch (err) {
        if (!(err instanceof RegistryError) || !err.retriable || attempt >= this.retries) throw err;
        location = undefined; // a fresh session: the old one may be half-written or gone
        await sleep(this.backoff(attempt));
      }
    }
  }

  private async startUpload(repo: RepoRef, what: string): Promise<URL> {
    const res = await this.call(repo.registry, 'POST', `/v2/${repo.repository}/blobs/uploads/`, {
      scopes: [scopeFor(repo.repository, true)],
      headers: { 'content-length': 0 },
      body: Buffer.alloc(0),
    });
    drain(res);
    await this.expectOk(res, `starting the upload of ${what}`, [202]);
    return this.resolveLocation(repo.registry, res);
  }

  private async uploadMonolithic(repo: RepoRef, location: URL, digest: string, size: number, open: (offset: number) => Readable | Promise<Readable>, what: string): Promise<void> {
    const body = verified(await open(0), digest, size, what);
    const url = withQuery(location, 'digest', digest);
    const res = await this.call(repo.registry, 'PUT', url, {
      scopes: [scopeFor(repo.repository, true)],
      headers: { 'content-type': 'application/octet-stream', 'content-length': size },
      body,
    });
    drain(res);
    await this.expectOk(res, `uploading ${what}`, [201, 204]);
  }

  /**
   * PATCH the blob in chunks (Content-Range); after an interruption ask the registry how much it holds
   * (GET on the upload URL → Range) and go on from there. docker-registry keeps only whole chunks: a
   * chunk cut midway makes it cancel the session (404), and putBlob starts a new one.
   */
  private async uploadChunked(repo: RepoRef, start: URL, digest: string, size: number, open: (offset: number) => Readable | Promise<Readable>, what: string): Promise<void> {
    const chunkSize = this.opts.chunkSize ?? 16 * 1024 * 1024;
    let location = start;
    let offset = 0;
    let reader: ChunkReader | undefined;
    for (let attempt = 0; offset < size; ) {
      if (!reader) {
        const source = await open(offset);
        // the whole blob is hashed only when it is sent from its first byte; a resumed one is checked by
        // the source's own verifying stream and by the registry when the upload is committed
        reader = new ChunkReader(offset === 0 ? verified(source, digest, size, what) : source, what);
      }
      const end = Math.min(size, offset + chunkSize);
      try {
        const res = await this.call(repo.registry, 'PATCH', location, {
          scopes: [scopeFor(repo.repository, true)],
          headers: { 'content-type': 'application/octet-stream', 'content-length': end - offset, 'content-range': `${offset}-${end - 1}` },
          body: reader.take(end - offset),
        });
        drain(res);
        await this.expectOk(res, `uploading ${what}`, [202, 204]);
        location = this.resolveLocation(repo.registry, res, location);
        offset = end;
        attempt = 0;
      } catch (err) {
        reader.destroy();
        reader = undefined;
        if (!(err instanceof RegistryError) || !err.retriable || attempt >= this.retries) throw err;
        await sleep(this.backoff(attempt++));
        const status = await this.uploadStatus(repo, location);
        if (!status) throw err; // session gone: putBlob starts a new one
        location = status.location;
        offset = status.offset;
      }
    }
    reader?.destroy();
    const res = await this.call(repo.registry, 'PUT', withQuery(location, 'digest', digest), {
      scopes: [scopeFor(repo.repository, true)],
      headers: { 'content-length': 0 },
      body: Buffer.alloc(0),
    });
    drain(res);
    await this.expectOk(res, `committing ${what}`, [201, 204]);
  }

  /** GET on an upload URL: 204 with `Range: 0-N` (N the last byte received). */
  private async uploadStatus(repo: RepoRef, location: URL): Promise<{ offset: number; location: URL } | undefined> {
    const res = await this.call(repo.registry, 'GET', location, { scopes: [scopeFor(repo.repository, true)] });
    drain(res);
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 204 && res.statusCode !== 200) return undefined;
    const range = /^(?:bytes=)?0-(\d+)$/.exec(headerValue(res, 'range') ?? '');
    const last = range ? Number(range[1]) : -1;
    return { offset: last > 0 ? last + 1 : 0, location: this.resolveLocation(repo.registry, res, location) };
  }

  // ---------------------------------------------------------------- tags

  async listTags(repo: RepoRef): Promise<string[]> {
    const tags: string[] = [];
    let next: string | URL | undefined = `/v2/${repo.repository}/tags/list?n=${this.opts.tagsPageSize ?? 1000}`;
    for (let pages = 0; next && pages < 10_000; pages++) {
      const url: string | URL = next;
      const page = await this.retryBody(async () => {
        const res = await this.call(repo.registry, 'GET', url, { scopes: [scopeFor(repo.repository, false)] });
        await this.expectOk(res, `tags of ${formatRepo(repo)}`, [200]);
        const body = JSON.parse((await readBody(res)).toString('utf8')) as { tags?: string[] | null };
        return { tags: body.tags ?? [], link: headerValue(res, 'link') };
      });
      tags.push(...page.tags);
      const match = page.link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(page.link) : null;
      next = match ? new URL(match[1]!, this.state(repo.registry).base) : undefined;
    }
    return tags;
  }

  // ---------------------------------------------------------------- plumbing

  private state(registry: string): RegistryState {
    let state = this.states.get(registry);
    if (state) return state;
    const host = this.opts.registries?.[registry] ?? {};
    const bareHost = registry.replace(/:\d+$/, '');
    const insecure = host.insecure === true || (this.opts.insecureRegistries ?? []).some((h) => h === registry || h === bareHost);
    const ca: string[] = [];
    for (const file of [this.opts.caFile, host.caFile]) if (file) ca.push(readFileSync(file, 'utf8'));
    let credentials = host.credentials;
    let credentialSource = 'the registry options';
    if (!credentials && this.opts.dockerConfig !== false) {
      const file = this.opts.dockerConfig || defaultDockerConfigPath();
      this.dockerCredentials ??= readDockerConfigCredentials(file);
      credentials = this.dockerCredentials.get(registry);
      credentialSource = file;
    }
    state = {
      name: registry,
      base: new URL(`${insecure ? 'http' : 'https'}://${apiHost(registry)}/`),
      tls: { ca },
      credentialSource,
      ...(credentials ? { credentials } : {}),
    };
    this.states.set(registry, state);
    return state;
  }

  private resolveLocation(registry: string, res: IncomingMessage, previous?: URL): URL {
    const location = headerValue(res, 'location');
    if (!location) {
      if (previous) return previous;
      throw new RegistryError('http', `${registry}: the registry started an upload without a Location`);
    }
    return new URL(location, previous ?? this.state(registry).base);
  }

  private backoff(attempt: number): number {
    return this.retryDelayMs * 2 ** attempt * (0.75 + Math.random() * 0.5);
  }

  /** Retries an exchange whose body read failed midway (the status-level retries live in call()). */
  private async retryBody<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        const retriable = err instanceof RegistryError ? err.retriable : (err as NodeJS.ErrnoException)?.code === 'ECONNRESET' || (err as Error)?.message === 'aborted';
        if (!retriable || attempt >= this.retries) throw err;
        await sleep(this.backoff(attempt));
      }
    }
  }

  /** The Authorization header for these scopes, fetching a token when the registry is known to want one. */
  private async authorization(state: RegistryState, scopes: string[]): Promise<string | undefined> {
    const challenge = state.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return state.credentials ? basicHeader(state.credentials) : undefined;
    if (challenge.scheme !== 'bearer') return undefined;
    const key = TokenCache.key(state.name, scopes);
    const cached = this.tokens.get(key);
    if (cached) return `Bearer ${cached}`;
    return `Bearer ${await this.fetchToken(state, challenge, scopes, key)}`;
  }

  private async fetchToken(state: RegistryState, challenge: Challenge, scopes: string[], key: string): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm) throw new RegistryError('auth', `${state.name}: the registry asks for a Bearer token but names no realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const wanted = new Set(scopes);
    for (const scope of (challenge.params.scope ?? '').split(' ').filter(Boolean)) wanted.add(scope);
    for (const scope of wanted) url.searchParams.append('scope', scope);
    const headers: OutgoingHttpHeaders = state.credentials ? { authorization: basicHeader(state.credentials) } : {};
    for (let attempt = 0; ; attempt++) {
      let res: IncomingMessage;
      try {
        res = await this.limiter.run(() => this.transport.request('GET', url, headers, undefined, state.tls));
      } catch (err) {
        if (err instanceof RegistryError && err.retriable && attempt < this.retries) {
          await sleep(this.backoff(attempt));
          continue;
        }
        throw err;
      }
      this.opts.onRequest?.({ method: 'GET', url: redactUrl(url), status: res.statusCode ?? 0 });
      const status = res.statusCode ?? 0;
      if ((status >= 500 || status === 429) && attempt < this.retries) {
        drain(res);
        await sleep(retryAfterMs(res.headers['retry-after']) ?? this.backoff(attempt));
        continue;
      }
      const body = await readBody(res, 1024 * 1024);
      if (status === 401 || status === 403) throw this.credentialsRefused(state, 'the token server');
      if (status !== 200) throw new RegistryError('auth', `${state.name}: the token server ${redactUrl(url)} answered ${status}`, { status });
      let parsed: { token?: string; access_token?: string; expires_in?: number };
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        throw new RegistryError('auth', `${state.name}: the token server ${redactUrl(url)} sent no JSON`);
      }
      const token = parsed.token ?? parsed.access_token;
      if (!token) throw new RegistryError('auth', `${state.name}: the token server ${redactUrl(url)} sent no token`);
      this.tokens.set(key, token, typeof parsed.expires_in === 'number' && parsed.expires_in > 0 ? parsed.expires_in : 60);
      return token;
    }
  }

  private credentialsRefused(state: RegistryState, who: string): RegistryError {
    if (!state.credentials) {
      return new RegistryError('auth', `${state.name} requires authentication and no credentials are known for it (add them to ${defaultDockerConfigPath()} "auths" with docker login, or to the registry's options)`, { status: 401 });
    }
    return new RegistryError('auth', `${state.name}: ${who} refused the credentials from ${state.credentialSource} (wrong username or password?)`, { status: 401 });
  }

  /** One exchange with auth, redirects and retries (retries only for replayable bodies). */
  private async call(registry: string, method: string, target: string | URL, opts: CallOptions): Promise<IncomingMessage> {
    const state = this.state(registry);
    let url = typeof target === 'string' ? new URL(target, state.base) : target;
    const replayable = !(opts.body instanceof Readable);
    let renewedAuth = false;
    let redirects = 0;
    let foreign = false; // redirected off the registry: no credentials there
    for (let attempt = 0; ; ) {
      const headers: OutgoingHttpHeaders = { 'user-agent': 'tsplay-registry/0.1', ...opts.headers };
      if (!foreign) {
        const auth = await this.authorization(state, opts.scopes);
        if (auth) headers.authorization = auth;
      }
      let res: IncomingMessage;
      try {
        res = await this.limiter.run(() => this.transport.request(method, url, headers, opts.body, state.tls));
      } catch (err) {
        if (replayable && err instanceof RegistryError && err.retriable && attempt < this.retries) {
          await sleep(this.backoff(attempt++));
          continue;
        }
        throw err;
      }
      const status = res.statusCode ?? 0;
      this.opts.onRequest?.({ method, url: redactUrl(url), status });
      if (opts.follow && [301, 302, 303, 307, 308].includes(status) && res.headers.location && redirects < 5) {
        drain(res);
        const next = new URL(res.headers.location, url);
        foreign = foreign || next.host !== state.base.host;
        url = next;
        redirects++;
        continue;
      }
      if (status === 401 && !foreign) {
        const challenges = parseWwwAuthenticate(headerValue(res, 'www-authenticate') ?? '');
        drain(res);
        const challenge = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
        const hadAuth = headers.authorization !== undefined;
        if (challenge) state.challenge = challenge;
        this.tokens.drop(TokenCache.key(state.name, opts.scopes));
        if (!challenge) throw new RegistryError('auth', `${method} ${redactUrl(url)}: 401 without a usable WWW-Authenticate challenge`, { status });
        if (!state.credentials && challenge.scheme === 'basic') throw this.credentialsRefused(state, 'the registry');
        if (renewedAuth) throw hadAuth && challenge.scheme === 'basic' ? this.credentialsRefused(state, 'the registry') : new RegistryError('auth', `${state.name}: access to ${opts.scopes.join(' ')} denied (401 with a fresh token)`, { status });
        renewedAuth = true;
        if (!replayable) throw new RegistryError('auth', `${method} ${redactUrl(url)}: authentication needed before the body`, { status, retriable: true });
        continue;
      }
      if (status === 403 && !foreign) {
        drain(res);
        throw new RegistryError('auth', `${method} ${redactUrl(url)}: access denied (403)`, { status });
      }
      if ((status >= 500 || status === 429) && replayable && attempt < this.retries) {
        drain(res);
        await sleep(retryAfterMs(res.headers['retry-after']) ?? this.backoff(attempt++));
        continue;
      }
      return res;
    }
  }

  /** Throws a RegistryError (with the registry's error body) unless the status is one of `ok`. */
  private async expectOk(res: IncomingMessage, what: string, ok: number[]): Promise<void> {
    const status = res.statusCode ?? 0;
    if (ok.includes(status)) return;
    let detail = '';
    try {
      detail = describeErrorBody(await readBody(res, 64 * 1024));
    } catch {
      // the body is only for the message
    }
    const reason = status === 404 ? 'not-found' : 'http';
    throw new RegistryError(reason, `${what}: ${status === 404 ? 'not found' : `HTTP ${status}`}${detail ? ` (${detail})` : ''}`, {
      status,
      retriable: status >= 500 || status === 429,
    });
  }
}

/** Cuts one stream into consecutive bodies of given lengths (one a PATCH), without reading ahead. */
class ChunkReader {
  private readonly iterator: AsyncIterator<Buffer>;
  private rest: Buffer | undefined;

  constructor(private readonly source: Readable, private readonly what: string) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  take(length: number): Readable {
    let left = length;
    const reader = this;
    return new Readable({
      async read() {
        try {
          let chunk = reader.rest;
          reader.rest = undefined;
          if (!chunk) {
            const next = await reader.iterator.next();
            if (next.done) {
              this.destroy(new RegistryError('http', `${reader.what}: the source ended ${left} bytes early`));
              return;
            }
            chunk = next.value;
          }
          if (chunk.length > left) {
            reader.rest = chunk.subarray(left);
            chunk = chunk.subarray(0, left);
          }
          left -= chunk.length;
          this.push(chunk);
          if (left === 0) this.push(null);
        } catch (err) {
          this.destroy(err as Error);
        }
      },
    });
  }

  destroy(): void {
    this.source.destroy();
  }
}

function headerValue(res: IncomingMessage, name: string): string | undefined {
  const value = res.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function withQuery(url: URL, key: string, value: string): URL {
  const copy = new URL(url);
  copy.searchParams.set(key, value);
  return copy;
}

/** The bytes to upload, hashed on the way: a mismatch fails the request before its last chunk. */
function verified(source: Readable, digest: string, size: number, what: string): Readable {
  if (isVerified(source, digest)) return source; // hashed upstream already (getBlob): once is enough
  const verifier = new DigestVerifier(digest, size, (actual, got) =>
    new RegistryError('digest', `${what}: the content (${got} bytes, ${actual}) does not match its digest; not pushed`),
  );
  source.on('error', (err) => verifier.destroy(err));
  return source.pipe(verifier);
}
