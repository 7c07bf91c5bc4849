// The sources a pipeline reads (array, iterable, async iterable, Readable) opened as one iterator.
import type { Readable } from 'node:stream';
import { configError } from '../core/errors.ts';

/** What `stream()` accepts: an array, a (async) iterable, or a Node Readable in object mode. */
export type StreamSource<T> = readonly T[] | Iterable<T> | AsyncIterable<T> | Readable;

/** A pull-based iterator that may answer synchronously (fast path) or asynchronously. */
export interface SourceIterator<T> {
  /** True when `next()` returns plain results (no promise). */
  readonly sync: boolean;
  /** True for an async generator object (it answers one request at a time, in order). */
  readonly generator: boolean;
  next(): IteratorResult<T> | Promise<IteratorResult<T>>;
  return?(): unknown;
}

/** Opens a {@link StreamSource} as a {@link SourceIterator}. */
export function openSource<T>(source: StreamSource<T>): SourceIterator<T> {
  if (source !== null && typeof source === 'object') {
    const s = source as Partial<Iterable<T> & AsyncIterable<T>>;
    if (typeof s[Symbol.iterator] === 'function') {
      const it = (s as Iterable<T>)[Symbol.iterator]();
      return { sync: true, generator: false, next: () => it.next(), return: () => it.return?.() };
    }
    if (typeof s[Symbol.asyncIterator] === 'function') {
      const it = (s as AsyncIterable<T>)[Symbol.asyncIterator]();
      const generator = Object.prototype.toString.call(it) === '[object AsyncGenerator]';
      return { sync: false, generator, next: () => it.next(), return: () => it.return?.() };
    }
  }
  throw configError('source', 'an array, an iterable, an async iterable or a Readable stream', source);
}

/** How an item taken from an {@link AckSource} ended, reported back to it once. */
export type ItemOutcome = { readonly status: 'ok' } | { readonly status: 'failed'; readonly error: Error };

/**
 * A source that must be told when each item finished so it can acknowledge it upstream (the
 * broker connectors of `sluice/rabbitmq` and `sluice/nats`). `stream(source)` recognises it by
 * `kind: 'ack-source'`: items are partitioned by {@link AckSource.keyOf}, `ctx.idempotencyKey` is
 * {@link AckSource.idempotencyKeyOf}, each finished item is passed to {@link AckSource.settle}
 * (ok, or failed for good after its retries and `onError`), and {@link AckSource.close} runs
 * when the pipeline ends, releasing every item that was taken but never settled.
 */
export interface AckSource<T> {
  readonly kind: 'ack-source';
  /** Name used as the pipeline's name. */
  readonly name: string;
  /** Items in delivery order; ends when the source is closed or `signal` aborts. */
  items(signal: AbortSignal | undefined): AsyncIterable<T>;
  /** The partition key of an item (items of one key run one at a time, in order). */
  keyOf(item: T): string | number;
  /** A key stable across redeliveries of the item, for idempotent effects. */
  idempotencyKeyOf(item: T): string;
  /** Reports the item's outcome once; the returned promise settles when it was handed upstream. */
  settle(item: T, outcome: ItemOutcome): void | Promise<void>;
  /** Stops delivering, releases unsettled items back to the broker and disconnects. */
  close(): Promise<void>;
}

/** Whether `s` is an {@link AckSource}. */
export function isAckSource(s: unknown): s is AckSource<unknown> {
  return (
    typeof s === 'object' &&
    s !== null &&
    (s as { kind?: unknown }).kind === 'ack-source' &&
    typeof (s as { items?: unknown }).items === 'function'
  );
}
