// Unit tests of ManualClock: timer order and ties, timers set by timers, sleep with abort, clearTimeout.
import { describe, expect, it } from 'vitest';
import { ManualClock } from './ManualClock.ts';

describe('ManualClock', () => {
  it('fires timers in time order, ties in scheduling order, only when advanced', async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@200'), 200);
    clock.setTimeout(() => fired.push('a@100'), 100);
    clock.setTimeout(() => fired.push('c@200'), 200);
    await clock.advance(99);
    expect(fired).toEqual([]);
    expect(clock.now()).toBe(1099);
    await clock.advance(101);
    expect(fired).toEqual(['a@100', 'b@200', 'c@200']);
    expect(clock.now()).toBe(1200);
  });

  it('runs timers scheduled by timers within the same advance', async () => {
    const clock = new ManualClock();
    const times: number[] = [];
    const tick = () => {
      times.push(clock.now());
      if (times.length < 5) clock.setTimeout(tick, 10);
    };
    clock.setTimeout(tick, 10);
    await clock.advance(100);
    expect(times).toEqual([10, 20, 30, 40, 50]);
  });

  it('sleep resolves on advance and rejects with ABORTED on abort', async () => {
    const clock = new ManualClock();
    let done = false;
    const p = clock.sleep(50).then(() => {
      done = true;
    });
    await clock.advance(49);
    expect(done).toBe(false);
    await clock.advance(1);
    await p;
    expect(done).toBe(true);

    const ac = new AbortController();
    const q = clock.sleep(50, ac.signal);
    ac.abort();
    await expect(q).rejects.toMatchObject({ code: 'ABORTED' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('clearTimeout cancels', async () => {
    const clock = new ManualClock();
    let n = 0;
    const t = clock.setTimeout(() => n++, 5);
    clock.clearTimeout(t);
    await clock.advance(10);
    expect(n).toBe(0);
  });
});
