// The lease and membership contracts of a backend: leases with fencing tokens, members by heartbeat.

/** One lease to acquire in {@link LeaseStore.acquireMany}. */
export interface LeaseRequest {
  readonly name: string;
  readonly owner: string;
}

/** The lease another lease is bound to ({@link AcquireManyOptions.holder}): its name and token. */
export interface LeaseHolder {
  readonly name: string;
  readonly token: number;
}

/** A held lease. */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** Strictly increasing per lease name across all acquisitions; never reused. */
  readonly fencingToken: number;
  /** Until when it is held; for a bound lease, the expiry of its holder. */
  readonly expiresAt: number;
  /**
   * Set on a lease bound to another ({@link AcquireManyOptions.holder}): it is held exactly as
   * long as that lease is held with that token, and its own TTL plays no part.
   */
  readonly holder?: LeaseHolder;
}

/** Options of {@link LeaseStore.acquireMany}. */
export interface AcquireManyOptions {
  /**
   * Binds every lease acquired to this lease of the caller's (a runner's own lease): each one is
   * then held exactly as long as `holder` is held with its token, so one renewal of `holder`
   * keeps them all, and when `holder` expires or is released they are all free at once. The
   * `ttlMs` of the call plays no part. When `holder` is not held (expired, released or taken),
   * nothing is acquired: every result is `null`. A holder must not be bound itself.
   */
  readonly holder?: Lease;
}

/**
 * Leases with fencing tokens. TTLs are measured against the backend's clock. A lease is held
 * while `now < expiresAt`; a bound lease (see {@link AcquireManyOptions.holder}) while its holder
 * is. A holder's token stays its own until the lease is released or taken by another owner after
 * expiry; it is then never handed out again. Commit fences (`fence: {lease, token}`) hold under
 * the same rule.
 */
export interface LeaseStore {
  /** Acquires the lease when free or expired (or already held by `owner`, which keeps its token). Returns `null` when held by another owner. */
  acquire(name: string, owner: string, ttlMs: number): Promise<Lease | null>;
  /**
   * Extends a lease still held with the same token (even if it expired meanwhile, as long as
   * nobody took it); `null` when it was lost (expired and taken, or released). A bound lease is
   * checked, not extended (see {@link renewMany}).
   */
  renew(lease: Lease, ttlMs: number): Promise<Lease | null>;
  /**
   * {@link acquire} for several names in one backend call, each with its own owner and the same
   * TTL. One result per request, in request order. Names must be distinct (`CONFIG_INVALID`
   * otherwise). Each name is decided on its own: some may be acquired while others are held.
   * With `options.holder` the leases acquired are bound to it (see {@link AcquireManyOptions}).
   */
  acquireMany(
    requests: readonly LeaseRequest[],
    ttlMs: number,
    options?: AcquireManyOptions,
  ): Promise<(Lease | null)[]>;
  /**
   * {@link renew} for several leases in one backend call (one statement or script): one result
   * per lease, in input order, `null` for each one lost. Names must be distinct (`CONFIG_INVALID`
   * otherwise). Lets a holder of many leases renew them all at the cost of one operation. A bound
   * lease is not extended (renew its holder): it comes back with its holder's expiry while it is
   * held, `null` once lost, so one call checks a whole set after the holder was late.
   */
  renewMany(leases: readonly Lease[], ttlMs: number): Promise<(Lease | null)[]>;
  /** Releases the lease if still held with the same token. Returns whether it was released. */
  release(lease: Lease): Promise<boolean>;
  /**
   * {@link release} for several leases in one backend call: one result per lease, in input
   * order. Names must be distinct (`CONFIG_INVALID` otherwise).
   */
  releaseMany(leases: readonly Lease[]): Promise<boolean[]>;
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
