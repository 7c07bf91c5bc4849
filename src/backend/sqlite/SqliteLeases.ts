// SQLite leases with fencing tokens; released rows kept so a token is never handed out again.
import type { Lease, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { checkLeaseList, checkLeaseRequests } from '../common/batchArgs.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

interface LeaseRow {
  name: string;
  owner: string | null;
  token: number;
  expires_at: number;
}

/**
 * SQLite {@link LeaseStore}. A released lease keeps its row (owner `NULL`) so its token is never
 * handed out again. Part of {@link SqliteBackend}.
 */
export class SqliteLeases implements LeaseStore {
  constructor(private readonly conn: SqliteConnection) {}

  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return this.conn.run('leases.acquire', () => {
      checkName('name', name);
      checkName('owner', owner);
      checkTtl('ttlMs', ttlMs);
      return this.conn.write(() => this.acquireSync(name, owner, this.conn.clock.now(), ttlMs));
    });
  }

  acquireMany(requests: readonly LeaseRequest[], ttlMs: number): Promise<(Lease | null)[]> {
    return this.conn.run('leases.acquireMany', () => {
      checkLeaseRequests(requests);
      checkTtl('ttlMs', ttlMs);
      if (requests.length === 0) return [];
      // One write transaction for the whole list.
      return this.conn.write(() => {
        const now = this.conn.clock.now();
        return requests.map((r) => this.acquireSync(r.name, r.owner, now, ttlMs));
      });
    });
  }

  renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    return this.conn.run('leases.renew', () => {
      checkTtl('ttlMs', ttlMs);
      return this.renewSync(lease, this.conn.clock.now() + ttlMs);
    });
  }

  renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    return this.conn.run('leases.renewMany', () => {
      checkLeaseList(leases);
      checkTtl('ttlMs', ttlMs);
      if (leases.length === 0) return [];
      return this.conn.write(() => {
        const expiresAt = this.conn.clock.now() + ttlMs;
        return leases.map((l) => this.renewSync(l, expiresAt));
      });
    });
  }

  private acquireSync(name: string, owner: string, now: number, ttlMs: number): Lease | null {
    const expiresAt = now + ttlMs;
    const row = this.row(name);
    if (row === undefined) {
      this.conn
        .stmt('INSERT INTO sluice_leases (name, owner, token, expires_at) VALUES (?, ?, 1, ?)')
        .run(name, owner, expiresAt);
      return { name, owner, fencingToken: 1, expiresAt };
    }
    let token = row.token;
    if (row.owner !== owner) {
      if (row.owner !== null && now < row.expires_at) return null;
      token += 1;
    }
    this.conn
      .stmt('UPDATE sluice_leases SET owner = ?, token = ?, expires_at = ? WHERE name = ?')
      .run(owner, token, expiresAt, name);
    return { name, owner, fencingToken: token, expiresAt };
  }

  private renewSync(lease: Lease, expiresAt: number): Lease | null {
    const r = this.conn
      .stmt('UPDATE sluice_leases SET expires_at = ? WHERE name = ? AND owner = ? AND token = ?')
      .run(expiresAt, lease.name, lease.owner, lease.fencingToken);
    return r.changes === 0 ? null : { ...lease, expiresAt };
  }

  release(lease: Lease): Promise<boolean> {
    return this.conn.run('leases.release', () => {
      const r = this.conn
        .stmt(
          'UPDATE sluice_leases SET owner = NULL, expires_at = 0 WHERE name = ? AND owner = ? AND token = ?',
        )
        .run(lease.name, lease.owner, lease.fencingToken);
      return r.changes > 0;
    });
  }

  get(name: string): Promise<Lease | undefined> {
    return this.conn.run('leases.get', () => {
      const row = this.conn
        .stmt(
          'SELECT name, owner, token, expires_at FROM sluice_leases WHERE name = ? AND owner IS NOT NULL AND expires_at > ?',
        )
        .get(name, this.conn.clock.now()) as LeaseRow | undefined;
      return row === undefined ? undefined : toLease(row);
    });
  }

  list(prefix: string): Promise<Lease[]> {
    return this.conn.run('leases.list', () => {
      // substr() compares the prefix literally (no LIKE wildcards to escape); `>=` lets the index seek.
      const rows = this.conn
        .stmt(
          `SELECT name, owner, token, expires_at FROM sluice_leases
           WHERE name >= @prefix AND substr(name, 1, length(@prefix)) = @prefix AND owner IS NOT NULL AND expires_at > @now
           ORDER BY name`,
        )
        .all({ prefix, now: this.conn.clock.now() }) as LeaseRow[];
      return rows.map(toLease);
    });
  }

  /** Whether `token` is the current, unexpired token of lease `name` (the commit fence). */
  holdsSync(name: string, token: number, now: number): boolean {
    const row = this.row(name);
    return row !== undefined && row.owner !== null && row.token === token && now < row.expires_at;
  }

  private row(name: string): LeaseRow | undefined {
    return this.conn
      .stmt('SELECT name, owner, token, expires_at FROM sluice_leases WHERE name = ?')
      .get(name) as LeaseRow | undefined;
  }
}

function toLease(row: LeaseRow): Lease {
  return { name: row.name, owner: row.owner ?? '', fencingToken: row.token, expiresAt: row.expires_at };
}
