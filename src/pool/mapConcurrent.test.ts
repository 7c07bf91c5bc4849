// mapConcurrent tests: order and concurrency, lazy input, skip, options and item contexts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { deferred, values, yieldTimes } from '../../test/support/mapConcurrentHelpers.ts';
import { flushMicrotasks } from '../core/ManualClock.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import { skip } from './skip.ts';
import type { ItemContext } from './types.ts';

describe('mapConcurrent: order and concurrency', () => {
  it('keeps input order and never exceeds the concurrency (random completion order)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(6), { maxLength: 40 }),
        fc.integer({ min: 1, max: 6 }),
        async (delays, concurrency) => {
          let inFlight = 0;
          let maxInFlight = 0;
          const results = await mapConcurrent(
            delays,
            async (d, ctx) => {
              inFlight++;
              maxInFlight = Math.max(maxInFlight, inFlight);
              expect(ctx.workerId).toBeGreaterThanOrEqual(0);
              expect(ctx.workerId).toBeLessThan(concurrency);
              await yieldTimes(d);
              inFlight--;
              return ctx.index * 10;
            },
            { concurrency },
          );
          expect(values(results)).toEqual(delays.map((_, i) => i * 10));
          expect(results.map((r) => r.index)).toEqual(delays.map((_, i) => i));
          expect(maxInFlight).toBeLessThanOrEqual(concurrency);
          if (delays.length >= concurrency) expect(maxInFlight).toBe(concurrency);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('accepts sync iterables, async iterables and synchronous functions', async () => {
    function* gen() {
      yield* [1, 2, 3];
    }
    async function* agen() {
      for (const x of [1, 2, 3]) {
        await yieldTimes(1);
        yield x;
      }
    }
    expect(values(await mapConcurrent(gen(), (x) => x + 1, { concurrency: 2 }))).toEqual([2, 3, 4]);
    expect(values(await mapConcurrent(agen(), async (x) => x * 2, { concurrency: 2 }))).toEqual([2, 4, 6]);
    expect(
      values(await mapConcurrent(new Set(['a', 'b']), (x) => x.toUpperCase(), { concurrency: 3 })),
    ).toEqual(['A', 'B']);
    expect(await mapConcurrent([], async () => 1, { concurrency: 2 })).toEqual([]);
  });

  it('lets the event loop run during a long synchronous batch', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const n = 20_000;
    const results = await mapConcurrent(
      Array.from({ length: n }, (_, i) => i),
      (x) => x,
      { concurrency: 4 },
    );
    clearInterval(timer);
    expect(results).toHaveLength(n);
    expect(results[n - 1]).toMatchObject({ status: 'ok', value: n - 1 });
    expect(ticks).toBeGreaterThan(0);
  });
});

describe('mapConcurrent: lazy input', () => {
  it('pulls a sync iterator only as slots free', async () => {
    let pulls = 0;
    function* source() {
      for (let i = 0; i < 10; i++) {
        pulls++;
        yield i;
      }
    }
    const gates = Array.from({ length: 10 }, () => deferred());
    const p = mapConcurrent(source(), (i) => gates[i]!.promise.then(() => i), { concurrency: 3 });
    await yieldTimes(3);
    expect(pulls).toBe(3);
    gates[1]!.resolve();
    await yieldTimes(3);
    expect(pulls).toBe(4);
    gates[0]!.resolve();
    gates[2]!.resolve();
    await yieldTimes(3);
    expect(pulls).toBe(6);
    for (const g of gates) g.resolve();
    expect(values(await p)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('never drains an unbounded async source ahead of the work', async () => {
    let pulls = 0;
    let settled = 0;
    async function* endless() {
      for (let i = 0; ; i++) {
        pulls++;
        yield i;
      }
    }
    const ctrl = new AbortController();
    let maxAhead = 0;
    const p = mapConcurrent(
      endless(),
      async (i) => {
        maxAhead = Math.max(maxAhead, pulls - settled);
        await yieldTimes(i % 3);
        settled++;
        if (settled === 500) ctrl.abort();
        return i;
      },
      { concurrency: 4, signal: ctrl.signal },
    );
    const results = await p;
    // Pulled items are bounded by completed items + concurrency at every moment.
    expect(maxAhead).toBeLessThanOrEqual(4);
    expect(pulls).toBeLessThanOrEqual(settled + 4);
    expect(results.length).toBeGreaterThanOrEqual(500);
    expect(results.length).toBeLessThanOrEqual(504);
    expect(results.every((r, i) => r.index === i)).toBe(true);
  });
});

describe('mapConcurrent: skip', () => {
  it('marks items skipped when fn returns or throws skip(reason)', async () => {
    const results = await mapConcurrent(
      [1, 2, 3],
      async (x) => {
        if (x === 1) return skip('duplicate');
        if (x === 2) throw skip('not mine');
        return x;
      },
      { concurrency: 2, retry: { attempts: 3 } },
    );
    expect(results).toEqual([
      { status: 'skipped', reason: 'duplicate', index: 0, attempts: 1 },
      { status: 'skipped', reason: 'not mine', index: 1, attempts: 1 },
      { status: 'ok', value: 3, index: 2, attempts: 1, workerId: expect.any(Number) },
    ]);
  });
});

describe('mapConcurrent: options', () => {
  it('uses SLUICE_MAX_WORKERS as the default concurrency, else 4', async () => {
    const measure = async () => {
      let inFlight = 0;
      let max = 0;
      await mapConcurrent(
        Array.from({ length: 20 }, (_, i) => i),
        async () => {
          max = Math.max(max, ++inFlight);
          await yieldTimes(2);
          inFlight--;
        },
      );
      return max;
    };
    const saved = process.env.SLUICE_MAX_WORKERS;
    try {
      delete process.env.SLUICE_MAX_WORKERS;
      expect(await measure()).toBe(4);
      process.env.SLUICE_MAX_WORKERS = '7';
      expect(await measure()).toBe(7);
      process.env.SLUICE_MAX_WORKERS = 'lots';
      await expect(mapConcurrent([1], (x) => x)).rejects.toThrow(
        'Expected `SLUICE_MAX_WORKERS` to be an integer >= 1, got "lots"',
      );
      // An explicit concurrency wins over the environment.
      await expect(mapConcurrent([1], (x) => x, { concurrency: 1 })).resolves.toHaveLength(1);
    } finally {
      if (saved === undefined) delete process.env.SLUICE_MAX_WORKERS;
      else process.env.SLUICE_MAX_WORKERS = saved;
    }
  });

  it('rejects bad options with CONFIG_INVALID naming the field and the value', async () => {
    const cases: [unknown, unknown, unknown, string][] = [
      [[1], (x: number) => x, { concurrency: 0 }, 'Expected `concurrency` to be an integer >= 1, got 0'],
      [[1], (x: number) => x, { concurrency: 2.5 }, 'Expected `concurrency` to be an integer >= 1, got 2.5'],
      [[1], 'nope', { concurrency: 1 }, 'Expected `fn` to be a function, got "nope"'],
      [[1], (x: number) => x, { timeout: 'soon' }, 'Expected `timeout` to be a duration'],
      [
        [1],
        (x: number) => x,
        { retry: { attempts: 0 } },
        'Expected `retry.attempts` to be an integer >= 1, got 0',
      ],
      [42, (x: number) => x, {}, 'Expected `items` to be an iterable or async iterable, got 42'],
    ];
    for (const [items, fn, opts, message] of cases) {
      const p = mapConcurrent(
        items as number[],
        fn as (x: number) => number,
        opts as { concurrency: number },
      );
      await expect(p).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
      await expect(p).rejects.toThrow(message);
    }
  });
});

describe('mapConcurrent: contexts', () => {
  it('gives each item its own context and a live signal', async () => {
    const ctxs: ItemContext[] = [];
    await mapConcurrent(
      ['a', 'b', 'c'],
      async (_x, ctx) => {
        ctxs.push(ctx);
        await flushMicrotasks(1);
      },
      { concurrency: 2 },
    );
    expect(ctxs.map((c) => c.index).sort()).toEqual([0, 1, 2]);
    expect(new Set(ctxs).size).toBe(3);
    expect(ctxs.every((c) => c.attempt === 1 && c.signal.aborted === false)).toBe(true);
  });
});
