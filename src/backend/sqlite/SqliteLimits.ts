// SQLite LimitStore: each decision is one IMMEDIATE transaction, so processes sharing the file serialize.
import { checkLimitArgs, checkRateSpec, checkSlotSpec, gcraStep } from '../common/gcra.ts';
import type { LimitStore, RateDecision, RateSpec, SlotDecision, SlotSpec } from '../LimitStore.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** SQLite {@link LimitStore}. Time is the `now` parameter, never SQLite's clock. Part of `SqliteBackend`. */
export class SqliteLimits implements LimitStore {
  constructor(private readonly conn: SqliteConnection) {}

  take(name: string, key: string, weight: number, spec: RateSpec, now: number): Promise<RateDecision> {
    return this.conn.run('limits.take', () => {
      checkLimitArgs(name, key, weight, now);
      checkRateSpec(spec, weight);
      return this.conn.write((): RateDecision => {
        const parked = this.parkEnd(name, key);
        if (parked > now) return { granted: false, retryAfterMs: Math.ceil(parked - now), parked: true };
        const row = this.conn
          .stmt('SELECT tat FROM sluice_rate_buckets WHERE name = ? AND key = ?')
          .get(name, key) as { tat: number } | undefined;
        const step = gcraStep(row?.tat ?? 0, now, weight, spec);
        if (!step.granted) return { granted: false, retryAfterMs: step.waitMs, parked: false };
        this.conn
          .stmt(
            `INSERT INTO sluice_rate_buckets (name, key, tat) VALUES (?, ?, ?)
             ON CONFLICT (name, key) DO UPDATE SET tat = excluded.tat`,
          )
          .run(name, key, step.tat);
        return { granted: true };
      });
    });
  }

  park(name: string, key: string, until: number, now: number): Promise<number> {
    return this.conn.run('limits.park', () => {
      checkLimitArgs(name, key, 1, now);
      checkLimitArgs(name, key, 1, until);
      const row = this.conn
        .stmt(
          `INSERT INTO sluice_limit_parks (name, key, until_ms) VALUES (?, ?, ?)
           ON CONFLICT (name, key) DO UPDATE SET until_ms = max(until_ms, excluded.until_ms)
           RETURNING until_ms`,
        )
        .get(name, key, until) as { until_ms: number };
      return row.until_ms;
    });
  }

  parkedUntil(name: string, key: string, now: number): Promise<number> {
    return this.conn.run('limits.parkedUntil', () => {
      checkLimitArgs(name, key, 1, now);
      const end = this.parkEnd(name, key);
      return end > now ? end : 0;
    });
  }

  acquireSlot(
    name: string,
    key: string,
    holder: string,
    weight: number,
    spec: SlotSpec,
    now: number,
  ): Promise<SlotDecision> {
    return this.conn.run('limits.acquireSlot', () => {
      checkLimitArgs(name, key, weight, now);
      checkSlotSpec(spec, weight);
      return this.conn.write((): SlotDecision => {
        const parked = this.parkEnd(name, key);
        if (parked > now) return { granted: false, retryAfterMs: Math.ceil(parked - now), parked: true };
        this.conn
          .stmt(
            'DELETE FROM sluice_limit_slots WHERE name = ? AND key = ? AND (expires_at <= ? OR holder = ?)',
          )
          .run(name, key, now, holder);
        const held = this.conn
          .stmt(
            'SELECT coalesce(sum(weight), 0) AS held, min(expires_at) AS earliest FROM sluice_limit_slots WHERE name = ? AND key = ?',
          )
          .get(name, key) as { held: number; earliest: number | null };
        if (held.held + weight > spec.max) {
          const wait = Math.ceil((held.earliest ?? now + 1) - now);
          return { granted: false, retryAfterMs: Math.max(1, wait), parked: false };
        }
        const expiresAt = now + spec.ttlMs;
        this.conn
          .stmt(
            'INSERT INTO sluice_limit_slots (name, key, holder, weight, expires_at) VALUES (?, ?, ?, ?, ?)',
          )
          .run(name, key, holder, weight, expiresAt);
        return { granted: true, expiresAt };
      });
    });
  }

  renewSlot(name: string, key: string, holder: string, ttlMs: number, now: number): Promise<number | null> {
    return this.conn.run('limits.renewSlot', () => {
      checkLimitArgs(name, key, 1, now);
      const expiresAt = now + ttlMs;
      const r = this.conn
        .stmt(
          'UPDATE sluice_limit_slots SET expires_at = ? WHERE name = ? AND key = ? AND holder = ? AND expires_at > ?',
        )
        .run(expiresAt, name, key, holder, now);
      return r.changes === 0 ? null : expiresAt;
    });
  }

  releaseSlot(name: string, key: string, holder: string): Promise<boolean> {
    return this.conn.run('limits.releaseSlot', () => {
      const r = this.conn
        .stmt('DELETE FROM sluice_limit_slots WHERE name = ? AND key = ? AND holder = ?')
        .run(name, key, holder);
      return r.changes > 0;
    });
  }

  heldSlots(name: string, key: string, now: number): Promise<number> {
    return this.conn.run('limits.heldSlots', () => {
      checkLimitArgs(name, key, 1, now);
      const row = this.conn
        .stmt(
          'SELECT coalesce(sum(weight), 0) AS held FROM sluice_limit_slots WHERE name = ? AND key = ? AND expires_at > ?',
        )
        .get(name, key, now) as { held: number };
      return row.held;
    });
  }

  /** The later end of the key's own park and the whole limiter's park (0 when none). */
  private parkEnd(name: string, key: string): number {
    const row = this.conn
      .stmt(
        "SELECT coalesce(max(until_ms), 0) AS until_ms FROM sluice_limit_parks WHERE name = ? AND key IN (?, '')",
      )
      .get(name, key) as { until_ms: number };
    return row.until_ms;
  }
}
