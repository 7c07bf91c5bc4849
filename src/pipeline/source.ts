import type { Readable } from 'node:stream';
import { configError } from '../core/errors.ts';

/** What `stream()` accepts: an array, a (async) iterable, or a Node Readable in object mode. */
export type StreamSource<T> = readonly T[] | Iterable<T> | AsyncIterable<T> | Readable;

/** A pull-based iterator that may answer synchronously (fast path) or asynchronously. */
export interface SourceIterator<T> {
  /** True when `next()` returns plain results (no promise). */
  readonly sync: boolean;
  next(): IteratorResult<T> | Promise<IteratorResult<T>>;
  return?(): unknown;
}

/** Opens a {@link StreamSource} as a {@link SourceIterator}. */
export function openSource<T>(source: StreamSource<T>): SourceIterator<T> {
  if (source !== null && typeof source === 'object') {
    const s = source as Partial<Iterable<T> & AsyncIterable<T>>;
    if (typeof s[Symbol.iterator] === 'function') {
      const it = (s as Iterable<T>)[Symbol.iterator]();
      return { sync: true, next: () => it.next(), return: () => it.return?.() };
    }
    if (typeof s[Symbol.asyncIterator] === 'function') {
      const it = (s as AsyncIterable<T>)[Symbol.asyncIterator]();
      return { sync: false, next: () => it.next(), return: () => it.return?.() };
    }
  }
  throw configError('source', 'an array, an iterable, an async iterable or a Readable stream', source);
}
