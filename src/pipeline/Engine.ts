import type { Clock, Timer } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { isUnrecoverable, SluiceError, toError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { partitionForKey } from '../core/hash.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import { type Entry, type KeyQueue, LaneQueue } from './Lane.ts';
import { OffsetTracker } from './OffsetTracker.ts';
import { isResult } from './result.ts';
import { openSource, type StreamSource } from './source.ts';
import type {
  ErrorHandler,
  FailureInfo,
  ItemFailure,
  PipelineReport,
  ProcessContext,
  ProcessFn,
  Strategy,
} from './types.ts';

/** Events of a running pipeline. */
export type PipelineEvents = {
  /** An item failed for good (after its last attempt). */
  item_failed: [failure: FailureInfo & { error: Error }];
  /** An attempt failed and will be retried after `delayMs`. */
  item_retry: [info: FailureInfo & { error: Error; delayMs: number }];
  /** A worker crashed; its supervisor restarts it. */
  worker_crashed: [info: { workerId: number; error: Error }];
  /** A crashed worker was restarted and resumes its partitions. */
  worker_restarted: [info: { workerId: number; restarts: number }];
  /**
   * An item finished for good (emitted only while someone listens). `durationMs` runs from the
   * start of its first attempt to its outcome (retries and backoff included).
   */
  item_done: [
    info: {
      seq: number;
      key: unknown;
      partition: number;
      workerId: number;
      attempts: number;
      durationMs: number;
      outcome: 'ok' | 'failed';
    },
  ];
  /** The low watermark advanced. */
  watermark: [lowWatermark: number];
};

/** Hooks that let supervision and checkpointing observe and steer the engine. */
export interface EngineHooks<T> {
  /** Called when an item's processing finished for good (ok or failed and handled). */
  onItemDone?(entry: Entry<T>): void;
  /** Wraps every attempt (e.g. a circuit breaker). */
  guard?<V>(attempt: () => PromiseLike<V> | V, signal: AbortSignal): PromiseLike<V> | V;
  /** Delay before re-running an item the guard rejected (e.g. breaker open), or undefined to fail it. */
  guardRetryDelay?(error: Error): number | undefined;
  /** A worker reported a crash; the hook owns restarting it (via {@link Engine.reviveWorker}). */
  onWorkerCrash?(workerId: number, error: Error): void;
}

/** Normalized engine configuration. */
export interface EngineConfig<T, R, S> {
  readonly source: StreamSource<T>;
  readonly keyFn: ((item: T) => unknown) | undefined;
  readonly fn: ProcessFn<T, R, S>;
  readonly onError: ErrorHandler<T> | undefined;
  readonly maxWorkers: number;
  readonly strategy: Strategy;
  readonly partitions: number;
  readonly perWorker: number;
  readonly maxInFlight: number;
  readonly timeoutMs: number | undefined;
  readonly attempts: number;
  readonly backoff: Backoff;
  readonly retryOn: (e: Error) => boolean;
  readonly clock: Clock;
  readonly collect: boolean;
  readonly name: string;
  readonly setup: ((ctx: { workerId: number; signal: AbortSignal }) => S | Promise<S>) | undefined;
  readonly teardown: ((state: S, ctx: { workerId: number }) => void | Promise<void>) | undefined;
  /** Maps a source item to its log position when the source is a topic. */
  readonly positionOf?: (item: T) => { partition: number; offset: number } | undefined;
  /** Prefix of idempotency keys. */
  readonly idempotencyPrefix: string;
  /** Partition → worker table (length `partitions`) for `consistent_hash`. */
  readonly partitionOwner: Int32Array;
}

interface Worker<S> {
  readonly id: number;
  readonly queue: LaneQueue<unknown>;
  active: number;
  alive: boolean;
  state: S;
  processed: number;
  failed: number;
  restarts: number;
  scheduling: boolean;
  again: boolean;
  generation: number;
}

const HOLE: unique symbol = Symbol('hole');
const SYNC_YIELD_EVERY = 2048;

class Ctx<S> implements ProcessContext<S> {
  constructor(
    readonly seq: number,
    readonly key: unknown,
    readonly partition: number,
    readonly workerId: number,
    readonly attempt: number,
    readonly signal: AbortSignal,
    readonly state: S,
    readonly offset: number | undefined,
    private readonly prefix: string,
    private readonly perWorker: boolean,
  ) {}

  get idempotencyKey(): string {
    const base =
      this.offset === undefined
        ? `${this.prefix}:${this.seq}`
        : `${this.prefix}:${this.partition}:${this.offset}`;
    return this.perWorker ? `${base}:w${this.workerId}` : base;
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * The pipeline runtime: pulls the source under a bound on items in flight, routes each item to a
 * worker by its key, runs at most one item per key at a time (strict per-key order, also across
 * retries), and keeps other keys flowing while one waits.
 */
export class Engine<T, R, S> {
  readonly events = new TypedEmitter<PipelineEvents>();
  readonly done: Promise<PipelineReport>;
  private resolveDone!: (r: PipelineReport) => void;
  private rejectDone!: (e: unknown) => void;

  private readonly workers: Worker<S>[] = [];
  private readonly tracker = new OffsetTracker();
  private readonly values: (R | typeof HOLE | R[])[] = [];
  private readonly failures: ItemFailure<T>[] = [];
  private readonly broadcastLeft = new Map<number, number>();
  private readonly retryTimers = new Map<Timer, { w: Worker<S>; q: KeyQueue<T>; e: Entry<T> }>();
  private readonly runAbort = new AbortController();
  private readonly startedAtMs: number;
  private readonly startedAt: string;
  private inFlight = 0;
  private peakInFlight = 0;
  private total = 0;
  private ok = 0;
  private failed = 0;
  private retries = 0;
  private cancelled = 0;
  private rr = 0;
  private sourceDone = false;
  private stopping = false;
  private finished = false;
  private stopReason: string | undefined;
  private fatal: unknown;
  private capacityWaiter: (() => void) | undefined;
  private lastWatermark = 0;
  private hooks: EngineHooks<T> = {};

  constructor(private readonly cfg: EngineConfig<T, R, S>) {
    this.done = new Promise<PipelineReport>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // The run's outcome is always observed by whoever awaits it; avoid an unhandled rejection
    // when nobody does.
    this.done.catch(() => {});
    this.startedAtMs = cfg.clock.now();
    this.startedAt = new Date(this.startedAtMs).toISOString();
    for (let i = 0; i < cfg.maxWorkers; i++) {
      this.workers.push({
        id: i,
        queue: new LaneQueue<unknown>(),
        active: 0,
        alive: false,
        state: undefined as S,
        processed: 0,
        failed: 0,
        restarts: 0,
        scheduling: false,
        again: false,
        generation: 0,
      });
    }
  }

  /** Installs hooks; call before {@link start}. */
  setHooks(hooks: EngineHooks<T>): void {
    this.hooks = hooks;
  }

  /** First sequence number not yet finished: every item before it is done. */
  get lowWatermark(): number {
    return this.tracker.low;
  }

  /** Items admitted and not finished. */
  get inFlightCount(): number {
    return this.inFlight;
  }

  /**
   * Starts workers and the source pump. `boot` replaces the default worker start (all workers
   * at once) — supervision uses it to start workers as supervised children.
   */
  async start(signal?: AbortSignal, drainTimeoutMs = 30_000, boot?: () => Promise<void>): Promise<void> {
    if (signal) {
      const onAbort = () => this.stop('aborted', drainTimeoutMs);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.done.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    }
    try {
      if (boot) await boot();
      else await Promise.all(this.workers.map((w) => this.bootWorker(w)));
    } catch (e) {
      this.fail(e);
      return;
    }
    void this.pump();
  }

  /** Number of workers. */
  get workerCount(): number {
    return this.workers.length;
  }

  /** Starts worker `workerId` for the first time (runs `setup`). */
  async startWorker(workerId: number): Promise<void> {
    const w = this.workers[workerId];
    if (!w || w.alive || this.finished) return;
    await this.bootWorker(w);
    this.schedule(w);
  }

  /** Pauses a worker (no new items start on it) without counting a crash. */
  pauseWorker(workerId: number): void {
    const w = this.workers[workerId];
    if (w) w.alive = false;
  }

  /**
   * Stops taking items. Started items finish (up to `drainTimeoutMs`, then their signal is
   * aborted and they are counted as cancelled); queued items are cancelled.
   */
  stop(reason = 'stopped', drainTimeoutMs = 30_000): void {
    if (this.stopping || this.finished) return;
    this.stopping = true;
    this.stopReason = reason;
    this.capacityWaiter?.();
    for (const [timer, { w, q, e }] of this.retryTimers) {
      this.cfg.clock.clearTimeout(timer);
      w.queue.finishHead(q as KeyQueue<unknown>);
      this.abandon(e);
    }
    this.retryTimers.clear();
    for (const w of this.workers) for (const e of w.queue.drainWaiting()) this.abandon(e as Entry<T>);
    if (this.inFlight > 0 && drainTimeoutMs !== Number.POSITIVE_INFINITY) {
      const t = this.cfg.clock.setTimeout(() => {
        if (this.finished) return;
        this.runAbort.abort(new SluiceError('ABORTED', 'The pipeline run was stopped'));
        this.cancelled += this.inFlight;
        this.inFlight = 0;
        this.finish();
      }, drainTimeoutMs);
      this.done.finally(() => this.cfg.clock.clearTimeout(t)).catch(() => {});
    }
    this.checkDone();
  }

  /**
   * Marks a worker crashed: it stops taking items until {@link reviveWorker}; its queued items
   * (and the one it crashed with, first) wait for it. Only used under supervision.
   */
  crashWorker(workerId: number, error: Error): void {
    const w = this.workers[workerId];
    if (!w?.alive) return;
    w.alive = false;
    w.generation++;
    this.events.emit('worker_crashed', { workerId, error });
    const { teardown } = this.cfg;
    if (teardown) Promise.resolve(teardown(w.state, { workerId })).catch(() => {});
    this.hooks.onWorkerCrash?.(workerId, error);
  }

  /** Restarts a crashed worker (runs `setup` again); it resumes its queued items in order. */
  async reviveWorker(workerId: number): Promise<void> {
    const w = this.workers[workerId];
    if (!w || w.alive || this.finished) return;
    await this.bootWorker(w);
    w.restarts++;
    this.events.emit('worker_restarted', { workerId, restarts: w.restarts });
    this.schedule(w);
  }

  /** Fails the whole run (e.g. supervisor gave up). */
  fail(error: unknown): void {
    if (this.finished) return;
    this.fatal = error;
    this.stop(error instanceof Error ? error.message : String(error), 0);
    this.runAbort.abort(error);
    this.cancelled += this.inFlight;
    this.inFlight = 0;
    this.finish();
  }

  /** Results collected so far (input order). */
  collected(): { results: R[]; errors: ItemFailure<T>[] } {
    const results: R[] = [];
    const bc = this.cfg.strategy === 'broadcast';
    for (const v of this.values) {
      if (v === HOLE || v === undefined) continue;
      if (bc) for (const x of v as R[]) results.push(x);
      else results.push(v as R);
    }
    const errors = [...this.failures].sort((a, b) => a.seq - b.seq || a.workerId - b.workerId);
    return { results, errors };
  }

  /** Report of the run so far. */
  report(): PipelineReport {
    const now = this.cfg.clock.now();
    const durationMs = Math.max(0, now - this.startedAtMs);
    const deliveries = this.ok + this.failed;
    const r: PipelineReport = {
      startedAt: this.startedAt,
      finishedAt: new Date(now).toISOString(),
      durationMs,
      total: this.total,
      ok: this.ok,
      failed: this.failed,
      retries: this.retries,
      cancelled: this.cancelled,
      restarts: this.workers.reduce((n, w) => n + w.restarts, 0),
      maxWorkers: this.cfg.maxWorkers,
      strategy: this.cfg.strategy,
      peakInFlight: this.peakInFlight,
      lowWatermark: this.tracker.low,
      itemsPerSecond: durationMs > 0 ? Math.round((deliveries / durationMs) * 1000) : deliveries,
      workers: this.workers.map((w) => ({
        workerId: w.id,
        processed: w.processed,
        failed: w.failed,
        restarts: w.restarts,
      })),
    };
    return this.stopReason === undefined ? r : { ...r, stopReason: this.stopReason };
  }

  private async bootWorker(w: Worker<S>): Promise<void> {
    const { setup } = this.cfg;
    if (setup) w.state = await setup({ workerId: w.id, signal: this.runAbort.signal });
    w.alive = true;
  }

  private async pump(): Promise<void> {
    let it: ReturnType<typeof openSource<T>>;
    try {
      it = openSource(this.cfg.source);
    } catch (e) {
      this.fail(e);
      return;
    }
    let sinceYield = 0;
    try {
      while (!this.stopping) {
        if (this.inFlight >= this.cfg.maxInFlight) {
          await new Promise<void>((r) => {
            this.capacityWaiter = r;
          });
          this.capacityWaiter = undefined;
          continue;
        }
        let r = it.next();
        if (!it.sync || isThenable(r)) r = await r;
        if (r.done) break;
        if (this.stopping) break;
        this.admit(r.value);
        if (it.sync && ++sinceYield >= SYNC_YIELD_EVERY) {
          sinceYield = 0;
          await new Promise<void>((res) => setImmediate(res));
        }
      }
    } catch (e) {
      this.fail(
        new SluiceError('SOURCE_FAILED', `The pipeline source failed: ${toError(e).message}`, { cause: e }),
      );
      return;
    } finally {
      if (this.stopping) {
        try {
          it.return?.();
        } catch {
          // ignore errors while closing an abandoned source
        }
      }
    }
    this.sourceDone = true;
    this.checkDone();
  }

  private admit(item: T): void {
    const cfg = this.cfg;
    const seq = this.tracker.admit();
    this.total++;
    let key: unknown;
    let partition: number;
    const pos = cfg.positionOf?.(item);
    try {
      key = cfg.keyFn ? cfg.keyFn(item) : seq;
    } catch (e) {
      // A key that cannot be computed is a failed item; it never blocks other keys.
      this.inFlight++;
      if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
      const entry: Entry<T> = {
        seq,
        item,
        key: undefined,
        partition: pos?.partition ?? 0,
        offset: pos?.offset,
        attempts: 0,
      };
      this.failDirectly(entry, e);
      return;
    }
    if (pos) partition = pos.partition;
    else if (cfg.keyFn)
      partition = partitionForKey(typeof key === 'string' ? key : String(key), cfg.partitions);
    else partition = seq % cfg.partitions;
    this.inFlight++;
    if (this.inFlight > this.peakInFlight) this.peakInFlight = this.inFlight;
    if (cfg.collect) this.values.push(HOLE);

    if (cfg.strategy === 'broadcast') {
      this.broadcastLeft.set(seq, this.workers.length);
      if (cfg.collect) this.values[seq] = [];
      for (const w of this.workers) {
        this.enqueue(w, { seq, item, key, partition, offset: pos?.offset, attempts: 0 });
      }
      return;
    }
    let w: Worker<S>;
    if (cfg.strategy === 'round_robin') {
      w = this.workers[this.rr]!;
      this.rr = this.rr + 1 === this.workers.length ? 0 : this.rr + 1;
    } else {
      w = this.workers[cfg.partitionOwner[partition % cfg.partitionOwner.length]!]!;
    }
    this.enqueue(w, { seq, item, key, partition, offset: pos?.offset, attempts: 0 });
  }

  private enqueue(w: Worker<S>, e: Entry<T>): void {
    w.queue.enqueue(e as Entry<unknown>);
    this.schedule(w);
  }

  private schedule(w: Worker<S>): void {
    if (w.scheduling) {
      w.again = true;
      return;
    }
    w.scheduling = true;
    try {
      do {
        w.again = false;
        while (w.alive && !this.finished && w.active < this.cfg.perWorker) {
          const q = w.queue.take() as KeyQueue<T> | undefined;
          if (q === undefined) break;
          this.runHead(w, q);
        }
      } while (w.again);
    } finally {
      w.scheduling = false;
    }
  }

  private runHead(w: Worker<S>, q: KeyQueue<T>): void {
    const cfg = this.cfg;
    const e = q.head;
    e.attempts++;
    if (e.firstStartedAt === undefined) e.firstStartedAt = cfg.clock.now();
    w.active++;
    const generation = w.generation;
    let signal = this.runAbort.signal;
    let timer: Timer | undefined;
    let settled = false;
    const settle = (ok: boolean, value: unknown) => {
      if (settled) return;
      settled = true;
      if (timer !== undefined) cfg.clock.clearTimeout(timer);
      this.settle(w, q, e, ok, value, generation);
    };
    if (cfg.timeoutMs !== undefined) {
      const ctrl = new AbortController();
      const parent = this.runAbort.signal;
      if (parent.aborted) ctrl.abort(parent.reason);
      else parent.addEventListener('abort', () => ctrl.abort(parent.reason), { once: true });
      signal = ctrl.signal;
      const ms = cfg.timeoutMs;
      timer = cfg.clock.setTimeout(() => {
        const err = new SluiceError('TIMEOUT', `Item ${e.seq} timed out after ${ms} ms`, {
          retryable: true,
          context: { seq: e.seq, timeoutMs: ms },
        });
        ctrl.abort(err);
        timer = undefined;
        settle(false, err);
      }, ms);
    }
    const ctx = new Ctx<S>(
      e.seq,
      e.key,
      e.partition,
      w.id,
      e.attempts,
      signal,
      w.state,
      e.offset,
      cfg.idempotencyPrefix,
      cfg.strategy === 'broadcast',
    );
    let out: unknown;
    try {
      const attempt = () => cfg.fn(e.item, ctx);
      out = this.hooks.guard ? this.hooks.guard(attempt, signal) : attempt();
    } catch (err) {
      settle(false, err);
      return;
    }
    if (isThenable(out)) {
      out.then(
        (v) => settle(true, v),
        (err) => settle(false, err),
      );
    } else {
      settle(true, out);
    }
  }

  private settle(
    w: Worker<S>,
    q: KeyQueue<T>,
    e: Entry<T>,
    ok: boolean,
    value: unknown,
    generation: number,
  ): void {
    if (this.finished) return;
    w.active--;
    if (ok && isResult(value)) {
      if (value.ok) value = value.value;
      else {
        ok = false;
        value = value.error;
      }
    }
    if (ok) {
      w.processed++;
      this.finishEntry(w, q, e, true, value);
      this.schedule(w);
      return;
    }
    const error = toError(value);
    const code = (error as { code?: unknown }).code;
    if (code === 'WORKER_CRASHED' && !this.stopping && this.hooks.onWorkerCrash !== undefined) {
      // The worker died with this item: the item is not charged an attempt and runs again,
      // first in its key, once the worker is back.
      e.attempts--;
      w.queue.requeueHead(q as KeyQueue<unknown>);
      if (generation === w.generation) this.crashWorker(w.id, error);
      return;
    }
    const guardDelay = code === 'CIRCUIT_OPEN' ? this.hooks.guardRetryDelay?.(error) : undefined;
    if (guardDelay !== undefined && !this.stopping) {
      e.attempts--;
      this.retryLater(w, q, e, guardDelay);
      this.schedule(w);
      return;
    }
    const retryable = !isUnrecoverable(error) && this.cfg.retryOn(error);
    if (retryable && e.attempts < this.cfg.attempts && !this.stopping) {
      const prev = (e as Entry<T> & { lastDelay?: number }).lastDelay ?? 0;
      const delay = Math.max(0, this.cfg.backoff.next(e.attempts, prev));
      (e as Entry<T> & { lastDelay?: number }).lastDelay = delay;
      this.retries++;
      this.events.emit('item_retry', { ...this.info(w, e), error, delayMs: delay });
      this.retryLater(w, q, e, delay);
      this.schedule(w);
      return;
    }
    w.failed++;
    this.recordFailure(w, q, e, error);
    this.schedule(w);
  }

  private retryLater(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, delay: number): void {
    const timer = this.cfg.clock.setTimeout(() => {
      this.retryTimers.delete(timer);
      if (this.finished) return;
      w.queue.requeueHead(q as KeyQueue<unknown>);
      this.schedule(w);
    }, delay);
    this.retryTimers.set(timer, { w, q, e });
  }

  private info(w: Worker<S>, e: Entry<T>): FailureInfo {
    const info: FailureInfo = {
      seq: e.seq,
      key: e.key,
      partition: e.partition,
      workerId: w.id,
      attempts: e.attempts,
    };
    return e.offset === undefined ? info : { ...info, offset: e.offset };
  }

  private recordFailure(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, error: Error): void {
    const info = this.info(w, e);
    this.events.emit('item_failed', { ...info, error });
    const done = () => {
      if (this.cfg.collect) this.failures.push({ ...info, item: e.item, error });
      this.finishEntry(w, q, e, false, error);
      this.schedule(w);
    };
    const { onError } = this.cfg;
    if (!onError) {
      done();
      return;
    }
    let r: unknown;
    try {
      r = onError(error, e.item, info);
    } catch (handlerError) {
      this.fail(new SluiceError('ERROR_HANDLER_FAILED', 'onError threw', { cause: handlerError }));
      return;
    }
    if (isThenable(r)) {
      // The key stays blocked until the handler finished (e.g. the item is in the DLQ), so a
      // checkpoint never passes an item whose failure was not recorded.
      r.then(done, (handlerError) =>
        this.fail(new SluiceError('ERROR_HANDLER_FAILED', 'onError rejected', { cause: handlerError })),
      );
    } else done();
  }

  private failDirectly(e: Entry<T>, err: unknown): void {
    const error = toError(err);
    const info: FailureInfo = {
      seq: e.seq,
      key: undefined,
      partition: e.partition,
      workerId: -1,
      attempts: 0,
    };
    this.failed++;
    if (this.cfg.collect) {
      this.values.push(HOLE);
      this.failures.push({ ...info, item: e.item, error });
    }
    this.events.emit('item_failed', { ...info, error });
    const finish = () => this.completeSeq(e);
    const r = this.cfg.onError?.(error, e.item, info);
    if (isThenable(r)) r.then(finish, (h) => this.fail(h));
    else finish();
  }

  private finishEntry(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, ok: boolean, value: unknown): void {
    w.queue.finishHead(q as KeyQueue<unknown>);
    if (this.events.listenerCount('item_done') > 0) {
      this.events.emit('item_done', {
        seq: e.seq,
        key: e.key,
        partition: e.partition,
        workerId: w.id,
        attempts: e.attempts,
        durationMs: this.cfg.clock.now() - (e.firstStartedAt ?? this.cfg.clock.now()),
        outcome: ok ? 'ok' : 'failed',
      });
    }
    if (ok) this.ok++;
    else this.failed++;
    if (this.cfg.strategy === 'broadcast') {
      if (ok && this.cfg.collect) (this.values[e.seq] as R[]).push(value as R);
      const left = (this.broadcastLeft.get(e.seq) ?? 1) - 1;
      if (left > 0) {
        this.broadcastLeft.set(e.seq, left);
        return;
      }
      this.broadcastLeft.delete(e.seq);
    } else if (ok && this.cfg.collect) {
      this.values[e.seq] = value as R;
    }
    this.completeSeq(e);
  }

  private completeSeq(e: Entry<T>): void {
    const before = this.tracker.low;
    const low = this.tracker.complete(e.seq);
    this.hooks.onItemDone?.(e);
    this.inFlight--;
    if (low !== before && low !== this.lastWatermark) {
      this.lastWatermark = low;
      if (this.events.listenerCount('watermark') > 0) this.events.emit('watermark', low);
    }
    if (this.capacityWaiter !== undefined && this.inFlight < this.cfg.maxInFlight) this.capacityWaiter();
    this.checkDone();
  }

  private abandon(e: Entry<T>): void {
    if (this.cfg.strategy === 'broadcast') {
      this.cancelled++;
      const left = (this.broadcastLeft.get(e.seq) ?? 1) - 1;
      if (left > 0) {
        this.broadcastLeft.set(e.seq, left);
        return;
      }
      this.broadcastLeft.delete(e.seq);
    } else {
      this.cancelled++;
    }
    this.inFlight--;
  }

  private checkDone(): void {
    if (this.finished || this.inFlight > 0) return;
    if (this.sourceDone || this.stopping) this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.capacityWaiter?.();
    for (const timer of this.retryTimers.keys()) this.cfg.clock.clearTimeout(timer);
    this.retryTimers.clear();
    const { teardown } = this.cfg;
    const teardowns = teardown
      ? this.workers.filter((w) => w.alive).map((w) => Promise.resolve(teardown(w.state, { workerId: w.id })))
      : [];
    for (const w of this.workers) w.alive = false;
    Promise.allSettled(teardowns).then(() => {
      if (this.fatal !== undefined) this.rejectDone(this.fatal);
      else this.resolveDone(this.report());
    });
  }
}

/** Parses a duration option or returns undefined. */
export function optionalDuration(v: unknown, field: string): number | undefined {
  return v === undefined ? undefined : parseDuration(v, field);
}
