// PostgreSQL LimitStore: a rate decision is one UPSERT ... RETURNING, a slot decision one function call.
import {
  checkLimitArgs,
  checkRateSpec,
  checkSlotSpec,
  GCRA_EPSILON_MS,
  GCRA_LATE_MS,
} from '../common/gcra.ts';
import type { LimitStore, RateDecision, RateSpec, SlotDecision, SlotSpec } from '../LimitStore.ts';
import type { PgConnection } from './PgConnection.ts';

/**
 * The GCRA step in one statement. $1 name, $2 key, $3 now, $4 weight × interval, $5 burst ×
 * interval, $6 tolerance, $7 lateness kept on schedule. The park in force is read in the same statement and carried to the
 * conflict branch through `excluded.park_until`; the row lock taken by ON CONFLICT serializes
 * concurrent decisions on one bucket, and each sees the latest `tat`.
 */
const TAKE_SQL = (s: string) => `
  INSERT INTO ${s}.rate_buckets AS b (name, key, tat, park_until, granted, wait_ms)
  SELECT $1, $2,
    CASE WHEN p.until_ms > $3::float8 THEN 0 ELSE $3::float8 + $4::float8 END,
    p.until_ms, p.until_ms <= $3::float8, greatest(p.until_ms - $3::float8, 0)
  FROM (SELECT coalesce(max(until_ms), 0) AS until_ms FROM ${s}.limit_parks
        WHERE name = $1 AND key IN ($2, '')) AS p
  ON CONFLICT (name, key) DO UPDATE SET
    tat = CASE WHEN excluded.park_until <= $3::float8
                AND (CASE WHEN b.tat > $3::float8 - $7::float8 THEN b.tat ELSE $3::float8 END) + $4::float8 - $3::float8 - $5::float8 <= $6::float8
           THEN (CASE WHEN b.tat > $3::float8 - $7::float8 THEN b.tat ELSE $3::float8 END) + $4::float8 ELSE b.tat END,
    park_until = excluded.park_until,
    granted = excluded.park_until <= $3::float8
      AND (CASE WHEN b.tat > $3::float8 - $7::float8 THEN b.tat ELSE $3::float8 END) + $4::float8 - $3::float8 - $5::float8 <= $6::float8,
    wait_ms = CASE WHEN excluded.park_until > $3::float8 THEN excluded.park_until - $3::float8
              ELSE (CASE WHEN b.tat > $3::float8 - $7::float8 THEN b.tat ELSE $3::float8 END) + $4::float8 - $3::float8 - $5::float8 END
  RETURNING granted, wait_ms, park_until > $3::float8 AS parked`;

/** PostgreSQL {@link LimitStore}. Time is always a parameter. Part of `PostgresBackend`. */
export class PostgresLimits implements LimitStore {
  constructor(private readonly conn: PgConnection) {}

  async take(name: string, key: string, weight: number, spec: RateSpec, now: number): Promise<RateDecision> {
    this.conn.ensureOpen();
    checkLimitArgs(name, key, weight, now);
    checkRateSpec(spec, weight);
    const { rows } = await this.conn.query<{ granted: boolean; wait_ms: number; parked: boolean }>(
      'limits.take',
      TAKE_SQL(this.conn.s),
      [name, key, now, weight * spec.intervalMs, spec.burst * spec.intervalMs, GCRA_EPSILON_MS, GCRA_LATE_MS],
      undefined,
      false,
    );
    const row = rows[0]!;
    if (row.granted) return { granted: true };
    const wait = Number(row.wait_ms);
    return {
      granted: false,
      retryAfterMs: row.parked ? Math.ceil(wait) : Math.ceil(wait - GCRA_EPSILON_MS),
      parked: row.parked,
    };
  }

  async park(name: string, key: string, until: number, now: number): Promise<number> {
    this.conn.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    checkLimitArgs(name, key, 1, until);
    const { rows } = await this.conn.query<{ until_ms: number }>(
      'limits.park',
      `INSERT INTO ${this.conn.s}.limit_parks AS p (name, key, until_ms) VALUES ($1, $2, $3)
       ON CONFLICT (name, key) DO UPDATE SET until_ms = greatest(p.until_ms, excluded.until_ms)
       RETURNING until_ms`,
      [name, key, until],
      undefined,
      false,
    );
    return Number(rows[0]!.until_ms);
  }

  async parkedUntil(name: string, key: string, now: number): Promise<number> {
    this.conn.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    const { rows } = await this.conn.query<{ until_ms: number }>(
      'limits.parkedUntil',
      `SELECT coalesce(max(until_ms), 0) AS until_ms FROM ${this.conn.s}.limit_parks
       WHERE name = $1 AND key IN ($2, '') AND until_ms > $3`,
      [name, key, now],
    );
    return Number(rows[0]!.until_ms);
  }

  async acquireSlot(
    name: string,
    key: string,
    holder: string,
    weight: number,
    spec: SlotSpec,
    now: number,
  ): Promise<SlotDecision> {
    this.conn.ensureOpen();
    checkLimitArgs(name, key, weight, now);
    checkSlotSpec(spec, weight);
    const { rows } = await this.conn.query<{
      granted: boolean;
      expires_at: number;
      retry_ms: number;
      parked: boolean;
    }>(
      'limits.acquireSlot',
      `SELECT granted, expires_at, retry_ms, parked FROM ${this.conn.s}.acquire_slot($1, $2, $3, $4, $5, $6, $7)`,
      [name, key, holder, weight, spec.max, spec.ttlMs, now],
      undefined,
      false,
    );
    const row = rows[0]!;
    if (row.granted) return { granted: true, expiresAt: Number(row.expires_at) };
    return { granted: false, retryAfterMs: Math.max(1, Math.ceil(Number(row.retry_ms))), parked: row.parked };
  }

  async renewSlot(
    name: string,
    key: string,
    holder: string,
    ttlMs: number,
    now: number,
  ): Promise<number | null> {
    this.conn.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    const { rows } = await this.conn.query<{ expires_at: number }>(
      'limits.renewSlot',
      `UPDATE ${this.conn.s}.limit_slots SET expires_at = $4
       WHERE name = $1 AND key = $2 AND holder = $3 AND expires_at > $5
       RETURNING expires_at`,
      [name, key, holder, now + ttlMs, now],
      undefined,
      false,
    );
    return rows[0] === undefined ? null : Number(rows[0].expires_at);
  }

  async releaseSlot(name: string, key: string, holder: string): Promise<boolean> {
    this.conn.ensureOpen();
    const r = await this.conn.query(
      'limits.releaseSlot',
      `DELETE FROM ${this.conn.s}.limit_slots WHERE name = $1 AND key = $2 AND holder = $3`,
      [name, key, holder],
      undefined,
      false,
    );
    return (r.rowCount ?? 0) > 0;
  }

  async heldSlots(name: string, key: string, now: number): Promise<number> {
    this.conn.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    const { rows } = await this.conn.query<{ held: number }>(
      'limits.heldSlots',
      `SELECT coalesce(sum(weight), 0) AS held FROM ${this.conn.s}.limit_slots
       WHERE name = $1 AND key = $2 AND expires_at > $3`,
      [name, key, now],
    );
    return Number(rows[0]!.held);
  }
}
