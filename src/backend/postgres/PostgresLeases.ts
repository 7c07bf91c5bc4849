// PostgreSQL leases: one statement per operation, time as a parameter, released rows kept so tokens are never reused.
import type { Lease, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { checkLeaseList, checkLeaseRequests } from '../common/batchArgs.ts';
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

  async acquireMany(requests: readonly LeaseRequest[], ttlMs: number): Promise<(Lease | null)[]> {
    this.conn.ensureOpen();
    checkLeaseRequests(requests);
    checkTtl('ttlMs', ttlMs);
    if (requests.length === 0) return [];
    const now = this.conn.clock.now();
    // The rule of `acquire`, for every name in one statement. Rows are taken in name order, so
    // two runners acquiring overlapping sets cannot deadlock.
    const { rows } = await this.conn.query<LeaseRow>(
      'leases.acquireMany',
      `INSERT INTO ${this.conn.s}.leases AS l (name, owner, token, expires_at)
       SELECT r.name, r.owner, 1, $3 FROM unnest($1::text[], $2::text[]) AS r(name, owner) ORDER BY r.name
       ON CONFLICT (name) DO UPDATE SET
         owner = excluded.owner,
         token = CASE WHEN l.owner = excluded.owner THEN l.token ELSE l.token + 1 END,
         expires_at = excluded.expires_at
       WHERE l.owner IS NULL OR l.owner = excluded.owner OR l.expires_at <= $4
       RETURNING name, owner, token, expires_at`,
      [requests.map((r) => r.name), requests.map((r) => r.owner), now + ttlMs, now],
      undefined,
      false,
    );
    const byName = new Map(rows.map((r) => [r.name, toLease(r)]));
    return requests.map((r) => byName.get(r.name) ?? null);
  }

  async renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    this.conn.ensureOpen();
    checkLeaseList(leases);
    checkTtl('ttlMs', ttlMs);
    if (leases.length === 0) return [];
    const { rows } = await this.conn.query<LeaseRow>(
      'leases.renewMany',
      // Rows locked in name order first (as commitMany share-locks them), so the two cannot deadlock.
      `WITH locked AS (
         SELECT l.name FROM ${this.conn.s}.leases AS l
         JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS r(name, owner, token)
           ON l.name = r.name AND l.owner = r.owner AND l.token = r.token
         ORDER BY l.name FOR UPDATE OF l
       )
       UPDATE ${this.conn.s}.leases AS l SET expires_at = $4 FROM locked WHERE l.name = locked.name
       RETURNING l.name, l.owner, l.token, l.expires_at`,
      [
        leases.map((l) => l.name),
        leases.map((l) => l.owner),
        leases.map((l) => l.fencingToken),
        this.conn.clock.now() + ttlMs,
      ],
      undefined,
      false,
    );
    const byName = new Map(rows.map((r) => [r.name, toLease(r)]));
    return leases.map((l) => byName.get(l.name) ?? null);
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
