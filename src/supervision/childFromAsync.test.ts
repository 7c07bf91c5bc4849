// childFromAsync tests: return and throw as exits, stop through the signal, args and attempt.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/ManualClock.ts';
import { childFromAsync } from './childFromAsync.ts';

const ctx = (signal = new AbortController().signal, args?: unknown) => ({
  signal,
  attempt: 1,
  clock: new ManualClock(),
  ...(args === undefined ? {} : { args }),
});

describe('childFromAsync', () => {
  it('returning is a normal exit, throwing is a crash', async () => {
    const ok = await childFromAsync(async () => 42)(ctx());
    await expect(ok.done).resolves.toBeUndefined();
    const bad = await childFromAsync(async () => {
      throw new Error('boom');
    })(ctx());
    await expect(bad.done).rejects.toThrow('boom');
  });

  it('stop aborts the signal and whatever the function then does is a normal exit', async () => {
    let seenReason: unknown;
    const h = await childFromAsync(async ({ signal }) => {
      await new Promise((r) => signal.addEventListener('abort', r));
      seenReason = signal.reason;
      throw new Error('aborted');
    })(ctx());
    await h.stop('shutdown');
    expect(seenReason).toBe('shutdown');
    await expect(h.done).resolves.toBeUndefined();
    expect(h.kind).toBe('async');
  });

  it('passes args and attempt, and follows the supervisor signal', async () => {
    const parent = new AbortController();
    let got: unknown;
    const h = await childFromAsync<{ n: number }>(async ({ signal, args, attempt }) => {
      got = { args, attempt };
      await new Promise((r) => signal.addEventListener('abort', r));
    })(ctx(parent.signal, { n: 1 }) as never);
    expect(got).toEqual({ args: { n: 1 }, attempt: 1 });
    parent.abort('shutdown');
    await expect(h.done).resolves.toBeUndefined();
  });
});
