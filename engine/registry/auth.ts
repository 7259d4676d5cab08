// Registry auth: WWW-Authenticate challenges, credentials (options, then docker's config.json),
// Bearer tokens cached per registry and scope. Nothing here ever goes into a message.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export interface Challenge {
  /** lowercase: 'basic', 'bearer' */
  scheme: string;
  params: Record<string, string>;
}

export interface RegistryCredentials {
  username: string;
  password: string;
}

/**
 * Parses a WWW-Authenticate header (RFC 7235): `Bearer realm="...",service="...",scope="a b"`.
 * Several challenges may share one header; a bare token after a comma starts the next one.
 */
export function parseWwwAuthenticate(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipSpace = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && !/[\s,=]/.test(header[i]!)) i++;
    return header.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipSpace();
    if (header[i] === ',') {
      i++;
      continue;
    }
    const token = readToken();
    if (!token) {
      i++;
      continue;
    }
    skipSpace();
    if (header[i] === '=' && current) {
      i++;
      skipSpace();
      let value = '';
      if (header[i] === '"') {
        i++;
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        value = readToken();
      }
      current.params[token.toLowerCase()] = value;
    } else {
      current = { scheme: token.toLowerCase(), params: {} };
      out.push(current);
    }
  }
  return out;
}

/** The docker config.json path: $DOCKER_CONFIG/config.json, else ~/.docker/config.json. */
export function defaultDockerConfigPath(): string {
  const dir = process.env.DOCKER_CONFIG || path.join(homedir(), '.docker');
  return path.join(dir, 'config.json');
}

/** `https://host:port/v1/` → `host:port`; Docker Hub's index names → docker.io */
function normalizeAuthKey(key: string): string {
  let host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  if (host === 'index.docker.io' || host === 'registry-1.docker.io') host = 'docker.io';
  return host;
}

/** Credentials from docker's config.json `auths` (base64 `user:password` in `auth`, or username/password). */
export function readDockerConfigCredentials(file: string): Map<string, RegistryCredentials> {
  const result = new Map<string, RegistryCredentials>();
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return result; // no file, or not JSON: anonymous, as docker does
  }
  const auths = (parsed as { auths?: Record<string, { auth?: string; username?: string; password?: string }> }).auths;
  if (!auths || typeof auths !== 'object') return result;
  for (const [key, entry] of Object.entries(auths)) {
    if (!entry || typeof entry !== 'object') continue;
    let username = entry.username;
    let password = entry.password;
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const sep = decoded.indexOf(':');
      if (sep > 0) {
        username = decoded.slice(0, sep);
        password = decoded.slice(sep + 1);
      }
    }
    if (username && password !== undefined) result.set(normalizeAuthKey(key), { username, password });
  }
  return result;
}

export function basicHeader(creds: RegistryCredentials): string {
  return 'Basic ' + Buffer.from(`${creds.username}:${creds.password}`).toString('base64');
}

/** What a request needs: `repository:NAME:pull` or `repository:NAME:pull,push`, several for a mount. */
export function scopeFor(repository: string, push: boolean): string {
  return `repository:${repository}:${push ? 'pull,push' : 'pull'}`;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

/** Bearer tokens per registry and scope set, dropped a little before they expire. */
export class TokenCache {
  private readonly tokens = new Map<string, CachedToken>();

  static key(registry: string, scopes: string[]): string {
    return `${registry} ${[...scopes].sort().join(' ')}`;
  }

  get(key: string): string | undefined {
    const hit = this.tokens.get(key);
    if (!hit) return undefined;
    if (Date.now() >= hit.expiresAt) {
      this.tokens.delete(key);
      return undefined;
    }
    return hit.token;
  }

  set(key: string, token: string, expiresInSec: number): void {
    // renew 10 s early (or at 90% of a short lifetime) so a token does not expire mid-request
    const lifetimeMs = Math.max(1, expiresInSec) * 1000;
    const margin = Math.min(10_000, lifetimeMs * 0.1);
    this.tokens.set(key, { token, expiresAt: Date.now() + lifetimeMs - margin });
  }

  drop(key: string): void {
    this.tokens.delete(key);
  }
}
