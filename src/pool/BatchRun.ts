// BatchRun: the engine behind mapConcurrent, mapConcurrentStream and runBatch (lanes, source, window gate, run state).
import { setMaxListeners } from 'node:events';
import { Deque } from '../core/Deque.ts';
import { abortError, SluiceError } from '../core/errors.ts';
import type { ItemGate } from '../flow/itemGate.ts';
import type { AttemptPolicy } from '../resilience/attempt/AttemptPolicy.ts';
import { asyncLane, FastLanes, type LaneHost } from './lanes.ts';
import type { ResolvedOptions } from './options.ts';
import { type Pulled, PullSource } from './PullSource.ts';
import { ABORTED_REASON, skippedResult } from './results.ts';
import {
  type BatchRunState,
  EXHAUSTED,
  type Halt,
  haltIn,
  IDLE,
  lifecycleOf,
  PULLING,
  type RunState,
} from './runState.ts';
import type { ItemFn, ItemResult, PoolInput } from './types.ts';

export type { BatchRunState } from './runState.ts';

/**
 * The engine behind `mapConcurrent`, `mapConcurrentStream` and `runBatch`: `concurrency` lanes,
 * each pulling the next item from the source only when it is free, running it through the
 * attempt primitive (`ResolvedOptions.policy`) and handing the result to `sink`. Results reach
 * the sink in completion order; callers put them back in input order by `index` (an array sink
 * does so itself).
 *
 * Memory is O(concurrency + window) for lazy input: nothing per item outlives its result.
 * Not exported from the package: the public functions wrap it.
 */
export class BatchRun<T, R> implements LaneHost<T, R> {
  /** Signal passed to items (chained to per-attempt signals); aborts when the run stops. */
  readonly signal: AbortSignal;
  readonly policy: AttemptPolicy;
  readonly gate: ItemGate<unknown> | undefined;
  /** Whether the first attempt runs inline (no timeout; a gate must admit it at once). */
  readonly inlineFirstAttempt: boolean;
  /** @internal The item returned by the last {@link takeSync}. */
  taken: T | undefined;
  private readonly ctrl = new AbortController();
  private readonly source: PullSource<T>;
  /** The input when it is an array (read by index on the hot path). */
  private readonly arr: readonly T[] | undefined;
  private st: RunState = IDLE;
  private nextIndex = 0;
  /** Pulls begun (async sources) — the window gate counts these. */
  private reserved = 0;
  /** Resolvers of lanes waiting on an async pull; a stop resolves them with `undefined`. */
  private readonly pullWaiters = new Set<(p: Pulled<T> | undefined) => void>();
  private windowLimit = Number.POSITIVE_INFINITY;
  /** Async lanes waiting for the window gate; each opening wakes only as many as it lets through. */
  private readonly gateWaiters = new Deque<() => void>();
  private fast: FastLanes<T, R> | undefined;
  private done: Promise<void> | undefined;
  private readonly onUserAbort = () => this.stop(abortError(this.opts.signal, 'batch'));

  constructor(
    items: PoolInput<T>,
    private readonly fn: ItemFn<T, R>,
    private readonly opts: ResolvedOptions,
    private readonly sink: ((result: ItemResult<R>) => void) | ItemResult<R>[],
  ) {
    this.signal = this.ctrl.signal;
    // Every lane may wait on the run's signal at once (a limiter, a retry delay): not a leak.
    if (opts.concurrency > 4) setMaxListeners(opts.concurrency * 2 + 10, this.signal);
    this.policy = opts.policy;
    this.gate = opts.gate;
    // A gate does not prevent it: lanes ask it synchronously and run inline when it admits at once.
    this.inlineFirstAttempt = opts.policy.timeoutMs === undefined;
    this.source = new PullSource(items, () => this.st.kind === 'pulling');
    this.arr = this.source.arr;
  }

  /** Current lifecycle state. */
  get state(): BatchRunState {
    return lifecycleOf(this.st);
  }

  /** Whether the run was stopped (cancelled). */
  get wasStopped(): boolean {
    return this.halt?.kind === 'stopped';
  }

  /** The error the source threw, when it failed. */
  get sourceError(): { readonly failed: boolean; readonly error: unknown } {
    const h = this.halt;
    return h?.kind === 'source_failed'
      ? { failed: true, error: h.error }
      : { failed: false, error: undefined };
  }

  /** Number of items taken from the source so far (indices `0 .. pulled-1`). */
  get pulled(): number {
    return this.nextIndex;
  }

  /** Length of the input when it is an array. */
  get knownLength(): number | undefined {
    return this.source.arr?.length;
  }

  /** @internal Whether lanes may take items. */
  get isPulling(): boolean {
    return this.st.kind === 'pulling';
  }

  /** @internal Whether items come from an async iterator. */
  get isAsyncSource(): boolean {
    return this.source.isAsync;
  }

  /** @internal The item function. */
  get itemFn(): ItemFn<T, R> {
    return this.fn;
  }

  private get halt(): Halt | undefined {
    const s = this.st;
    return s.kind === 'draining' || s.kind === 'finished' ? s.halt : undefined;
  }

  /**
   * Allows items with index `< limit` to be pulled (stream mode). Lanes wait while the next
   * pull would pass the limit.
   */
  setGate(limit: number): void {
    this.windowLimit = limit;
    this.openGate();
  }

  /** Runs the batch; resolves once every lane is done. Never rejects; a second call returns the same promise. */
  run(): Promise<void> {
    this.done ??= this.start();
    return this.done;
  }

  /**
   * Stops the run: no item starts any more, in-flight items see their signal abort (with
   * `reason`), lanes waiting on the source or the window return.
   */
  stop(reason?: unknown): void {
    if (this.wasStopped || this.st.kind === 'finished') return;
    const r =
      reason ?? new SluiceError('ABORTED', 'The batch was aborted', { context: { reason: 'stopped' } });
    this.st = haltIn(this.st, { kind: 'stopped', reason: r });
    this.ctrl.abort(r);
    const waiters = [...this.pullWaiters];
    this.pullWaiters.clear();
    for (const w of waiters) w(undefined);
    this.openGate();
  }

  private async start(): Promise<void> {
    if (this.st.kind === 'idle') this.st = PULLING;
    const user = this.opts.signal;
    if (user?.aborted) {
      this.stop(abortError(user, 'batch'));
    } else {
      user?.addEventListener('abort', this.onUserAbort, { once: true });
      try {
        this.source.open();
      } catch (e) {
        this.failSource(e);
      }
    }
    let lanes = this.opts.concurrency;
    const arr = this.source.arr;
    if (arr !== undefined) lanes = Math.min(lanes, arr.length);
    if (this.inlineFirstAttempt && !this.source.isAsync) {
      this.fast = new FastLanes(this, lanes);
      await this.fast.done;
    } else {
      const running: Promise<void>[] = [];
      for (let w = 0; w < lanes && this.isPulling; w++) running.push(asyncLane(this, w));
      await Promise.all(running);
    }
    user?.removeEventListener('abort', this.onUserAbort);
    await this.opts.limits?.close();
    const halt = this.halt;
    if (halt === undefined || halt.kind === 'stopped') this.source.close();
    this.st = { kind: 'finished', halt: halt ?? EXHAUSTED };
  }

  /** Stop pulling, but let in-flight items finish normally. */
  private failSource(error: unknown): void {
    this.st = haltIn(this.st, { kind: 'source_failed', error });
    this.openGate();
  }

  private endSource(): void {
    this.st = haltIn(this.st, EXHAUSTED);
    this.openGate();
  }

  /**
   * Wakes as many waiting lanes as the window now lets through (all of them once the run stops
   * taking items): waking every lane for each slot would cost O(concurrency) per item.
   */
  private openGate(): void {
    const taken = this.source.isAsync ? this.reserved : this.nextIndex;
    const free = this.isPulling ? this.windowLimit - taken : Number.POSITIVE_INFINITY;
    let woken = 0;
    while (woken < free && this.gateWaiters.length > 0) {
      (this.gateWaiters.shift() as () => void)();
      woken++;
    }
    this.fast?.resume(free - woken);
  }

  /** @internal Resolves when the window gate lets this lane through (or the run stops). */
  waitGate(): Promise<void> {
    if (!this.isPulling) return Promise.resolve();
    return new Promise<void>((resolve) => this.gateWaiters.push(resolve));
  }

  /**
   * @internal Takes the next item synchronously (arrays, sync iterators). Returns its index (the
   * item is left in {@link taken}), `-1` when the lane is finished, `-2` when it must wait for
   * the window gate.
   */
  takeSync(): number {
    if (this.st.kind !== 'pulling') return -1;
    const index = this.nextIndex;
    if (index >= this.windowLimit) return -2;
    const arr = this.arr;
    if (arr !== undefined) {
      // The end of an array needs no state change: every later call sees the same index (and
      // leaving the object unchanged keeps the optimised lanes valid from one batch to the next).
      if (index >= arr.length) return -1;
      this.nextIndex = index + 1;
      this.taken = arr[index] as T;
      return index;
    }
    let r: IteratorResult<T>;
    try {
      r = this.source.nextSync();
    } catch (e) {
      this.failSource(e);
      return -1;
    }
    if (r.done) {
      this.endSource();
      return -1;
    }
    this.nextIndex = index + 1;
    this.taken = r.value;
    return index;
  }

  /**
   * @internal Pulls the next item of an async source: `undefined` when nothing more comes (or
   * the run stopped while waiting), `'wait'` when the window gate is closed. A lane waiting on a
   * pull that never settles returns when the run stops; the waiter is dropped as soon as its
   * pull settles, so nothing accumulates per item.
   */
  pullAsync(): Promise<Pulled<T> | undefined | 'wait'> | 'wait' | undefined {
    if (!this.isPulling) return undefined;
    if (this.reserved >= this.windowLimit) return 'wait';
    this.reserved++;
    return new Promise<Pulled<T> | undefined>((resolve) => {
      this.pullWaiters.add(resolve);
      this.source.pull({
        done: (r) => {
          // Not waited for any more (the run stopped): an item that arrives now was never part of the batch.
          if (this.pullWaiters.delete(resolve)) resolve(this.accept(r));
        },
        failed: (e) => {
          this.pullWaiters.delete(resolve);
          this.failSource(e);
          resolve(undefined);
        },
      });
    });
  }

  private accept(r: IteratorResult<T> | undefined): Pulled<T> | undefined {
    if (r === undefined) return undefined;
    if (r.done) {
      this.endSource();
      return undefined;
    }
    const index = this.nextIndex++;
    if (!this.isPulling) {
      // Arrived after a stop: reported as never started.
      this.emit(skippedResult(ABORTED_REASON, index, 0));
      return undefined;
    }
    return { item: r.value, index };
  }

  /**
   * @internal Hands a result to the sink: a callback, or an array the result is stored into at
   * its index (no per-run closure for the optimiser to specialise on and then discard).
   */
  emit(result: ItemResult<R>): void {
    const sink = this.sink;
    if (typeof sink === 'function') sink(result);
    else sink[result.index] = result;
  }
}
