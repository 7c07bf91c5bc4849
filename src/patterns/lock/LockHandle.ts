// LockHandle: a held DistributedLock that renews its lease, aborts its signal when lost, and releases.
import type { Backend, Lease } from '../../backend/Backend.ts';
import type { Clock, Timer } from '../../core/Clock.ts';
import { SluiceError } from '../../core/errors.ts';

/** Lifecycle of a {@link LockHandle}: held until released, or lost when the lease could not be kept. */
export type LockState = 'held' | 'released' | 'lost';

/**
 * A held {@link DistributedLock}. The lease is renewed every `renewInterval` while held. When a
 * renewal finds the lease taken, or the lease expires (by the local clock) before a renewal got
 * through — e.g. while the backend is unreachable — the lock is **lost**: {@link signal} aborts
 * with a `LEASE_LOST` error and {@link state} becomes `'lost'`. {@link release} also aborts the
 * signal (reason `ABORTED`), so work tied to it stops either way.
 *
 * Pass {@link fencingToken} (or {@link fence} to `backend.commit`) to every write the lock
 * protects: a writer that lost the lock then fails instead of overwriting a newer holder.
 */
export class LockHandle {
  /** Aborts when the lock is lost (`LEASE_LOST`) or released (`ABORTED`). */
  readonly signal: AbortSignal;

  private lease: Lease;
  private lifecycle: LockState = 'held';
  private readonly ctrl = new AbortController();
  private renewTimer: Timer | undefined;
  private expiryTimer: Timer | undefined;
  private renewing: Promise<void> | undefined;

  /** @internal Created by {@link DistributedLock.acquire}. */
  constructor(
    lease: Lease,
    private readonly backend: Backend,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly renewMs: number,
  ) {
    this.lease = lease;
    this.signal = this.ctrl.signal;
    this.armExpiry();
    this.scheduleRenew(this.renewMs);
  }

  /** The lock (lease) name. */
  get name(): string {
    return this.lease.name;
  }

  /** The owner id of this acquisition (unique per acquisition). */
  get owner(): string {
    return this.lease.owner;
  }

  /** Strictly increasing across acquisitions of the lock; never reused. */
  get fencingToken(): number {
    return this.lease.fencingToken;
  }

  /** The fence for `backend.commit(..., { fence })`. */
  get fence(): { lease: string; token: number } {
    return { lease: this.lease.name, token: this.lease.fencingToken };
  }

  /** Expiry of the lease as last renewed (backend clock time). */
  get expiresAt(): number {
    return this.lease.expiresAt;
  }

  /** `held`, `released` or `lost`. */
  get state(): LockState {
    return this.lifecycle;
  }

  /** Throws the `LEASE_LOST` error when the lock was lost (for checks between steps). */
  throwIfLost(): void {
    if (this.lifecycle === 'lost') throw this.signal.reason;
  }

  /**
   * Stops renewing and releases the lease. Idempotent; never throws: when the backend cannot be
   * reached the lease simply expires after its ttl. Resolves `true` when the backend confirmed
   * the release.
   */
  async release(): Promise<boolean> {
    if (this.lifecycle !== 'held') return false;
    this.lifecycle = 'released';
    this.stopTimers();
    this.ctrl.abort(new SluiceError('ABORTED', `Lock "${this.name}" was released`));
    await this.renewing?.catch(() => {});
    try {
      return await this.backend.leases.release(this.lease);
    } catch {
      return false;
    }
  }

  private scheduleRenew(ms: number): void {
    if (this.lifecycle !== 'held') return;
    this.renewTimer = this.clock.setTimeout(() => {
      this.renewTimer = undefined;
      this.renewing = this.renew().finally(() => {
        this.renewing = undefined;
      });
    }, ms);
  }

  private async renew(): Promise<void> {
    let renewed: Lease | null;
    try {
      renewed = await this.backend.leases.renew(this.lease, this.ttlMs);
    } catch {
      // Unreachable or failing backend: try again soon; the expiry timer decides when it is lost.
      if (this.lifecycle === 'held')
        this.scheduleRenew(Math.max(1, Math.min(this.renewMs, this.remaining() / 2)));
      return;
    }
    if (this.lifecycle !== 'held') return;
    if (renewed === null) {
      this.lose('the lease was taken by another owner or released');
      return;
    }
    this.lease = renewed;
    this.armExpiry();
    this.scheduleRenew(this.renewMs);
  }

  private remaining(): number {
    return this.lease.expiresAt - this.clock.now();
  }

  private armExpiry(): void {
    if (this.expiryTimer !== undefined) this.clock.clearTimeout(this.expiryTimer);
    this.expiryTimer = this.clock.setTimeout(
      () => {
        this.expiryTimer = undefined;
        this.lose('the lease expired before it could be renewed');
      },
      Math.max(0, this.remaining()),
    );
  }

  private lose(why: string): void {
    if (this.lifecycle !== 'held') return;
    this.lifecycle = 'lost';
    this.stopTimers();
    this.ctrl.abort(
      new SluiceError('LEASE_LOST', `Lock "${this.name}" was lost: ${why}`, {
        context: { lock: this.name, owner: this.owner, fencingToken: this.fencingToken },
      }),
    );
  }

  private stopTimers(): void {
    if (this.renewTimer !== undefined) this.clock.clearTimeout(this.renewTimer);
    if (this.expiryTimer !== undefined) this.clock.clearTimeout(this.expiryTimer);
    this.renewTimer = undefined;
    this.expiryTimer = undefined;
  }
}
