// mapConcurrent tests: cancellation by an abort signal (in-flight items, generators, stalled async sources).
import { describe, expect, it } from 'vitest';
import { deferred, yieldTimes } from '../../test/support/mapConcurrentHelpers.ts';
import { mapConcurrent } from './mapConcurrent.ts';

describe('mapConcurrent: cancellation', () => {
  it('aborts in-flight items, skips unstarted ones and resolves with partial results (array)', async () => {
    const ctrl = new AbortController();
    const started: number[] = [];
    const signals: AbortSignal[] = [];
    const p = mapConcurrent(
      [0, 1, 2, 3, 4, 5],
      (i, ctx) => {
        started.push(i);
        signals.push(ctx.signal);
        if (i === 0) return 'fast';
        return new Promise<string>((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason));
        });
      },
      { concurrency: 2, signal: ctrl.signal },
    );
    await yieldTimes(3);
    expect(started).toEqual([0, 1, 2]);
    ctrl.abort();
    const results = await p;
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(results.map((r) => r.status)).toEqual(['ok', 'error', 'error', 'skipped', 'skipped', 'skipped']);
    expect(results[3]).toEqual({ status: 'skipped', reason: 'aborted', index: 3, attempts: 0 });
    // In-flight items see an ABORTED SluiceError whose cause is the signal's reason.
    expect(results[1]).toMatchObject({
      status: 'error',
      error: { code: 'ABORTED', cause: ctrl.signal.reason },
    });
  });

  it('stops pulling a generator on abort and closes it', async () => {
    const ctrl = new AbortController();
    let closed = false;
    let pulls = 0;
    function* source() {
      try {
        for (let i = 0; ; i++) {
          pulls++;
          yield i;
        }
      } finally {
        closed = true;
      }
    }
    const p = mapConcurrent(
      source(),
      async (i) => {
        if (i === 5) ctrl.abort();
        await yieldTimes(1);
        return i;
      },
      { concurrency: 2, signal: ctrl.signal },
    );
    const results = await p;
    expect(closed).toBe(true);
    expect(results.length).toBe(pulls);
    expect(results.length).toBeLessThanOrEqual(7);
    expect(results.every((r) => r.status === 'ok')).toBe(true);
  });

  it('does not touch the input when the signal is already aborted', async () => {
    let pulls = 0;
    function* source() {
      pulls++;
      yield 1;
    }
    const ctrl = new AbortController();
    ctrl.abort();
    let calls = 0;
    expect(await mapConcurrent(source(), () => calls++, { signal: ctrl.signal })).toEqual([]);
    const arr = await mapConcurrent([1, 2], () => calls++, { signal: ctrl.signal });
    expect(arr.map((r) => r.status)).toEqual(['skipped', 'skipped']);
    expect(pulls).toBe(0);
    expect(calls).toBe(0);
  });

  it('stops waiting for an async source that never yields again', async () => {
    const ctrl = new AbortController();
    const never = deferred<number>();
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]() {
        let first = true;
        return {
          next: async () => {
            if (first) {
              first = false;
              return { done: false, value: 1 };
            }
            return { done: false, value: await never.promise };
          },
        };
      },
    };
    const p = mapConcurrent(source, (x) => x, { concurrency: 2, signal: ctrl.signal });
    await yieldTimes(3);
    ctrl.abort();
    const results = await p;
    expect(results).toEqual([
      { status: 'ok', value: 1, index: 0, attempts: 1, workerId: expect.any(Number) },
    ]);
  });
});
