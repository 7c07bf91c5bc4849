import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ResourceLimits, type TransferListItem, Worker } from 'node:worker_threads';
import { z } from 'zod';
import { type Clock, systemClock, type Timer } from '../core/Clock.ts';
import { Deque } from '../core/Deque.ts';
import { type Duration, parseDuration } from '../core/duration.ts';
import { abortError, configError, deserializeError, SluiceError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';
import { BOOT_KEY, BOOT_SOURCE, type ThreadBoot, type ThreadMessage } from './threadProtocol.ts';

/** Options of {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /**
   * Module whose default export is the task function `(arg) => result | Promise<result>`:
   * a path (relative to the working directory) or a `file:` URL. `.ts` modules are loaded
   * through tsx.
   */
  file: string | URL;
  /** Maximum number of threads (integer >= 1). Default: `os.availableParallelism()`. */
  threads?: number;
  /**
   * Maximum number of tasks waiting for a busy thread (tasks waiting for a thread that is
   * starting do not count); beyond it `run` rejects with `QUEUE_FULL`. Default: unlimited.
   */
  maxQueue?: number;
  /** An idle thread is stopped after this long (and started again on demand). Default: never. */
  idleTimeout?: Duration;
  /** V8 heap limits per thread; exceeding them crashes only that thread (`WORKER_CRASHED`). */
  resourceLimits?: ResourceLimits;
  /** Clock for `idleTimeout` and `close({ timeout })`. Default: `systemClock`. */
  clock?: Clock;
}

/** Options of {@link ThreadPool.run}. */
export interface ThreadRunOptions {
  /**
   * Cancels the task: a queued task is dropped; a running one has its thread stopped (a thread
   * cannot be interrupted otherwise) and replaced. The promise rejects with `ABORTED`.
   */
  signal?: AbortSignal;
  /** Objects to transfer (not copy) to the thread, e.g. `ArrayBuffer`s inside `arg`. */
  transferList?: readonly TransferListItem[];
}

/** Options of {@link ThreadPool.close}. */
export interface ThreadPoolCloseOptions {
  /** Reject queued and running tasks with `CLOSED` and stop threads now. Default: `false` (drain). */
  force?: boolean;
  /** When draining takes longer than this, close by force. Default: no limit. */
  timeout?: Duration;
}

/** Counters of a {@link ThreadPool}. */
export interface ThreadPoolStats {
  /** Threads alive (starting, idle or busy). */
  readonly threads: number;
  /** Threads running a task. */
  readonly busy: number;
  /** Tasks waiting for a thread. */
  readonly queued: number;
  /** Tasks that returned a value. */
  readonly completed: number;
  /** Tasks that ended with an error (thrown by the function, or the thread crashed). */
  readonly failed: number;
  /** Tasks cancelled through their signal or by a forced close. */
  readonly cancelled: number;
  /** Threads that crashed and were replaced. */
  readonly replaced: number;
}

/** Lifecycle of a {@link ThreadPool}. */
export type ThreadPoolState = 'running' | 'closing' | 'closed';

type TaskState = 'queued' | 'running' | 'settled';

interface Task {
  readonly arg: unknown;
  readonly transferList: readonly TransferListItem[] | undefined;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  state: TaskState;
  slot: Slot | undefined;
}

type SlotState = 'starting' | 'idle' | 'busy' | 'stopping';

interface Slot {
  readonly worker: Worker;
  readonly id: number;
  state: SlotState;
  task: Task | undefined;
  idleTimer: Timer | undefined;
  lastError: unknown;
  readonly exited: Promise<void>;
}

const INT_GE_1 = 'an integer >= 1';
const optionsSchema = z.object({
  file: z.union([z.string().min(1), z.instanceof(URL)], { error: 'a module path or file: URL' }),
  threads: z.number(INT_GE_1).int(INT_GE_1).min(1, INT_GE_1).optional(),
  maxQueue: z
    .number('an integer >= 0 or Infinity')
    .refine(
      (n) => n === Number.POSITIVE_INFINITY || (Number.isInteger(n) && n >= 0),
      'an integer >= 0 or Infinity',
    )
    .optional(),
});

const TS_EXT = /\.(?:ts|mts|cts|tsx)$/;

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
  private readonly queue = new Deque<Task>();
  private queuedCount = 0;
  private nextSlotId = 0;
  private lifecycle: ThreadPoolState = 'running';
  private counts = { completed: 0, failed: 0, cancelled: 0, replaced: 0 };
  private drainWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  constructor(options: ThreadPoolOptions) {
    validate(optionsSchema, options);
    this.maxThreads = options.threads ?? availableParallelism();
    this.maxQueue = options.maxQueue ?? Number.POSITIVE_INFINITY;
    this.idleMs =
      options.idleTimeout === undefined ? undefined : parseDuration(options.idleTimeout, 'idleTimeout');
    this.clock = options.clock ?? systemClock;
    this.resourceLimits = options.resourceLimits;
    const fileUrl = toFileUrl(options.file);
    if (!fileUrl.startsWith('file:') || !existsSync(fileURLToPath(fileUrl))) {
      throw configError('file', 'an existing module file', String(options.file));
    }
    const entry = new URL(`./threadWorker${extname(import.meta.url)}`, import.meta.url).href;
    const needsTs = TS_EXT.test(entry) || TS_EXT.test(fileUrl);
    this.boot = { entry, file: fileUrl, tsx: needsTs ? tsxApiUrl() : null };
  }

  /** Current lifecycle state. */
  get state(): ThreadPoolState {
    return this.lifecycle;
  }

  /** Counters: threads, busy, queued, completed, failed, cancelled, replaced. */
  stats(): ThreadPoolStats {
    let busy = 0;
    for (const s of this.slots) if (s.state === 'busy') busy++;
    return { threads: this.slots.size, busy, queued: this.queuedCount, ...this.counts };
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
        state: 'queued',
        slot: undefined,
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
        this.queuedCount++;
        this.spawn();
        return;
      }
      if (this.queuedCount - this.startingCount() >= this.maxQueue) {
        this.settle(task);
        reject(new SluiceError('QUEUE_FULL', `The thread pool queue is full (maxQueue ${this.maxQueue})`));
        return;
      }
      this.queue.push(task);
      this.queuedCount++;
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
    for (;;) {
      const t = this.queue.shift();
      if (t === undefined) break;
      if (t.state === 'queued') {
        this.queuedCount--;
        this.counts.cancelled++;
        this.settle(t);
        t.reject(closed);
      }
    }
    const exits: Promise<void>[] = [];
    for (const slot of [...this.slots]) {
      const t = slot.task;
      if (t !== undefined && t.state === 'running') {
        this.counts.cancelled++;
        this.settle(t);
        t.reject(closed);
      }
      this.stopSlot(slot);
      exits.push(slot.exited);
    }
    await Promise.all(exits);
    this.lifecycle = 'closed';
    this.notifyDrained();
  }

  private startingCount(): number {
    let n = 0;
    for (const s of this.slots) if (s.state === 'starting') n++;
    return n;
  }

  private whenDrained(): Promise<void> {
    if (this.isDrained()) return Promise.resolve();
    return new Promise<void>((resolve) => this.drainWaiters.push(resolve));
  }

  private isDrained(): boolean {
    if (this.queuedCount > 0) return false;
    for (const s of this.slots) if (s.state === 'busy') return false;
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
      state: 'starting',
      task: undefined,
      idleTimer: undefined,
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
        const task = slot.task;
        slot.task = undefined;
        if (task !== undefined && task.state === 'running') {
          this.settle(task);
          if (m.t === 1) {
            this.counts.completed++;
            task.resolve(m.v);
          } else {
            this.counts.failed++;
            task.reject(deserializeError(m.e));
          }
        }
        if (slot.state === 'busy') this.next(slot);
        return;
      }
      case 0:
        if (slot.state === 'starting') this.next(slot);
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
    const others = [...this.slots].some((s) => s.state !== 'stopping');
    if (!others) {
      for (;;) {
        const t = this.queue.shift();
        if (t === undefined) break;
        if (t.state !== 'queued') continue;
        this.queuedCount--;
        this.counts.failed++;
        this.settle(t);
        t.reject(err);
      }
      this.notifyDrained();
    }
  }

  private onExit(slot: Slot, code: number): void {
    this.slots.delete(slot);
    const i = this.idle.indexOf(slot);
    if (i >= 0) this.idle.splice(i, 1);
    if (slot.idleTimer !== undefined) this.clock.clearTimeout(slot.idleTimer);
    const wasDeliberate = slot.state === 'stopping';
    const wasStarting = slot.state === 'starting';
    const task = slot.task;
    slot.task = undefined;
    if (!wasDeliberate) {
      if (wasStarting) {
        this.initFailed(slot, slot.lastError ?? new Error(`thread exited with code ${code} while loading`));
      } else {
        const cause = slot.lastError;
        if (task !== undefined && task.state === 'running') {
          this.counts.failed++;
          this.settle(task);
          task.reject(
            new SluiceError(
              'WORKER_CRASHED',
              cause === undefined
                ? `The pool thread exited with code ${code} while running the task`
                : `The pool thread crashed while running the task: ${messageOf(cause)}`,
              { retryable: true, cause, context: { exitCode: code, threadId: slot.worker.threadId } },
            ),
          );
        }
        if (this.lifecycle === 'running') {
          this.counts.replaced++;
          this.spawn();
        }
      }
    } else if (this.queuedCount > 0 && this.lifecycle !== 'closed' && this.slots.size < this.maxThreads) {
      // A thread stopped on purpose (abort, idle) while work waits: start another.
      this.spawn();
    }
    this.notifyDrained();
  }

  /** Gives `slot` the next queued task, or parks it as idle. */
  private next(slot: Slot): void {
    for (;;) {
      const task = this.queue.shift();
      if (task === undefined) break;
      if (task.state !== 'queued') continue;
      this.queuedCount--;
      this.dispatch(slot, task);
      return;
    }
    slot.state = 'idle';
    slot.worker.unref();
    this.idle.push(slot);
    if (this.idleMs !== undefined) {
      slot.idleTimer = this.clock.setTimeout(() => {
        slot.idleTimer = undefined;
        if (slot.state !== 'idle') return;
        const i = this.idle.indexOf(slot);
        if (i >= 0) this.idle.splice(i, 1);
        this.stopSlot(slot);
      }, this.idleMs);
    }
    this.notifyDrained();
  }

  private dispatch(slot: Slot, task: Task): void {
    if (slot.idleTimer !== undefined) {
      this.clock.clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
    }
    slot.state = 'busy';
    slot.task = task;
    task.state = 'running';
    task.slot = slot;
    slot.worker.ref();
    try {
      slot.worker.postMessage({ a: task.arg }, task.transferList);
    } catch (e) {
      // The argument cannot be cloned: fail this task, keep the thread.
      slot.task = undefined;
      this.counts.failed++;
      this.settle(task);
      task.reject(e);
      this.next(slot);
    }
  }

  private cancel(task: Task, err: SluiceError): void {
    if (task.state === 'settled') return;
    this.counts.cancelled++;
    if (task.state === 'queued') {
      this.queuedCount--;
    } else if (task.slot !== undefined) {
      // A running task cannot be interrupted: stop its thread (replaced on demand).
      const slot = task.slot;
      slot.task = undefined;
      this.stopSlot(slot);
    }
    this.settle(task);
    task.reject(err);
    this.notifyDrained();
  }

  private settle(task: Task): void {
    task.state = 'settled';
    task.slot = undefined;
    if (task.onAbort !== undefined) {
      task.signal?.removeEventListener('abort', task.onAbort);
      task.onAbort = undefined;
    }
  }

  private stopSlot(slot: Slot): void {
    if (slot.state === 'stopping') return;
    slot.state = 'stopping';
    if (slot.idleTimer !== undefined) {
      this.clock.clearTimeout(slot.idleTimer);
      slot.idleTimer = undefined;
    }
    void slot.worker.terminate().catch(() => {});
  }
}

function toFileUrl(file: string | URL): string {
  if (file instanceof URL) return file.href;
  if (file.startsWith('file:')) return new URL(file).href;
  return pathToFileURL(resolvePath(file)).href;
}

function extname(url: string): string {
  const m = /\.[cm]?[jt]s$/.exec(new URL(url).pathname);
  return m ? m[0] : '.js';
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

let tsxUrl: string | undefined;
/** Absolute URL of `tsx/esm/api`, resolved from this package. */
function tsxApiUrl(): string {
  if (tsxUrl !== undefined) return tsxUrl;
  const req = createRequire(import.meta.url);
  const pkgPath = req.resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as {
    exports: Record<string, { import?: { default?: string } }>;
  };
  const rel = pkg.exports['./esm/api']?.import?.default ?? './dist/esm/api/index.mjs';
  tsxUrl = pathToFileURL(join(dirname(pkgPath), rel)).href;
  return tsxUrl;
}
