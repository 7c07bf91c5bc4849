// The memory backend's leases, rows kept after release so fencing tokens are never reused; leases bound to a holder follow it.
import type { Clock } from '../../core/Clock.ts';
import type { AcquireManyOptions, Lease, LeaseHolder, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { checkLeaseHolder, checkLeaseList, checkLeaseRequests } from '../common/batchArgs.ts';
import { compareCodePoints } from '../common/order.ts';

/** The stored state of one lease name; kept after release so tokens are never reused. */
interface LeaseRow {
  /** `null` once released. */
  owner: string | null;
  token: number;
  /** Own expiry; unused while bound. */
  expiresAt: number;
  /** The lease this one is bound to, if any. */
  holder: LeaseHolder | undefined;
}

/** In-memory {@link LeaseStore}. Part of {@link MemoryBackend}. */
export class MemoryLeases implements LeaseStore {
  private readonly rows = new Map<string, LeaseRow>();

  constructor(
    private readonly clock: Clock,
    private readonly ensureOpen: () => void,
  ) {}

  async acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null> {
    this.ensureOpen();
    checkName('name', name);
    checkName('owner', owner);
    checkTtl('ttlMs', ttlMs);
    return this.take(name, owner, this.clock.now() + ttlMs, undefined);
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    this.ensureOpen();
    checkTtl('ttlMs', ttlMs);
    const row = this.rows.get(lease.name);
    if (row === undefined || row.owner === null || row.owner !== lease.owner) return null;
    if (row.token !== lease.fencingToken) return null;
    if (row.holder !== undefined) return this.isHeld(row) ? this.toLease(lease.name, row) : null;
    row.expiresAt = this.clock.now() + ttlMs;
    return this.toLease(lease.name, row);
  }

  async acquireMany(
    requests: readonly LeaseRequest[],
    ttlMs: number,
    options: AcquireManyOptions = {},
  ): Promise<(Lease | null)[]> {
    this.ensureOpen();
    checkLeaseRequests(requests);
    checkTtl('ttlMs', ttlMs);
    const holder = checkLeaseHolder(options.holder, requests);
    const expiresAt = this.clock.now() + ttlMs;
    if (holder === undefined) return requests.map((r) => this.take(r.name, r.owner, expiresAt, undefined));
    const bound = { name: holder.name, token: holder.fencingToken };
    const h = this.rows.get(holder.name);
    if (h === undefined || h.owner !== holder.owner || !this.holderHeld(bound))
      return requests.map(() => null);
    return requests.map((r) => this.take(r.name, r.owner, expiresAt, bound));
  }

  async renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]> {
    this.ensureOpen();
    checkLeaseList(leases);
    checkTtl('ttlMs', ttlMs);
    const out: (Lease | null)[] = [];
    for (const l of leases) out.push(await this.renew(l, ttlMs));
    return out;
  }

  async release(lease: Lease): Promise<boolean> {
    this.ensureOpen();
    const row = this.rows.get(lease.name);
    if (row === undefined || row.owner === null || row.owner !== lease.owner) return false;
    if (row.token !== lease.fencingToken) return false;
    row.owner = null;
    row.expiresAt = 0;
    row.holder = undefined;
    return true;
  }

  async releaseMany(leases: readonly Lease[]): Promise<boolean[]> {
    this.ensureOpen();
    checkLeaseList(leases);
    const out: boolean[] = [];
    for (const l of leases) out.push(await this.release(l));
    return out;
  }

  async get(name: string): Promise<Lease | undefined> {
    this.ensureOpen();
    const row = this.rows.get(name);
    if (row === undefined || !this.isHeld(row)) return undefined;
    return this.toLease(name, row);
  }

  async list(prefix: string): Promise<Lease[]> {
    this.ensureOpen();
    const out: Lease[] = [];
    for (const [name, row] of this.rows) {
      if (name.startsWith(prefix) && this.isHeld(row)) out.push(this.toLease(name, row));
    }
    return out.sort((a, b) => compareCodePoints(a.name, b.name));
  }

  /** Whether `token` is the current token of lease `name` and it is held (the commit fence). */
  holds(name: string, token: number): boolean {
    const row = this.rows.get(name);
    return row !== undefined && row.token === token && this.isHeld(row);
  }

  /** The rule of `acquire`: a free, lapsed or own lease is taken (a new owner gets token + 1). */
  private take(
    name: string,
    owner: string,
    expiresAt: number,
    holder: LeaseHolder | undefined,
  ): Lease | null {
    const row = this.rows.get(name);
    if (row === undefined) {
      const fresh: LeaseRow = { owner, token: 1, expiresAt, holder };
      this.rows.set(name, fresh);
      return this.toLease(name, fresh);
    }
    if (row.owner !== owner) {
      if (this.isHeld(row)) return null;
      row.token += 1;
    }
    // The holder re-acquiring keeps its token: nobody else held the lease in between.
    row.owner = owner;
    row.expiresAt = expiresAt;
    row.holder = holder;
    return this.toLease(name, row);
  }

  private isHeld(row: LeaseRow): boolean {
    if (row.owner === null) return false;
    return row.holder === undefined ? this.clock.now() < row.expiresAt : this.holderHeld(row.holder);
  }

  private holderHeld(holder: LeaseHolder): boolean {
    const h = this.rows.get(holder.name);
    return h !== undefined && h.token === holder.token && this.isHeld(h);
  }

  private toLease(name: string, row: LeaseRow): Lease {
    const lease = { name, owner: row.owner ?? '', fencingToken: row.token };
    if (row.holder === undefined) return { ...lease, expiresAt: row.expiresAt };
    const h = this.rows.get(row.holder.name);
    return { ...lease, expiresAt: h?.expiresAt ?? 0, holder: row.holder };
  }
}
