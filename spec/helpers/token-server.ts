// The suite's own Docker token server (the `auth.token` side of docker-registry): checks Basic
// credentials and issues RS256 JWTs whose x5c header carries a self-signed certificate; the registry
// trusts that certificate through `rootcertbundle`. Key and certificate come from the openssl CLI.
//
//   const tokens = await startTokenServer({ users: { alice: 's3cret' } });
//   const reg = await startRegistry({ auth: 'token', tokenServer: tokens });
//   ... tokens.issued (every token handed out, to check none leaks into output) ...
//   await tokens.stop();
import { createServer, type Server } from 'node:http';
import { createSign, randomUUID } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { makeTempDir } from './temp-dir.js';

export interface TokenServer {
  /** the realm: http://127.0.0.1:PORT/token */
  realm: string;
  service: string;
  issuer: string;
  /** PEM certificate the registry trusts (auth.token.rootcertbundle) */
  certFile: string;
  /** every token issued so far */
  issued: string[];
  /** requests refused (bad or missing credentials) */
  refused: number;
  stop(): Promise<void>;
}

export interface TokenServerOptions {
  /** username → password; anyone else is refused with 401 */
  users: Record<string, string>;
  service?: string;
  issuer?: string;
  /** token lifetime in seconds (default 300) */
  expiresIn?: number;
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function startTokenServer(opts: TokenServerOptions): Promise<TokenServer> {
  const dir = makeTempDir('tsplay-token-');
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=tsplay-token-server'], { stdio: 'ignore' });
  const key = readFileSync(keyFile, 'utf8');
  const certDer = readFileSync(certFile, 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const service = opts.service ?? 'tsplay-test-registry';
  const issuer = opts.issuer ?? 'tsplay-test-issuer';
  const expiresIn = opts.expiresIn ?? 300;
  const state: Omit<TokenServer, 'realm' | 'stop'> = { service, issuer, certFile, issued: [], refused: 0 };

  const sign = (access: Array<{ type: string; name: string; actions: string[] }>, subject: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = { iss: issuer, sub: subject, aud: service, exp: now + expiresIn, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    return `${input}.${b64url(signature)}`;
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = req.headers.authorization ?? '';
    const decoded = auth.startsWith('Basic ') ? Buffer.from(auth.slice(6), 'base64').toString('utf8') : '';
    const sep = decoded.indexOf(':');
    const user = sep > 0 ? decoded.slice(0, sep) : '';
    const password = sep > 0 ? decoded.slice(sep + 1) : '';
    if (url.pathname !== '/token' || !user || opts.users[user] !== password) {
      state.refused++;
      res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="tsplay-token"' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    // repository:NAME:actions — NAME may hold ':' only in theory; split at the first and last
    const access = url.searchParams.getAll('scope').flatMap((scope) => scope.split(' ')).filter(Boolean).map((scope) => {
      const first = scope.indexOf(':');
      const last = scope.lastIndexOf(':');
      return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
    });
    const token = sign(access, user);
    state.issued.push(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token, access_token: token, expires_in: expiresIn, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    realm: `http://127.0.0.1:${port}/token`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
