// withCallDeadline with fake timers: answers in time pass through, a missed deadline rejects BACKEND_UNAVAILABLE once and drops the call.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withCallDeadline } from './callDeadline.ts';

const deadline = { kind: 'redis', ms: 1000, endpoint: '127.0.0.1:6379' };

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('withCallDeadline', () => {
  it('passes through an answer or an error that comes in time', async () => {
    const onExpired = vi.fn();
    await expect(withCallDeadline(deadline, 'commit', async () => 42, onExpired)).resolves.toBe(42);
    const boom = new Error('boom');
    await expect(withCallDeadline(deadline, 'commit', () => Promise.reject(boom), onExpired)).rejects.toBe(
      boom,
    );
    await vi.advanceTimersByTimeAsync(5000);
    expect(onExpired).not.toHaveBeenCalled();
  });

  it('rejects with BACKEND_UNAVAILABLE at the deadline, calls onExpired once and ignores the late outcome', async () => {
    let answer: (v: number) => void = () => {};
    const onExpired = vi.fn();
    const call = withCallDeadline(
      deadline,
      'commit',
      () =>
        new Promise<number>((r) => {
          answer = r;
        }),
      onExpired,
    );
    const outcome = call.catch((e: unknown) => e);
    await vi.advanceTimersByTimeAsync(999);
    expect(onExpired).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    const error = await outcome;
    expect(error).toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      retryable: true,
      context: { kind: 'redis', what: 'commit', endpoint: '127.0.0.1:6379' },
    });
    expect((error as Error).message).toContain('no answer within 1000 ms');
    expect(onExpired).toHaveBeenCalledTimes(1);
    answer(7);
    await vi.advanceTimersByTimeAsync(10);
    await expect(call).rejects.toMatchObject({ code: 'BACKEND_UNAVAILABLE' });
  });

  it('a late rejection after the deadline is not unhandled', async () => {
    let fail: (e: unknown) => void = () => {};
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      const call = withCallDeadline(
        deadline,
        'read',
        () =>
          new Promise<never>((_, reject) => {
            fail = reject;
          }),
      ).catch(() => 'rejected');
      await vi.advanceTimersByTimeAsync(1000);
      expect(await call).toBe('rejected');
      fail(new Error('late'));
      await vi.advanceTimersByTimeAsync(10);
      vi.useRealTimers();
      await new Promise((r) => setTimeout(r, 0));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});
