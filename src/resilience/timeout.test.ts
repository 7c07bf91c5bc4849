// timeout tests on a ManualClock: in-time results, TIMEOUT and ABORTED with the inner signal aborted, late rejections.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/ManualClock.ts';
import { timeout } from './timeout.ts';

describe('timeout', () => {
  it('resolves with the value when fn finishes in time and clears its timer', async () => {
    const clock = new ManualClock();
    const p = timeout('1s', () => clock.sleep(999).then(() => 'done'), undefined, clock);
    await clock.advance(999);
    await expect(p).resolves.toBe('done');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects with TIMEOUT at the limit and aborts the inner signal, even if fn ignores it', async () => {
    const clock = new ManualClock();
    let inner: AbortSignal | undefined;
    const p = timeout(
      100,
      (signal) => {
        inner = signal;
        return new Promise<never>(() => {});
      },
      undefined,
      clock,
    );
    const caught = p.catch((e: unknown) => e);
    await clock.advance(99);
    expect(inner?.aborted).toBe(false);
    await clock.advance(1);
    expect(await caught).toMatchObject({ code: 'TIMEOUT', retryable: true, context: { timeoutMs: 100 } });
    expect(inner?.aborted).toBe(true);
    expect(inner?.reason).toMatchObject({ code: 'TIMEOUT' });
  });

  it('rejects with ABORTED when the outer signal aborts, and aborts the inner signal', async () => {
    const clock = new ManualClock();
    const ctrl = new AbortController();
    let inner: AbortSignal | undefined;
    const p = timeout(
      '1m',
      (signal) => {
        inner = signal;
        return new Promise<never>(() => {});
      },
      ctrl.signal,
      clock,
    );
    ctrl.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(inner?.aborted).toBe(true);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an already aborted signal never calls fn', async () => {
    const ctrl = new AbortController();
    ctrl.abort();
    let called = false;
    await expect(
      timeout(
        10,
        async () => {
          called = true;
        },
        ctrl.signal,
        new ManualClock(),
      ),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    expect(called).toBe(false);
  });

  it('passes through the rejection of fn and a synchronous throw', async () => {
    const clock = new ManualClock();
    await expect(timeout(10, () => Promise.reject(new Error('boom')), undefined, clock)).rejects.toThrow(
      'boom',
    );
    await expect(
      timeout(
        10,
        () => {
          throw new Error('sync');
        },
        undefined,
        clock,
      ),
    ).rejects.toThrow('sync');
  });

  it('swallows a late rejection after the timeout (no unhandled rejection)', async () => {
    const clock = new ManualClock();
    let rejectLate: (e: Error) => void = () => {};
    const p = timeout(
      10,
      () =>
        new Promise<never>((_, reject) => {
          rejectLate = reject;
        }),
      undefined,
      clock,
    );
    const caught = p.catch((e: unknown) => e);
    await clock.advance(10);
    expect(await caught).toMatchObject({ code: 'TIMEOUT' });
    rejectLate(new Error('late'));
    await clock.advance(0);
  });

  it('validates the duration', () => {
    expect(() => timeout('soon', async () => 1)).toThrowError('Expected `timeout` to be a duration');
  });
});
