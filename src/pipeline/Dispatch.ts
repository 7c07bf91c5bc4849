// Where a pipeline item goes between attempts: started (through the limiter gate), retried in place or redelivered, parked, put back.

import type { Duration } from '../core/duration.ts';
import { parseDuration } from '../core/duration.ts';
import type { TypedEmitter } from '../core/events.ts';
import { isRateLimited } from '../core/rateLimited.ts';
import type { EngineConfig, PipelineEvents } from './engineTypes.ts';
import { FlowGate, type GateHost } from './FlowGate.ts';
import type { Pauser } from './ItemContext.ts';
import { waitReason } from './keyView.ts';
import type { Entry, KeyQueue } from './Lane.ts';
import { RetryTimers, type WaitInfo, type WaitReason } from './RetryTimers.ts';
import { type AttemptHost, runAttempt } from './runAttempt.ts';
import type { Worker } from './Worker.ts';
import type { WorkerSet } from './WorkerSet.ts';

/** What the dispatcher needs from the engine. @internal */
export interface DispatchHost<T, S> extends AttemptHost<T, unknown, S> {
  readonly cfg: EngineConfig<T, unknown, S>;
  readonly events: TypedEmitter<PipelineEvents>;
  readonly workers: WorkerSet<S>;
  isOver(): boolean;
  /** Whether the run still takes attempts (not stopping). */
  isRunning(): boolean;
  /** An item is dropped by a stop (counted cancelled). */
  abandon(e: Entry<T>): void;
  /** Settles the run when nothing is left in flight. */
  checkDone(): void;
}

/** Why an item waits and the error behind it, kept for status views. */
type Why = { readonly reason: WaitReason; readonly error: string };

/** Why a key (or the stage) is parked. */
type ParkReason = 'rate_limited' | 'paused' | 'circuit_open';

/** A pending timer: a retry or redelivery, the end of a key's park, or of a stage pause. */
type Timed<T, S> =
  | { readonly kind: 'retry'; readonly w: Worker<S>; readonly q: KeyQueue<T>; readonly e: Entry<T> }
  | {
      readonly kind: 'unpark';
      readonly w: Worker<S>;
      readonly key: unknown;
      /** The item parked with its key, when a failed attempt parked it (not `ctx.pause`). */
      readonly q?: KeyQueue<T> | undefined;
      readonly e?: Entry<T> | undefined;
    }
  | { readonly kind: 'stage' };

/**
 * Moves items between attempts. Ordered keys (per-key concurrency 1) keep their head: a retry
 * holds the key (only the key) until its backoff passed. Unordered keys (per-key concurrency
 * > 1, or no `partitionBy`: each item is its own key) give the slot back: a retry is a delayed
 * redelivery and the worker moves on. Parks (`RateLimitedError`, `ctx.pause`, an open breaker)
 * hold a key without counting a failed attempt. @internal
 */
export class Dispatch<T, S> implements GateHost<T, S>, Pauser {
  readonly ordered: boolean;
  private readonly timers: RetryTimers<Timed<T, S>>;
  private readonly gate: FlowGate<T, S> | undefined;
  private readonly onTimer = (t: Timed<T, S>) => this.fired(t);

  constructor(private readonly host: DispatchHost<T, S>) {
    const flow = host.cfg.flow;
    this.ordered = flow.perKey === 1;
    this.timers = new RetryTimers(host.cfg.clock);
    this.gate =
      flow.keyLimiter !== undefined || flow.stageLimiter !== undefined ? new FlowGate(flow, this) : undefined;
  }

  /** Starts the next item of ready key `q` on `w` (through the gate when there are limiters). */
  start(w: Worker<S>, q: KeyQueue<T>): void {
    const e = this.ordered ? q.head : (w.queue.detach(q as KeyQueue<unknown>) as Entry<T>);
    if (this.gate === undefined) runAttempt(this.host, w, q, e);
    else this.gate.enter(w, q, e);
  }

  /** Gives back the permits of a settled attempt. */
  released(e: Entry<T>): void {
    this.gate?.release(e);
  }

  /** `e` finished for good. */
  finish(w: Worker<S>, q: KeyQueue<T>): void {
    if (this.ordered) w.queue.finishHead(q as KeyQueue<unknown>);
    else w.queue.finishUnordered(q as KeyQueue<unknown>);
  }

  /** Runs `e` again after `delayMs`: in place (ordered) or as a delayed redelivery (unordered). */
  retryLater(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, delayMs: number, error?: Error): void {
    if (!this.ordered) w.queue.release(q as KeyQueue<unknown>);
    const why = error === undefined ? undefined : { reason: 'backoff' as const, error: error.message };
    this.timers.after(delayMs, { kind: 'retry', w, q, e }, this.onTimer, why);
  }

  /** Parks the key of `e` for `delayMs` (its attempt not counted; `error` says why), then `e` runs again first. */
  park(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, delayMs: number, error: Error): void {
    const why = { reason: waitReason(error, false), error: error.message };
    this.parkKey(w, e.key, delayMs, isRateLimited(error) ? 'rate_limited' : 'circuit_open', { q, e, why });
    this.putBack(w, q, e);
  }

  /** Items waiting on a timer (a retry's backoff, a parked key) with why: O(waiting), for status views. */
  waiting(): { payload: { e: Entry<T>; q: KeyQueue<T> }; info: WaitInfo | undefined }[] {
    const out: { payload: { e: Entry<T>; q: KeyQueue<T> }; info: WaitInfo | undefined }[] = [];
    for (const { payload: t, info } of this.timers.waiting()) {
      if (t.kind === 'retry' || (t.kind === 'unpark' && t.e !== undefined && t.q !== undefined)) {
        out.push({ payload: { e: t.e as Entry<T>, q: t.q as KeyQueue<T> }, info });
      }
    }
    return out;
  }

  /** `e` runs again (worker restarted after a crash, or a permit came back): it keeps its turn. */
  putBack(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>): void {
    if (this.ordered) w.queue.requeueHead(q as KeyQueue<unknown>);
    else {
      w.queue.release(q as KeyQueue<unknown>);
      w.queue.putBack(e as Entry<unknown>);
    }
  }

  /** `ctx.pause`: parks a key of worker `workerId`, or the whole stage. */
  pauseFrom(workerId: number, key: unknown, ms: Duration, scope: 'key' | 'stage'): void {
    const delay = parseDuration(ms, 'ctx.pause(ms)');
    const w = this.host.workers.list[workerId];
    if (delay <= 0 || w === undefined || this.host.isOver()) return;
    if (scope === 'key') {
      this.parkKey(w, key, delay, 'paused');
      return;
    }
    this.emitParked(w, undefined, delay, 'paused');
    this.gate?.pauseStage(delay);
    this.host.workers.holdStage(1);
    this.timers.after(delay, { kind: 'stage' }, this.onTimer);
  }

  /** A stop: pending retries are dropped (returned to be counted cancelled), waits for permits end. */
  cancelAll(): Entry<T>[] {
    this.gate?.cancelWaits();
    const out: Entry<T>[] = [];
    for (const t of this.timers.cancelAll()) {
      if (t.kind !== 'retry') continue;
      if (this.ordered) t.w.queue.finishHead(t.q as KeyQueue<unknown>);
      else t.w.queue.size--;
      out.push(t.e);
    }
    return out;
  }

  /** The run ended: timers stop, limiters made from options close. */
  close(): void {
    this.timers.cancelAll();
    this.gate?.close();
  }

  /** @internal {@link GateHost} */
  isOver(): boolean {
    return this.host.isOver();
  }

  /** @internal {@link GateHost} */
  runTaken(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>): void {
    runAttempt(this.host, w, q, e);
  }

  /** @internal {@link GateHost} */
  requeueTaken(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>): void {
    this.putBack(w, q, e);
    this.host.workers.fill(w);
  }

  /** @internal {@link GateHost}: during a stop the item is cancelled, else it is a failed attempt. */
  gateFailed(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, error: unknown): void {
    this.gate?.release(e);
    if (!this.host.isRunning()) {
      this.finish(w, q);
      this.host.abandon(e);
      this.host.checkDone();
      return;
    }
    e.attempts++;
    w.active++;
    this.host.settle(w, q, e, false, error, w.generation);
  }

  /** @internal {@link GateHost} */
  holdStage(delta: 1 | -1): void {
    this.host.workers.holdStage(delta);
  }

  /** @internal {@link GateHost} */
  canRun(w: Worker<S>): boolean {
    return w.status === 'up' && w.active < this.host.cfg.perWorker;
  }

  private parkKey(
    w: Worker<S>,
    key: unknown,
    delayMs: number,
    reason: ParkReason,
    item?: { q: KeyQueue<T>; e: Entry<T>; why: Why | undefined },
  ): void {
    w.queue.park(key, this.host.cfg.clock.now() + delayMs);
    this.timers.after(delayMs, { kind: 'unpark', w, key, q: item?.q, e: item?.e }, this.onTimer, item?.why);
    if (reason !== 'circuit_open') this.gate?.pauseKey(key, delayMs);
    this.emitParked(w, key, delayMs, reason);
  }

  private emitParked(w: Worker<S>, key: unknown, delayMs: number, reason: ParkReason): void {
    const events = this.host.events;
    if (events.listenerCount('parked') === 0) return;
    const until = this.host.cfg.clock.now() + delayMs;
    events.emit('parked', { scope: key === undefined ? 'stage' : 'key', key, workerId: w.id, until, reason });
  }

  private fired(t: Timed<T, S>): void {
    if (this.host.isOver()) return;
    if (t.kind === 'stage') {
      this.host.workers.holdStage(-1);
      return;
    }
    if (t.kind === 'unpark') {
      if (t.w.queue.unpark(t.key, this.host.cfg.clock.now())) this.host.workers.fill(t.w);
      return;
    }
    if (this.ordered) t.w.queue.requeueHead(t.q as KeyQueue<unknown>);
    else t.w.queue.putBack(t.e as Entry<unknown>);
    this.host.workers.fill(t.w);
  }
}
