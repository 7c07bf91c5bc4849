// The lanes of a BatchRun: callback-driven fast lanes for in-memory sources, async lanes for the rest.
import type { ItemGate, ItemGateSettled } from '../flow/itemGate.ts';
import { isThenable } from '../resilience/attempt/runOnce.ts';
import { afterInlineFailure, type ItemHost, runItem, valueResult } from './itemRun.ts';
import type { Pulled } from './PullSource.ts';
import { pauseItem } from './poolLimits.ts';
import { ABORTED_REASON, okResult, skippedResult } from './results.ts';
import { isSkip } from './skip.ts';
import type { ItemResult } from './types.ts';

/** After this many synchronous completions in a row a lane yields to the event loop. */
export const SYNC_YIELD_EVERY = 1024;

/** The release a gate returns. */
type GateReleaseFn = (settled: ItemGateSettled) => void;

/** Marks "no gate" where `undefined` means "the gate threw". */
const NO_GATE = (() => {}) as GateReleaseFn;

const yieldMacrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** What lanes need from their run (implemented by `BatchRun`). */
export interface LaneHost<T, R> extends ItemHost<T, R> {
  /** Whether lanes may take items. */
  readonly isPulling: boolean;
  readonly isAsyncSource: boolean;
  /** Whether the first attempt runs inline (no timeout; a gate must admit it at once). */
  readonly inlineFirstAttempt: boolean;
  /** The item of the last `takeSync`. */
  readonly taken: T | undefined;
  /** Next index of an in-memory source (item in `taken`); -1 finished, -2 wait for the gate. */
  takeSync(): number;
  /** Next item of an async source; `undefined` finished, `'wait'` wait for the gate. */
  pullAsync(): Promise<Pulled<T> | undefined | 'wait'> | 'wait' | undefined;
  /** Resolves when the window gate opens or the run stops. */
  waitGate(): Promise<void>;
  /** Hands a result to the run's sink. */
  emit(result: ItemResult<R>): void;
}

/**
 * Fast lanes of one run and their count: resolves `done` when the last one finished. Lanes
 * waiting for the window gate are parked here until {@link FastLanes.resume}.
 */
export class FastLanes<T, R> {
  private active = 0;
  private parked: FastLane<T, R>[] = [];
  private resolveDone: () => void = () => {};
  /** Resolves once every lane finished. */
  readonly done: Promise<void>;

  constructor(run: LaneHost<T, R>, lanes: number) {
    this.done = new Promise<void>((resolve) => {
      this.resolveDone = resolve;
    });
    this.active = lanes;
    let started = 0;
    for (; started < lanes && run.isPulling; started++) new FastLane(run, started, this).step();
    // Lanes never started (the run stopped meanwhile) count as done.
    this.active -= lanes - started;
    if (this.active <= 0) this.resolveDone();
  }

  /** A lane has nothing more to do. */
  finished(): void {
    if (--this.active === 0) this.resolveDone();
  }

  /** Parks a lane until the gate opens. */
  park(lane: FastLane<T, R>): void {
    this.parked.push(lane);
  }

  /** Resumes up to `count` parked lanes, outside the caller (a consumer's next(), an abort listener). */
  resume(count: number): void {
    if (this.parked.length === 0 || count <= 0) return;
    const lanes = count >= this.parked.length ? this.parked : this.parked.splice(0, count);
    if (lanes === this.parked) this.parked = [];
    queueMicrotask(() => {
      for (const l of lanes) l.step();
    });
  }
}

/**
 * A lane driven by callbacks instead of an async function, for arrays and sync iterables when
 * the first attempt can run inline (no timeout — the degenerate case of the attempt primitive):
 * one `then` per asynchronous result and nothing at all for synchronous ones. Its callbacks are
 * allocated once per lane, not per item. With a gate (limiters) the lane asks it synchronously
 * and runs the attempt inline when every limiter admits at once; an item that must wait on a
 * limiter, and a failure that is to be retried, go to the executor.
 */
class FastLane<T, R> {
  private index = 0;
  private item: T | undefined;
  /** The release of the gate that admitted the pending inline attempt (gated runs only). */
  private release: GateReleaseFn | undefined;

  constructor(
    private readonly run: LaneHost<T, R>,
    private readonly workerId: number,
    private readonly group: FastLanes<T, R>,
  ) {}

  private readonly onOk = (v: unknown): void => {
    const i = this.index;
    if (this.release !== undefined) this.settle({ ok: true });
    this.run.emit(isSkip(v) ? skippedResult(v.reason, i, 1) : okResult(v as R, i, 1, this.workerId));
    this.step();
  };

  private readonly onErr = (e: unknown): void => {
    if (this.release !== undefined) this.settle({ ok: false, error: e });
    const r = afterInlineFailure(this.run, this.item as T, this.index, this.workerId, e);
    if (r instanceof Promise) {
      r.then(this.onResult);
      return;
    }
    this.run.emit(r);
    this.step();
  };

  private readonly onResult = (r: ItemResult<R>): void => {
    this.run.emit(r);
    this.step();
  };

  private settle(settled: ItemGateSettled): void {
    const release = this.release as GateReleaseFn;
    this.release = undefined;
    releaseSafely(release, settled);
  }

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
        if (index === -2) this.group.park(this);
        else this.group.finished();
        return;
      }
      this.index = index;
      const item = run.taken as T;
      if (run.gate !== undefined) {
        const admitted = admitInline(run, item);
        if (typeof admitted !== 'function') {
          // Waiting on a limiter: the executor takes the item from the pending admission.
          runItem(run, item, index, workerId, undefined, admitted).then(this.onResult);
          return;
        }
        this.release = admitted;
      }
      let v: unknown;
      try {
        v = fn(item, { index, workerId, signal, attempt: 1, pause: pauseItem });
      } catch (e) {
        if (this.release !== undefined) this.settle({ ok: false, error: e });
        const r = afterInlineFailure(run, item, index, workerId, e);
        if (r instanceof Promise) {
          r.then(this.onResult);
          return;
        }
        run.emit(r);
        continue;
      }
      if (v instanceof Promise) {
        this.item = item;
        v.then(this.onOk, this.onErr);
        return;
      }
      if (isThenable(v)) {
        // A foreign thenable may call back synchronously or twice: normalise it first.
        this.item = item;
        Promise.resolve(v).then(this.onOk, this.onErr);
        return;
      }
      if (this.release !== undefined) this.settle({ ok: true });
      run.emit(isSkip(v) ? skippedResult(v.reason, index, 1) : okResult(v as R, index, 1, workerId));
    }
  }
}

/**
 * Asks the gate to admit the first attempt of `item`: its release when every limiter granted at
 * once (the attempt then runs inline), else the pending admission (or `undefined` when the gate
 * threw: the executor asks again and reports the error as the attempt's).
 */
function admitInline<T, R>(run: LaneHost<T, R>, item: T): GateReleaseFn | Promise<GateReleaseFn> | undefined {
  try {
    return (run.gate as ItemGate<unknown>)(item, { signal: run.signal, attempt: 1 });
  } catch {
    return undefined;
  }
}

function releaseSafely(release: GateReleaseFn, settled: ItemGateSettled): void {
  try {
    release(settled);
  } catch {
    // A release must not change the attempt's outcome.
  }
}

/**
 * A lane as an async function: for async sources, and for every source when attempts need the
 * executor from the start (a timeout). Takes the next item only when free.
 */
export async function asyncLane<T, R>(run: LaneHost<T, R>, workerId: number): Promise<void> {
  const inline = run.inlineFirstAttempt;
  const fn = run.itemFn;
  const signal = run.signal;
  let syncRun = 0;
  for (;;) {
    let item: T;
    let index: number;
    if (run.isAsyncSource) {
      const got = await run.pullAsync();
      if (got === 'wait') {
        await run.waitGate();
        continue;
      }
      if (got === undefined) return;
      if (signal.aborted) {
        // Arrived, but the run stopped before this lane resumed: the item never starts.
        run.emit(skippedResult(ABORTED_REASON, got.index, 0));
        return;
      }
      item = got.item;
      index = got.index;
    } else {
      index = run.takeSync();
      if (index === -1) return;
      if (index === -2) {
        await run.waitGate();
        continue;
      }
      item = run.taken as T;
    }
    let result: ItemResult<R>;
    const admitted = inline && run.gate !== undefined ? admitInline(run, item) : NO_GATE;
    if (!inline || typeof admitted !== 'function') {
      syncRun = 0;
      result = await runItem(
        run,
        item,
        index,
        workerId,
        undefined,
        admitted === NO_GATE ? undefined : admitted,
      );
    } else {
      const release = admitted === NO_GATE ? undefined : admitted;
      try {
        let v: unknown = fn(item, { index, workerId, signal, attempt: 1, pause: pauseItem });
        if (isThenable(v)) {
          syncRun = 0;
          v = await v;
        } else {
          syncRun++;
        }
        if (release !== undefined) releaseSafely(release, { ok: true });
        result = valueResult(v, index, 1, workerId);
      } catch (e) {
        if (release !== undefined) releaseSafely(release, { ok: false, error: e });
        const r = afterInlineFailure(run, item, index, workerId, e);
        result = r instanceof Promise ? await r : r;
      }
    }
    run.emit(result);
    if (syncRun >= SYNC_YIELD_EVERY) {
      // A synchronous function would otherwise hold the event loop for the whole batch.
      syncRun = 0;
      await yieldMacrotask();
    }
  }
}
