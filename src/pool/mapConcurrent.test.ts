import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SluiceError, UnrecoverableError } from '../core/errors.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import { skip } from './skip.ts';
import type { ItemContext, ItemResult } from './types.ts';

/** A promise with its resolve/reject exposed. */
function deferred<T = void>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Yields to the event loop `n` times (no wall-clock waiting). */
async function yieldTimes(n: number) {
  for (let i = 0; i < n; i++) await new Promise<void>((r) => setImmediate(r));
}

function values<R>(results: ItemResult<R>[]): R[] {
  return results.map((r) => {
    if (r.status !== 'ok') throw new Error(`item ${r.index} is ${r.status}`);
    return r.value;
  });
}

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

describe('mapConcurrent: failures do not stop the batch', () => {
  it('isolates errors per item and reports workerId and attempts', async () => {
    const results = await mapConcurrent(
      [1, 2, 3, 4, 5, 6],
      async (x) => {
        await yieldTimes(x % 3);
        if (x % 2 === 0) throw new Error(`bad ${x}`);
        return x;
      },
      { concurrency: 3 },
    );
    expect(results.map((r) => r.status)).toEqual(['ok', 'error', 'ok', 'error', 'ok', 'error']);
    const err = results[1];
    expect(err).toMatchObject({ status: 'error', index: 1, attempts: 1 });
    if (err?.status !== 'error') throw new Error('expected error');
    expect(err.error.message).toBe('bad 2');
    expect(err.workerId).toBeGreaterThanOrEqual(0);
    expect(err.workerId).toBeLessThan(3);
  });

  it('wraps non-Error throws and synchronous throws', async () => {
    const results = await mapConcurrent(
      [0, 1],
      (x) => {
        if (x === 0) throw 'plain string';
        return Promise.reject({ weird: true });
      },
      { concurrency: 2 },
    );
    expect(results.every((r) => r.status === 'error' && r.error instanceof Error)).toBe(true);
    expect(results[0]?.status === 'error' && results[0].error.message).toBe('plain string');
  });

  it('rejects with the source error after in-flight items settle', async () => {
    const gate = deferred();
    let settled = 0;
    function* broken() {
      yield 1;
      yield 2;
      throw new Error('source broke');
    }
    const p = mapConcurrent(
      broken(),
      async () => {
        await gate.promise;
        settled++;
      },
      { concurrency: 4 },
    );
    let rejected: unknown;
    p.catch((e) => {
      rejected = e;
    });
    await yieldTimes(3);
    expect(rejected).toBeUndefined();
    gate.resolve();
    await expect(p).rejects.toThrow('source broke');
    expect(settled).toBe(2);
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

describe('mapConcurrent: timeout (ManualClock)', () => {
  it('fails a slow attempt with TIMEOUT and aborts its signal', async () => {
    const clock = new ManualClock();
    let seen: AbortSignal | undefined;
    const p = mapConcurrent(
      ['slow', 'quick'],
      (x, ctx: ItemContext) => {
        if (x === 'quick') return clock.sleep(500).then(() => x);
        seen = ctx.signal;
        return new Promise<string>(() => {}); // ignores the signal: the pool must not wait for it
      },
      { concurrency: 2, timeout: '1s', clock },
    );
    await clock.advance(999);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    const results = await p;
    expect(seen?.aborted).toBe(true);
    expect(results[1]).toMatchObject({ status: 'ok', value: 'quick' });
    const r0 = results[0];
    expect(r0?.status).toBe('error');
    if (r0?.status !== 'error') return;
    expect(r0.error).toBeInstanceOf(SluiceError);
    expect((r0.error as SluiceError).code).toBe('TIMEOUT');
    expect(seen?.reason).toBe(r0.error);
  });

  it('clears the timer of attempts that finish in time', async () => {
    const clock = new ManualClock();
    const results = await mapConcurrent([1, 2, 3], async (x) => x, { concurrency: 2, timeout: 1000, clock });
    expect(values(results)).toEqual([1, 2, 3]);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('mapConcurrent: retry (ManualClock)', () => {
  it('retries with the backoff delays and counts attempts', async () => {
    const clock = new ManualClock();
    const calls: { attempt: number; at: number }[] = [];
    const delays: [number, number][] = [];
    const p = mapConcurrent(
      ['x'],
      (_x, ctx) => {
        calls.push({ attempt: ctx.attempt, at: clock.now() });
        if (ctx.attempt < 3) throw new Error(`fail ${ctx.attempt}`);
        return 'done';
      },
      {
        concurrency: 1,
        clock,
        retry: {
          attempts: 5,
          backoff: {
            next: (attempt, prev) => {
              delays.push([attempt, prev]);
              return attempt * 1000;
            },
          },
        },
      },
    );
    await clock.advance(999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
    await clock.advance(2000);
    const results = await p;
    expect(calls).toEqual([
      { attempt: 1, at: 0 },
      { attempt: 2, at: 1000 },
      { attempt: 3, at: 3000 },
    ]);
    expect(delays).toEqual([
      [1, 0],
      [2, 1000],
    ]);
    expect(results[0]).toMatchObject({ status: 'ok', value: 'done', attempts: 3 });
  });

  it('gives up after `attempts` with the last error', async () => {
    const clock = new ManualClock();
    let calls = 0;
    const p = mapConcurrent(
      [1],
      (_x, ctx) => {
        calls++;
        throw new Error(`fail ${ctx.attempt}`);
      },
      { concurrency: 1, clock, retry: { attempts: 3 } },
    );
    // Default backoff: a fixed 100 ms between attempts.
    await clock.advance(199);
    expect(calls).toBe(2);
    await clock.advance(1);
    const [r] = await p;
    expect(r).toMatchObject({ status: 'error', attempts: 3 });
    expect(r?.status === 'error' && r.error.message).toBe('fail 3');
  });

  it('retries timeouts, never retries UnrecoverableError, honours retryOn and non-retryable codes', async () => {
    const clock = new ManualClock();
    const attemptsSeen = new Map<string, number>();
    const p = mapConcurrent(
      ['timeout', 'unrecoverable', 'refused', 'config'],
      (x, ctx) => {
        attemptsSeen.set(x, ctx.attempt);
        if (x === 'timeout') return ctx.attempt < 2 ? new Promise(() => {}) : 'late ok';
        if (x === 'unrecoverable') throw new UnrecoverableError('bad input');
        if (x === 'refused') throw new Error('do not retry me');
        throw new SluiceError('CONFIG_INVALID', 'not retryable');
      },
      {
        concurrency: 4,
        clock,
        timeout: 100,
        retry: { attempts: 4, retryOn: (e) => e.message !== 'do not retry me' },
      },
    );
    await clock.advance(1000);
    const results = await p;
    // A custom retryOn replaces the default one (which would refuse the non-retryable code).
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['ok', 2],
      ['error', 1],
      ['error', 1],
      ['error', 4],
    ]);
    expect(attemptsSeen.get('unrecoverable')).toBe(1);
  });

  it('by default does not retry a SluiceError marked not retryable', async () => {
    const clock = new ManualClock();
    const p = mapConcurrent(
      ['config', 'crash'],
      (x) => {
        if (x === 'config') throw new SluiceError('CONFIG_INVALID', 'not retryable');
        throw new SluiceError('WORKER_CRASHED', 'try again', { retryable: true });
      },
      { concurrency: 2, clock, retry: { attempts: 3 } },
    );
    await clock.advance(1000);
    const results = await p;
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['error', 1],
      ['error', 3],
    ]);
  });

  it('ends an item waiting to retry with its last error when the batch is aborted', async () => {
    const clock = new ManualClock();
    const ctrl = new AbortController();
    let calls = 0;
    const p = mapConcurrent(
      [1],
      () => {
        calls++;
        throw new Error('flaky');
      },
      { concurrency: 1, clock, signal: ctrl.signal, retry: { attempts: 3, backoff: { next: () => 10_000 } } },
    );
    await clock.advance(5000);
    ctrl.abort();
    const [r] = await p;
    expect(calls).toBe(1);
    expect(r).toMatchObject({ status: 'error', attempts: 1 });
    expect(r?.status === 'error' && r.error.message).toBe('flaky');
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
