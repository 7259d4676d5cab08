// One connection per host for the whole run, opened on first use and chosen by the
// host's `ansible_connection` (default ssh; the implicit localhost is local).
import type { Connection } from './types.js';
import { UnreachableError } from './types.js';

/** Opens a transport for a host from its variables. */
export type ConnectionOpener = (host: string, vars: Record<string, unknown>) => Connection;

const transports = new Map<string, ConnectionOpener>();

/** Register a transport by the names ansible_connection uses for it. */
export function registerTransport(names: string[], opener: ConnectionOpener): void {
  for (const name of names) transports.set(name, opener);
}

export function transportNames(): string[] {
  return [...transports.keys()].sort();
}

export class ConnectionPool {
  private readonly open = new Map<string, Connection>();

  /** The connection for `host`; `vars` are the host's resolved variables (ansible_connection, ansible_host, ...). */
  get(host: string, vars: Record<string, unknown>): Connection {
    const type = String(vars.ansible_connection ?? 'ssh');
    // a task may switch a host's transport (`connection: local`): one connection per host and type
    const key = `${type}\u0000${host}`;
    const existing = this.open.get(key);
    if (existing) return existing;
    const opener = transports.get(type);
    if (!opener) {
      const known = transportNames().join(', ') || 'none';
      throw new UnreachableError(`connection type '${type}' is not available (known: ${known})`, host);
    }
    const conn = opener(host, vars);
    this.open.set(key, conn);
    return conn;
  }

  /**
   * meta: reset_connection: close the host's connections (every transport) so the next task
   * opens a new one, e.g. to pick up a changed group membership, sshd config or firewall.
   * Returns how many were closed.
   */
  async reset(host: string): Promise<number> {
    const closing: Connection[] = [];
    for (const [key, conn] of this.open) {
      if (key.slice(key.indexOf('\u0000') + 1) !== host) continue;
      this.open.delete(key);
      closing.push(conn);
    }
    await Promise.allSettled(closing.map((c) => c.close()));
    return closing.length;
  }

  async closeAll(): Promise<void> {
    const all = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(all.map((c) => c.close()));
  }
}
