// Real registries for specs: Debian's docker-registry (distribution 2.8, /usr/bin/docker-registry)
// started per test on 127.0.0.1, with filesystem storage in a temp dir and, on request, htpasswd
// (bcrypt from apache2-utils' htpasswd), token auth (spec/helpers/token-server.ts) or TLS (a
// self-signed certificate for 127.0.0.1 from the openssl CLI). Also:
//   - pushSyntheticImages: a fixed set of small images pushed with raw HTTP (fetch), independent of
//     engine/registry: several random layers, layers shared between images, a Docker manifest list
//     with two platforms, an OCI index, an OCI image; returns their digests and an image list text;
//   - pushBulkImages: N images of M random layers of a given size (benchmarks);
//   - startProxy: an HTTP proxy in front of a registry that records every request (method, path,
//     status) and can corrupt a blob (flip one byte) or throttle bodies.
//
//   const reg = await startRegistry({ auth: 'none' });
//   const images = await pushSyntheticImages(reg);
//   ... reg.url is http://127.0.0.1:PORT, reg.host is 127.0.0.1:PORT ...
//   await reg.stop();
//
// Needs the Debian packages docker-registry and apache2-utils (htpasswd), and openssl.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTempDir } from './temp-dir.js';
import type { TokenServer } from './token-server.js';

export const REGISTRY_BINARY = '/usr/bin/docker-registry';

/** Why registry specs cannot run here, or undefined when they can. */
export function registrySkipReason(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (!existsSync(REGISTRY_BINARY)) return `needs ${REGISTRY_BINARY} (apt-get install docker-registry)`;
  return undefined;
}

export interface StartRegistryOptions {
  auth?: 'none' | 'htpasswd' | 'token';
  /** htpasswd users (default { tsplay: 'registry-pass-1' }) */
  users?: Record<string, string>;
  /** required for auth 'token' */
  tokenServer?: TokenServer;
  /** serve https with a self-signed certificate for 127.0.0.1 (caFile in the result) */
  tls?: boolean;
}

export interface TestRegistry {
  /** http(s)://127.0.0.1:PORT */
  url: string;
  /** 127.0.0.1:PORT */
  host: string;
  port: number;
  /** storage and config dir */
  dir: string;
  /** the registry's log (stderr: access lines) */
  logFile: string;
  /** the CA (self-signed certificate) when tls */
  caFile?: string;
  users: Record<string, string>;
  /** raw HTTP credentials for the helpers: Basic for htpasswd and token registries */
  credentials?: { username: string; password: string };
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = makeTempDir('tsplay-registry-');
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const users = opts.users ?? { tsplay: 'registry-pass-1' };
  const lines = [
    'version: 0.1',
    'log:',
    '  level: info',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${path.join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
  ];
  let caFile: string | undefined;
  if (opts.tls) {
    caFile = path.join(dir, 'cert.pem');
    const keyFile = path.join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    lines.push('  tls:', `    certificate: ${caFile}`, `    key: ${keyFile}`);
  }
  if (opts.auth === 'htpasswd') {
    const file = path.join(dir, 'htpasswd');
    const entries = Object.entries(users).map(([user, pass]) => execFileSync('htpasswd', ['-Bbn', user, pass], { encoding: 'utf8' }).trim());
    writeFileSync(file, entries.join('\n') + '\n');
    lines.push('auth:', '  htpasswd:', '    realm: tsplay-test', `    path: ${file}`);
  } else if (opts.auth === 'token') {
    const tokens = opts.tokenServer;
    if (!tokens) throw new Error('startRegistry: auth "token" needs opts.tokenServer');
    lines.push('auth:', '  token:', `    realm: ${tokens.realm}`, `    service: ${tokens.service}`, `    issuer: ${tokens.issuer}`, `    rootcertbundle: ${tokens.certFile}`);
  }
  const config = path.join(dir, 'config.yml');
  writeFileSync(config, lines.join('\n') + '\n');
  const logFile = path.join(dir, 'registry.log');
  const log = openSync(logFile, 'a');
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', config], { stdio: ['ignore', log, log] });
  const url = `${opts.tls ? 'https' : 'http'}://${host}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${readFileSync(logFile, 'utf8').slice(-2000)}`);
    if (await answers(host, opts.tls === true)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not answer on ${host} within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const [firstUser, firstPass] = Object.entries(users)[0] ?? [];
  return {
    url,
    host,
    port,
    dir,
    logFile,
    users,
    ...(caFile ? { caFile } : {}),
    ...(opts.auth === 'htpasswd' || opts.auth === 'token' ? { credentials: { username: firstUser!, password: firstPass! } } : {}),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

function answers(host: string, tls: boolean): Promise<boolean> {
  if (tls) {
    // a TCP connect is enough: the registry listens only once TLS is set up
    return new Promise((resolve) => {
      import('node:net').then(({ connect }) => {
        const socket = connect(Number(host.split(':')[1]), '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    });
  }
  return new Promise((resolve) => {
    const req = httpRequest(`http://${host}/v2/`, (res) => {
      res.resume();
      resolve(res.statusCode === 200 || res.statusCode === 401);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

// ------------------------------------------------------------------ raw HTTP pushing

export const MT = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

export const sha256 = (data: Buffer | string) => 'sha256:' + createHash('sha256').update(data).digest('hex');

/** Where the raw helpers push: a TestRegistry or any { url, credentials? }. */
export interface PushTarget {
  url: string;
  credentials?: { username: string; password: string };
}

const tokenCache = new Map<string, string>();

/** fetch with the registry's auth: Basic, or a Bearer token fetched from the challenge's realm. */
async function rawFetch(target: PushTarget, pathOrUrl: string, init: RequestInit & { scope: string }): Promise<Response> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : target.url + pathOrUrl;
  const headers = new Headers(init.headers);
  const cacheKey = `${target.url} ${init.scope}`;
  const cached = tokenCache.get(cacheKey);
  if (cached) headers.set('authorization', cached);
  let res = await fetch(url, { ...init, headers });
  if (res.status !== 401 || !target.credentials) return res;
  const challenge = res.headers.get('www-authenticate') ?? '';
  await res.arrayBuffer();
  const basic = 'Basic ' + Buffer.from(`${target.credentials.username}:${target.credentials.password}`).toString('base64');
  let auth = basic;
  if (/^bearer/i.test(challenge)) {
    const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1];
    const realm = new URL(param('realm')!);
    realm.searchParams.set('service', param('service') ?? '');
    realm.searchParams.set('scope', init.scope);
    const tokenRes = await fetch(realm, { headers: { authorization: basic } });
    if (!tokenRes.ok) throw new Error(`token server refused: ${tokenRes.status}`);
    auth = 'Bearer ' + ((await tokenRes.json()) as { token: string }).token;
  }
  tokenCache.set(cacheKey, auth);
  headers.set('authorization', auth);
  res = await fetch(url, { ...init, headers });
  return res;
}

/** Uploads a blob (POST then monolithic PUT) unless present. */
export async function pushBlob(target: PushTarget, repository: string, data: Buffer): Promise<{ digest: string; size: number }> {
  const digest = sha256(data);
  const scope = `repository:${repository}:pull,push`;
  const head = await rawFetch(target, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD', scope });
  if (head.status === 200) return { digest, size: data.length };
  const post = await rawFetch(target, `/v2/${repository}/blobs/uploads/`, { method: 'POST', scope });
  await post.arrayBuffer();
  if (post.status !== 202) throw new Error(`POST upload ${repository}: ${post.status}`);
  const location = new URL(post.headers.get('location')!, target.url);
  location.searchParams.set('digest', digest);
  const put = await rawFetch(target, location.toString(), {
    method: 'PUT',
    body: data,
    headers: { 'content-type': 'application/octet-stream' },
    scope,
  });
  const text = await put.text();
  if (put.status !== 201) throw new Error(`PUT blob ${repository}@${digest}: ${put.status} ${text}`);
  return { digest, size: data.length };
}

/** PUTs manifest bytes under a tag or digest; returns the sha256 of the bytes. */
export async function pushManifest(target: PushTarget, repository: string, reference: string, mediaType: string, bytes: Buffer): Promise<string> {
  const res = await rawFetch(target, `/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': mediaType },
    scope: `repository:${repository}:pull,push`,
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`PUT manifest ${repository}:${reference}: ${res.status} ${text}`);
  return sha256(bytes);
}

/** GETs manifest bytes exactly as stored (by tag or digest). */
export async function fetchManifest(target: PushTarget, repository: string, reference: string): Promise<{ digest: string; mediaType: string; bytes: Buffer } | undefined> {
  const res = await rawFetch(target, `/v2/${repository}/manifests/${reference}`, {
    headers: { accept: [MT.dockerList, MT.ociIndex, MT.dockerManifest, MT.ociManifest].join(', ') },
    scope: `repository:${repository}:pull`,
  });
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET manifest ${repository}:${reference}: ${res.status}`);
  const bytes = Buffer.from(await res.arrayBuffer());
  return { digest: sha256(bytes), mediaType: res.headers.get('content-type') ?? '', bytes };
}

export interface SyntheticImage {
  /** repository path in the source registry */
  repository: string;
  tag: string;
  /** the line to put in an image list (rancher-images.txt) */
  listLine: string;
  /** repository the Rancher mapping gives in the target */
  targetRepository: string;
  digest: string;
  mediaType: string;
  /** every blob digest of the image (children of a list included) */
  blobs: Array<{ digest: string; size: number }>;
  /** child manifests of a list / index */
  children: string[];
}

interface ImageSpec {
  os?: string;
  architecture?: string;
  variant?: string;
  layers: Buffer[];
  oci?: boolean;
}

/** Pushes one image manifest (config + layers) by digest or tag; returns digest, bytes and blobs. */
async function pushImage(target: PushTarget, repository: string, reference: string | undefined, spec: ImageSpec) {
  const oci = spec.oci === true;
  const layerDescs = [];
  for (const layer of spec.layers) {
    const { digest, size } = await pushBlob(target, repository, layer);
    layerDescs.push({ mediaType: oci ? MT.ociLayer : MT.dockerLayer, digest, size });
  }
  const config = Buffer.from(
    JSON.stringify({
      architecture: spec.architecture ?? 'amd64',
      os: spec.os ?? 'linux',
      ...(spec.variant ? { variant: spec.variant } : {}),
      created: '2026-01-01T00:00:00Z',
      config: { Env: [`PATH=/usr/bin`, `NONCE=${randomBytes(8).toString('hex')}`] },
      rootfs: { type: 'layers', diff_ids: layerDescs.map((l) => l.digest) },
    }),
  );
  const cfg = await pushBlob(target, repository, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: oci ? MT.ociManifest : MT.dockerManifest,
    config: { mediaType: oci ? MT.ociConfig : MT.dockerConfig, digest: cfg.digest, size: cfg.size },
    layers: layerDescs,
  };
  // 3-space indent: like docker's output, and unlike JSON.stringify(x) of a re-serialising client
  const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
  const digest = sha256(bytes);
  await pushManifest(target, repository, reference ?? digest, manifest.mediaType, bytes);
  return { digest, bytes, mediaType: manifest.mediaType, blobs: [cfg, ...layerDescs.map((l) => ({ digest: l.digest, size: l.size }))] };
}

async function pushList(target: PushTarget, repository: string, tag: string, oci: boolean, children: ImageSpec[]) {
  const pushed = [];
  for (const child of children) pushed.push({ spec: child, ...(await pushImage(target, repository, undefined, { ...child, oci })) });
  const list = {
    schemaVersion: 2,
    mediaType: oci ? MT.ociIndex : MT.dockerList,
    manifests: pushed.map((p) => ({
      mediaType: p.mediaType,
      digest: p.digest,
      size: p.bytes.length,
      platform: { architecture: p.spec.architecture ?? 'amd64', os: p.spec.os ?? 'linux', ...(p.spec.variant ? { variant: p.spec.variant } : {}) },
    })),
  };
  const bytes = Buffer.from(JSON.stringify(list, null, 3));
  const digest = await pushManifest(target, repository, tag, list.mediaType, bytes);
  return { digest, mediaType: list.mediaType, blobs: pushed.flatMap((p) => p.blobs), children: pushed.map((p) => p.digest) };
}

/**
 * The standard synthetic set (5 images, ~13 layers of `layerSize` random bytes, default 64 KiB):
 *   rancher/alpha:v1   Docker schema 2, 3 layers (one shared with beta, one with busybox)
 *   rancher/beta:v2    OCI image manifest, 2 layers
 *   busybox:1.31       Docker schema 2, no namespace (goes to rancher/busybox in the target)
 *   rancher/multi:v3   Docker manifest list: linux/amd64 and linux/arm64
 *   rancher/ociidx:v4  OCI index: linux/amd64 and linux/arm/v7
 */
export async function pushSyntheticImages(target: PushTarget, opts: { layerSize?: number } = {}): Promise<SyntheticImage[]> {
  const size = opts.layerSize ?? 64 * 1024;
  const layer = () => randomBytes(size);
  const sharedAB = layer();
  const sharedAC = layer();
  const out: SyntheticImage[] = [];
  const add = (repository: string, tag: string, targetRepository: string, r: { digest: string; mediaType: string; blobs: Array<{ digest: string; size: number }>; children?: string[] }) =>
    out.push({ repository, tag, listLine: `${repository}:${tag}`, targetRepository, digest: r.digest, mediaType: r.mediaType, blobs: r.blobs, children: r.children ?? [] });

  add('rancher/alpha', 'v1', 'rancher/alpha', await pushImage(target, 'rancher/alpha', 'v1', { layers: [sharedAB, sharedAC, layer()] }));
  add('rancher/beta', 'v2', 'rancher/beta', await pushImage(target, 'rancher/beta', 'v2', { layers: [sharedAB, layer()], oci: true }));
  add('busybox', '1.31', 'rancher/busybox', await pushImage(target, 'busybox', '1.31', { layers: [sharedAC, layer()] }));
  add('rancher/multi', 'v3', 'rancher/multi', await pushList(target, 'rancher/multi', 'v3', false, [
    { architecture: 'amd64', layers: [layer(), layer()] },
    { architecture: 'arm64', layers: [layer()] },
  ]));
  add('rancher/ociidx', 'v4', 'rancher/ociidx', await pushList(target, 'rancher/ociidx', 'v4', true, [
    { architecture: 'amd64', layers: [layer()] },
    { architecture: 'arm', variant: 'v7', layers: [layer()] },
  ]));
  return out;
}

/** `count` images `bench/imgN:v1` of `layers` random layers of `layerSize` bytes each (no sharing). */
export async function pushBulkImages(target: PushTarget, opts: { count: number; layers: number; layerSize: number; namespace?: string }): Promise<SyntheticImage[]> {
  const ns = opts.namespace ?? 'bench';
  const out: SyntheticImage[] = [];
  await Promise.all(
    Array.from({ length: opts.count }, async (_, i) => {
      const repository = `${ns}/img${i}`;
      const layers = Array.from({ length: opts.layers }, () => randomBytes(opts.layerSize));
      const r = await pushImage(target, repository, 'v1', { layers });
      out[i] = { repository, tag: 'v1', listLine: `${repository}:v1`, targetRepository: repository, digest: r.digest, mediaType: r.mediaType, blobs: r.blobs, children: [] };
    }),
  );
  return out;
}

// ------------------------------------------------------------------ a recording proxy

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  /** request body bytes seen by the proxy */
  bytesIn: number;
  /** the request's Content-Range / Range headers (uploads, resumed downloads) */
  contentRange?: string;
  range?: string;
}

export interface TestProxy {
  url: string;
  host: string;
  requests: ProxiedRequest[];
  /** blob digests whose upload was committed (PUT ...?digest= answered 201) */
  committedBlobs(): string[];
  stop(): Promise<void>;
}

export interface ProxyOptions {
  /** flip one byte in the body of GET /v2/.../blobs/<digest> for these digests */
  corruptBlobs?: string[];
  /** cap request and response bodies at this many bytes per second (per request) */
  bytesPerSecond?: number;
  /** cut the connection once, after `afterBytes` body bytes, of the first request whose method is
   *  `method` and whose path includes `pathIncludes` (GET: the response body; PATCH/PUT: the request body) */
  dropOnce?: { method: string; pathIncludes: string; afterBytes: number; /** the nth match (1-based, default 1) */ nth?: number };
}

/** An HTTP proxy in front of `targetUrl` (http) that records requests and can corrupt blobs. */
export async function startProxy(targetUrl: string, opts: ProxyOptions = {}): Promise<TestProxy> {
  const target = new URL(targetUrl);
  const requests: ProxiedRequest[] = [];
  let dropped = false;
  let matches = 0;
  const throttle = async (chunk: Buffer) => {
    if (opts.bytesPerSecond) await new Promise((r) => setTimeout(r, (chunk.length / opts.bytesPerSecond!) * 1000));
  };
  const server: Server = createHttpServer(async (req, res) => {
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', status: 0, bytesIn: 0 };
    if (req.headers['content-range']) record.contentRange = String(req.headers['content-range']);
    if (req.headers.range) record.range = String(req.headers.range);
    requests.push(record);
    const drop = opts.dropOnce;
    let dropAt = -1;
    if (drop && !dropped && req.method === drop.method && (req.url ?? '').includes(drop.pathIncludes) && ++matches >= (drop.nth ?? 1)) {
      dropped = true;
      dropAt = drop.afterBytes;
    }
    const headers = { ...req.headers, host: target.host };
    const upstream = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers }, async (up: IncomingMessage) => {
      record.status = up.statusCode ?? 0;
      const location = up.headers.location;
      const outHeaders = { ...up.headers };
      if (location) outHeaders.location = location.replace(target.origin, `http://${(server.address() as AddressInfo).address}:${(server.address() as AddressInfo).port}`);
      res.writeHead(up.statusCode ?? 502, outHeaders);
      const digest = /\/blobs\/(sha256:[a-f0-9]{64})$/.exec(req.url ?? '')?.[1];
      let flip = req.method === 'GET' && digest !== undefined && (opts.corruptBlobs ?? []).includes(digest);
      let sent = 0;
      try {
        for await (const raw of up as AsyncIterable<Buffer>) {
          let chunk = raw;
          if (req.method === 'GET' && dropAt >= 0 && sent + chunk.length > dropAt) {
            res.write(chunk.subarray(0, dropAt - sent));
            await new Promise((r) => setTimeout(r, 20));
            res.socket?.destroy();
            up.destroy();
            return;
          }
          sent += chunk.length;
          if (flip && chunk.length) {
            chunk = Buffer.from(chunk);
            chunk[0] = chunk[0]! ^ 0xff;
            flip = false;
          }
          await throttle(chunk);
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      } catch {
        res.destroy();
      }
    });
    upstream.on('error', () => res.destroy());
    req.on('aborted', () => upstream.destroy());
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        if (req.method !== 'GET' && dropAt >= 0 && record.bytesIn + chunk.length >= dropAt) {
          upstream.write(chunk.subarray(0, dropAt - record.bytesIn));
          record.bytesIn = dropAt;
          await new Promise((r) => setTimeout(r, 50));
          upstream.destroy();
          req.socket.destroy();
          return;
        }
        record.bytesIn += chunk.length;
        await throttle(chunk);
        if (!upstream.write(chunk)) await new Promise((r) => upstream.once('drain', r));
      }
      upstream.end();
    } catch {
      upstream.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    committedBlobs: () =>
      requests
        .filter((r) => r.method === 'PUT' && r.status === 201 && /\/blobs\/uploads\//.test(r.path))
        .map((r) => new URL(r.path, 'http://x').searchParams.get('digest') ?? '')
        .filter(Boolean),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** HEAD of a blob with the target's auth: true on 200, false on 404. */
export async function blobExists(target: PushTarget, repository: string, digest: string): Promise<boolean> {
  const res = await rawFetch(target, `/v2/${repository}/blobs/${digest}`, { method: 'HEAD', scope: `repository:${repository}:pull` });
  if (res.status !== 200 && res.status !== 404) throw new Error(`HEAD blob ${repository}@${digest}: ${res.status}`);
  return res.status === 200;
}
