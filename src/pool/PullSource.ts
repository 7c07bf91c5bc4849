// PullSource: the pool's view of its input (array, iterator or async iterator), pulled one item at a time.
import { Deque } from '../core/Deque.ts';

/** Callbacks of one async pull. */
export interface PullRequest<T> {
  done(r: IteratorResult<T> | undefined): void;
  failed(error: unknown): void;
}

/** A pulled item with its input position. */
export interface Pulled<T> {
  readonly item: T;
  readonly index: number;
}

/**
 * Wraps the input of a run. Arrays are read by index; iterables through their iterator; async
 * iterables through their async iterator, one `next()` at a time (the next call starts only when
 * the previous one settled, so iterators that do not queue calls are safe).
 */
export class PullSource<T> {
  /** The input when it is an array. */
  readonly arr: readonly T[] | undefined;
  private syncIt: Iterator<T> | undefined;
  private asyncIt: AsyncIterator<T> | undefined;
  /** Whether an async `next()` is pending (the next request waits in `queue`). */
  private pending = false;
  private readonly queue = new Deque<PullRequest<T>>();

  /**
   * @param mayPull - asked right before each async `next()` call; when it says no (the run
   *   stopped meanwhile) the iterator is not called and the pull ends with `undefined`.
   */
  constructor(
    private readonly items: Iterable<T> | AsyncIterable<T>,
    private readonly mayPull: () => boolean,
  ) {
    this.arr = Array.isArray(items) ? (items as readonly T[]) : undefined;
  }

  /** Opens the iterator of a non-array input. Throws what the input's factory throws. */
  open(): void {
    if (this.arr !== undefined) return;
    const src = this.items as Partial<Iterable<T> & AsyncIterable<T>>;
    const asyncFactory = src[Symbol.asyncIterator];
    if (typeof asyncFactory === 'function') this.asyncIt = asyncFactory.call(src);
    else this.syncIt = (src as Iterable<T>)[Symbol.iterator]();
  }

  /** Whether items come from an async iterator. */
  get isAsync(): boolean {
    return this.asyncIt !== undefined;
  }

  /** The next item of a sync iterator. Throws what the iterator throws. */
  nextSync(): IteratorResult<T> {
    return (this.syncIt as Iterator<T>).next();
  }

  /**
   * Asks the async iterator for its next result; `done` is called with it (`undefined` when
   * `mayPull` refused: the run stopped meanwhile), `failed` with what it threw. One `next()` at a
   * time: requests made while one is pending wait in a queue (at most one per lane).
   */
  pull(request: PullRequest<T>): void {
    if (this.pending) {
      this.queue.push(request);
      return;
    }
    this.start(request);
  }

  private start(request: PullRequest<T>): void {
    if (!this.mayPull()) {
      request.done(undefined);
      this.drainRefused();
      return;
    }
    this.pending = true;
    let next: PromiseLike<IteratorResult<T>>;
    try {
      next = (this.asyncIt as AsyncIterator<T>).next();
    } catch (e) {
      this.settled(request, undefined, e, true);
      return;
    }
    Promise.resolve(next).then(
      (r) => this.settled(request, r, undefined, false),
      (e: unknown) => this.settled(request, undefined, e, true),
    );
  }

  private settled(
    request: PullRequest<T>,
    r: IteratorResult<T> | undefined,
    e: unknown,
    threw: boolean,
  ): void {
    this.pending = false;
    if (threw) request.failed(e);
    else request.done(r);
    const following = this.queue.shift();
    if (following !== undefined) this.start(following);
  }

  /** The run stopped: every waiting request ends without calling the iterator. */
  private drainRefused(): void {
    for (let r = this.queue.shift(); r !== undefined; r = this.queue.shift()) r.done(undefined);
  }

  /** Closes the iterator (best effort; a pending async `next()` is not waited for). */
  close(): void {
    try {
      if (this.syncIt) this.syncIt.return?.();
      else if (this.asyncIt?.return) Promise.resolve(this.asyncIt.return()).catch(() => {});
    } catch {
      // Closing is best effort.
    }
  }
}
