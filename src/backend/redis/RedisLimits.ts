// Redis LimitStore: every decision is one Lua script call (one round trip), time passed as an argument.
import {
  checkLimitArgs,
  checkRateSpec,
  checkSlotSpec,
  GCRA_EPSILON_MS,
  GCRA_LATE_MS,
} from '../common/gcra.ts';
import type { LimitStore, RateDecision, RateSpec, SlotDecision, SlotSpec } from '../LimitStore.ts';
import type { RedisConnection } from './RedisConnection.ts';

type Reply = [number, string, number];

/**
 * {@link LimitStore} on Redis. Keys of one limiter share the hash tag `{name}`, so a script's keys
 * sit in one slot: `<prefix>:limit:{name}:rate:<key>` (GCRA `tat`), `...:park:<key>` (park end;
 * key `''` parks the limiter), `...:slots:<key>` (ZSET holder → expiry) and `...:weights:<key>`
 * (HASH holder → weight). Part of `RedisBackend`.
 */
export class RedisLimits implements LimitStore {
  constructor(private readonly conn: RedisConnection) {}

  take(name: string, key: string, weight: number, spec: RateSpec, now: number): Promise<RateDecision> {
    return this.conn.run('limits.take', async () => {
      checkLimitArgs(name, key, weight, now);
      checkRateSpec(spec, weight);
      const k = this.base(name);
      const [granted, wait, parked] = (await this.conn.script(
        'sluiceLimitTake',
        [`${k}rate:${key}`, `${k}park:${key}`, `${k}park:`],
        [now, weight * spec.intervalMs, spec.burst * spec.intervalMs, GCRA_EPSILON_MS, GCRA_LATE_MS],
      )) as Reply;
      if (granted === 1) return { granted: true };
      const w = Number(wait);
      return {
        granted: false,
        retryAfterMs: parked === 1 ? Math.ceil(w) : Math.ceil(w - GCRA_EPSILON_MS),
        parked: parked === 1,
      };
    });
  }

  park(name: string, key: string, until: number, now: number): Promise<number> {
    return this.conn.run('limits.park', async () => {
      checkLimitArgs(name, key, 1, now);
      checkLimitArgs(name, key, 1, until);
      const end = await this.conn.script('sluiceLimitPark', [`${this.base(name)}park:${key}`], [until, now]);
      return Number(end);
    });
  }

  parkedUntil(name: string, key: string, now: number): Promise<number> {
    return this.conn.run('limits.parkedUntil', async () => {
      checkLimitArgs(name, key, 1, now);
      const k = this.base(name);
      const [own, whole] = await this.conn.client.mget(`${k}park:${key}`, `${k}park:`);
      const end = Math.max(Number(own ?? 0), Number(whole ?? 0));
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
    return this.conn.run('limits.acquireSlot', async () => {
      checkLimitArgs(name, key, weight, now);
      checkSlotSpec(spec, weight);
      const k = this.base(name);
      const [granted, value, parked] = (await this.conn.script(
        'sluiceLimitAcquireSlot',
        [`${k}slots:${key}`, `${k}weights:${key}`, `${k}park:${key}`, `${k}park:`],
        [holder, weight, spec.max, spec.ttlMs, now],
      )) as Reply;
      if (granted === 1) return { granted: true, expiresAt: Number(value) };
      return { granted: false, retryAfterMs: Math.max(1, Math.ceil(Number(value))), parked: parked === 1 };
    });
  }

  renewSlot(name: string, key: string, holder: string, ttlMs: number, now: number): Promise<number | null> {
    return this.conn.run('limits.renewSlot', async () => {
      checkLimitArgs(name, key, 1, now);
      const k = this.base(name);
      const r = await this.conn.script(
        'sluiceLimitRenewSlot',
        [`${k}slots:${key}`, `${k}weights:${key}`],
        [holder, now, now + ttlMs],
      );
      return r === null ? null : Number(r);
    });
  }

  releaseSlot(name: string, key: string, holder: string): Promise<boolean> {
    return this.conn.run('limits.releaseSlot', async () => {
      const k = this.base(name);
      const n = await this.conn.script(
        'sluiceLimitReleaseSlot',
        [`${k}slots:${key}`, `${k}weights:${key}`],
        [holder],
      );
      return n === 1;
    });
  }

  heldSlots(name: string, key: string, now: number): Promise<number> {
    return this.conn.run('limits.heldSlots', async () => {
      checkLimitArgs(name, key, 1, now);
      const k = this.base(name);
      const held = await this.conn.script(
        'sluiceLimitHeldSlots',
        [`${k}slots:${key}`, `${k}weights:${key}`],
        [now],
      );
      return Number(held);
    });
  }

  private base(name: string): string {
    return `${this.conn.keys.prefix}:limit:{${name}}:`;
  }
}
