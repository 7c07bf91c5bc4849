import type { Lease, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import type { PgConnection } from './PgConnection.ts';

interface LeaseRow {
  name: string;
  owner: string | null;
  token: string;
  expires_at: string;
}

/**
 * PostgreSQL {@link LeaseStore}. Each operation is one statement; the time is a parameter read
 * from the backend's clock. A released lease keeps its row (owner `NULL`) and its token, so the
 * per-name token sequence never goes back. Part of {@link PostgresBackend}.
 */
export class PostgresLeases implements LeaseStore {
  constructor(private readonly conn: PgConnection) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    this.conn.ensureOpen();
    checkName('name', name);
    checkName('owner', owner);
    checkTtl('ttlMs', ttlMs);
    const now = this.conn.clock.now();
    const s = this.conn.s;
    // Insert the first lease of a name; otherwise take it over when free, expired or already
    // ours. A new owner gets token + 1; the same owner keeps its token. Concurrent acquirers
    // serialize on the row: the conflict check re-reads the latest version.
    const { rows } = await this.conn.query<LeaseRow>(
      'leases.acquire',
      `INSERT INTO ${s}.leases AS l (name, owner, token, expires_at) VALUES ($1, $2, 1, $3)
       ON CONFLICT (name) DO UPDATE SET
         owner = excluded.owner,
         token = CASE WHEN l.owner = excluded.owner THEN l.token ELSE l.token + 1 END,
         expires_at = excluded.expires_at
       WHERE l.owner IS NULL OR l.owner = excluded.owner OR l.expires_at <= $4
       RETURNING name, owner, token, expires_at`,
      [name, owner, now + ttlMs, now],
      undefined,
      false,
    );
    const row = rows[0];
    return row === undefined ? null : toLease(row);
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    this.conn.ensureOpen();
    checkTtl('ttlMs', ttlMs);
    const { rows } = await this.conn.query<LeaseRow>(
      'leases.renew',
      `UPDATE ${this.conn.s}.leases SET expires_at = $4
       WHERE name = $1 AND owner = $2 AND token = $3
       RETURNING name, owner, token, expires_at`,
      [lease.name, lease.owner, lease.fencingToken, this.conn.clock.now() + ttlMs],
      undefined,
      false,
    );
    const row = rows[0];
    return row === undefined ? null : toLease(row);
  }

  async release(lease: Lease): Promise<boolean> {
    this.conn.ensureOpen();
    const r = await this.conn.query(
      'leases.release',
      `UPDATE ${this.conn.s}.leases SET owner = NULL, expires_at = 0
       WHERE name = $1 AND owner = $2 AND token = $3`,
      [lease.name, lease.owner, lease.fencingToken],
      undefined,
      false,
    );
    return (r.rowCount ?? 0) > 0;
  }

  async get(name: string): Promise<Lease | undefined> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<LeaseRow>(
      'leases.get',
      `SELECT name, owner, token, expires_at FROM ${this.conn.s}.leases
       WHERE name = $1 AND owner IS NOT NULL AND expires_at > $2`,
      [name, this.conn.clock.now()],
    );
    const row = rows[0];
    return row === undefined ? undefined : toLease(row);
  }

  async list(prefix: string): Promise<Lease[]> {
    this.conn.ensureOpen();
    // starts_with() compares literally: no LIKE wildcards to escape.
    const { rows } = await this.conn.query<LeaseRow>(
      'leases.list',
      `SELECT name, owner, token, expires_at FROM ${this.conn.s}.leases
       WHERE starts_with(name, $1) AND owner IS NOT NULL AND expires_at > $2
       ORDER BY name`,
      [prefix, this.conn.clock.now()],
    );
    return rows.map(toLease);
  }
}

function toLease(row: LeaseRow): Lease {
  return {
    name: row.name,
    owner: row.owner ?? '',
    fencingToken: Number(row.token),
    expiresAt: Number(row.expires_at),
  };
}
