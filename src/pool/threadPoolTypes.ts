// The public option, stats and state types of ThreadPool.
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import type { Clock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';

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
