// Unit tests of the awaiting executor on a ManualClock: timeouts, signals, retries, rate limits, gate, resume.
import { describe, expect, it } from 'vitest';
import { SluiceError, UnrecoverableError } from '../../core/errors.ts';
import { flushMicrotasks, ManualClock } from '../../core/ManualClock.ts';
import { RateLimitedError } from '../../core/rateLimited.ts';
import { backoff } from '../backoffFactories.ts';
import { attemptPolicy } from './AttemptPolicy.ts';
import type { AttemptContext, AttemptSettled, GiveUpInfo, RetryInfo } from './types.ts';

/** Work that throws what `plan[i]` says on call i (undefined = succeed with the attempt number). */
function scripted(plan: unknown[]) {
  const calls: AttemptContext[] = [];
  const fn = async (ctx: AttemptContext) => {
    const step = plan[calls.length];
    calls.push(ctx);
    if (step !== undefined) throw step;
    return `ok@${ctx.attempt}`;
  };
  return { fn, calls, attempts: () => calls.map((c) => c.attempt) };
}

describe('AttemptPolicy.execute', () => {
  it('retries with backoff on the clock, numbering attempts from 1, and reports hooks in order', async () => {
    const clock = new ManualClock();
    const policy = attemptPolicy({
      attempts: 4,
      backoff: backoff.exponential({ initial: 100, jitter: 'none' }),
      clock,
    });
    const w = scripted([new Error('a'), new Error('b')]);
    const log: string[] = [];
    const p = policy.execute(w.fn, {
      onRetry: (i: RetryInfo) => log.push(`retry ${i.attempt} ${i.delayMs} ${(i.error as Error).message}`),
      onSuccess: ({ attempts }) => log.push(`success ${attempts}`),
      onGiveUp: () => log.push('giveup'),
    });
    await clock.advance(99);
    expect(w.attempts()).toEqual([1]);
    await clock.advance(1);
    expect(w.attempts()).toEqual([1, 2]);
    await clock.advance(200);
    expect(await p).toEqual({ kind: 'ok', value: 'ok@3', attempts: 3 });
    expect(log).toEqual(['retry 1 100 a', 'retry 2 200 b', 'success 3']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives up with the reason and the last error', async () => {
    const clock = new ManualClock();
    const policy = attemptPolicy({ attempts: 2, backoff: 0, clock });
    const gaveUp: GiveUpInfo[] = [];
    const w = scripted([new Error('1'), new Error('2'), new Error('3')]);
    const p = policy.execute(w.fn, { onGiveUp: (i) => gaveUp.push(i) });
    const out = await clock.runUntil(p);
    expect(out).toMatchObject({ kind: 'failed', reason: 'exhausted', attempts: 2 });
    expect(out.kind === 'failed' && (out.error as Error).message).toBe('2');
    expect(gaveUp).toEqual([
      { attempts: 2, reason: 'exhausted', error: expect.objectContaining({ message: '2' }) },
    ]);

    const bad = new UnrecoverableError('bad');
    const u = await policy.execute(scripted([bad]).fn);
    expect(u).toEqual({ kind: 'failed', reason: 'unrecoverable', error: bad, attempts: 1 });
    const fatal = new SluiceError('LEASE_LOST', 'lost', { retryable: false });
    expect(await policy.execute(scripted([fatal]).fn)).toMatchObject({
      kind: 'failed',
      reason: 'not_retryable',
    });
  });

  it('a timed out attempt fails with a retryable TIMEOUT carrying context, its own signal aborts, and it is retried', async () => {
    const clock = new ManualClock();
    const policy = attemptPolicy({ attempts: 2, backoff: 10, timeout: 50, clock });
    const caller = new AbortController();
    const signals: AbortSignal[] = [];
    const retries: RetryInfo[] = [];
    const p = policy.execute(
      ({ signal, attempt }) => {
        signals.push(signal);
        return attempt === 1 ? new Promise<never>(() => {}) : 'second';
      },
      { signal: caller.signal, name: 'item 7', context: { index: 7 }, onRetry: (i) => retries.push(i) },
    );
    await clock.advance(49);
    expect(signals[0]?.aborted).toBe(false);
    expect(signals[0]).not.toBe(caller.signal);
    await clock.advance(1);
    expect(signals[0]?.aborted).toBe(true);
    const err = retries[0]?.error as SluiceError;
    expect(err).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
      context: { index: 7, attempt: 1, timeoutMs: 50 },
    });
    expect(err.message).toBe('The item 7 timed out after 50 ms');
    expect(signals[0]?.reason).toBe(err);
    await clock.advance(10);
    expect(await p).toEqual({ kind: 'ok', value: 'second', attempts: 2 });
    expect(clock.pendingTimers).toBe(0);
    expect(caller.signal.aborted).toBe(false);
  });

  it('without a timeout the work gets the caller signal itself', async () => {
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    await attemptPolicy().execute(
      ({ signal }) => {
        seen = signal;
      },
      { signal: caller.signal },
    );
    expect(seen).toBe(caller.signal);
  });

  it('an abort during an attempt aborts its timeout signal and ends the run as aborted with the last error', async () => {
    const clock = new ManualClock();
    const policy = attemptPolicy({ attempts: 5, backoff: 0, timeout: '1m', clock });
    const caller = new AbortController();
    const p = policy.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')))),
      { signal: caller.signal },
    );
    await flushMicrotasks();
    caller.abort(new Error('shutdown'));
    const out = await p;
    expect(out).toMatchObject({ kind: 'aborted', attempts: 1, error: { code: 'ABORTED' } });
    expect(out.kind === 'aborted' && (out.lastError as Error).message).toBe('cancelled');
    expect(clock.pendingTimers).toBe(0);
  });

  it('an abort while waiting to retry ends the run without another call', async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    const w = scripted([new Error('x'), new Error('y')]);
    const p = attemptPolicy({ attempts: 5, backoff: '1s', clock }).execute(w.fn, { signal: caller.signal });
    await clock.advance(500);
    caller.abort();
    expect(await p).toMatchObject({ kind: 'aborted', attempts: 1 });
    await clock.advance(5000);
    expect(w.calls).toHaveLength(1);
  });

  it('abandonOnAbort settles at once, without waiting for the attempt', async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    const p = attemptPolicy({ clock }).execute(() => new Promise<never>(() => {}), {
      signal: caller.signal,
      abandonOnAbort: true,
    });
    caller.abort();
    expect(await p).toMatchObject({ kind: 'aborted', error: { code: 'ABORTED' } });
  });

  it('a RateLimitedError is not a counted attempt: it waits retryAfter then calls again under the same number', async () => {
    const clock = new ManualClock();
    const policy = attemptPolicy({ attempts: 2, backoff: 10, clock });
    const w = scripted([new RateLimitedError({ retryAfter: 300 }), new RateLimitedError(), new Error('x')]);
    const limited: RetryInfo[] = [];
    const times: number[] = [];
    const p = policy.execute(
      async (ctx) => {
        times.push(clock.now());
        return w.fn(ctx);
      },
      { onRateLimited: (i) => limited.push(i) },
    );
    expect(await clock.runUntil(p)).toEqual({ kind: 'ok', value: 'ok@2', attempts: 2 });
    expect(w.attempts()).toEqual([1, 1, 1, 2]);
    expect(times).toEqual([0, 300, 1300, 1310]);
    expect(limited.map((i) => [i.attempt, i.delayMs])).toEqual([
      [1, 300],
      [1, 1000],
    ]);
  });

  it('park takes over the rate-limit wait', async () => {
    const clock = new ManualClock();
    const parked: number[] = [];
    let wake: () => void = () => {};
    const w = scripted([new RateLimitedError({ retryAfter: 5000 })]);
    const p = attemptPolicy({ clock }).execute(w.fn, {
      park: ({ delayMs }) => {
        parked.push(delayMs);
        return new Promise<void>((r) => {
          wake = r;
        });
      },
    });
    await flushMicrotasks();
    expect(parked).toEqual([5000]);
    expect(clock.pendingTimers).toBe(0);
    wake();
    expect(await p).toEqual({ kind: 'ok', value: 'ok@1', attempts: 1 });
  });

  it('yieldRateLimited hands the wait back; resume continues the same item', async () => {
    const clock = new ManualClock();
    const policy = attemptPolicy({ attempts: 3, backoff: 10, clock });
    const w = scripted([new Error('a'), new RateLimitedError({ retryAfter: 70 }), new Error('b')]);
    const first = policy.execute(w.fn, { yieldRateLimited: true });
    const out = await clock.runUntil(first);
    expect(out).toMatchObject({ kind: 'rate_limited', delayMs: 70, attempts: 2, previousDelayMs: 10 });
    if (out.kind !== 'rate_limited') throw new Error('unreachable');
    const second = policy.execute(w.fn, {
      resume: {
        attempt: out.attempts,
        previousDelayMs: out.previousDelayMs,
        error: out.error,
        decision: { kind: 'rate_limited', delayMs: out.delayMs },
        waited: true,
      },
    });
    expect(await clock.runUntil(second)).toEqual({ kind: 'ok', value: 'ok@3', attempts: 3 });
    expect(w.attempts()).toEqual([1, 2, 2, 3]);
  });

  it('resume after a failure the caller ran inline: waits the decided delay, then the next attempt', async () => {
    const clock = new ManualClock();
    const policy = attemptPolicy({ attempts: 3, backoff: 40, clock });
    const err = new Error('inline');
    const decision = policy.decide(err, 1, 0);
    if (decision.kind === 'give_up') throw new Error('unreachable');
    const w = scripted([]);
    const p = policy.execute(w.fn, { resume: { attempt: 1, previousDelayMs: 0, error: err, decision } });
    await clock.advance(39);
    expect(w.calls).toHaveLength(0);
    await clock.advance(1);
    expect(await p).toEqual({ kind: 'ok', value: 'ok@2', attempts: 2 });
  });

  it('a failing custom backoff ends the run with its error', async () => {
    const bad = backoff.custom(() => -1);
    const out = await attemptPolicy({ attempts: 3, backoff: bad }).execute(scripted([new Error('x')]).fn);
    expect(out).toMatchObject({ kind: 'failed', reason: 'not_retryable', error: { code: 'CONFIG_INVALID' } });
  });

  it('a throwing hook does not change the outcome', async () => {
    const out = await attemptPolicy().execute(() => 1, {
      onSuccess: () => {
        throw new Error('hook');
      },
    });
    expect(out).toEqual({ kind: 'ok', value: 1, attempts: 1 });
  });
});

describe('AttemptPolicy gate', () => {
  it('is called before each attempt, may wait, and its release gets how the attempt ended', async () => {
    const clock = new ManualClock();
    const log: string[] = [];
    const w = scripted([new Error('x')]);
    const p = attemptPolicy({ attempts: 2, backoff: 0, timeout: 100, clock }).execute(
      async (ctx) => {
        log.push(`run ${ctx.attempt} @${clock.now()}`);
        return w.fn(ctx);
      },
      {
        gate: async ({ attempt, signal }) => {
          log.push(`gate ${attempt}`);
          await clock.sleep(500, signal);
          return (s: AttemptSettled) => log.push(`release ${attempt} ${s.ok ? 'ok' : 'error'}`);
        },
      },
    );
    expect(await clock.runUntil(p)).toEqual({ kind: 'ok', value: 'ok@2', attempts: 2 });
    // The timeout (100 ms) starts after the gate admitted the attempt (500 ms wait): no TIMEOUT.
    expect(log).toEqual(['gate 1', 'run 1 @500', 'release 1 error', 'gate 2', 'run 2 @1000', 'release 2 ok']);
  });

  it('a synchronous gate admits without a wait', async () => {
    let released = 0;
    const out = await attemptPolicy().execute(() => 'v', { gate: () => () => released++ });
    expect(out.kind).toBe('ok');
    expect(released).toBe(1);
  });

  it('an abort while the gate waits ends the run as aborted, without calling the work', async () => {
    const clock = new ManualClock();
    const caller = new AbortController();
    const w = scripted([]);
    const p = attemptPolicy({ clock }).execute(w.fn, {
      signal: caller.signal,
      gate: async ({ signal }) => {
        await clock.sleep(10_000, signal);
        return undefined;
      },
    });
    await flushMicrotasks();
    caller.abort();
    expect(await p).toMatchObject({ kind: 'aborted', attempts: 1 });
    expect(w.calls).toHaveLength(0);
  });

  it('a gate that rejects without an abort fails the attempt with its error (retried like any error)', async () => {
    const clock = new ManualClock();
    let n = 0;
    const p = attemptPolicy({ attempts: 2, backoff: 0, clock }).execute(() => 'v', {
      gate: () => {
        if (n++ === 0) throw new SluiceError('BACKEND_UNAVAILABLE', 'down', { retryable: true });
        return undefined;
      },
    });
    expect(await clock.runUntil(p)).toEqual({ kind: 'ok', value: 'v', attempts: 2 });
  });
});
