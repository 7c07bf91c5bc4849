// The memory backend's leases, rows kept after release so fencing tokens are never reused.
import type { Clock } from '../../core/Clock.ts';
import type { Lease, LeaseRequest, LeaseStore } from '../Backend.ts';
import { checkName, checkTtl } from '../common/args.ts';
import { checkLeaseList, checkLeaseRequests } from '../common/batchArgs.ts';
import { compareCodePoints } from '../common/order.ts';

/** The stored state of one lease name; kept after release so tokens are never reused. */
interface LeaseRow {
  /** `null` once released. */
  owner: string | null;
  token: number;
  expiresAt: number;
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
    const now = this.clock.now();
    const row = this.rows.get(name);
    if (row === undefined) {
      const fresh: LeaseRow = { owner, token: 1, expiresAt: now + ttlMs };
      this.rows.set(name, fresh);
      return toLease(name, fresh);
    }
    if (row.owner === owner) {
      // The holder re-acquiring keeps its token: nobody else held the lease in between.
      row.expiresAt = now + ttlMs;
      return toLease(name, row);
    }
    if (row.owner !== null && now < row.expiresAt) return null;
    row.owner = owner;
    row.token += 1;
    row.expiresAt = now + ttlMs;
    return toLease(name, row);
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | null> {
    this.ensureOpen();
    checkTtl('ttlMs', ttlMs);
    const row = this.rows.get(lease.name);
    if (row === undefined || row.owner === null || row.owner !== lease.owner) return null;
    if (row.token !== lease.fencingToken) return null;
    row.expiresAt = this.clock.now() + ttlMs;
    return toLease(lease.name, row);
  }

  async acquireMany(requests: readonly LeaseRequest[], ttlMs: number): Promise<(Lease | null)[]> {
    this.ensureOpen();
    checkLeaseRequests(requests);
    checkTtl('ttlMs', ttlMs);
    const out: (Lease | null)[] = [];
    for (const r of requests) out.push(await this.acquire(r.name, r.owner, ttlMs));
    return out;
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
    return true;
  }

  async get(name: string): Promise<Lease | undefined> {
    this.ensureOpen();
    const row = this.rows.get(name);
    if (row === undefined || !this.isHeld(row)) return undefined;
    return toLease(name, row);
  }

  async list(prefix: string): Promise<Lease[]> {
    this.ensureOpen();
    const out: Lease[] = [];
    for (const [name, row] of this.rows) {
      if (name.startsWith(prefix) && this.isHeld(row)) out.push(toLease(name, row));
    }
    return out.sort((a, b) => compareCodePoints(a.name, b.name));
  }

  /** Whether `token` is the current, unexpired token of lease `name` (the commit fence). */
  holds(name: string, token: number): boolean {
    const row = this.rows.get(name);
    return row !== undefined && row.token === token && this.isHeld(row);
  }

  private isHeld(row: LeaseRow): boolean {
    return row.owner !== null && this.clock.now() < row.expiresAt;
  }
}

function toLease(name: string, row: LeaseRow): Lease {
  return { name, owner: row.owner ?? '', fencingToken: row.token, expiresAt: row.expiresAt };
}
