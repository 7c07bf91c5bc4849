// The pool on the attempt primitive: rate limits, retries from the inline fast path, the gate hook, run state.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../core/errors.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { RateLimitedError } from '../core/rateLimited.ts';
import type { AttemptSettled } from '../resilience/attempt/types.ts';
import { BatchRun } from './BatchRun.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import { mapConcurrentStream } from './mapConcurrentStream.ts';
import { resolveOptions } from './options.ts';
import type { ItemResult } from './types.ts';

async function* asyncOf<T>(xs: T[]) {
  for (const x of xs) yield x;
}

describe('pool: RateLimitedError', () => {
  it('waits retryAfter and runs the item again without counting an attempt (no retry configured)', async () => {
    const clock = new ManualClock();
    const seen: [number, number, number][] = [];
    const p = mapConcurrent(
      ['a', 'b'],
      (x, ctx) => {
        seen.push([ctx.index, ctx.attempt, clock.now()]);
        if (x === 'a' && seen.filter((s) => s[0] === 0).length < 3)
          throw new RateLimitedError({ retryAfter: 500 });
        return x.toUpperCase();
      },
      { concurrency: 2, clock },
    );
    const results = await clock.runUntil(p);
    expect(results).toEqual([
      { status: 'ok', value: 'A', index: 0, attempts: 1, workerId: 0 },
      { status: 'ok', value: 'B', index: 1, attempts: 1, workerId: 1 },
    ]);
    expect(seen.filter((s) => s[0] === 0)).toEqual([
      [0, 1, 0],
      [0, 1, 500],
      [0, 1, 1000],
    ]);
  });

  it('with retries, a rate limit between failures keeps the attempt count (async source, timeout)', async () => {
    const clock = new ManualClock();
    const plan = [new Error('x'), new RateLimitedError({ retryAfter: 50 }), new Error('y')];
    const attempts: number[] = [];
    const p = mapConcurrent(
      asyncOf([1]),
      (_x, ctx) => {
        attempts.push(ctx.attempt);
        const step = plan.shift();
        if (step) throw step;
        return 'done';
      },
      { concurrency: 1, clock, timeout: '1s', retry: { attempts: 3, backoff: { next: () => 10 } } },
    );
    const [r] = await clock.runUntil(p);
    expect(r).toMatchObject({ status: 'ok', value: 'done', attempts: 3 });
    expect(attempts).toEqual([1, 2, 2, 3]);
  });
});

describe('pool: retries start from the inline first attempt', () => {
  it('an array without timeout retries with backoff on the clock; attempts are 1-based', async () => {
    const clock = new ManualClock();
    const calls: [number, number][] = [];
    const p = mapConcurrent(
      [10, 20],
      (x, ctx) => {
        calls.push([ctx.attempt, clock.now()]);
        if (x === 10 && ctx.attempt < 3) return Promise.reject(new Error(`fail ${ctx.attempt}`));
        return x;
      },
      { concurrency: 1, clock, retry: { attempts: 3, backoff: { next: (a) => a * 100 } } },
    );
    const results = await clock.runUntil(p);
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['ok', 3],
      ['ok', 1],
    ]);
    expect(calls).toEqual([
      [1, 0],
      [2, 100],
      [3, 300],
      [1, 300],
    ]);
  });

  it('many synchronous throws in a row neither retry nor grow the stack', async () => {
    const n = 50_000;
    const results = await mapConcurrent(
      Array.from({ length: n }, (_, i) => i),
      () => {
        throw new SluiceError('BAD', 'no', { retryable: false });
      },
      { concurrency: 2, retry: { attempts: 5 } },
    );
    expect(results).toHaveLength(n);
    expect(results.every((r) => r.status === 'error' && r.attempts === 1)).toBe(true);
  });
});

describe('pool: gate hook', () => {
  it('calls the gate with the item before every attempt and releases it with how the attempt ended', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const resolved = resolveOptions({
      concurrency: 2,
      clock,
      retry: { attempts: 2, backoff: { next: () => 0 } },
    });
    const results: ItemResult<number>[] = [];
    const run = new BatchRun<number, number>(
      [1, 2, 3],
      (x, ctx) => {
        if (x === 2 && ctx.attempt === 1) throw new Error('once');
        return x * 10;
      },
      {
        ...resolved,
        gate: async (item, { attempt }) => {
          await clock.sleep(5);
          return (s: AttemptSettled) => log.push(`${item}@${attempt}:${s.ok ? 'ok' : 'error'}`);
        },
      },
      (r) => results.push(r),
    );
    await clock.runUntil(run.run());
    expect(results.sort((a, b) => a.index - b.index).map((r) => [r.status, r.attempts])).toEqual([
      ['ok', 1],
      ['ok', 2],
      ['ok', 1],
    ]);
    expect(log.sort()).toEqual(['1@1:ok', '2@1:error', '2@2:ok', '3@1:ok']);
  });
});

describe('pool: run state', () => {
  it('goes idle → running → finished, and reports a stop as stopping', async () => {
    const resolved = resolveOptions({ concurrency: 1 });
    let release: () => void = () => {};
    const run = new BatchRun<number, number>(
      [1, 2],
      (x) =>
        new Promise<number>((r) => {
          release = () => r(x);
        }),
      resolved,
      () => {},
    );
    expect(run.state).toBe('idle');
    const done = run.run();
    expect(run.run()).toBe(done);
    expect(run.state).toBe('running');
    run.stop();
    expect(run.state).toBe('stopping');
    release();
    await done;
    expect(run.state).toBe('finished');
    expect(run.wasStopped).toBe(true);
    expect(run.pulled).toBe(1);
  });

  it('a stream closed by its consumer over an async source ends with the pending pull dropped', async () => {
    let pulls = 0;
    const never: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: () => {
          pulls++;
          return pulls === 1 ? Promise.resolve({ done: false, value: 1 }) : new Promise(() => {});
        },
      }),
    };
    const it = mapConcurrentStream(never, (x) => x, { concurrency: 2 });
    expect(await it.next()).toMatchObject({ done: false, value: { status: 'ok', value: 1 } });
    await flushMicrotasks();
    await it.return?.();
    expect(await it.next()).toEqual({ done: true, value: undefined });
  });
});
