// mapConcurrentStream tests: ordered yield, laziness, the window bound, early exit, skipped items, source errors.
import { describe, expect, it } from 'vitest';
import { mapConcurrent } from './mapConcurrent.ts';
import { mapConcurrentStream } from './mapConcurrentStream.ts';
import type { ItemResult } from './types.ts';

async function yieldTimes(n: number) {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

async function collect<R>(it: AsyncIterable<ItemResult<R>>): Promise<ItemResult<R>[]> {
  const out: ItemResult<R>[] = [];
  for await (const r of it) out.push(r);
  return out;
}

describe('mapConcurrentStream', () => {
  it('yields results in input order, same as mapConcurrent', async () => {
    const delays = Array.from({ length: 50 }, (_, i) => (i * 7919) % 5);
    const fn = async (d: number, ctx: { index: number }) => {
      await yieldTimes(d);
      if (d === 3) throw new Error(`e${ctx.index}`);
      return ctx.index;
    };
    const streamed = await collect(mapConcurrentStream(delays, fn, { concurrency: 4, window: 6 }));
    const batch = await mapConcurrent(delays, fn, { concurrency: 4 });
    expect(streamed.map((r) => r.index)).toEqual(delays.map((_, i) => i));
    expect(streamed.map((r) => r.status)).toEqual(batch.map((r) => r.status));
    expect(streamed.map((r) => (r.status === 'ok' ? r.value : null))).toEqual(
      batch.map((r) => (r.status === 'ok' ? r.value : null)),
    );
  });

  it('does nothing until the first next()', async () => {
    let calls = 0;
    const it = mapConcurrentStream([1, 2], () => calls++, { concurrency: 2 });
    await yieldTimes(3);
    expect(calls).toBe(0);
    await it.next();
    expect(calls).toBe(2);
  });

  it('bounds the work ahead of a slow item and of a slow consumer by the window', async () => {
    let pulls = 0;
    function* endless() {
      for (let i = 0; ; i++) {
        pulls++;
        yield i;
      }
    }
    const first = deferred();
    const it = mapConcurrentStream(endless(), (i) => (i === 0 ? first.promise.then(() => i) : i), {
      concurrency: 2,
      window: 8,
    });
    const p0 = it.next();
    await yieldTimes(5);
    // Item 0 is stuck: the others finish but nothing beyond the window is pulled.
    expect(pulls).toBe(8);
    first.resolve();
    expect((await p0).value).toMatchObject({ index: 0, value: 0 });
    // The consumer has taken 1 result: at most 1 + window items pulled.
    await yieldTimes(5);
    expect(pulls).toBe(9);
    for (let k = 1; k <= 20; k++) expect((await it.next()).value).toMatchObject({ index: k, value: k });
    await yieldTimes(5);
    expect(pulls).toBeLessThanOrEqual(21 + 8);
    await it.return?.();
  });

  it('on break cancels in-flight items, closes the source and waits for them', async () => {
    let closed = false;
    let settled = 0;
    const signals: AbortSignal[] = [];
    async function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    for await (const r of mapConcurrentStream(
      source(),
      async (i, ctx) => {
        signals.push(ctx.signal);
        if (i === 0) await yieldTimes(3);
        else {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          await yieldTimes(2);
        }
        settled++;
        return i;
      },
      { concurrency: 3 },
    )) {
      expect(r.index).toBe(0);
      break;
    }
    expect(signals.length).toBeGreaterThan(1);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(settled).toBe(signals.length);
    await yieldTimes(2);
    expect(closed).toBe(true);
  });

  it('emits skipped results for unstarted array items after an abort', async () => {
    const ctrl = new AbortController();
    const out = await collect(
      mapConcurrentStream(
        [0, 1, 2, 3, 4],
        async (i) => {
          if (i === 1) ctrl.abort();
          return i;
        },
        { concurrency: 1, signal: ctrl.signal },
      ),
    );
    expect(out.map((r) => r.status)).toEqual(['ok', 'ok', 'skipped', 'skipped', 'skipped']);
    expect(out[4]).toEqual({ status: 'skipped', reason: 'aborted', index: 4, attempts: 0 });
  });

  it('throws a source error after the results before it', async () => {
    async function* broken() {
      yield 1;
      yield 2;
      throw new Error('source broke');
    }
    const seen: number[] = [];
    await expect(async () => {
      for await (const r of mapConcurrentStream(broken(), (x) => x * 10, { concurrency: 2 })) {
        if (r.status === 'ok') seen.push(r.value);
      }
    }).rejects.toThrow('source broke');
    expect(seen).toEqual([10, 20]);
  });

  it('serves overlapping next() calls in order', async () => {
    const it = mapConcurrentStream([3, 1, 2], async (d) => {
      await yieldTimes(d);
      return d;
    });
    const rs = await Promise.all([it.next(), it.next(), it.next(), it.next()]);
    expect(rs.map((r) => (r.done ? 'done' : r.value.index))).toEqual([0, 1, 2, 'done']);
  });

  it('rejects a window smaller than the concurrency', () => {
    expect(() => mapConcurrentStream([1], (x) => x, { concurrency: 4, window: 2 })).toThrow(
      'Expected `window` to be an integer >= concurrency (4), got 2',
    );
  });
});
