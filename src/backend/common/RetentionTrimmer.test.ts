// RetentionTrimmer: interval rounds on a ManualClock, lease election between two trimmers, close().
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import type { TrimResult } from '../Backend.ts';
import { createMemoryBackend } from '../memory/MemoryBackend.ts';
import { createTrimmer } from './RetentionTrimmer.ts';

async function setup() {
  const clock = new ManualClock(1_000_000);
  const backend = createMemoryBackend({ clock });
  await backend.ensureTopic('a', { partitions: 1, retention: { maxEvents: 2 } });
  await backend.ensureTopic('b', { partitions: 1, retention: { maxAge: 500 } });
  await backend.append('a', [{ payload: 1 }, { payload: 2 }, { payload: 3 }, { payload: 4 }, { payload: 5 }]);
  await backend.append('b', [{ payload: 1 }, { payload: 2 }]);
  return { clock, backend };
}

describe('RetentionTrimmer', () => {
  it('trims every topic each interval, with now from the clock', async () => {
    const { clock, backend } = await setup();
    const rounds: (readonly TrimResult[])[] = [];
    const trimmer = createTrimmer(backend, { clock, intervalMs: 1000, onTrim: (r) => rounds.push(r) });
    expect(await backend.retention.firstOffset('a', 0)).toBe(0);
    await clock.advance(1000);
    await trimmer.runOnce(); // waits for the round the timer started
    expect(rounds).toHaveLength(1);
    expect(await backend.retention.firstOffset('a', 0)).toBe(3);
    // Topic b's events are 1000 ms old, past maxAge 500.
    expect(await backend.retention.firstOffset('b', 0)).toBe(2);
    expect(trimmer.leader).toBe(true);
    await backend.append('a', [{ payload: 6 }]);
    await clock.advance(1000);
    await trimmer.runOnce();
    expect(await backend.retention.firstOffset('a', 0)).toBe(4);
    await trimmer.close();
    expect(trimmer.state).toBe('closed');
    expect(await backend.leases.get('sluice:trimmer')).toBeUndefined();
    await backend.append('a', [{ payload: 7 }, { payload: 8 }]);
    await clock.advance(5000);
    expect(await backend.retention.firstOffset('a', 0)).toBe(4);
  });

  it('only the trimmer holding the lease trims; another takes over after close', async () => {
    const { clock, backend } = await setup();
    const one = createTrimmer(backend, { clock, intervalMs: 60_000, owner: 'one' });
    const two = createTrimmer(backend, { clock, intervalMs: 60_000, owner: 'two' });
    expect(await one.runOnce()).toHaveLength(2);
    expect(await two.runOnce()).toBeNull();
    expect(two.leader).toBe(false);
    await one.close();
    const r = await two.runOnce();
    expect(r?.map((t) => t.topic)).toEqual(['a', 'b']);
    expect(two.leader).toBe(true);
    await two.close();
  });

  it('a failing round is reported and the next round still runs', async () => {
    const { clock, backend } = await setup();
    const errors: unknown[] = [];
    let calls = 0;
    const real = backend.trim.bind(backend);
    backend.trim = async (topic, o) => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return real(topic, o);
    };
    const trimmer = createTrimmer(backend, { clock, intervalMs: 100, onError: (e) => errors.push(e) });
    await clock.advance(100);
    await trimmer.runOnce().catch(() => {});
    expect(errors).toHaveLength(1);
    await clock.advance(100);
    await trimmer.runOnce();
    expect(await backend.retention.firstOffset('a', 0)).toBe(3);
    await trimmer.close();
  });

  it('after a busy round (>= 1% of what a topic keeps removed) the next one comes after busyIntervalMs', async () => {
    const clock = new ManualClock(1_000_000);
    const backend = createMemoryBackend({ clock });
    await backend.ensureTopic('logs', { partitions: 1, retention: { maxEvents: 1000 } });
    const appendN = (n: number) =>
      backend.append(
        'logs',
        Array.from({ length: n }, (_, i) => ({ payload: i })),
      );
    const rounds: { at: number; removed: number }[] = [];
    const trimmer = createTrimmer(backend, {
      clock,
      intervalMs: 10_000,
      busyIntervalMs: 500,
      onTrim: (r) =>
        rounds.push({
          at: clock.now() - 1_000_000,
          removed: r.flatMap((t) => t.partitions).reduce((n, p) => n + p.removed, 0),
        }),
    });
    // Timer rounds only (no runOnce, which would be a round of its own); the memory backend does
    // no I/O, so one turn of the event loop lets a round finish.
    const step = async (ms: number) => {
      await clock.advance(ms);
      await new Promise((r) => setImmediate(r));
    };
    await appendN(2000); // 1000 over the limit
    await step(10_000);
    expect(rounds).toEqual([{ at: 10_000, removed: 1000 }]);
    // 1000 removed of 1000 kept: busy, so the next round comes 500 ms later.
    await step(500);
    expect(rounds.at(-1)).toEqual({ at: 10_500, removed: 0 });
    // That one removed nothing: back to intervalMs.
    await appendN(5); // 5 over: under 1% of the 1000 kept, not busy either
    await step(500);
    await step(9_000);
    expect(rounds).toHaveLength(2);
    await step(500);
    expect(rounds.at(-1)).toEqual({ at: 20_500, removed: 5 });
    await step(500);
    expect(rounds).toHaveLength(3);
    await trimmer.close();
  });

  it('rejects bad options with CONFIG_INVALID naming the field', async () => {
    const { backend } = await setup();
    expect(() => createTrimmer(backend, { intervalMs: 0 })).toThrow(/`trimmer\.intervalMs`/);
    expect(() => createTrimmer(backend, { busyIntervalMs: -1 })).toThrow(/`trimmer\.busyIntervalMs`/);
  });
});
