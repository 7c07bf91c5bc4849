// An async FIFO between a broker's delivery callback and the pipeline's pull loop.
import { Deque } from '../../core/Deque.ts';

/**
 * Deliveries pushed by the broker client, pulled by the pipeline. It holds at most what the
 * broker let through (prefetch / max ack pending), so it needs no bound of its own.
 */
export class DeliveryBuffer<T> {
  private readonly queue = new Deque<T>(64);
  private waiter: (() => void) | undefined;
  private ended = false;

  /** Items waiting to be pulled. */
  get length(): number {
    return this.queue.length;
  }

  push(item: T): void {
    if (this.ended) return;
    this.queue.push(item);
    this.wake();
  }

  /** Ends the iteration (items still queued are dropped: their deliveries are released). */
  end(): T[] {
    this.ended = true;
    const left: T[] = [];
    for (let x = this.queue.shift(); x !== undefined; x = this.queue.shift()) left.push(x);
    this.wake();
    return left;
  }

  /** Drops queued items matching `stale` (e.g. from a dropped connection) and returns them. */
  dropWhere(stale: (item: T) => boolean): T[] {
    const keep: T[] = [];
    const dropped: T[] = [];
    for (let x = this.queue.shift(); x !== undefined; x = this.queue.shift())
      (stale(x) ? dropped : keep).push(x);
    for (const x of keep) this.queue.push(x);
    return dropped;
  }

  /** Yields items until {@link end} or `signal` aborts. */
  async *iterate(signal: AbortSignal | undefined): AsyncGenerator<T> {
    const onAbort = () => this.wake();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for (;;) {
        const x = this.queue.shift();
        if (x !== undefined) {
          yield x;
          continue;
        }
        if (this.ended || signal?.aborted) return;
        await new Promise<void>((r) => {
          this.waiter = r;
        });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
