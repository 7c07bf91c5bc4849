// retry tests on a ManualClock: attempts, backoff delays, retryOn, unrecoverable errors, aborts, retry and giveup events.
import { describe, expect, it } from 'vitest';
import { SluiceError, UnrecoverableError } from '../core/errors.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { backoff } from './backoffFactories.ts';
import { type RetryEvents, retry } from './retry.ts';

/** Fires every timer, letting the code under test schedule the first one. */
async function drain(clock: ManualClock): Promise<void> {
  await flushMicrotasks();
  await clock.runAll();
}

function failing(times: number, make: (n: number) => unknown = (n) => new Error(`fail ${n}`)) {
  const seen: number[] = [];
  const fn = async ({ attempt }: { attempt: number }) => {
    seen.push(attempt);
    if (attempt <= times) throw make(attempt);
    return `ok@${attempt}`;
  };
  return { fn, seen };
}

describe('retry', () => {
  it('retries until success, waiting the backoff delays on the clock', async () => {
    const clock = new ManualClock();
    const policy = retry({
      attempts: 5,
      backoff: backoff.exponential({ initial: 100, jitter: 'none' }),
      clock,
    });
    const { fn, seen } = failing(2);
    const times: number[] = [];
    const p = policy.execute(async (ctx) => {
      times.push(clock.now());
      return fn(ctx);
    });
    await clock.advance(99);
    expect(seen).toEqual([1]);
    await clock.advance(1);
    expect(seen).toEqual([1, 2]);
    await clock.advance(200);
    await expect(p).resolves.toBe('ok@3');
    expect(times).toEqual([0, 100, 300]);
  });

  it('makes exactly `attempts` calls then rejects with RETRIES_EXHAUSTED carrying the last error', async () => {
    const clock = new ManualClock();
    const policy = retry({ attempts: 3, backoff: backoff.fixed(10), clock });
    const { fn, seen } = failing(99);
    const p = policy.execute(fn);
    const caught = p.catch((e: unknown) => e);
    await drain(clock);
    const err = (await caught) as SluiceError;
    expect(seen).toEqual([1, 2, 3]);
    expect(err.code).toBe('RETRIES_EXHAUSTED');
    expect(err.retryable).toBe(false);
    expect(err.context.attempts).toBe(3);
    expect((err.cause as Error).message).toBe('fail 3');
    expect(err.message).toContain('fail 3');
  });

  it('attempts: 1 means a single call', async () => {
    const policy = retry({ attempts: 1, backoff: 0, clock: new ManualClock() });
    const { fn, seen } = failing(1);
    await expect(policy.execute(fn)).rejects.toMatchObject({
      code: 'RETRIES_EXHAUSTED',
      context: { attempts: 1 },
    });
    expect(seen).toEqual([1]);
  });

  it('never retries an UnrecoverableError and rejects with it as is', async () => {
    const clock = new ManualClock();
    const policy = retry({ attempts: 10, backoff: 0, clock, retryOn: () => true });
    const bad = new UnrecoverableError('bad input');
    const { fn, seen } = failing(5, () => bad);
    await expect(policy.execute(fn)).rejects.toBe(bad);
    expect(seen).toEqual([1]);
  });

  it('does not retry a non-retryable SluiceError by default, but retryOn can decide', async () => {
    const clock = new ManualClock();
    const fatal = new SluiceError('LEASE_LOST', 'lost', { retryable: false });
    const a = failing(1, () => fatal);
    await expect(retry({ attempts: 3, backoff: 0, clock }).execute(a.fn)).rejects.toBe(fatal);
    expect(a.seen).toEqual([1]);

    const b = failing(1, () => fatal);
    const p = retry({ attempts: 3, backoff: 0, clock, retryOn: () => true }).execute(b.fn);
    await drain(clock);
    await expect(p).resolves.toBe('ok@2');
  });

  it('retryOn receives the error and attempt number', async () => {
    const clock = new ManualClock();
    const calls: [string, number][] = [];
    const policy = retry({
      attempts: 10,
      backoff: 0,
      clock,
      retryOn: (e, attempt) => {
        calls.push([(e as Error).message, attempt]);
        return attempt < 2;
      },
    });
    const { fn } = failing(9);
    const p = policy.execute(fn).catch((e: unknown) => e);
    await drain(clock);
    expect(((await p) as Error).message).toBe('fail 2');
    expect(calls).toEqual([
      ['fail 1', 1],
      ['fail 2', 2],
    ]);
  });

  it('abort during backoff rejects with ABORTED and makes no further call', async () => {
    const clock = new ManualClock();
    const policy = retry({ attempts: 5, backoff: backoff.fixed('1s'), clock });
    const ctrl = new AbortController();
    const { fn, seen } = failing(99);
    const p = policy.execute(fn, ctrl.signal);
    const caught = p.catch((e: unknown) => e);
    await clock.advance(500);
    ctrl.abort();
    expect(await caught).toMatchObject({ code: 'ABORTED' });
    await clock.advance(5000);
    expect(seen).toEqual([1]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an already aborted signal makes no call', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    let called = false;
    await expect(
      retry({ attempts: 3, clock: new ManualClock() }).execute(async () => {
        called = true;
      }, ctrl.signal),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(called).toBe(false);
  });

  it('an abort while the call runs stops retrying; the call sees the signal', async () => {
    const clock = new ManualClock();
    const ctrl = new AbortController();
    let calls = 0;
    const p = retry({ attempts: 5, backoff: 0, clock }).execute(
      ({ signal }) =>
        new Promise((_, reject) => {
          calls++;
          signal.addEventListener('abort', () => reject(new Error('cancelled')));
        }),
      ctrl.signal,
    );
    ctrl.abort(new Error('shutdown'));
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(calls).toBe(1);
  });

  it('passes the previous delay to the backoff', async () => {
    const clock = new ManualClock();
    const seen: [number, number][] = [];
    const policy = retry({
      attempts: 4,
      clock,
      backoff: backoff.custom((attempt, prev) => {
        seen.push([attempt, prev]);
        return prev + 10;
      }),
    });
    const p = policy.execute(failing(99).fn).catch(() => undefined);
    await drain(clock);
    await p;
    expect(seen).toEqual([
      [1, 0],
      [2, 10],
      [3, 20],
    ]);
  });

  it('emits retry events then giveup, in order', async () => {
    const clock = new ManualClock();
    const policy = retry({ attempts: 3, backoff: backoff.fixed(5), clock });
    const log: string[] = [];
    policy.on('retry', ({ attempt, delayMs }) => log.push(`retry ${attempt} ${delayMs}`));
    policy.on('giveup', ({ attempts, reason }) => log.push(`giveup ${attempts} ${reason}`));
    policy.on('success', ({ attempts }) => log.push(`success ${attempts}`));
    const p = policy.execute(failing(99).fn).catch(() => undefined);
    await drain(clock);
    await p;
    const q = policy.execute(failing(1).fn);
    await drain(clock);
    await q;
    expect(log).toEqual(['retry 1 5', 'retry 2 5', 'giveup 3 exhausted', 'retry 1 5', 'success 2']);
  });

  it('giveup reports unrecoverable and aborted', async () => {
    const clock = new ManualClock();
    const policy = retry({ attempts: 3, backoff: '1s', clock });
    const reasons: RetryEvents['giveup'][0]['reason'][] = [];
    policy.on('giveup', ({ reason }) => reasons.push(reason));
    await policy.execute(failing(1, () => new UnrecoverableError('x')).fn).catch(() => undefined);
    const ctrl = new AbortController();
    const p = policy.execute(failing(9).fn, ctrl.signal).catch(() => undefined);
    await clock.advance(10);
    ctrl.abort();
    await p;
    expect(reasons).toEqual(['unrecoverable', 'aborted']);
  });

  it('a synchronous throw is retried like a rejection', async () => {
    const clock = new ManualClock();
    let n = 0;
    const p = retry({ attempts: 3, backoff: 0, clock }).execute(() => {
      n++;
      if (n < 2) throw new Error('sync');
      return n;
    });
    await drain(clock);
    await expect(p).resolves.toBe(2);
  });

  it('Infinity attempts keeps going until success', async () => {
    const clock = new ManualClock();
    const { fn, seen } = failing(50);
    const p = retry({ attempts: Number.POSITIVE_INFINITY, backoff: 1, clock }).execute(fn);
    await drain(clock);
    await expect(p).resolves.toBe('ok@51');
    expect(seen).toHaveLength(51);
  });

  it.each([
    [{ attempts: 0 }, 'Expected `retry.attempts` to be an integer >= 1 or Infinity, got 0'],
    [{ attempts: 1.5 }, 'Expected `retry.attempts` to be an integer >= 1 or Infinity, got 1.5'],
    [{}, 'Expected `retry.attempts` to be an integer >= 1 or Infinity, got undefined'],
    [{ attempts: 2, retryOn: 'yes' }, 'Expected `retry.retryOn` to be a function, got "yes"'],
    [{ attempts: 2, clock: {} }, 'Expected `retry.clock` to be a Clock'],
    [
      { attempts: 2, backoff: { multiplier: 0 } },
      'Expected `retry.backoff.multiplier` to be a number >= 1, got 0',
    ],
  ])('rejects %j with CONFIG_INVALID', (opts, message) => {
    expect(() => retry(opts as never)).toThrowError(message);
  });
});
