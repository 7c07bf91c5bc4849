// PostgreSQL leases: one statement per operation, time as a parameter, released rows kept so tokens are never reused; bound leases follow their holder.
import type { AcquireManyOptions, Lease, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { checkLeaseHolder, checkLeaseList, checkLeaseRequests } from '../common/batchArgs.ts';
import type { PgConnection } from './PgConnection.ts';
import { heldLeasesSql, leaseHeldSql } from './pgLeaseSql.ts';

interface LeaseRow {
  name: string;
  owner: string | null;
  token: string;
  expires_at: string;
  holder: string | null;
  holder_token: string | null;
}

/**
 * PostgreSQL {@link LeaseStore}. Each operation is one statement; the time is a parameter read
 * from the backend's clock. A released lease keeps its row (owner `NULL`) and its token, so the
 * per-name token sequence never goes back. A bound lease keeps its holder's name and token and is
 * held while that row is: renewing the holder is one row whatever the number bound to it. Rows
 * are locked in name order everywhere, so no two calls deadlock. Part of {@link PostgresBackend}.
 */
export class PostgresLeases implements LeaseStore {
  constructor(private readonly conn: PgConnection) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    checkName('name', name);
    checkName('owner', owner);
    const [lease] = await this.acquireRows('leases.acquire', [{ name, owner }], ttlMs, {});
    return lease ?? null;
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    const [renewed] = await this.renewRows('leases.renew', [lease], ttlMs);
    return renewed ?? null;
  }

  acquireMany(
    requests: readonly LeaseRequest[],
    ttlMs: number,
    options: AcquireManyOptions = {},
  ): Promise<(Lease | null)[]> {
    return this.acquireRows('leases.acquireMany', requests, ttlMs, options);
  }

  renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    return this.renewRows('leases.renewMany', leases, ttlMs);
  }

  async release(lease: Lease): Promise<boolean> {
    const [released] = await this.releaseRows('leases.release', [lease]);
    return released ?? false;
  }

  releaseMany(leases: readonly Lease[]): Promise<boolean[]> {
    return this.releaseRows('leases.releaseMany', leases);
  }

  private async acquireRows(
    op: string,
    requests: readonly LeaseRequest[],
    ttlMs: number,
    options: AcquireManyOptions,
  ): Promise<(Lease | null)[]> {
    this.conn.ensureOpen();
    checkLeaseRequests(requests);
    checkTtl('ttlMs', ttlMs);
    const holder = checkLeaseHolder(options.holder, requests);
    if (requests.length === 0) return [];
    const now = this.conn.clock.now();
    const s = this.conn.s;
    // Insert the first lease of a name; otherwise take it over when free, lapsed or already ours.
    // A new owner gets token + 1; the same owner keeps its token. Rows are taken in name order,
    // so two runners acquiring overlapping sets cannot deadlock; the conflict check re-reads the
    // latest version of each row. Bound: only while the holder row is held by the caller.
    const { rows } = await this.conn.query<LeaseRow & { holder_expires: string | null }>(
      op,
      `WITH hold AS (
         SELECT $5::text AS name, $7::bigint AS token, h.expires_at FROM ${s}.leases h
         WHERE $5::text IS NOT NULL AND h.name = $5 AND h.owner = $6 AND h.token = $7
           AND h.holder IS NULL AND h.expires_at > $4
       ),
       src AS (
         SELECT r.name, r.owner FROM unnest($1::text[], $2::text[]) AS r(name, owner)
         WHERE $5::text IS NULL OR EXISTS (SELECT 1 FROM hold)
       ),
       taken AS (
         INSERT INTO ${s}.leases AS l (name, owner, token, expires_at, holder, holder_token)
         SELECT src.name, src.owner, 1, $3, (SELECT name FROM hold), (SELECT token FROM hold)
         FROM src ORDER BY src.name
         ON CONFLICT (name) DO UPDATE SET
           owner = excluded.owner,
           token = CASE WHEN l.owner = excluded.owner THEN l.token ELSE l.token + 1 END,
           expires_at = excluded.expires_at,
           holder = excluded.holder,
           holder_token = excluded.holder_token
         WHERE l.owner IS NULL OR l.owner = excluded.owner OR NOT ${leaseHeldSql(s, 'l', '$4')}
         RETURNING l.name, l.owner, l.token, l.expires_at, l.holder, l.holder_token
       )
       SELECT taken.*, (SELECT expires_at FROM hold) AS holder_expires FROM taken`,
      [
        requests.map((r) => r.name),
        requests.map((r) => r.owner),
        now + ttlMs,
        now,
        holder?.name ?? null,
        holder?.owner ?? null,
        holder?.fencingToken ?? null,
      ],
      undefined,
      false,
    );
    const byName = new Map(
      rows.map((r) => [r.name, toLease({ ...r, expires_at: r.holder_expires ?? r.expires_at })]),
    );
    return requests.map((r) => byName.get(r.name) ?? null);
  }

  private async renewRows(op: string, leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    this.conn.ensureOpen();
    checkLeaseList(leases);
    checkTtl('ttlMs', ttlMs);
    if (leases.length === 0) return [];
    const s = this.conn.s;
    const now = this.conn.clock.now();
    // Own leases: locked in name order (as commitMany share-locks them), then extended. Bound
    // leases are checked, not extended: their holder's renewal keeps them.
    const { rows } = await this.conn.query<LeaseRow>(
      op,
      `WITH r AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r(name, owner, token)),
       locked AS (
         SELECT l.name FROM ${s}.leases AS l
         JOIN r ON l.name = r.name AND l.owner = r.owner AND l.token = r.token
         WHERE l.holder IS NULL
         ORDER BY l.name FOR UPDATE OF l
       ),
       renewed AS (
         UPDATE ${s}.leases AS l SET expires_at = $4 FROM locked WHERE l.name = locked.name
         RETURNING l.name, l.owner, l.token, l.expires_at, l.holder, l.holder_token
       ),
       bound AS (
         ${heldLeasesSql(s, 'l.holder IS NOT NULL AND (l.name, l.owner, l.token) IN (SELECT name, owner, token FROM r)', '$5')}
       )
       SELECT * FROM renewed UNION ALL SELECT * FROM bound`,
      [
        leases.map((l) => l.name),
        leases.map((l) => l.owner),
        leases.map((l) => l.fencingToken),
        now + ttlMs,
        now,
      ],
      undefined,
      false,
    );
    const byName = new Map(rows.map((r) => [r.name, toLease(r)]));
    return leases.map((l) => byName.get(l.name) ?? null);
  }

  private async releaseRows(op: string, leases: readonly Lease[]): Promise<boolean[]> {
    this.conn.ensureOpen();
    checkLeaseList(leases);
    if (leases.length === 0) return [];
    const s = this.conn.s;
    const { rows } = await this.conn.query<{ name: string }>(
      op,
      `WITH locked AS (
         SELECT l.name FROM ${s}.leases AS l
         JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS r(name, owner, token)
           ON l.name = r.name AND l.owner = r.owner AND l.token = r.token
         ORDER BY l.name FOR UPDATE OF l
       )
       UPDATE ${s}.leases AS l SET owner = NULL, expires_at = 0, holder = NULL, holder_token = NULL
       FROM locked WHERE l.name = locked.name
       RETURNING l.name`,
      [leases.map((l) => l.name), leases.map((l) => l.owner), leases.map((l) => l.fencingToken)],
      undefined,
      false,
    );
    const released = new Set(rows.map((r) => r.name));
    return leases.map((l) => released.has(l.name));
  }

  async get(name: string): Promise<Lease | undefined> {
    this.conn.ensureOpen();
    const { rows } = await this.conn.query<LeaseRow>(
      'leases.get',
      heldLeasesSql(this.conn.s, 'l.name = $1', '$2'),
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
      `${heldLeasesSql(this.conn.s, 'starts_with(l.name, $1)', '$2')} ORDER BY l.name`,
      [prefix, this.conn.clock.now()],
    );
    return rows.map(toLease);
  }
}

function toLease(row: LeaseRow): Lease {
  const lease = {
    name: row.name,
    owner: row.owner ?? '',
    fencingToken: Number(row.token),
    expiresAt: Number(row.expires_at),
  };
  return row.holder === null
    ? lease
    : { ...lease, holder: { name: row.holder, token: Number(row.holder_token) } };
}
