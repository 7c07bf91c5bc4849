// The lease and membership contracts of a backend: leases with fencing tokens, members by heartbeat.

/** One lease to acquire in {@link LeaseStore.acquireMany}. */
export interface LeaseRequest {
  readonly name: string;
  readonly owner: string;
}

/** A held lease. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** Strictly increasing per lease name across all acquisitions; never reused. */
  readonly fencingToken: number;
  readonly expiresAt: number;
}

/**
 * Leases with fencing tokens. TTLs are measured against the backend's clock. A lease is held
 * while `now < expiresAt`. A holder's token stays its own until the lease is released or taken
 * by another owner after expiry; it is then never handed out again.
 */
export interface LeaseStore {
  /** Acquires the lease when free or expired (or already held by `owner`, which keeps its token). Returns `null` when held by another owner. */
  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /** Extends a lease still held with the same token (even if it expired meanwhile, as long as nobody took it); `null` when it was lost (expired and taken, or released). */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /**
   * {@link acquire} for several names in one backend call, each with its own owner and the same
   * TTL. One result per request, in request order. Names must be distinct (`CONFIG_INVALID`
   * otherwise). Each name is decided on its own: some may be acquired while others are held.
   */
  acquireMany(requests: readonly LeaseRequest[], ttlMs: number): Promise<(Lease | null)[]>;
  /**
   * {@link renew} for several leases in one backend call (one statement or script): one result
   * per lease, in input order, `null` for each one lost. Names must be distinct (`CONFIG_INVALID`
   * otherwise). Lets a holder of many leases renew them all at the cost of one operation.
   */
  renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]>;
  /** Releases the lease if still held with the same token. Returns whether it was released. */
  release(lease: Lease): Promise<boolean>;
  /** The current holder (unexpired) or `undefined`. */
  get(name: string): Promise<Lease | undefined>;
  /** All unexpired leases whose name starts with `prefix`. */
  list(prefix: string): Promise<Lease[]>;
}

/** A cluster member as last seen. */
export interface Member {
  readonly node: string;
  readonly meta: Record<string, unknown>;
  readonly lastHeartbeat: number;
  readonly joinedAt: number;
}

/** Membership by heartbeats. */
export interface MembershipStore {
  /** Records a heartbeat (joining on first call, with meta `{}` when none is given). `meta` replaces the stored meta; omitted, the stored meta is kept. */
  heartbeat(node: string, meta?: Record<string, unknown>): Promise<void>;
  /** Members whose last heartbeat is within `failureTimeoutMs` of now (`now - lastHeartbeat <= failureTimeoutMs`), ordered by node name. */
  members(failureTimeoutMs: number): Promise<Member[]>;
  /** Removes a member (graceful leave); a later heartbeat joins again with a new `joinedAt`. */
  leave(node: string): Promise<void>;
}
