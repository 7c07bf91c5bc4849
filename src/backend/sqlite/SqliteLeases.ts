// SQLite leases with fencing tokens; released rows kept so a token is never handed out again; leases bound to a holder follow it.
import type { AcquireManyOptions, Lease, LeaseHolder, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { checkLeaseHolder, checkLeaseList, checkLeaseRequests } from '../common/batchArgs.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

interface LeaseRow {
  name: string;
  owner: string | null;
  token: number;
  expires_at: number;
  holder: string | null;
  holder_token: number | null;
}

const COLUMNS = 'name, owner, token, expires_at, holder, holder_token';

/**
 * SQLite {@link LeaseStore}. A released lease keeps its row (owner `NULL`) so its token is never
 * handed out again. A bound lease stores its holder's name and token and is held while that row
 * is. Part of {@link SqliteBackend}.
 */
export class SqliteLeases implements LeaseStore {
  constructor(private readonly conn: SqliteConnection) {}

  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return this.conn.run('leases.acquire', () => {
      checkName('name', name);
      checkName('owner', owner);
      checkTtl('ttlMs', ttlMs);
      return this.conn.write(() => {
        const now = this.conn.clock.now();
        return this.acquireSync(name, owner, now, now + ttlMs, undefined);
      });
    });
  }

  acquireMany(
    requests: readonly LeaseRequest[],
    ttlMs: number,
    options: AcquireManyOptions = {},
  ): Promise<(Lease | null)[]> {
    return this.conn.run('leases.acquireMany', () => {
      checkLeaseRequests(requests);
      checkTtl('ttlMs', ttlMs);
      const holder = checkLeaseHolder(options.holder, requests);
      if (requests.length === 0) return [];
      // One write transaction for the whole list.
      return this.conn.write(() => {
        const now = this.conn.clock.now();
        let bound: LeaseHolder | undefined;
        if (holder !== undefined) {
          const h = this.row(holder.name);
          if (h?.owner !== holder.owner || h.token !== holder.fencingToken || !this.heldSync(h, now)) {
            return requests.map(() => null);
          }
          bound = { name: holder.name, token: holder.fencingToken };
        }
        return requests.map((r) => this.acquireSync(r.name, r.owner, now, now + ttlMs, bound));
      });
    });
  }

  renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    return this.conn.run('leases.renew', () => {
      checkTtl('ttlMs', ttlMs);
      return this.conn.write(() => {
        const now = this.conn.clock.now();
        return this.renewSync(lease, now, now + ttlMs);
      });
    });
  }

  renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    return this.conn.run('leases.renewMany', () => {
      checkLeaseList(leases);
      checkTtl('ttlMs', ttlMs);
      if (leases.length === 0) return [];
      return this.conn.write(() => {
        const now = this.conn.clock.now();
        return leases.map((l) => this.renewSync(l, now, now + ttlMs));
      });
    });
  }

  private acquireSync(
    name: string,
    owner: string,
    now: number,
    expiresAt: number,
    holder: LeaseHolder | undefined,
  ): Lease | null {
    const row = this.row(name);
    const bound = { holder: holder?.name ?? null, holder_token: holder?.token ?? null };
    if (row === undefined) {
      this.conn
        .stmt(`INSERT INTO sluice_leases (${COLUMNS}) VALUES (?, ?, 1, ?, ?, ?)`)
        .run(name, owner, expiresAt, bound.holder, bound.holder_token);
      return this.lease({ name, owner, token: 1, expires_at: expiresAt, ...bound });
    }
    let token = row.token;
    if (row.owner !== owner) {
      if (this.heldSync(row, now)) return null;
      token += 1;
    }
    this.conn
      .stmt(
        'UPDATE sluice_leases SET owner = ?, token = ?, expires_at = ?, holder = ?, holder_token = ? WHERE name = ?',
      )
      .run(owner, token, expiresAt, bound.holder, bound.holder_token, name);
    return this.lease({ name, owner, token, expires_at: expiresAt, ...bound });
  }

  private renewSync(lease: Lease, now: number, expiresAt: number): Lease | null {
    const row = this.row(lease.name);
    if (
      row === undefined ||
      row.owner === null ||
      row.owner !== lease.owner ||
      row.token !== lease.fencingToken
    ) {
      return null;
    }
    // A bound lease is checked, not extended: its holder's renewal keeps it.
    if (row.holder !== null) return this.heldSync(row, now) ? this.lease(row) : null;
    this.conn.stmt('UPDATE sluice_leases SET expires_at = ? WHERE name = ?').run(expiresAt, lease.name);
    return this.lease({ ...row, expires_at: expiresAt });
  }

  release(lease: Lease): Promise<boolean> {
    return this.conn.run('leases.release', () => this.releaseSync(lease));
  }

  releaseMany(leases: readonly Lease[]): Promise<boolean[]> {
    return this.conn.run('leases.releaseMany', () => {
      checkLeaseList(leases);
      if (leases.length === 0) return [];
      return this.conn.write(() => leases.map((l) => this.releaseSync(l)));
    });
  }

  private releaseSync(lease: Lease): boolean {
    const r = this.conn
      .stmt(
        `UPDATE sluice_leases SET owner = NULL, expires_at = 0, holder = NULL, holder_token = NULL
         WHERE name = ? AND owner = ? AND token = ?`,
      )
      .run(lease.name, lease.owner, lease.fencingToken);
    return r.changes > 0;
  }

  get(name: string): Promise<Lease | undefined> {
    return this.conn.run('leases.get', () => {
      const row = this.row(name);
      return row !== undefined && this.heldSync(row, this.conn.clock.now()) ? this.lease(row) : undefined;
    });
  }

  list(prefix: string): Promise<Lease[]> {
    return this.conn.run('leases.list', () => {
      // substr() compares the prefix literally (no LIKE wildcards to escape); `>=` lets the index seek.
      const rows = this.conn
        .stmt(
          `SELECT ${COLUMNS} FROM sluice_leases
           WHERE name >= @prefix AND substr(name, 1, length(@prefix)) = @prefix AND owner IS NOT NULL
           ORDER BY name`,
        )
        .all({ prefix }) as LeaseRow[];
      const now = this.conn.clock.now();
      return rows.filter((r) => this.heldSync(r, now)).map((r) => this.lease(r));
    });
  }

  /** Whether `token` is the current token of lease `name` and it is held (the commit fence). */
  holdsSync(name: string, token: number, now: number): boolean {
    const row = this.row(name);
    return row !== undefined && row.token === token && this.heldSync(row, now);
  }

  /** Whether a row is held at `now`: owned, and unexpired (or, bound, its holder is held with the token). */
  private heldSync(row: LeaseRow, now: number): boolean {
    if (row.owner === null) return false;
    if (row.holder === null) return now < row.expires_at;
    const h = this.row(row.holder);
    return (
      h !== undefined &&
      h.token === row.holder_token &&
      h.holder === null &&
      h.owner !== null &&
      now < h.expires_at
    );
  }

  private lease(row: LeaseRow): Lease {
    const lease = { name: row.name, owner: row.owner ?? '', fencingToken: row.token };
    if (row.holder === null) return { ...lease, expiresAt: row.expires_at };
    const h = this.row(row.holder);
    return {
      ...lease,
      expiresAt: h?.expires_at ?? 0,
      holder: { name: row.holder, token: row.holder_token ?? 0 },
    };
  }

  private row(name: string): LeaseRow | undefined {
    return this.conn.stmt(`SELECT ${COLUMNS} FROM sluice_leases WHERE name = ?`).get(name) as
      | LeaseRow
      | undefined;
  }
}
