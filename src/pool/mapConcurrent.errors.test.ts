// mapConcurrent tests: failures isolated per item, and timeout and retry on a ManualClock.
import { describe, expect, it } from 'vitest';
import { deferred, values, yieldTimes } from '../../test/support/mapConcurrentHelpers.ts';
import { SluiceError, UnrecoverableError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { mapConcurrent } from './mapConcurrent.ts';
import type { ItemContext } from './types.ts';

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
