// observeLeases: a Backend view whose lease calls report their latency, failures and takeovers of expired leases.
import type { Backend, Lease, LeaseStore } from '../backend/Backend.ts';

/** What {@link observeLeases} reports. */
export interface LeaseObserver {
  /** A `renew`/`renewMany` call settled: its duration in seconds, whether it threw, and how many leases it found lost. */
  renewed(event: { seconds: number; failed: boolean; leases: number; lost: number }): void;
  /**
   * A lease was acquired whose previous holder (another owner, seen in an earlier `list`) let it
   * run out instead of releasing it: a takeover after a failure.
   */
  tookOver(event: { name: string; previousOwner: string; lease: Lease }): void;
}

/** Options of {@link observeLeases}. */
export interface ObserveLeasesOptions {
  /** Backend time in ms (default `Date.now`): compared with the `expiresAt` of listed leases. */
  now?: () => number;
}

/** The owner of a lease without its last `#`-part (runner owners are `<node>#<instance>#<epoch>`). */
function holderOf(owner: string): string {
  const i = owner.lastIndexOf('#');
  return i < 0 ? owner : owner.slice(0, i);
}

/**
 * Wraps `backend` so its lease calls are observed; every other member is the backend's own.
 * Pass the result to the runner (or supervisor) whose leases you want measured. Takeovers are
 * detected from the leases this process has listed: a lease acquired after the lease last listed
 * under that name (held by another owner) reached its `expiresAt` was taken over after a failure;
 * a lease released gracefully vanishes from the listing before its expiry and is not counted.
 * Runners coordinated by a group leader do not list leases themselves, so after each
 * `renewMany` — or each `renew` of a holder lease that leases were bound to — the observer lists
 * the renewed leases' folder (`group/topic/`) when half the lease TTL has passed since it last
 * did: one read of that folder's leases per half TTL, the price of the takeover count (only paid
 * by processes that export metrics).
 *
 * @example
 * ```ts
 * const observed = observeLeases(backend, {
 *   renewed: (e) => renewSeconds.observe(e.seconds),
 *   tookOver: (e) => failovers.inc(),
 * });
 * ```
 */
export function observeLeases(
  backend: Backend,
  observer: LeaseObserver,
  options: ObserveLeasesOptions = {},
): Backend {
  const inner = backend.leases;
  const now = options.now ?? Date.now;
  const lastListed = new Map<string, Lease>();
  /** When each lease folder was last listed (`now()`). */
  const listedAt = new Map<string, number>();
  /** The folders of leases acquired bound to a holder lease, by the holder's name. */
  const boundFolders = new Map<string, string>();
  const folderOf = (name: string) => name.slice(0, name.lastIndexOf('/') + 1);
  /** Lists `folder` when half of `ttlMs` passed since it was last listed. */
  const listIfDue = (folder: string, ttlMs: number) => {
    if (folder === '' || now() - (listedAt.get(folder) ?? Number.NEGATIVE_INFINITY) < ttlMs / 2) return;
    listedAt.set(folder, now());
    leases.list(folder).catch(() => listedAt.delete(folder));
  };
  const timeRenew = async (count: number, call: () => Promise<(Lease | null)[]>) => {
    const start = performance.now();
    try {
      const out = await call();
      const lost = out.filter((l) => l === null).length;
      observer.renewed({ seconds: (performance.now() - start) / 1000, failed: false, leases: count, lost });
      return out;
    } catch (e) {
      observer.renewed({ seconds: (performance.now() - start) / 1000, failed: true, leases: count, lost: 0 });
      throw e;
    }
  };
  const acquiredOne = (lease: Lease | null) => {
    if (lease === null) return;
    const before = lastListed.get(lease.name);
    lastListed.delete(lease.name);
    if (before === undefined || holderOf(before.owner) === holderOf(lease.owner)) return;
    if (before.expiresAt <= now()) {
      observer.tookOver({ name: lease.name, previousOwner: before.owner, lease });
    }
  };
  const leases: LeaseStore = {
    acquire: async (name, owner, ttlMs) => {
      const lease = await inner.acquire(name, owner, ttlMs);
      acquiredOne(lease);
      return lease;
    },
    acquireMany: async (requests, ttlMs, opts) => {
      const out = await inner.acquireMany(requests, ttlMs, opts);
      for (const lease of out) acquiredOne(lease);
      const first = requests[0];
      if (opts?.holder !== undefined && first !== undefined) {
        boundFolders.set(opts.holder.name, folderOf(first.name));
      }
      return out;
    },
    renew: async (lease, ttlMs) => {
      const out = (await timeRenew(1, async () => [await inner.renew(lease, ttlMs)]))[0] ?? null;
      // A holder's renewal keeps its bound leases: their folder is listed as if they were renewed.
      const folder = boundFolders.get(lease.name);
      if (folder !== undefined) listIfDue(folder, ttlMs);
      return out;
    },
    renewMany: async (list, ttlMs) => {
      const out = await timeRenew(list.length, () => inner.renewMany(list, ttlMs));
      const first = list[0];
      if (first !== undefined) listIfDue(folderOf(first.name), ttlMs);
      return out;
    },
    release: (lease) => inner.release(lease),
    releaseMany: (list) => inner.releaseMany(list),
    get: (name) => inner.get(name),
    list: async (prefix) => {
      const out = await inner.list(prefix);
      const t = now();
      const present = new Set(out.map((l) => l.name));
      // Gone before its expiry: released, not a failure.
      for (const [name, lease] of lastListed) {
        if (name.startsWith(prefix) && !present.has(name) && lease.expiresAt > t) lastListed.delete(name);
      }
      for (const lease of out) lastListed.set(lease.name, lease);
      return out;
    },
  };
  return new Proxy(backend, {
    get(target, prop) {
      if (prop === 'leases') return leases;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
