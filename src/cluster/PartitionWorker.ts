import type { Lease, LogEvent } from '../backend/Backend.ts';
import type { Timer } from '../core/Clock.ts';
import { isSluiceError, SluiceError } from '../core/errors.ts';
import type { ResolvedRunnerOptions, RunnerEventContext, RunnerHandlerContext } from './runnerOptions.ts';

/**
 * Lifecycle of one owned partition: `running` (reading and processing), `draining` (finishing the
 * in-flight batch before a release or stop), `stopped` (drained; offsets committed) or `lost`
 * (lease lost or commit fenced: nothing more is committed).
 */
export type PartitionWorkerState = 'running' | 'draining' | 'stopped' | 'lost';

/** Why a partition was lost. */
export type PartitionLossReason = 'fenced' | 'lease_lost' | 'error';

/** What a {@link PartitionWorker} reports to its runner. */
export interface PartitionWorkerHost {
  committed(worker: PartitionWorker<unknown>, offset: number, count: number): void;
  lost(worker: PartitionWorker<unknown>, reason: PartitionLossReason, error?: unknown): void;
  error(worker: PartitionWorker<unknown>, during: string, error: unknown): void;
}

/**
 * Processes one owned partition: reads batches from the committed offset, runs the handler on
 * each event in offset order, commits after each batch (fenced by the partition lease when there
 * is one). A failed batch commits the events that succeeded and is retried after a backoff.
 * @internal Used by {@link PartitionedRunner}.
 */
export class PartitionWorker<T> {
  state: PartitionWorkerState = 'running';
  /** The lease on the partition (`undefined` in fixed mode); updated by the runner on renewal. */
  lease: Lease | undefined;
  /** Next offset to process (= committed offset once a batch is committed). */
  offset: number;
  /** Events handled successfully (including ones whose commit was later fenced). */
  handled = 0;
  /** The commit being written, if any (settles, never rejects). */
  commitInFlight: Promise<void> | undefined;
  /** Resolves when the worker's loop has exited. */
  readonly done: Promise<void>;
  private readonly handlerAbort = new AbortController();
  private wakeUp: (() => void) | undefined;
  private readonly ctx: RunnerHandlerContext;

  constructor(
    readonly partition: number,
    lease: Lease | undefined,
    offset: number,
    private readonly opts: ResolvedRunnerOptions<T>,
    private readonly host: PartitionWorkerHost,
  ) {
    this.lease = lease;
    this.offset = offset;
    this.ctx = {
      partition,
      fencingToken: lease?.fencingToken ?? 0,
      nodeName: opts.nodeName,
      signal: this.handlerAbort.signal,
    };
    this.done = this.loop().catch((e: unknown) => {
      this.host.error(this as PartitionWorker<unknown>, 'loop', e);
      if (this.state === 'running' || this.state === 'draining') this.state = 'stopped';
    });
  }

  /** The fencing token processed under (0 in fixed mode). */
  get fencingToken(): number {
    return this.lease?.fencingToken ?? 0;
  }

  /** Finish the in-flight batch, commit it, then stop. */
  drain(): void {
    if (this.state !== 'running') return;
    this.state = 'draining';
    this.wake();
  }

  /** Stop at once without committing anything more (the lease is gone). */
  lose(): void {
    if (this.state === 'lost' || this.state === 'stopped') return;
    this.state = 'lost';
    this.handlerAbort.abort(new SluiceError('LEASE_LOST', `Partition ${this.partition} was lost`));
    this.wake();
  }

  /** Aborts in-flight handlers (used when a drain takes longer than `shutdownTimeout`); what finished is still committed. */
  forceStop(): void {
    if (this.state === 'running') this.state = 'draining';
    this.handlerAbort.abort(new SluiceError('ABORTED', `Partition ${this.partition} is shutting down`));
    this.wake();
  }

  /** Wakes an idle wait (new events were appended). */
  wake(): void {
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private async loop(): Promise<void> {
    const { backend, topic, batchSize, pollIntervalMs, retryBackoff, clock } = this.opts;
    let failures = 0;
    let delay = 0;
    while (this.state === 'running') {
      const lease = this.lease;
      if (lease !== undefined && clock.now() >= lease.expiresAt) {
        // Not renewed in time: process nothing until the runner renews or drops the lease.
        await this.pause(pollIntervalMs);
        continue;
      }
      let events: LogEvent<T>[];
      try {
        events = (await backend.read(topic, this.partition, this.offset, batchSize)) as LogEvent<T>[];
      } catch (e) {
        if (this.state !== 'running') break;
        this.host.error(this as PartitionWorker<unknown>, 'read', e);
        failures++;
        delay = retryBackoff.next(failures, delay);
        await this.pause(delay);
        continue;
      }
      if (events.length === 0) {
        await this.pause(pollIntervalMs);
        continue;
      }
      const { count, error } = await this.process(events);
      if (count > 0 && !(await this.commit(this.offset + count, count))) break;
      if (error !== undefined) {
        if (this.state !== 'running') break;
        this.host.error(this as PartitionWorker<unknown>, 'handler', error);
        failures++;
        delay = retryBackoff.next(failures, delay);
        await this.pause(delay);
      } else {
        failures = 0;
        delay = 0;
      }
    }
    if (this.state === 'draining') this.state = 'stopped';
  }

  /** Runs the handler over a batch; returns how many leading events succeeded and the first error. */
  private async process(events: readonly LogEvent<T>[]): Promise<{ count: number; error?: unknown }> {
    const { handler, batchHandler, group, topic } = this.opts;
    if (batchHandler !== undefined) {
      try {
        await batchHandler(events, this.ctx);
        this.handled += events.length;
        return { count: events.length };
      } catch (error) {
        return { count: 0, error };
      }
    }
    let count = 0;
    for (const event of events) {
      if (this.state === 'lost' || this.handlerAbort.signal.aborted) break;
      const ctx: RunnerEventContext = {
        ...this.ctx,
        offset: event.offset,
        idempotencyKey: `${group}:${topic}:${this.partition}:${event.offset}`,
      };
      try {
        await handler!(event, ctx);
      } catch (error) {
        return { count, error };
      }
      count++;
      this.handled++;
    }
    return { count };
  }

  /** Commits `offset`; retries retryable failures. Returns false when the partition is lost. */
  private async commit(offset: number, count: number): Promise<boolean> {
    const { backend, group, topic, retryBackoff } = this.opts;
    let attempt = 0;
    let delay = 0;
    for (;;) {
      if (this.state === 'lost') return false;
      const lease = this.lease;
      try {
        const pending = backend.commit(
          group,
          topic,
          this.partition,
          offset,
          lease === undefined ? {} : { fence: { lease: lease.name, token: lease.fencingToken } },
        );
        this.commitInFlight = pending.then(
          () => {},
          () => {},
        );
        try {
          await pending;
        } finally {
          this.commitInFlight = undefined;
        }
        this.offset = offset;
        this.host.committed(this as PartitionWorker<unknown>, offset, count);
        return true;
      } catch (e) {
        if (isSluiceError(e) && e.code === 'FENCED') {
          this.host.lost(this as PartitionWorker<unknown>, 'fenced', e);
          return false;
        }
        if (!isSluiceError(e) || !e.retryable || this.handlerAbort.signal.aborted) {
          this.host.error(this as PartitionWorker<unknown>, 'commit', e);
          this.host.lost(this as PartitionWorker<unknown>, 'error', e);
          return false;
        }
        this.host.error(this as PartitionWorker<unknown>, 'commit', e);
        attempt++;
        delay = retryBackoff.next(attempt, delay);
        await this.pause(delay, true);
      }
    }
  }

  /** Waits `ms` (or until woken). With `firm`, a drain does not cut the wait short. */
  private pause(ms: number, firm = false): Promise<void> {
    const { clock } = this.opts;
    return new Promise<void>((resolve) => {
      let timer: Timer | undefined;
      const finish = () => {
        if (timer !== undefined) clock.clearTimeout(timer);
        timer = undefined;
        resolve();
      };
      if (this.state === 'lost' || (!firm && this.state !== 'running')) {
        resolve();
        return;
      }
      timer = clock.setTimeout(() => {
        timer = undefined;
        if (this.wakeUp === finish || this.wakeUp === firmWake) this.wakeUp = undefined;
        resolve();
      }, ms);
      const firmWake = () => {
        if (this.state === 'lost' || this.handlerAbort.signal.aborted) finish();
        else this.wakeUp = firmWake;
      };
      this.wakeUp = firm ? firmWake : finish;
    });
  }
}
