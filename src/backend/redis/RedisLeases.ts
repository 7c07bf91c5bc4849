// Redis leases: a hash per lease, a never-reset fencing counter and a ZSET of names for prefix listing.
import type { Clock } from '../../core/Clock.ts';
import type { Lease, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { acquireMany, renewMany } from './batchOps.ts';
import type { RedisConnection } from './RedisConnection.ts';

/**
 * {@link LeaseStore} on Redis: a HASH {owner, token, exp} per lease, a fencing counter per name
 * (`INCR`, never reset) and a ZSET of names for prefix listing. Part of `RedisBackend`.
 */
export class RedisLeases implements LeaseStore {
  constructor(
    private readonly conn: RedisConnection,
    private readonly clock: Clock,
  ) {}

  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    return this.conn.run('leases.acquire', async () => {
      checkName('name', name);
      checkName('owner', owner);
      checkTtl('ttlMs', ttlMs);
      const k = this.conn.keys;
      const now = this.clock.now();
      const reply = (await this.conn.script(
        'sluiceLeaseAcquire',
        [k.lease(name), k.fence(name), k.leaseIndex],
        [owner, now, now + ttlMs, name],
      )) as [string, string, string] | null;
      if (reply === null) return null;
      return { name, owner: reply[0], fencingToken: Number(reply[1]), expiresAt: Number(reply[2]) };
    });
  }

  renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    return this.conn.run('leases.renew', async () => {
      checkTtl('ttlMs', ttlMs);
      const expiresAt = this.clock.now() + ttlMs;
      const ok = await this.conn.script(
        'sluiceLeaseRenew',
        [this.conn.keys.lease(lease.name)],
        [lease.owner, String(lease.fencingToken), expiresAt],
      );
      return ok === 1 ? { ...lease, expiresAt } : null;
    });
  }

  acquireMany(requests: readonly LeaseRequest[], ttlMs: number): Promise<(Lease | null)[]> {
    return this.conn.run('leases.acquireMany', () => acquireMany(this.conn, this.clock, requests, ttlMs));
  }

  renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    return this.conn.run('leases.renewMany', () => renewMany(this.conn, this.clock, leases, ttlMs));
  }

  release(lease: Lease): Promise<boolean> {
    return this.conn.run('leases.release', async () => {
      const ok = await this.conn.script(
        'sluiceLeaseRelease',
        [this.conn.keys.lease(lease.name)],
        [lease.owner, String(lease.fencingToken)],
      );
      return ok === 1;
    });
  }

  get(name: string): Promise<Lease | undefined> {
    return this.conn.run('leases.get', async () => {
      const [owner, token, exp] = await this.conn.client.hmget(
        this.conn.keys.lease(name),
        'owner',
        'token',
        'exp',
      );
      return this.held(name, owner ?? null, token ?? null, exp ?? null);
    });
  }

  list(prefix: string): Promise<Lease[]> {
    return this.conn.run('leases.list', async () => {
      if (typeof prefix !== 'string') checkName('prefix', prefix);
      const k = this.conn.keys;
      const min = prefix === '' ? '-' : `[${prefix}`;
      // 0xFF never occurs in UTF-8, so every name starting with `prefix` sorts before prefix + 0xFF.
      const max = prefix === '' ? '+' : Buffer.concat([Buffer.from(`(${prefix}`), Buffer.from([0xff])]);
      const names = await this.conn.client.zrangebylex(k.leaseIndex, min, max);
      if (names.length === 0) return [];
      const pipeline = this.conn.client.pipeline();
      for (const name of names) pipeline.hmget(k.lease(name), 'owner', 'token', 'exp');
      const rows = (await pipeline.exec()) ?? [];
      const out: Lease[] = [];
      for (let i = 0; i < names.length; i++) {
        const [err, fields] = rows[i] ?? [null, null];
        if (err) throw err;
        const [owner, token, exp] = (fields as (string | null)[] | null) ?? [null, null, null];
        const lease = this.held(names[i]!, owner ?? null, token ?? null, exp ?? null);
        if (lease !== undefined) out.push(lease);
      }
      return out;
    });
  }

  /** The lease when currently held (owner set, `now < exp`). */
  private held(
    name: string,
    owner: string | null,
    token: string | null,
    exp: string | null,
  ): Lease | undefined {
    if (owner === null || owner === '' || token === null || exp === null) return undefined;
    const expiresAt = Number(exp);
    if (this.clock.now() >= expiresAt) return undefined;
    return { name, owner, fencingToken: Number(token), expiresAt };
  }
}
