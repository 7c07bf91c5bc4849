// ThreadPool tasks and threads as phase unions, and the FIFO of waiting tasks that skips cancelled ones.
import type { TransferListItem, Worker } from 'node:worker_threads';
import type { Timer } from '../core/Clock.ts';
import { Deque } from '../core/Deque.ts';

/** Where a task is: waiting in the queue, running on a thread, or settled (resolved or rejected). */
export type TaskPhase =
  | { readonly kind: 'queued' }
  | { readonly kind: 'running'; readonly slot: Slot }
  | { readonly kind: 'settled' };

/** One `run(arg)` call. */
export interface Task {
  readonly arg: unknown;
  readonly transferList: readonly TransferListItem[] | undefined;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: unknown) => void;
  readonly signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
  phase: TaskPhase;
}

/**
 * Where a thread is: loading its module, idle (with its idle-stop timer), running one task, or
 * being stopped on purpose (abort, idle timeout, close).
 */
export type SlotPhase =
  | { readonly kind: 'starting' }
  | { readonly kind: 'idle'; timer: Timer | undefined }
  | { readonly kind: 'busy'; readonly task: Task }
  | { readonly kind: 'stopping' };

/** One pool thread. */
export interface Slot {
  readonly worker: Worker;
  readonly id: number;
  phase: SlotPhase;
  lastError: unknown;
  readonly exited: Promise<void>;
}

/** Marks a task settled and detaches its abort listener; the caller resolves or rejects it. */
export function settleTask(task: Task): void {
  task.phase = { kind: 'settled' };
  if (task.onAbort !== undefined) {
    task.signal?.removeEventListener('abort', task.onAbort);
    task.onAbort = undefined;
  }
}

/**
 * The tasks waiting for a thread, in arrival order. A cancelled task stays in the deque (removing
 * from the middle would cost O(n)) and is skipped when reached; `size` counts only queued ones.
 */
export class TaskQueue {
  private readonly tasks = new Deque<Task>();
  private count = 0;

  /** Tasks still in phase `queued`. */
  get size(): number {
    return this.count;
  }

  push(task: Task): void {
    this.tasks.push(task);
    this.count++;
  }

  /** A queued task left the queue without being taken (cancelled). */
  forget(): void {
    this.count--;
  }

  /** The oldest task still queued, removed from the queue. */
  take(): Task | undefined {
    for (;;) {
      const task = this.tasks.shift();
      if (task === undefined) return undefined;
      if (task.phase.kind !== 'queued') continue;
      this.count--;
      return task;
    }
  }
}
