// Pulls items from a pipeline source under the in-flight bound, reading async sources ahead.
import { Deque } from '../core/Deque.ts';
import { SluiceError, toError } from '../core/errors.ts';
import type { SourceIterator } from './source.ts';

/** What the pump needs from the engine. @internal */
export interface PumpHost<T> {
  /** Items that may still be taken: `maxInFlight` minus the items in flight. */
  freeSlots(): number;
  /** Takes one item (in source order). */
  admit(item: T): void;
  /** The source is exhausted. */
  ended(): void;
  /** The source failed (`SOURCE_FAILED`). */
  failed(error: SluiceError): void;
}

/** Lifecycle of the pump. */
type PumpPhase = 'open' | 'ended' | 'closed';

const SYNC_YIELD_EVERY = 2048;

const ignore = () => {};

/**
 * Pulls an async source may have outstanding at once (besides the `maxInFlight` bound). An async
 * generator produces one item at a time however many requests wait, so it gets one request at
 * a time, issued as soon as the previous item was admitted (its processing has started, not
 * finished): queueing more requests on a generator only costs (measured: V8 queues and resumes
 * them one by one). Any other async iterator — a cursor or a client that answers requests
 * independently — may have up to `maxInFlight` requests at once.
 */
export function readAheadLimit(it: SourceIterator<unknown>): number {
  return it.generator ? 1 : Number.POSITIVE_INFINITY;
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

function sourceFailed(e: unknown): SluiceError {
  return new SluiceError('SOURCE_FAILED', `The pipeline source failed: ${toError(e).message}`, { cause: e });
}

/**
 * Feeds the engine from a {@link SourceIterator}. A sync source is read in a loop that yields
 * to the event loop every 2048 items and waits while no slot is free. An async source is read
 * ahead: as many `next()` calls are outstanding as there are free slots (so items in flight
 * plus pulls outstanding never exceed `maxInFlight`), and answers are admitted in the order
 * they were asked for. {@link wake} is called by the engine whenever a slot frees.
 * @internal
 */
export class SourcePump<T> {
  private phase: PumpPhase = 'open';
  private readonly pulls = new Deque<Promise<IteratorResult<T>>>();
  private waiter: (() => void) | undefined;
  /** 1 while the front pull is being awaited (it counts against the bound too). */
  private awaiting = 0;
  /** 1 while an answered item is not admitted yet (it counts against the bound too). */
  private holding = 0;
  /** Most pulls outstanding at once (see {@link readAheadLimit}). */
  private readonly depth: number;

  constructor(
    private readonly it: SourceIterator<T>,
    private readonly host: PumpHost<T>,
  ) {
    this.depth = readAheadLimit(it);
  }

  /** Starts reading. */
  start(): void {
    if (this.it.sync) void this.runSync();
    else void this.runAsync();
  }

  /** A slot freed (or the run stops): read on. */
  wake(): void {
    if (this.waiter !== undefined) {
      const w = this.waiter;
      this.waiter = undefined;
      w();
    } else if (!this.it.sync && this.phase === 'open') this.fill();
  }

  /** Stops reading and closes the source (`return()`), unless it already ended. */
  close(): void {
    if (this.phase !== 'open') return;
    this.phase = 'closed';
    for (let p = this.pulls.shift(); p !== undefined; p = this.pulls.shift()) p.catch(ignore);
    try {
      const r = this.it.return?.();
      if (isThenable(r)) r.then(undefined, () => {});
    } catch {
      // errors while closing an abandoned source are of no use to anyone
    }
    this.wake();
  }

  private async runSync(): Promise<void> {
    let sinceYield = 0;
    try {
      while (this.phase === 'open') {
        if (this.host.freeSlots() <= 0) {
          await new Promise<void>((r) => {
            this.waiter = r;
          });
          continue;
        }
        let r = this.it.next();
        if (isThenable(r)) r = await r;
        if (this.phase !== 'open') return;
        if (r.done) {
          this.phase = 'ended';
          this.host.ended();
          return;
        }
        this.host.admit(r.value);
        if (++sinceYield >= SYNC_YIELD_EVERY) {
          sinceYield = 0;
          await new Promise<void>((res) => setImmediate(res));
        }
      }
    } catch (e) {
      if (this.phase !== 'open') return;
      this.close();
      this.host.failed(sourceFailed(e));
    }
  }

  /**
   * Admits answers in the order they were asked for. The next pulls are issued as soon as an
   * answer arrives, before that item is admitted, so the source works while the item runs.
   */
  private async runAsync(): Promise<void> {
    try {
      while (this.phase === 'open') {
        if (this.pulls.length === 0) this.fill();
        const head = this.pulls.shift();
        if (head === undefined) {
          await new Promise<void>((r) => {
            this.waiter = r;
          });
          continue;
        }
        this.awaiting = 1;
        const r = await head;
        this.awaiting = 0;
        if (this.phase !== 'open') return;
        this.holding = 1;
        if (r.done) {
          this.phase = 'ended';
          this.pulls.clear();
          this.host.ended();
          return;
        }
        this.fill();
        this.holding = 0;
        this.host.admit(r.value);
      }
    } catch (e) {
      if (this.phase !== 'open') return;
      this.close();
      this.host.failed(sourceFailed(e));
    }
  }

  /** Issues pulls while slots are free: items in flight + pulls outstanding <= maxInFlight. */
  private fill(): void {
    for (;;) {
      const outstanding = this.pulls.length + this.awaiting + this.holding;
      if (this.phase !== 'open' || outstanding >= this.depth || outstanding >= this.host.freeSlots()) return;
      let answer: Promise<IteratorResult<T>>;
      try {
        answer = Promise.resolve(this.it.next());
      } catch (e) {
        answer = Promise.reject(e);
      }
      // The loop awaits the front pull before it yields; a pull queued behind one that is
      // awaited now might reject first: handled here, reported when its turn comes.
      if (this.pulls.length > 0 || this.awaiting === 1) answer.catch(ignore);
      this.pulls.push(answer);
    }
  }
}
