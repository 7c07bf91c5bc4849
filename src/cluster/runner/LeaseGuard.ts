// The local view of one partition lease: validity by the clock, and the handler signal it aborts.
import type { Lease } from '../../backend/Backend.ts';
import type { Clock, Timer } from '../../core/Clock.ts';
import { SluiceError } from '../../core/errors.ts';

/** The lease name and fencing token a handler writes with (see {@link RunnerHandlerContext.fence}). */
export interface RunnerFence {
  /** The lease name, `<group>/<topic>/<partition>`. */
  readonly lease: string;
  /** The fencing token of this runner's hold on the lease. */
  readonly token: number;
}

/**
 * Phase of a guard: `held` (the signal is live, a timer fires at the expiry), `expired` (the
 * expiry passed without a renewal: the signal is aborted, a renewal arms a fresh one) or `ended`
 * (lost or forced to stop: nothing re-arms it).
 */
type GuardPhase =
  | { readonly kind: 'held'; readonly controller: AbortController; readonly timer: Timer | undefined }
  | { readonly kind: 'expired'; readonly controller: AbortController }
  | { readonly kind: 'ended'; readonly controller: AbortController };

/**
 * Tracks a partition lease locally, without backend calls: {@link valid} compares the clock with
 * the known expiry, and {@link signal} aborts the moment the expiry passes (a clock timer re-armed
 * on each renewal) or the partition is lost. Without a lease (fixed mode) it is always valid.
 * @internal Used by {@link PartitionWorker}.
 */
export class LeaseGuard {
  private phase: GuardPhase;
  private current: Lease | undefined;

  constructor(
    lease: Lease | undefined,
    private readonly clock: Clock,
    private readonly partition: number,
    private readonly onChange: () => void,
  ) {
    this.current = lease;
    this.phase = this.arm(new AbortController());
  }

  /** The lease (`undefined` in fixed mode). */
  get lease(): Lease | undefined {
    return this.current;
  }

  /** The fence handlers write with, or `undefined` in fixed mode. */
  get fence(): RunnerFence | undefined {
    const l = this.current;
    return l === undefined ? undefined : { lease: l.name, token: l.fencingToken };
  }

  /** The signal of the current hold: aborted once the lease expires, is lost or the worker is forced to stop. */
  get signal(): AbortSignal {
    return this.phase.controller.signal;
  }

  /** Whether the guard was ended ({@link end}): lost or forced to stop. */
  get ended(): boolean {
    return this.phase.kind === 'ended';
  }

  /** Whether events may be processed now: not ended, and the clock is before the lease's expiry. */
  valid(): boolean {
    if (this.phase.kind === 'ended') return false;
    const l = this.current;
    return l === undefined || this.clock.now() < l.expiresAt;
  }

  /** The lease was renewed: a new expiry (and a fresh signal when the old one had expired). */
  renewed(lease: Lease): void {
    if (this.phase.kind === 'ended') return;
    this.current = lease;
    if (this.phase.kind === 'held') {
      if (this.phase.timer !== undefined) this.clock.clearTimeout(this.phase.timer);
      this.phase = this.arm(this.phase.controller);
    } else {
      this.phase = this.arm(new AbortController());
      this.onChange(); // valid again: a worker waiting for the renewal goes on
    }
  }

  /** Ends the guard: aborts the signal with `reason`; no renewal re-arms it. */
  end(reason: SluiceError): void {
    const p = this.phase;
    if (p.kind === 'ended') return;
    if (p.kind === 'held' && p.timer !== undefined) this.clock.clearTimeout(p.timer);
    this.phase = { kind: 'ended', controller: p.controller };
    p.controller.abort(reason);
  }

  /** Clears the expiry timer (the worker has exited); the signal is left as it is. */
  dispose(): void {
    const p = this.phase;
    if (p.kind === 'held' && p.timer !== undefined) this.clock.clearTimeout(p.timer);
    this.phase = { kind: 'ended', controller: p.controller };
  }

  private arm(controller: AbortController): GuardPhase {
    const l = this.current;
    if (l === undefined) return { kind: 'held', controller, timer: undefined };
    const left = l.expiresAt - this.clock.now();
    if (left <= 0) {
      this.expire(controller, l);
      return { kind: 'expired', controller };
    }
    const timer = this.clock.setTimeout(() => {
      if (this.phase.kind !== 'held' || this.phase.controller !== controller) return;
      this.phase = { kind: 'expired', controller };
      this.expire(controller, l);
      this.onChange();
    }, left);
    return { kind: 'held', controller, timer };
  }

  private expire(controller: AbortController, lease: Lease): void {
    controller.abort(
      new SluiceError(
        'LEASE_LOST',
        `The lease on partition ${this.partition} expired at ${lease.expiresAt} without a renewal`,
        { context: { lease: lease.name, fencingToken: lease.fencingToken, expiresAt: lease.expiresAt } },
      ),
    );
  }
}
