import { Deque } from '../core/Deque.ts';

/** One item travelling through the pipeline, for one worker. */
export interface Entry<T> {
  readonly seq: number;
  readonly item: T;
  readonly key: unknown;
  readonly partition: number;
  readonly offset: number | undefined;
  attempts: number;
  /** Clock time of the first attempt's start (set when it first runs). */
  firstStartedAt?: number;
}

/** The items of one key waiting in one lane; only the head may run. */
export class KeyQueue<T> {
  head: Entry<T>;
  private rest: Deque<Entry<T>> | undefined;
  /** True while the head runs or waits for a retry. */
  busy = false;

  constructor(
    readonly key: unknown,
    first: Entry<T>,
  ) {
    this.head = first;
  }

  push(e: Entry<T>): void {
    if (this.rest === undefined) this.rest = new Deque<Entry<T>>(4);
    this.rest.push(e);
  }

  /** Drops the head; returns false when the queue became empty. */
  advance(): boolean {
    const next = this.rest?.shift();
    if (next === undefined) return false;
    this.head = next;
    return true;
  }

  /** Removes and returns the items queued behind the head. */
  takeBacklog(): Entry<T>[] {
    const out: Entry<T>[] = [];
    if (this.rest !== undefined)
      for (let e = this.rest.shift(); e !== undefined; e = this.rest.shift()) out.push(e);
    return out;
  }

  /** Number of items queued behind the head. */
  get backlog(): number {
    return this.rest?.length ?? 0;
  }
}

/**
 * A worker's queue: per-key FIFO queues and a ready list of keys whose head can run.
 * A key whose head is running or waiting for a retry is not ready, so later items of that
 * key wait while other keys keep flowing.
 */
export class LaneQueue<T> {
  private readonly queues = new Map<unknown, KeyQueue<T>>();
  private readonly ready = new Deque<KeyQueue<T>>();
  /** Items held by this lane (queued, running or waiting to retry). */
  size = 0;

  enqueue(e: Entry<T>): void {
    this.size++;
    const q = this.queues.get(e.key);
    if (q === undefined) {
      const nq = new KeyQueue<T>(e.key, e);
      this.queues.set(e.key, nq);
      this.ready.push(nq);
    } else {
      q.push(e);
    }
  }

  /** Takes the next ready key and marks it busy. */
  take(): KeyQueue<T> | undefined {
    const q = this.ready.shift();
    if (q !== undefined) q.busy = true;
    return q;
  }

  /** The head of `q` finished for good: move to its next item or forget the key. */
  finishHead(q: KeyQueue<T>): void {
    this.size--;
    q.busy = false;
    if (q.advance()) this.ready.push(q);
    else this.queues.delete(q.key);
  }

  /** The head of `q` must run again (retry or worker restart); it goes first. */
  requeueHead(q: KeyQueue<T>): void {
    q.busy = false;
    this.ready.unshift(q);
  }

  /** Keys ready to run. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Removes everything still waiting (used when a run is cancelled); returns the entries. */
  drainWaiting(): Entry<T>[] {
    const out: Entry<T>[] = [];
    for (const [key, q] of this.queues) {
      if (!q.busy) {
        out.push(q.head);
        this.queues.delete(key);
      }
      out.push(...q.takeBacklog());
    }
    this.ready.clear();
    this.size -= out.length;
    return out;
  }
}
