// Mailbox: runs a supervisor's async tasks one at a time in arrival order, like an OTP process's message queue.
import { Deque } from '../core/Deque.ts';

interface Task {
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * Runs async tasks one at a time in arrival order, like the message queue of an OTP process:
 * a child's exit, an API call and a restart never interleave.
 */
export class Mailbox {
  private readonly queue = new Deque<Task>();
  private busy = false;
  private idleWaiters: (() => void)[] = [];

  /** Queues `fn`; the promise settles with its result once it has run. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.busy) void this.drain();
    });
  }

  /** Resolves once no task is running or queued. */
  idle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drain(): Promise<void> {
    this.busy = true;
    for (let task = this.queue.shift(); task !== undefined; task = this.queue.shift()) {
      try {
        task.resolve(await task.run());
      } catch (e) {
        task.reject(e);
      }
    }
    this.busy = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
