// Redis leases: a hash per lease, a never-reset fencing counter, a ZSET of names for prefix listing, and leases bound to a holder lease.
import type { Clock } from '../../core/Clock.ts';
import type { AcquireManyOptions, Lease, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { checkLeaseHolder, checkLeaseList, checkLeaseRequests } from '../common/batchArgs.ts';
import type { RedisConnection } from './RedisConnection.ts';

/**
 * {@link LeaseStore} on Redis: a HASH {owner, token, exp, holder, hkey, htoken} per lease, a
 * fencing counter per name (`INCR`, never reset) and a ZSET of names for prefix listing. Every
 * call is one script on the control slot (one slot on a cluster too); a bound lease is checked
 * against its holder's hash inside the script. Part of `RedisBackend`.
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
      const [lease] = await this.acquireAll([{ name, owner }], ttlMs, undefined);
      return lease ?? null;
    });
  }

  renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    return this.conn.run('leases.renew', async () => {
      checkTtl('ttlMs', ttlMs);
      const [renewed] = await this.renewAll([lease], ttlMs);
      return renewed ?? null;
    });
  }

  acquireMany(
    requests: readonly LeaseRequest[],
    ttlMs: number,
    options: AcquireManyOptions = {},
  ): Promise<(Lease | null)[]> {
    return this.conn.run('leases.acquireMany', async () => {
      checkLeaseRequests(requests);
      checkTtl('ttlMs', ttlMs);
      const holder = checkLeaseHolder(options.holder, requests);
      return requests.length === 0 ? [] : this.acquireAll(requests, ttlMs, holder);
    });
  }

  renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    return this.conn.run('leases.renewMany', async () => {
      checkLeaseList(leases);
      checkTtl('ttlMs', ttlMs);
      return leases.length === 0 ? [] : this.renewAll(leases, ttlMs);
    });
  }

  release(lease: Lease): Promise<boolean> {
    return this.conn.run('leases.release', async () => {
      const [released] = await this.releaseAll([lease]);
      return released ?? false;
    });
  }

  releaseMany(leases: readonly Lease[]): Promise<boolean[]> {
    return this.conn.run('leases.releaseMany', async () => {
      checkLeaseList(leases);
      return leases.length === 0 ? [] : this.releaseAll(leases);
    });
  }

  get(name: string): Promise<Lease | undefined> {
    return this.conn.run('leases.get', async () => {
      const [lease] = await this.read([name]);
      return lease;
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
      const out: Lease[] = [];
      // In slices, so one script never holds the server for long.
      for (let i = 0; i < names.length; i += 1000) {
        for (const lease of await this.read(names.slice(i, i + 1000)))
          if (lease !== undefined) out.push(lease);
      }
      return out;
    });
  }

  private async acquireAll(
    requests: readonly LeaseRequest[],
    ttlMs: number,
    holder: Lease | undefined,
  ): Promise<(Lease | null)[]> {
    const k = this.conn.keys;
    const now = this.clock.now();
    const keys = [k.leaseIndex, holder === undefined ? k.leaseIndex : k.lease(holder.name)];
    const args: (string | number)[] = [
      now,
      now + ttlMs,
      holder === undefined ? '0' : '1',
      holder?.name ?? '',
      holder?.owner ?? '',
      holder === undefined ? '' : String(holder.fencingToken),
    ];
    for (const r of requests) {
      keys.push(k.lease(r.name), k.fence(r.name));
      args.push(r.owner, r.name);
    }
    const reply = (await this.conn.script('sluiceLeaseAcquireMany', keys, args)) as (string | number)[];
    const expiresAt = Number(reply[0]);
    const bound = holder === undefined ? {} : { holder: { name: holder.name, token: holder.fencingToken } };
    return requests.map((r, i) => {
      const token = reply[i + 1];
      return token === 0 || token === undefined
        ? null
        : { name: r.name, owner: r.owner, fencingToken: Number(token), expiresAt, ...bound };
    });
  }

  private async renewAll(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    const now = this.clock.now();
    const args: (string | number)[] = [now, now + ttlMs];
    for (const l of leases) args.push(l.owner, String(l.fencingToken));
    const reply = (await this.conn.script(
      'sluiceLeaseRenewMany',
      leases.map((l) => this.conn.keys.lease(l.name)),
      args,
    )) as (string | number)[];
    return leases.map((l, i) => (reply[i] === 0 ? null : { ...l, expiresAt: Number(reply[i]) }));
  }

  private async releaseAll(leases: readonly Lease[]): Promise<boolean[]> {
    const args: string[] = [];
    for (const l of leases) args.push(l.owner, String(l.fencingToken));
    const reply = (await this.conn.script(
      'sluiceLeaseReleaseMany',
      leases.map((l) => this.conn.keys.lease(l.name)),
      args,
    )) as number[];
    return leases.map((_, i) => reply[i] === 1);
  }

  /** The held leases among `names` (one script), `undefined` for the others. */
  private async read(names: readonly string[]): Promise<(Lease | undefined)[]> {
    if (names.length === 0) return [];
    const reply = (await this.conn.script(
      'sluiceLeaseRead',
      names.map((n) => this.conn.keys.lease(n)),
      [this.clock.now()],
    )) as (0 | [string, string, string, string, string])[];
    return names.map((name, i) => {
      const row = reply[i];
      if (row === 0 || row === undefined) return undefined;
      const [owner, token, exp, holder, htoken] = row;
      const lease = { name, owner, fencingToken: Number(token), expiresAt: Number(exp) };
      return holder === '' ? lease : { ...lease, holder: { name: holder, token: Number(htoken) } };
    });
  }
}
