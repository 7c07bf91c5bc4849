// The pipeline engine: admits source items, routes them by key to workers and carries out attempt outcomes.

import { SluiceError, toError } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { Dispatch, type DispatchHost } from './Dispatch.ts';
import type { EngineConfig, EngineHooks, PipelineEvents, RunState } from './engineTypes.ts';
import { callOnError, failureInfo } from './failure.ts';
import type { Pauser } from './ItemContext.ts';
import { type KeyView, keyView } from './keyView.ts';
import { type Entry, type KeyQueue, laneRules } from './Lane.ts';
import { OffsetTracker } from './OffsetTracker.ts';
import { RunLedger } from './RunLedger.ts';
import { isResult } from './result.ts';
import { KeyFailure, routeItem } from './route.ts';
import { decideFailure } from './runAttempt.ts';
import { type PumpHost, SourcePump } from './SourcePump.ts';
import { openSource } from './source.ts';
import type { FailureInfo, ItemFailure, PipelineReport } from './types.ts';
import type { Worker } from './Worker.ts';
import { WorkerSet, type WorkerSetHost } from './WorkerSet.ts';

export type { EngineConfig, EngineHooks, PipelineEvents, RunState } from './engineTypes.ts';

/**
 * The pipeline runtime: pulls the source under a bound on items in flight, routes each item to a
 * worker by its key, runs at most one item per key at a time (strict per-key order, also across
 * retries; `perKey.concurrency` above 1 lifts it), and keeps other keys flowing while one waits.
 * Where items go between attempts (limits, retries, parks) is {@link Dispatch}'s.
 */
export class Engine<T, R, S> implements DispatchHost<T, S>, PumpHost<T> {
  readonly events = new TypedEmitter<PipelineEvents>();
  readonly done: Promise<PipelineReport>;
  hooks: EngineHooks<T> = {};
  private resolveDone!: (r: PipelineReport) => void;
  private rejectDone!: (e: unknown) => void;
  private state: RunState = { phase: 'running', sourceDone: false };
  /** The workers (supervision starts, pauses and revives them through it). */
  readonly workers: WorkerSet<S>;
  private readonly tracker = new OffsetTracker();
  private readonly ledger: RunLedger<T, R>;
  private readonly dispatch: Dispatch<T, S>;
  private readonly runAbort = new AbortController();
  private readonly startedAtMs: number;
  private readonly failFn = (e: unknown) => this.fail(e);
  private pump: SourcePump<T> | undefined;
  private drainTimeoutMs = 30_000;
  private inFlight = 0;
  private rr = 0;
  private lastWatermark = 0;

  constructor(readonly cfg: EngineConfig<T, R, S>) {
    this.done = new Promise<PipelineReport>((res, rej) => {
      this.resolveDone = res;
      this.rejectDone = rej;
    });
    // The run's outcome is always observed by whoever awaits it; avoid an unhandled rejection
    // when nobody does.
    this.done.catch(() => {});
    this.startedAtMs = cfg.clock.now();
    this.ledger = new RunLedger(cfg.strategy, cfg.collect, this.startedAtMs);
    this.workers = new WorkerSet<S>(cfg.maxWorkers, this as WorkerSetHost<S>, laneRules(cfg.flow, cfg.clock));
    this.dispatch = new Dispatch<T, S>(this);
  }

  /** The run's signal: aborted when the run is cancelled (given to every attempt). */
  get runSignal(): AbortSignal {
    return this.runAbort.signal;
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

  /** Number of workers. */
  get workerCount(): number {
    return this.workers.count;
  }

  /** Where the run is (see {@link RunState}). */
  get runState(): RunState {
    return this.state;
  }

  /**
   * Starts workers and the source pump. `boot` replaces the default worker start (all workers
   * at once) — supervision uses it to start workers as supervised children.
   */
  async start(signal?: AbortSignal, drainTimeoutMs = 30_000, boot?: () => Promise<void>): Promise<void> {
    this.drainTimeoutMs = drainTimeoutMs;
    if (signal) {
      const onAbort = () => this.stop('aborted', drainTimeoutMs);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.done.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    }
    try {
      if (boot) await boot();
      else await Promise.all(this.workers.list.map((w) => this.workers.boot(w)));
      if (this.state.phase !== 'running') return;
      this.pump = new SourcePump(openSource(this.cfg.source), this);
    } catch (e) {
      this.fail(e);
      return;
    }
    this.pump.start();
  }

  /**
   * Stops taking items. Started items finish (up to `drainTimeoutMs`, then their signal is
   * aborted and they are counted as cancelled); queued items are cancelled. With `error`, the
   * run rejects with it once started items finished (a run-level error that loses nothing done).
   */
  stop(reason = 'stopped', drainTimeoutMs = 30_000, error?: unknown): void {
    if (this.state.phase !== 'running') return;
    this.state =
      error === undefined
        ? { phase: 'stopping', reason }
        : { phase: 'stopping', reason, error: { cause: error } };
    this.pump?.close();
    for (const e of this.dispatch.cancelAll()) this.abandon(e);
    for (const w of this.workers.list) for (const e of w.queue.drainWaiting()) this.abandon(e as Entry<T>);
    if (this.inFlight > 0 && drainTimeoutMs !== Number.POSITIVE_INFINITY) {
      const t = this.cfg.clock.setTimeout(() => {
        if (this.isOver()) return;
        this.runAbort.abort(new SluiceError('ABORTED', 'The pipeline run was stopped'));
        this.cancelAll();
        this.finish();
      }, drainTimeoutMs);
      this.done.finally(() => this.cfg.clock.clearTimeout(t)).catch(() => {});
    }
    this.checkDone();
  }

  /** @internal {@link WorkerSetHost}: runs the next item of a ready key. */
  runHead(w: Worker<S>, q: KeyQueue<unknown>): void {
    this.dispatch.start(w, q as KeyQueue<T>);
  }

  /** @internal {@link AttemptHost}: where `ctx.pause` parks keys. */
  get pauser(): Pauser {
    return this.dispatch;
  }

  /** @internal {@link DispatchHost}: the run still takes attempts. */
  isRunning(): boolean {
    return this.state.phase === 'running';
  }

  /** @internal {@link WorkerSetHost}: a worker crashed; its supervisor restarts it. */
  workerCrashed(workerId: number, error: Error): void {
    this.hooks.onWorkerCrash?.(workerId, error);
  }

  /** Fails the whole run now (e.g. supervisor gave up): started items are aborted and cancelled. */
  fail(error: unknown): void {
    if (this.isOver()) return;
    const reason = error instanceof Error ? error.message : String(error);
    if (this.state.phase === 'running') this.stop(reason, 0, error);
    if (!this.runAbort.signal.aborted) this.runAbort.abort(error);
    if (this.isOver()) return;
    this.state = { phase: 'stopping', reason, error: { cause: error } };
    this.cancelAll();
    this.finish();
  }

  /** Results collected so far (input order). */
  collected(): { results: R[]; errors: ItemFailure<T>[] } {
    return this.ledger.collected();
  }

  /** Report of the run so far. */
  report(): PipelineReport {
    const s = this.state;
    const reason = s.phase === 'running' ? undefined : s.reason;
    return this.ledger.report(
      this.cfg.clock.now(),
      this.workers.list as Worker<unknown>[],
      this.tracker,
      reason,
    );
  }

  /** @internal {@link PumpHost}: slots left under `maxInFlight`. */
  freeSlots(): number {
    return this.state.phase === 'running' ? this.cfg.maxInFlight - this.inFlight : 0;
  }

  /** @internal {@link PumpHost}: the source is exhausted. */
  ended(): void {
    if (this.state.phase === 'running') this.state = { phase: 'running', sourceDone: true };
    this.checkDone();
  }

  /** @internal {@link PumpHost}: the source failed. */
  failed(error: SluiceError): void {
    this.fail(error);
  }

  /**
   * @internal {@link PumpHost}: takes the next source item, computes and checks its key and
   * routes it. A key function that throws fails that item only; a key of the wrong type is a
   * programming error that fails the run with `CONFIG_INVALID` once started items finished.
   */
  admit(item: T): void {
    const cfg = this.cfg;
    const e = routeItem(cfg as EngineConfig<T, unknown, unknown>, item, this.tracker.admitted);
    if (e instanceof KeyFailure) {
      if (e.threw) this.failUnrouted(item, e.value);
      else {
        const error = e.toError(this.tracker.admitted);
        this.stop(error.message, this.drainTimeoutMs, error);
      }
      return;
    }
    this.tracker.admit();
    this.takeSlot();
    if (cfg.strategy === 'broadcast') {
      this.ledger.admitted(e.seq, this.workers.count);
      for (const w of this.workers.list) this.enqueue(w, { ...e });
      return;
    }
    this.ledger.admitted(e.seq, 1);
    let w: Worker<S>;
    if (cfg.strategy === 'round_robin') {
      w = this.workers.list[this.rr]!;
      this.rr = this.rr + 1 === this.workers.count ? 0 : this.rr + 1;
    } else w = this.workers.list[cfg.partitionOwner[e.slot]!]!;
    this.enqueue(w, e);
  }

  /** @internal {@link AttemptHost}: the outcome of one attempt. */
  settle(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, ok: boolean, value: unknown, generation: number): void {
    if (this.isOver()) return;
    w.active--;
    if (e.permits !== undefined) this.dispatch.released(e);
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
      this.workers.fill(w);
      return;
    }
    const error = toError(value);
    const supervised = this.hooks.onWorkerCrash !== undefined;
    const outcome = decideFailure(this.cfg, this.hooks, e, error, supervised, this.state.phase !== 'running');
    switch (outcome.kind) {
      case 'crash':
        e.attempts--;
        this.dispatch.putBack(w, q, e);
        if (generation === w.generation) this.workers.crash(w.id, error);
        return;
      case 'park':
        e.attempts--;
        this.dispatch.park(w, q, e, outcome.delayMs, error);
        break;
      case 'retry':
        e.lastDelayMs = outcome.delayMs;
        this.ledger.retries++;
        this.events.emit('item_retry', {
          ...failureInfo(w.id, e as Entry<unknown>),
          error,
          delayMs: outcome.delayMs,
        });
        this.dispatch.retryLater(w, q, e, outcome.delayMs, error);
        break;
      case 'fail':
        w.failed++;
        this.recordFailure(w, q, e, error);
        break;
    }
    this.workers.fill(w);
  }

  /** @internal The run is finished or failed. */
  isOver(): boolean {
    return this.state.phase === 'finished' || this.state.phase === 'failed';
  }

  private takeSlot(): void {
    this.inFlight++;
    if (this.inFlight > this.ledger.peakInFlight) this.ledger.peakInFlight = this.inFlight;
  }

  private enqueue(w: Worker<S>, e: Entry<T>): void {
    w.queue.enqueue(e as Entry<unknown>);
    this.workers.fill(w);
  }

  /** @internal Waiting keys (why, since and until when) and the keys holding most items. */
  keyView(): KeyView {
    return keyView(this.dispatch.waiting(), this.workers.list);
  }

  /** Hands a failed item to `onError`; its key stays blocked until the handler settled. */
  private recordFailure(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, error: Error): void {
    const info = failureInfo(w.id, e as Entry<unknown>);
    this.events.emit('item_failed', { ...info, error });
    const done = () => {
      this.ledger.recordFailure({ ...info, item: e.item, error });
      this.finishEntry(w, q, e, false, error);
      this.workers.fill(w);
    };
    callOnError(this.cfg.onError, error, e.item, info, done, this.failFn);
  }

  /** Fails an item whose key function threw; it never reaches a worker. */
  private failUnrouted(item: T, err: unknown): void {
    const error = toError(err);
    const seq = this.tracker.admit();
    const pos = this.cfg.positionOf?.(item);
    const partition = pos?.partition ?? 0;
    const entry: Entry<T> = { seq, item, key: undefined, partition, offset: pos?.offset, attempts: 0 };
    const info: FailureInfo = { seq, key: undefined, partition, workerId: -1, attempts: 0 };
    this.takeSlot();
    this.ledger.failedBeforeRouting({ ...info, item, error });
    this.events.emit('item_failed', { ...info, error });
    callOnError(this.cfg.onError, error, item, info, () => this.completeSeq(entry), this.failFn);
  }

  private finishEntry(w: Worker<S>, q: KeyQueue<T>, e: Entry<T>, ok: boolean, value: unknown): void {
    this.dispatch.finish(w, q);
    if (this.events.listenerCount('item_done') > 0) {
      const now = this.cfg.clock.now();
      this.events.emit('item_done', {
        seq: e.seq,
        key: e.key,
        partition: e.partition,
        workerId: w.id,
        attempts: e.attempts,
        durationMs: now - (e.firstStartedAt ?? now),
        outcome: ok ? 'ok' : 'failed',
      });
    }
    if (this.ledger.delivered(e.seq, ok, value)) this.completeSeq(e);
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
    this.pump?.wake();
    this.checkDone();
  }

  /** @internal {@link DispatchHost}: an item dropped by a stop. */
  abandon(e: Entry<T>): void {
    if (this.ledger.abandoned(e.seq)) this.inFlight--;
  }

  private cancelAll(): void {
    this.ledger.cancelled += this.inFlight;
    this.inFlight = 0;
  }

  /** @internal {@link DispatchHost}: settles the run when nothing is left in flight. */
  checkDone(): void {
    if (this.isOver() || this.inFlight > 0) return;
    const s = this.state;
    if ((s.phase === 'running' && s.sourceDone) || s.phase === 'stopping') this.finish();
  }

  /** Decides the outcome, tears workers down, then settles {@link done}. */
  private finish(): void {
    const s = this.state;
    if (s.phase === 'finished' || s.phase === 'failed') return;
    this.state =
      s.phase === 'stopping' && s.error !== undefined
        ? { phase: 'failed', reason: s.reason, error: s.error.cause }
        : { phase: 'finished', reason: s.phase === 'stopping' ? s.reason : undefined };
    this.pump?.close();
    this.dispatch.close();
    this.workers.teardownAll().then(() => {
      const end = this.state;
      if (end.phase === 'failed') this.rejectDone(end.error);
      else this.resolveDone(this.report());
    });
  }
}
