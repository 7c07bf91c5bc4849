// The ThreadPool class: runs a module's default export on worker threads, with a bounded queue, cancellation, crash replacement and drain/force close.
import { availableParallelism } from 'node:os';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { type Clock, systemClock } from '../core/Clock.ts';
import { parseDuration } from '../core/duration.ts';
import { abortError, deserializeError, SluiceError } from '../core/errors.ts';
import { resolveThreadBoot } from './threadBoot.ts';
import type {
  ThreadPoolCloseOptions,
  ThreadPoolOptions,
  ThreadPoolState,
  ThreadPoolStats,
  ThreadRunOptions,
} from './threadPoolTypes.ts';
import { BOOT_KEY, BOOT_SOURCE, type ThreadBoot, type ThreadMessage } from './threadProtocol.ts';
import { type Slot, settleTask, type Task, TaskQueue } from './threadTask.ts';

export type {
  ThreadPoolCloseOptions,
  ThreadPoolOptions,
  ThreadPoolState,
  ThreadPoolStats,
  ThreadRunOptions,
} from './threadPoolTypes.ts';

/**
 * A pool of `worker_threads` for CPU-bound functions. Each thread loads `file` once; `run(arg)`
 * sends `arg` (structured clone) to a free thread and resolves with the function's result.
 *
 * - Errors thrown by the function reject `run` with an equivalent error; `SluiceError` codes
 *   (and `retryable`, `context`) survive the trip.
 * - A thread that dies (`process.exit`, an uncaught error, running out of memory) fails only the
 *   task it was running, with code `WORKER_CRASHED`, and is replaced.
 * - Threads start on demand up to `threads`; idle threads do not keep the process alive.
 *
 * @example
 * ```ts
 * // hash.ts: export default function (input: string) { return expensiveHash(input); }
 * const pool = new ThreadPool<string, string>({ file: new URL('./hash.ts', import.meta.url), threads: 2 });
 * const digests = await Promise.all(inputs.map((s) => pool.run(s)));
 * await pool.close();
 * ```
 */
export class ThreadPool<A = unknown, R = unknown> {
  private readonly boot: ThreadBoot;
  private readonly maxThreads: number;
  private readonly maxQueue: number;
  private readonly idleMs: number | undefined;
  private readonly clock: Clock;
  private readonly resourceLimits: ResourceLimits | undefined;
  private readonly slots = new Set<Slot>();
  private readonly idle: Slot[] = [];
  private readonly queue = new TaskQueue();
  private nextSlotId = 0;
  private lifecycle: ThreadPoolState = 'running';
  private counts = { completed: 0, failed: 0, cancelled: 0, replaced: 0 };
  private drainWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(options: ThreadPoolOptions) {
    this.boot = resolveThreadBoot(options);
    this.maxThreads = options.threads ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    this.idleMs =
      options.idleTimeout === undefined ? undefined : parseDuration(options.idleTimeout, 'idleTimeout');
    this.clock = options.clock ?? systemClock;
    this.resourceLimits = options.resourceLimits;
  }

  /** Current lifecycle state. */
  get state(): ThreadPoolState {
    return this.lifecycle;
  }

  /** Counters: threads, busy, queued, completed, failed, cancelled, replaced. */
  stats(): ThreadPoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.phase.kind === 'busy') busy++;
    return { threads: this.slots.size, busy, queued: this.queue.size, ...this.counts };
  }

  /**
   * Runs the module's function with `arg` on a free thread.
   *
   * @throws SluiceError `CLOSED` after `close()`, `QUEUE_FULL` when `maxQueue` tasks already wait,
   *   `ABORTED` when cancelled, `WORKER_CRASHED` when the thread died while running the task;
   *   otherwise the error the function threw.
   */
  run(arg: A, options: ThreadRunOptions = {}): Promise<R> {
    if (this.lifecycle !== 'running') {
      return Promise.reject(new SluiceError('CLOSED', 'The thread pool is closed'));
    }
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal, 'task'));
    return new Promise<R>((resolve, reject) => {
      const task: Task = {
        arg,
        transferList: options.transferList,
        resolve: resolve as (v: unknown) => void,
        reject,
        signal,
        onAbort: undefined,
        phase: { kind: 'queued' },
      };
      if (signal) {
        task.onAbort = () => this.cancel(task, abortError(signal, 'task'));
        signal.addEventListener('abort', task.onAbort, { once: true });
      }
      const slot = this.idle.pop();
      if (slot !== undefined) {
        this.dispatch(slot, task);
        return;
      }
      if (this.slots.size < this.maxThreads) {
        // This task waits for the new thread: it does not count against maxQueue.
        this.queue.push(task);
        this.spawn();
        return;
      }
      if (this.queue.size - this.startingCount() >= this.maxQueue) {
        settleTask(task);
        reject(new SluiceError('QUEUE_FULL', `The thread pool queue is full (maxQueue ${this.maxQueue})`));
        return;
      }
      this.queue.push(task);
    });
  }

  /**
   * Closes the pool: `run` rejects with `CLOSED` from now on. By default waits for queued and
   * running tasks, then stops the threads; with `force` (or once `timeout` elapses) rejects
   * pending tasks with `CLOSED` and stops the threads at once. Idempotent.
   */
  close(options: ThreadPoolCloseOptions = {}): Promise<void> {
    const timeoutMs = options.timeout === undefined ? undefined : parseDuration(options.timeout, 'timeout');
    if (options.force) {
      this.lifecycle = this.lifecycle === 'closed' ? 'closed' : 'closing';
      return this.forceClose();
    }
    if (this.closing) return this.closing;
    this.lifecycle = 'closing';
    this.closing = (async () => {
      const drained = this.whenDrained();
      if (timeoutMs === undefined) {
        await drained;
      } else {
        const ctrl = new AbortController();
        const timedOut = await Promise.race([
          drained.then(() => false),
          this.clock.sleep(timeoutMs, ctrl.signal).then(
            () => true,
            () => false,
          ),
        ]);
        ctrl.abort();
        if (timedOut) await this.forceClose();
      }
      await this.forceClose();
    })();
    return this.closing;
  }

  private async forceClose(): Promise<void> {
    const closed = new SluiceError('CLOSED', 'The thread pool was closed');
    this.rejectQueued(closed, 'cancelled');
    const exits: Promise<void>[] = [];
    for (const slot of [...this.slots]) {
      if (slot.phase.kind === 'busy') this.fail(slot.phase.task, closed, 'cancelled');
      this.stopSlot(slot);
      exits.push(slot.exited);
    }
    await Promise.all(exits);
    this.lifecycle = 'closed';
    this.notifyDrained();
  }

  /** Rejects every queued task with `err`, counted as `counter`. */
  private rejectQueued(err: unknown, counter: 'cancelled' | 'failed'): void {
    for (let t = this.queue.take(); t !== undefined; t = this.queue.take()) this.fail(t, err, counter);
  }

  /** Settles a task that is not settled yet with a rejection, counted as `counter`. */
  private fail(task: Task, err: unknown, counter: 'cancelled' | 'failed'): void {
    if (task.phase.kind === 'settled') return;
    this.counts[counter]++;
    settleTask(task);
    task.reject(err);
  }

  private startingCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.phase.kind === 'starting') n++;
    return n;
  }

  private whenDrained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private isDrained(): boolean {
    if (this.queue.size > 0) return false;
    for (const s of this.slots) if (s.phase.kind === 'busy') return false;
    return true;
  }

  private notifyDrained(): void {
    if (this.drainWaiters.length === 0 || !this.isDrained()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private spawn(): Slot {
    const worker = new Worker(BOOT_SOURCE, {
      eval: true,
      workerData: { [BOOT_KEY]: this.boot },
      ...(this.resourceLimits ? { resourceLimits: this.resourceLimits } : {}),
    });
    let onExit: () => void = () => {};
    const exited = new Promise<void>((r) => {
      onExit = r;
    });
    const slot: Slot = {
      worker,
      id: this.nextSlotId++,
      phase: { kind: 'starting' },
      lastError: undefined,
      exited,
    };
    this.slots.add(slot);
    worker.on('message', (m: ThreadMessage) => this.onMessage(slot, m));
    worker.on('error', (e) => {
      slot.lastError = e;
    });
    worker.on('exit', (code) => {
      this.onExit(slot, code);
      onExit();
    });
    return slot;
  }

  private onMessage(slot: Slot, m: ThreadMessage): void {
    switch (m.t) {
      case 1:
      case 2: {
        if (slot.phase.kind !== 'busy') return;
        const task = slot.phase.task;
        if (task.phase.kind === 'running') {
          settleTask(task);
          if (m.t === 1) {
            this.counts.completed++;
            task.resolve(m.v);
          } else {
            this.counts.failed++;
            task.reject(deserializeError(m.e));
          }
        }
        this.next(slot);
        return;
      }
      case 0:
        if (slot.phase.kind === 'starting') this.next(slot);
        return;
      case 3:
        this.initFailed(slot, deserializeError(m.e));
        return;
    }
  }

  private initFailed(slot: Slot, cause: unknown): void {
    const err = new SluiceError(
      'WORKER_INIT_FAILED',
      `A pool thread could not load its module: ${messageOf(cause)}`,
      {
        cause,
        context: { file: this.boot.file },
      },
    );
    this.stopSlot(slot);
    // Every thread loads the same module: fail what waits instead of retrying forever.
    const others = [...this.slots].some((s) => s.phase.kind !== 'stopping');
    if (!others) {
      this.rejectQueued(err, 'failed');
      this.notifyDrained();
    }
  }

  private onExit(slot: Slot, code: number): void {
    this.slots.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    const phase = slot.phase;
    if (phase.kind === 'idle' && phase.timer !== undefined) this.clock.clearTimeout(phase.timer);
    slot.phase = { kind: 'stopping' };
    if (phase.kind === 'starting') {
      this.initFailed(slot, slot.lastError ?? new Error(`thread exited with code ${code} while loading`));
    } else if (phase.kind !== 'stopping') {
      if (phase.kind === 'busy') this.fail(phase.task, crashError(slot, code), 'failed');
      if (this.lifecycle === 'running') {
        this.counts.replaced++;
        this.spawn();
      }
    } else if (this.queue.size > 0 && this.lifecycle !== 'closed' && this.slots.size < this.maxThreads) {
      // A thread stopped on purpose (abort, idle) while work waits: start another.
      this.spawn();
    }
    this.notifyDrained();
  }

  /** Gives `slot` the next queued task, or parks it as idle. */
  private next(slot: Slot): void {
    const task = this.queue.take();
    if (task !== undefined) {
      this.dispatch(slot, task);
      return;
    }
    const idle: Slot['phase'] = { kind: 'idle', timer: undefined };
    slot.phase = idle;
    slot.worker.unref();
    this.idle.push(slot);
    if (this.idleMs !== undefined) {
      idle.timer = this.clock.setTimeout(() => {
        idle.timer = undefined;
        if (slot.phase !== idle) return;
        const i = this.idle.indexOf(slot);
        if (i >= 0) this.idle.splice(i, 1);
        this.stopSlot(slot);
      }, this.idleMs);
    }
    this.notifyDrained();
  }

  private dispatch(slot: Slot, task: Task): void {
    if (slot.phase.kind === 'idle' && slot.phase.timer !== undefined)
      this.clock.clearTimeout(slot.phase.timer);
    slot.phase = { kind: 'busy', task };
    task.phase = { kind: 'running', slot };
    slot.worker.ref();
    try {
      slot.worker.postMessage({ a: task.arg }, task.transferList);
    } catch (e) {
      // The argument cannot be cloned: fail this task, keep the thread.
      this.fail(task, e, 'failed');
      this.next(slot);
    }
  }

  private cancel(task: Task, err: SluiceError): void {
    const phase = task.phase;
    if (phase.kind === 'settled') return;
    // A running task cannot be interrupted: stop its thread (replaced on demand).
    if (phase.kind === 'queued') this.queue.forget();
    else this.stopSlot(phase.slot);
    this.fail(task, err, 'cancelled');
    this.notifyDrained();
  }

  private stopSlot(slot: Slot): void {
    const phase = slot.phase;
    if (phase.kind === 'stopping') return;
    if (phase.kind === 'idle' && phase.timer !== undefined) this.clock.clearTimeout(phase.timer);
    slot.phase = { kind: 'stopping' };
    void slot.worker.terminate().catch(() => {});
  }
}

function crashError(slot: Slot, code: number): SluiceError {
  const cause = slot.lastError;
  return new SluiceError(
    'WORKER_CRASHED',
    cause === undefined
      ? `The pool thread exited with code ${code} while running the task`
      : `The pool thread crashed while running the task: ${messageOf(cause)}`,
    { retryable: true, cause, context: { exitCode: code, threadId: slot.worker.threadId } },
  );
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
