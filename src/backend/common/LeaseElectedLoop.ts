// LeaseElectedLoop: rounds of background work done only by the holder of one backend lease.
import type { Clock, Timer } from '../../core/Clock.ts';
import type { Backend, Lease } from '../Backend.ts';

/** Lifecycle of a {@link LeaseElectedLoop}. */
export type LoopState = 'running' | 'closed';

/** Whether this loop holds the lease, as last seen. */
type Role = { readonly kind: 'follower' } | { readonly kind: 'leader'; readonly lease: Lease };

/** Options of a {@link LeaseElectedLoop}. */
export interface LeaseElectedLoopOptions<R> {
  readonly backend: Backend;
  readonly clock: Clock;
  /** Lease shared by every loop of this kind on one backend. */
  readonly leaseName: string;
  /** This loop's lease owner id. */
  readonly owner: string;
  readonly leaseTtlMs: number;
  /** Delay before the first round. */
  readonly firstDelayMs: number;
  /**
   * One round of work, called only while this loop holds `lease`. `still()` turns false once the
   * loop is closed or the lease has expired by the clock: long rounds check it between steps.
   */
  readonly work: (lease: Lease, still: () => boolean) => Promise<R>;
  /** Delay before the next round after a round (`null`: another loop leads). */
  readonly nextDelay: (result: R | null) => number | Promise<number>;
  /** Delay before the next round after a failed one. */
  readonly errorDelayMs: number;
  /** Called with the result of each round this loop led. */
  readonly onResult?: (result: R) => void;
  /** Called when a round (or `nextDelay`) fails while the loop is running. */
  readonly onError: (error: unknown) => void;
}

/**
 * The leader loop behind the retention trimmer and the scheduler. Any number of processes run one
 * with the same lease name: each round takes (or keeps) the lease and does the work only while it
 * holds it, so one works at a time and another takes over once the holder stops renewing. Rounds
 * never overlap; {@link close} waits for the one in flight and releases the lease.
 * @internal
 */
export class LeaseElectedLoop<R> {
  private lifecycle: LoopState = 'running';
  private role: Role = { kind: 'follower' };
  private timer: Timer | undefined;
  private round: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: LeaseElectedLoopOptions<R>) {
    this.arm(o.firstDelayMs);
  }

  /** `running` until {@link close}. */
  get state(): LoopState {
    return this.lifecycle;
  }

  /** Whether this loop held the lease at its last round. */
  get leader(): boolean {
    return this.role.kind === 'leader';
  }

  /** Runs one round now (after the one in flight): its result, or `null` when another loop leads. */
  runOnce(): Promise<R | null> {
    const next = this.round.then(() => this.roundNow());
    this.round = next.catch(() => {});
    return next;
  }

  /** Runs the next round now instead of at its planned time. */
  wake(): void {
    if (this.lifecycle !== 'running' || this.timer === undefined) return;
    this.o.clock.clearTimeout(this.timer);
    this.arm(0);
  }

  /** Stops the rounds, waits for the one in flight and releases the lease. Idempotent. */
  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.round;
    const role = this.role;
    this.role = { kind: 'follower' };
    if (role.kind === 'leader') await this.o.backend.leases.release(role.lease).catch(() => false);
  }

  private async roundNow(): Promise<R | null> {
    if (this.lifecycle === 'closed') return null;
    const lease = await this.o.backend.leases.acquire(this.o.leaseName, this.o.owner, this.o.leaseTtlMs);
    if (lease === null) {
      this.role = { kind: 'follower' };
      return null;
    }
    this.role = { kind: 'leader', lease };
    return this.o.work(lease, () => this.lifecycle === 'running' && this.o.clock.now() < lease.expiresAt);
  }

  private arm(ms: number): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.lifecycle === 'closed') return;
      void this.runOnce()
        .then((r) => {
          if (r !== null) this.o.onResult?.(r);
          return this.o.nextDelay(r);
        })
        .catch((e: unknown) => {
          if (this.lifecycle === 'running') this.o.onError(e);
          return this.o.errorDelayMs;
        })
        .then((wait) => {
          if (this.lifecycle === 'running' && this.timer === undefined) this.arm(wait);
        });
    }, ms);
  }
}
