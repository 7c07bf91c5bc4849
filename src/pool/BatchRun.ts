import { abortError, isUnrecoverable, SluiceError, toError } from '../core/errors.ts';
import type { ResolvedOptions } from './options.ts';
import { ABORTED_REASON, errorResult, okResult, skippedResult } from './results.ts';
import { isSkip, type SkipItem } from './skip.ts';
import type { ItemContext, ItemFn, ItemResult, PoolInput } from './types.ts';

/** After this many synchronous completions in a row a lane yields to the event loop. */
const SYNC_YIELD_EVERY = 1024;

/** A pulled item with its input position. */
interface Pulled<T> {
  readonly item: T;
  readonly index: number;
}

type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: unknown };

/** Lifecycle of a run. */
export type BatchRunState = 'idle' | 'running' | 'stopping' | 'finished';

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return (
    v instanceof Promise ||
    (v !== null &&
      (typeof v === 'object' || typeof v === 'function') &&
      typeof (v as { then?: unknown }).then === 'function')
  );
}

const yieldMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The engine behind `mapConcurrent`, `mapConcurrentStream` and `runBatch`: `concurrency` lanes,
 * each pulling the next item from the source only when it is free, running it (with timeout and
 * retry when configured) and handing the result to `sink`. Results reach the sink in completion
 * order; callers put them back in input order by `index` (an array sink does so itself).
 *
 * Not exported from the package: the public functions wrap it.
 */
export class BatchRun<T, R> {
  /** Signal passed to items when no per-attempt timeout is set; aborts when the run stops. */
  readonly signal: AbortSignal;
  private readonly ctrl = new AbortController();
  private readonly arr: readonly T[] | undefined;
  private syncIt: Iterator<T> | undefined;
  private asyncIt: AsyncIterator<T> | undefined;
  private readonly simple: boolean;
  private nextIndex = 0;
  /** Pulls begun (async sources) — the window gate counts these. */
  private reserved = 0;
  private sourceDone = false;
  private sourceFailed = false;
  private sourceErr: unknown;
  private stopped = false;
  private stopReason: unknown;
  private pullTail: Promise<unknown> = Promise.resolve();
  private stopResolve: (() => void) | undefined;
  private readonly stopP: Promise<undefined>;
  private gate = Number.POSITIVE_INFINITY;
  private gateResolve: (() => void) | undefined;
  private gateP: Promise<void> | undefined;
  private readonly itemCtrls = new Set<AbortController>();
  /** Fast lanes still running, and how many were started. */
  private fastActive = 0;
  private fastStarted = 0;
  private fastDone: (() => void) | undefined;
  /** Fast lanes waiting for the window gate to open. */
  private parked: FastLane<T, R>[] = [];
  private lifecycle: BatchRunState = 'idle';
  private readonly onUserAbort = () => this.stop(abortError(this.opts.signal, 'batch'));

  constructor(
    private readonly items: PoolInput<T>,
    private readonly fn: ItemFn<T, R>,
    private readonly opts: ResolvedOptions,
    private readonly sink: ((result: ItemResult<R>) => void) | ItemResult<R>[],
  ) {
    this.signal = this.ctrl.signal;
    this.arr = Array.isArray(items) ? (items as readonly T[]) : undefined;
    this.simple = opts.timeoutMs === undefined && opts.attempts === 1;
    this.stopP = new Promise<undefined>((resolve) => {
      this.stopResolve = () => resolve(undefined);
    });
  }

  /** Current lifecycle state. */
  get state(): BatchRunState {
    return this.lifecycle;
  }

  /** Whether the run was stopped (cancelled) before the source was exhausted. */
  get wasStopped(): boolean {
    return this.stopped;
  }

  /** The error the source threw, when it failed. */
  get sourceError(): { readonly failed: boolean; readonly error: unknown } {
    return { failed: this.sourceFailed, error: this.sourceErr };
  }

  /** Number of items taken from the source so far (indices `0 .. pulled-1`). */
  get pulled(): number {
    return this.nextIndex;
  }

  /** Length of the input when it is an array. */
  get knownLength(): number | undefined {
    return this.arr?.length;
  }

  /**
   * Allows items with index `< limit` to be pulled (stream mode). Lanes wait while the next
   * pull would pass the gate.
   */
  setGate(limit: number): void {
    this.gate = limit;
    this.openGate();
  }

  /** Runs the batch; resolves once every lane is done. Never rejects. */
  async run(): Promise<void> {
    if (this.lifecycle !== 'idle') throw new SluiceError('INVALID_STATE', 'A batch run can only start once');
    this.lifecycle = 'running';
    const user = this.opts.signal;
    if (user?.aborted) {
      this.stop(abortError(user, 'batch'));
    } else {
      user?.addEventListener('abort', this.onUserAbort, { once: true });
      try {
        if (this.arr === undefined) this.openSource();
      } catch (e) {
        this.failSource(e);
      }
    }
    let lanes = this.opts.concurrency;
    if (this.arr !== undefined) lanes = Math.min(lanes, this.arr.length);
    const useFast = this.simple && this.asyncIt === undefined;
    const running: Promise<void>[] = [];
    if (useFast) {
      const all = new Promise<void>((resolve) => {
        this.fastDone = resolve;
      });
      this.fastActive = lanes;
      for (let w = 0; w < lanes && !this.stopped; w++) new FastLane(this, w).step();
      // Lanes never started (stopped meanwhile) count as done.
      if (this.stopped) this.fastActive -= Math.max(0, lanes - this.fastStarted);
      if (this.fastActive <= 0) this.fastDone?.();
      running.push(all);
    } else {
      for (let w = 0; w < lanes && !this.stopped; w++) running.push(this.lane(w));
    }
    await Promise.all(running);
    user?.removeEventListener('abort', this.onUserAbort);
    if (!this.sourceDone && !this.sourceFailed) this.closeSource();
    this.lifecycle = 'finished';
  }

  /**
   * Stops the run: no item starts any more, in-flight items see their signal abort (with
   * `reason`), lanes waiting on the source or the window return.
   */
  stop(reason?: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.lifecycle === 'running') this.lifecycle = 'stopping';
    this.stopReason =
      reason ?? new SluiceError('ABORTED', 'The batch was aborted', { context: { reason: 'stopped' } });
    this.ctrl.abort(this.stopReason);
    for (const c of this.itemCtrls) c.abort(this.stopReason);
    this.stopResolve?.();
    this.openGate();
  }

  private openSource(): void {
    const src = this.items as Partial<Iterable<T> & AsyncIterable<T>>;
    const asyncFactory = src[Symbol.asyncIterator];
    if (typeof asyncFactory === 'function') this.asyncIt = asyncFactory.call(src);
    else this.syncIt = (src as Iterable<T>)[Symbol.iterator]();
  }

  private closeSource(): void {
    try {
      if (this.syncIt) this.syncIt.return?.();
      else if (this.asyncIt?.return) {
        // A pending next() may never settle; closing must not wait for it.
        Promise.resolve(this.asyncIt.return()).catch(() => {});
      }
    } catch {
      // Closing is best effort.
    }
  }

  private failSource(e: unknown): void {
    if (!this.sourceFailed) {
      this.sourceFailed = true;
      this.sourceErr = e;
    }
    // Stop pulling, but let in-flight items finish normally.
    this.sourceDone = true;
    this.openGate();
  }

  private openGate(): void {
    const r = this.gateResolve;
    this.gateResolve = undefined;
    this.gateP = undefined;
    r?.();
    if (this.parked.length > 0) {
      const lanes = this.parked;
      this.parked = [];
      // Resume outside the caller (a consumer's next(), an abort listener).
      queueMicrotask(() => {
        for (const l of lanes) l.step();
      });
    }
  }

  /** @internal Called by a fast lane when it started. */
  laneStarted(): void {
    this.fastStarted++;
  }

  /** @internal Called by a fast lane when it has nothing more to do. */
  laneFinished(): void {
    if (--this.fastActive === 0) this.fastDone?.();
  }

  /** @internal Parks a fast lane until the window gate opens. */
  park(lane: FastLane<T, R>): void {
    this.parked.push(lane);
  }

  /**
   * @internal Takes the next item synchronously for a fast lane. Returns its index (the item is
   * left in {@link taken}), `-1` when the lane is finished, `-2` when it must park.
   */
  takeSync(): number {
    if (this.stopped || this.sourceDone) return -1;
    const index = this.nextIndex;
    if (index >= this.gate) return -2;
    const arr = this.arr;
    if (arr !== undefined) {
      // The end of an array needs no flag: every later call sees the same index (and leaving the
      // object unchanged keeps the optimised lanes valid from one batch to the next).
      if (index >= arr.length) return -1;
      this.nextIndex = index + 1;
      this.taken = arr[index] as T;
      return index;
    }
    let r: IteratorResult<T>;
    try {
      r = (this.syncIt as Iterator<T>).next();
    } catch (e) {
      this.failSource(e);
      return -1;
    }
    if (r.done) {
      this.sourceDone = true;
      return -1;
    }
    this.nextIndex = index + 1;
    this.taken = r.value;
    return index;
  }

  /** @internal The item returned by the last {@link takeSync}. */
  taken: T | undefined;

  /** @internal The item function. */
  get itemFn(): ItemFn<T, R> {
    return this.fn;
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

  private waitGate(): Promise<void> {
    if (this.gateP === undefined) {
      this.gateP = new Promise<void>((resolve) => {
        this.gateResolve = resolve;
      });
    }
    return this.gateP;
  }

  /** Pulls from an async source, one pull at a time, in order. `undefined` = nothing more. */
  private pullAsync(): Promise<Pulled<T> | undefined> {
    const it = this.asyncIt as AsyncIterator<T>;
    const p = this.pullTail.then(async (): Promise<Pulled<T> | undefined> => {
      if (this.stopped || this.sourceDone) return undefined;
      let r: IteratorResult<T>;
      try {
        r = await it.next();
      } catch (e) {
        this.failSource(e);
        return undefined;
      }
      if (r.done) {
        this.sourceDone = true;
        return undefined;
      }
      // An item that arrives after a stop is dropped: it was never part of the batch.
      if (this.stopped) return undefined;
      return { item: r.value, index: this.nextIndex++ };
    });
    this.pullTail = p;
    return Promise.race([p, this.stopP]);
  }

  private async lane(workerId: number): Promise<void> {
    const arr = this.arr;
    const fn = this.fn;
    const signal = this.signal;
    let syncRun = 0;
    for (;;) {
      if (this.stopped || this.sourceDone) return;
      let item: T;
      let index: number;
      if (arr !== undefined) {
        index = this.nextIndex;
        if (index >= this.gate) {
          await this.waitGate();
          continue;
        }
        if (index >= arr.length) {
          this.sourceDone = true;
          return;
        }
        this.nextIndex = index + 1;
        item = arr[index] as T;
      } else if (this.syncIt !== undefined) {
        if (this.nextIndex >= this.gate) {
          await this.waitGate();
          continue;
        }
        let r: IteratorResult<T>;
        try {
          r = this.syncIt.next();
        } catch (e) {
          this.failSource(e);
          return;
        }
        if (r.done) {
          this.sourceDone = true;
          return;
        }
        index = this.nextIndex++;
        item = r.value;
      } else {
        if (this.reserved >= this.gate) {
          await this.waitGate();
          continue;
        }
        this.reserved++;
        const got = await this.pullAsync();
        if (got === undefined) return;
        if (this.stopped) {
          this.emit(skippedResult(ABORTED_REASON, got.index, 0));
          return;
        }
        item = got.item;
        index = got.index;
      }

      if (!this.simple) {
        this.emit(await this.runWithPolicy(item, index, workerId));
        continue;
      }
      // Fast path: no timeout, no retry — one context object and one await per item, and no
      // await at all when the function returns synchronously.
      const ctx: ItemContext = { index, workerId, signal, attempt: 1 };
      let result: ItemResult<R>;
      try {
        let v: unknown = fn(item, ctx);
        if (isThenable(v)) {
          syncRun = 0;
          v = await v;
        } else {
          syncRun++;
        }
        result = isSkip(v) ? skippedResult(v.reason, index, 1) : okResult(v as R, index, 1, workerId);
      } catch (e) {
        result = isSkip(e) ? skippedResult(e.reason, index, 1) : errorResult(toError(e), index, 1, workerId);
      }
      this.emit(result);
      if (syncRun >= SYNC_YIELD_EVERY) {
        // A synchronous function would otherwise hold the event loop for the whole batch.
        syncRun = 0;
        await yieldMacrotask();
      }
    }
  }

  private async runWithPolicy(item: T, index: number, workerId: number): Promise<ItemResult<R>> {
    const { attempts, backoff, retryOn, clock } = this.opts;
    let prevDelay = 0;
    for (let attempt = 1; ; attempt++) {
      const out = await this.attempt(item, index, workerId, attempt);
      if (out.ok) {
        const v = out.value;
        return isSkip(v)
          ? skippedResult(v.reason, index, attempt)
          : okResult(v as R, index, attempt, workerId);
      }
      if (isSkip(out.error)) return skippedResult((out.error as SkipItem).reason, index, attempt);
      const err = toError(out.error);
      if (
        attempt >= attempts ||
        this.stopped ||
        isUnrecoverable(err) ||
        !shouldRetry(retryOn, err, attempt)
      ) {
        return errorResult(err, index, attempt, workerId);
      }
      let delay = Number(backoff.next(attempt, prevDelay));
      if (!Number.isFinite(delay) || delay < 0) delay = 0;
      prevDelay = delay;
      try {
        await clock.sleep(delay, this.signal);
      } catch {
        // Cancelled while waiting to retry: the item ends with its last error.
        return errorResult(err, index, attempt, workerId);
      }
      if (this.stopped) return errorResult(err, index, attempt, workerId);
    }
  }

  private async attempt(item: T, index: number, workerId: number, attempt: number): Promise<Outcome> {
    const timeoutMs = this.opts.timeoutMs;
    if (timeoutMs === undefined) {
      try {
        let v: unknown = this.fn(item, { index, workerId, signal: this.signal, attempt });
        if (isThenable(v)) v = await v;
        return { ok: true, value: v };
      } catch (e) {
        return { ok: false, error: e };
      }
    }
    const clock = this.opts.clock;
    const ctrl = new AbortController();
    if (this.stopped) ctrl.abort(this.stopReason);
    this.itemCtrls.add(ctrl);
    return new Promise<Outcome>((resolve) => {
      let settled = false;
      const settle = (o: Outcome) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        this.itemCtrls.delete(ctrl);
        resolve(o);
      };
      const timer = clock.setTimeout(() => {
        const err = new SluiceError('TIMEOUT', `Item ${index} timed out after ${timeoutMs} ms`, {
          retryable: true,
          context: { index, attempt, timeoutMs },
        });
        ctrl.abort(err);
        settle({ ok: false, error: err });
      }, timeoutMs);
      try {
        const v: unknown = this.fn(item, { index, workerId, signal: ctrl.signal, attempt });
        if (isThenable(v)) {
          v.then(
            (value) => settle({ ok: true, value }),
            (error: unknown) => settle({ ok: false, error }),
          );
        } else {
          settle({ ok: true, value: v });
        }
      } catch (e) {
        settle({ ok: false, error: e });
      }
    });
  }
}

function shouldRetry(retryOn: (e: Error, attempt: number) => boolean, err: Error, attempt: number): boolean {
  try {
    return retryOn(err, attempt) === true;
  } catch {
    return false;
  }
}

/**
 * A lane driven by callbacks instead of an async function: for items without timeout or retry,
 * one `then` per asynchronous result and nothing at all for synchronous ones. Holds the index of
 * its current item, so its two callbacks are allocated once per lane, not per item.
 */
class FastLane<T, R> {
  private index = 0;

  constructor(
    private readonly run: BatchRun<T, R>,
    private readonly workerId: number,
  ) {
    run.laneStarted();
  }

  private readonly onOk = (v: unknown): void => {
    const i = this.index;
    this.run.emit(isSkip(v) ? skippedResult(v.reason, i, 1) : okResult(v as R, i, 1, this.workerId));
    this.step();
  };

  private readonly onErr = (e: unknown): void => {
    const i = this.index;
    this.run.emit(isSkip(e) ? skippedResult(e.reason, i, 1) : errorResult(toError(e), i, 1, this.workerId));
    this.step();
  };

  /** Runs items until one is pending (its callbacks resume the lane), or nothing is left. */
  step(): void {
    const run = this.run;
    const fn = run.itemFn;
    const signal = run.signal;
    const workerId = this.workerId;
    for (let syncRun = 0; ; syncRun++) {
      if (syncRun === SYNC_YIELD_EVERY) {
        // A synchronous function would otherwise hold the event loop for the whole batch.
        setImmediate(() => this.step());
        return;
      }
      const index = run.takeSync();
      if (index < 0) {
        if (index === -2) run.park(this);
        else run.laneFinished();
        return;
      }
      this.index = index;
      let v: unknown;
      try {
        v = fn(run.taken as T, { index, workerId, signal, attempt: 1 });
      } catch (e) {
        run.emit(isSkip(e) ? skippedResult(e.reason, index, 1) : errorResult(toError(e), index, 1, workerId));
        continue;
      }
      if (v instanceof Promise) {
        v.then(this.onOk, this.onErr);
        return;
      }
      if (isThenable(v)) {
        // A foreign thenable may call back synchronously or twice: normalise it first.
        Promise.resolve(v).then(this.onOk, this.onErr);
        return;
      }
      run.emit(isSkip(v) ? skippedResult(v.reason, index, 1) : okResult(v as R, index, 1, workerId));
    }
  }
}
