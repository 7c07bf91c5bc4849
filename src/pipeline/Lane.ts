// Per-key queues of a pipeline worker: ordered keys run their head only, unordered keys up to a limit; parked keys wait.
import type { Clock } from '../core/Clock.ts';
import { Deque } from '../core/Deque.ts';
import type { Permit } from '../flow/Limiter.ts';
import type { FlowConfig } from './flowSpec.ts';
import { type Rankable, RankedReady } from './ReadyRank.ts';

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
  /** Backoff delay before the latest retry (the next delay grows from it). */
  lastDelayMs?: number;
  /** Priority (higher first); set only when the stage ranks by priority. */
  priority?: number;
  /** Weight of the item's key; set only with `fairness: 'weighted'`. */
  weight?: number;
  /** Limiter permits taken for the next attempt (released when it settles). */
  permits?: Permit[] | undefined;
}

/**
 * The items of one key waiting in one lane. Ordered keys (limit 1): only the head runs, and it
 * stays the head until finished (`busy` while it runs or waits to retry). Unordered keys
 * (limit > 1): `head`/`rest` hold the items not started; up to `limit` run at once (`running`).
 */
export class KeyQueue<T> {
  head: Entry<T>;
  private rest: Deque<Entry<T>> | undefined;
  /** Ordered keys: true while the head runs or waits for a retry. */
  busy = false;
  /** Unordered keys: items started and not finished (a retrying item does not count). */
  running = 0;
  /** Unordered keys: no item waits to start (`head` is stale). */
  empty = false;
  /** Physically in the ready list. */
  listed = false;
  /** Clock ms until which the key is parked (0: not parked). */
  parkedUntil = 0;

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

  /** Puts `e` in front of the waiting items. */
  pushFront(e: Entry<T>): void {
    if (!this.empty) {
      if (this.rest === undefined) this.rest = new Deque<Entry<T>>(4);
      this.rest.unshift(this.head);
    }
    this.head = e;
    this.empty = false;
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

/** A key of a lane with a ranked ready list (its ranking fields; plain keys stay small). @internal */
export class RankedKeyQueue<T> extends KeyQueue<T> implements Rankable {
  heapIndex = -1;
  order = 0;
  pass = 0;
  weight = 1;
  readyAt = 0;
  rank = 0;
}

/** The list of keys whose head can run: FIFO (round robin) or ranked. @internal */
export type ReadyList<T> = Deque<KeyQueue<T>> | RankedReady<RankedKeyQueue<T>>;

/** How a lane orders and bounds its keys. @internal */
export interface LaneRules<T> {
  /** Items of one key running at once: 1 keeps strict order. */
  readonly perKey: number;
  /** The ranked list, or undefined for the FIFO (round robin) fast path. */
  readonly ranked?: () => RankedReady<RankedKeyQueue<T>>;
  readonly clock: Clock;
}

/** The lane rules of a stage's flow settings: FIFO turns, or a ranked list per lane. @internal */
export function laneRules<T>(flow: Pick<FlowConfig<never>, 'rank' | 'perKey'>, clock: Clock): LaneRules<T> {
  const rank = flow.rank;
  if (rank === undefined) return { perKey: flow.perKey, clock };
  return { perKey: flow.perKey, clock, ranked: () => new RankedReady<RankedKeyQueue<T>>(rank) };
}

/**
 * A worker's queue: per-key queues and a ready list of keys that can start an item. A key whose
 * head is running or waiting for a retry (ordered), whose running items reached the per-key
 * limit (unordered), or that is parked, is not ready: later items of that key wait while other
 * keys keep flowing.
 */
export class LaneQueue<T> {
  private readonly queues = new Map<unknown, KeyQueue<T>>();
  private readonly ready: ReadyList<T>;
  private readonly ranked: RankedReady<RankedKeyQueue<T>> | undefined;
  /** Parks that outlive their key queue (key → end, clock ms). */
  private readonly parks = new Map<unknown, number>();
  private readonly ordered: boolean;
  /** Items held by this lane (queued, running or waiting to retry). */
  size = 0;

  constructor(private readonly rules: LaneRules<T>) {
    this.ordered = rules.perKey === 1;
    this.ranked = rules.ranked?.();
    this.ready = this.ranked ?? new Deque<KeyQueue<T>>();
  }

  /** Items of one key that may run at once. */
  get perKey(): number {
    return this.rules.perKey;
  }

  enqueue(e: Entry<T>): void {
    this.size++;
    const q = this.queues.get(e.key);
    if (q === undefined) {
      let nq: KeyQueue<T>;
      if (this.ranked === undefined) nq = new KeyQueue<T>(e.key, e);
      else {
        const rq = new RankedKeyQueue<T>(e.key, e);
        rq.weight = e.weight ?? 1;
        rq.pass = this.ranked.vtime;
        nq = rq;
      }
      this.queues.set(e.key, nq);
      if (this.parks.size > 0) nq.parkedUntil = this.parkEnd(e.key);
      this.becameHead(nq);
      if (nq.parkedUntil === 0) this.list(nq);
    } else if (!this.ordered && q.empty) {
      q.head = e;
      q.empty = false;
      this.becameHead(q);
      this.offer(q);
    } else {
      q.push(e);
    }
  }

  /** Takes the next ready key; ordered keys are marked busy (the engine runs their head). */
  take(): KeyQueue<T> | undefined {
    for (;;) {
      const q = this.ready.shift();
      if (q === undefined) return undefined;
      q.listed = false;
      if (q.parkedUntil !== 0) continue; // parked after it was listed: skipped until unparked
      if (this.ordered) q.busy = true;
      return q;
    }
  }

  /** Unordered keys: starts the head of `q` (taken), re-listing the key if more may run. */
  detach(q: KeyQueue<T>): Entry<T> {
    const e = q.head;
    q.running++;
    if (q.advance()) {
      this.becameHead(q);
      this.offer(q);
    } else q.empty = true;
    return e;
  }

  /** The head of ordered key `q` finished for good: move to its next item or forget the key. */
  finishHead(q: KeyQueue<T>): void {
    this.size--;
    q.busy = false;
    if (q.advance()) {
      this.becameHead(q);
      if (q.parkedUntil === 0) this.list(q);
    } else this.forget(q);
  }

  /** An item of unordered key `q` finished for good. */
  finishUnordered(q: KeyQueue<T>): void {
    this.size--;
    this.release(q);
  }

  /** An item of unordered key `q` stopped running without finishing (it waits to be redelivered). */
  release(q: KeyQueue<T>): void {
    q.running--;
    if (q.empty) {
      if (q.running === 0 && q.parkedUntil === 0) this.forget(q);
    } else this.offer(q);
  }

  /** Unordered: `e` runs again later (redelivery, a permit that came back); it goes first in its key. */
  putBack(e: Entry<T>): void {
    const q = this.queues.get(e.key);
    if (q === undefined) {
      this.size--;
      this.enqueue(e);
      return;
    }
    q.pushFront(e);
    this.becameHead(q);
    if (q.listed && this.ranked !== undefined) this.ranked.update(q as RankedKeyQueue<T>);
    this.offer(q);
  }

  /** The head of ordered key `q` must run again (retry or worker restart); it keeps its turn. */
  requeueHead(q: KeyQueue<T>): void {
    q.busy = false;
    if (q.parkedUntil !== 0 || q.listed) return;
    q.listed = true;
    if (this.ranked === undefined) (this.ready as Deque<KeyQueue<T>>).unshift(q);
    else this.ranked.unshift(q as RankedKeyQueue<T>);
  }

  /** Parks `key` until `until` (clock ms): none of its items start before. Parks only extend. */
  park(key: unknown, until: number): void {
    const end = Math.max(this.parks.get(key) ?? 0, until);
    this.parks.set(key, end);
    const q = this.queues.get(key);
    if (q !== undefined) q.parkedUntil = end;
  }

  /** The park of `key` may be over: its items may start again (returns true when it was lifted). */
  unpark(key: unknown, now: number): boolean {
    const end = this.parks.get(key);
    if (end === undefined || end > now) return false;
    this.parks.delete(key);
    const q = this.queues.get(key);
    if (q === undefined) return true;
    q.parkedUntil = 0;
    if (this.ordered) {
      if (!q.busy && !q.listed) this.list(q);
    } else if (q.empty && q.running === 0) this.forget(q);
    else this.offer(q);
    return true;
  }

  /** Each key held by this lane with its item count (head included). */
  *keySizes(): IterableIterator<[unknown, number]> {
    for (const [key, q] of this.queues) yield [key, 1 + q.backlog];
  }

  /** Keys ready to run. */
  get readyCount(): number {
    return this.ready.length;
  }

  /** Removes everything still waiting (used when a run is cancelled); returns the entries. */
  drainWaiting(): Entry<T>[] {
    const out: Entry<T>[] = [];
    for (const [key, q] of this.queues) {
      if (this.ordered) {
        if (!q.busy) {
          out.push(q.head);
          this.queues.delete(key);
        }
      } else {
        if (!q.empty) out.push(q.head);
        q.empty = true;
        if (q.running === 0) this.queues.delete(key);
      }
      out.push(...q.takeBacklog());
      q.listed = false;
    }
    this.ready.clear();
    this.size -= out.length;
    return out;
  }

  /** Lists unordered `q` when an item of it may start (waiting, below the limit, not parked). */
  private offer(q: KeyQueue<T>): void {
    if (!q.listed && !q.empty && q.parkedUntil === 0 && q.running < this.rules.perKey) this.list(q);
  }

  private list(q: KeyQueue<T>): void {
    q.listed = true;
    if (this.ranked === undefined) (this.ready as Deque<KeyQueue<T>>).push(q);
    else this.ranked.push(q as RankedKeyQueue<T>);
  }

  private becameHead(q: KeyQueue<T>): void {
    if (this.ranked === undefined) return;
    const rq = q as RankedKeyQueue<T>;
    rq.readyAt = this.rules.clock.now();
    rq.rank = q.head.priority ?? 0;
  }

  private forget(q: KeyQueue<T>): void {
    if (this.queues.get(q.key) === q) this.queues.delete(q.key);
  }

  private parkEnd(key: unknown): number {
    const end = this.parks.get(key);
    return end !== undefined && end > this.rules.clock.now() ? end : 0;
  }
}
