// Limiter permits before each attempt of a stage: a per-key limit parks only its key, the stage limit holds the stage in scheduling order.
import type { Limiter } from '../flow/Limiter.ts';
import type { FlowConfig } from './flowSpec.ts';
import type { Entry, KeyQueue } from './Lane.ts';
import type { Worker } from './Worker.ts';

/** What the gate needs from the engine. @internal */
export interface GateHost<T, S> {
  /** The run is finished or failed. */
  isOver(): boolean;
  /** Runs the attempt now (permits taken). */
  runTaken(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>): void;
  /** Puts a taken item back (it keeps its turn) and fills its worker. */
  requeueTaken(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>): void;
  /** A wait for a permit failed (aborted by a stop, limiter closed, backend unavailable). */
  gateFailed(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, error: unknown): void;
  /** Holds (+1) or lets go (−1) of the stage: while held, no worker starts an item. */
  holdStage(delta: 1 | -1): void;
  /** Whether `w` can start one more item now. */
  canRun(w: Worker<S>): boolean;
}

/**
 * Takes the permits of an item before each attempt: first the per-key limiter (bucket key: the
 * partition key), then the stage limiter (bucket key: its own `keyOf(item)`). Each decision is
 * first tried synchronously (`tryAcquire`); on a denial:
 * - per key: the key is set aside while `acquire` waits (other keys keep flowing), then the item
 *   goes back in front of its key with the permit it got;
 * - stage: the whole stage holds (no worker starts anything) until that grant, and then that
 *   item runs first, so the stage limit is spent in scheduling order (fairness and priorities
 *   hold under it).
 * Permits are released when the attempt settles. @internal
 */
export class FlowGate<T, S> {
  private readonly limiters: Limiter<never>[] = [];
  private readonly stageAt: number;
  private readonly abort = new AbortController();

  constructor(
    private readonly flow: FlowConfig<T>,
    private readonly host: GateHost<T, S>,
  ) {
    if (flow.keyLimiter !== undefined) this.limiters.push(flow.keyLimiter);
    this.stageAt = flow.stageLimiter === undefined ? -1 : this.limiters.length;
    if (flow.stageLimiter !== undefined) this.limiters.push(flow.stageLimiter as Limiter<never>);
  }

  /** Takes the permits of `e` (those not taken yet) and runs it, or waits for them. */
  enter(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>): void {
    const lims = this.limiters;
    for (let i = e.permits?.length ?? 0; i < lims.length; i++) {
      let key: string;
      try {
        key = this.keyFor(i, e);
      } catch (err) {
        this.host.gateFailed(w, q, e, err);
        return;
      }
      const p = lims[i]!.tryAcquire(key);
      if (p === undefined) {
        this.wait(w, q, e, i, key);
        return;
      }
      if (e.permits === undefined) e.permits = [p];
      else e.permits.push(p);
    }
    this.host.runTaken(w, q, e);
  }

  /** Gives back the permits of `e` after its attempt. */
  release(e: Entry<T>): void {
    const ps = e.permits;
    e.permits = undefined;
    if (ps !== undefined) for (const p of ps) void p.release();
  }

  /** Parks key `key` in the per-key limiter (shared when the limiter is). */
  pauseKey(key: unknown, ms: number): void {
    this.flow.keyLimiter?.pause(ms, String(key)).catch(() => {});
  }

  /** Parks the whole stage limiter (shared when the limiter is). */
  pauseStage(ms: number): void {
    this.flow.stageLimiter?.pause(ms).catch(() => {});
  }

  /** Stops waits (they fail with `ABORTED`); closes the limiters made from options. */
  close(): void {
    if (!this.abort.signal.aborted) this.abort.abort();
    for (const l of this.flow.owned) void l.close().catch(() => {});
  }

  /** Aborts the waits in progress (a stop: the waiting items are cancelled). */
  cancelWaits(): void {
    if (!this.abort.signal.aborted) this.abort.abort();
  }

  private keyFor(i: number, e: Entry<T>): string {
    if (i === this.stageAt) return (this.flow.stageLimiter as Limiter<T>).keyOf(e.item);
    return String(e.key);
  }

  private wait(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, i: number, key: string): void {
    const stage = i === this.stageAt;
    if (stage) this.host.holdStage(1);
    this.limiters[i]!.acquire(key, { signal: this.abort.signal }).then(
      (p) => {
        if (e.permits === undefined) e.permits = [p];
        else e.permits.push(p);
        if (this.host.isOver()) {
          this.release(e);
          return;
        }
        if (!stage) {
          this.host.requeueTaken(w, q, e);
          return;
        }
        if (this.host.canRun(w)) this.enter(w, q, e);
        else this.host.requeueTaken(w, q, e);
        this.host.holdStage(-1);
      },
      (err: unknown) => {
        if (stage) this.host.holdStage(-1);
        if (!this.host.isOver()) this.host.gateFailed(w, q, e, err);
      },
    );
  }
}
