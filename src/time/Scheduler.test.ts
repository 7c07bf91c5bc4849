// The scheduler under a ManualClock: delayed releases, schedule ticks exactly once, lease hand-over, bad input.
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, LogEvent } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/MemoryBackend.ts';
import { isSluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { createScheduler, type Scheduler } from './Scheduler.ts';

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
const open: Scheduler[] = [];

async function all(b: Backend, topic: string): Promise<LogEvent[]> {
  const info = await b.topicInfo(topic);
  const out: LogEvent[] = [];
  for (let p = 0; p < (info?.partitions ?? 0); p++) out.push(...(await b.read(topic, p, 0, 100_000)));
  return out;
}

async function setup(count = 1) {
  const clock = new ManualClock(T0);
  const backend = createMemoryBackend({ clock });
  await backend.ensureTopic('jobs', { partitions: 4 });
  const schedulers = Array.from({ length: count }, (_, i) => {
    const s = createScheduler({ backend, clock, owner: `s${i}`, leaseTtl: 1000, pollInterval: 100 });
    open.push(s);
    return s;
  });
  return { clock, backend, schedulers };
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe('Scheduler: delayed events', () => {
  it('appends a delayed event when due, never before, in due then append order', async () => {
    const { clock, backend, schedulers } = await setup();
    const s = schedulers[0]!;
    await backend.append('jobs', [
      { key: 'k', payload: 2, delay: '10s' },
      { key: 'k', payload: 1, delay: '5s' },
      { key: 'k', payload: 3, delay: '10s' },
    ]);
    clock.set(T0 + 4999);
    await s.runOnce();
    expect(await all(backend, 'jobs')).toEqual([]);
    clock.set(T0 + 5000);
    expect(await s.runOnce()).toEqual({ released: 1, ticks: 0 });
    clock.set(T0 + 10_000);
    await s.runOnce();
    expect((await all(backend, 'jobs')).map((e) => e.payload)).toEqual([1, 2, 3]);
    expect(await backend.delayed.counts()).toEqual([]);
  });

  it('runs on its own timers: wakes at the due time of the next event', async () => {
    const { clock, backend } = await setup();
    await backend.append('jobs', [{ payload: 'x', delay: 250 }]);
    await clock.advance(249);
    expect(await all(backend, 'jobs')).toEqual([]);
    await clock.advance(1);
    await clock.advance(0);
    expect((await all(backend, 'jobs')).map((e) => e.payload)).toEqual(['x']);
  });
});

describe('Scheduler: schedules', () => {
  it('fires each interval tick exactly once across two schedulers, also when the leader goes away', async () => {
    const { clock, backend, schedulers } = await setup(2);
    const [a, b] = schedulers as [Scheduler, Scheduler];
    await a.schedule({ name: 'beat', every: '1s', topic: 'jobs', payload: { beat: true }, missed: 'all' });
    for (let i = 1; i <= 3; i++) {
      clock.set(T0 + i * 1000);
      await a.runOnce();
      await b.runOnce();
    }
    expect(a.leader).toBe(true);
    expect(b.leader).toBe(false);
    // The leader stops without releasing (as if killed): b takes over after the lease TTL.
    (a as unknown as { lifecycle: string }).lifecycle = 'closed';
    for (let i = 4; i <= 8; i++) {
      clock.set(T0 + i * 1000 + 500);
      await b.runOnce();
    }
    expect(b.leader).toBe(true);
    const ticks = (await all(backend, 'jobs')).map((e) => Number(e.headers?.['sluice-tick']));
    expect(ticks).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((i) => T0 + i * 1000));
  });

  it('a second scheduler appending the same tick is deduplicated by the tick id', async () => {
    const { clock, backend, schedulers } = await setup(1);
    const s = schedulers[0]!;
    await s.schedule({ name: 'beat', every: 1000, topic: 'jobs', payload: 1 });
    clock.set(T0 + 1000);
    await s.runOnce();
    // A crash after the append but before the last tick was recorded: the same tick again.
    const rec = await backend.schedules.get('beat');
    await backend.schedules.remove('beat');
    await backend.schedules.put({ ...rec!, name: 'beat' }, rec!.createdAt);
    await s.runOnce();
    expect(await all(backend, 'jobs')).toHaveLength(1);
  });

  it('after downtime: skip drops missed ticks, once fires the latest, all fires every one', async () => {
    const { clock, backend } = await setup(0);
    const s = createScheduler({ backend, clock, missedAfter: '30s', pollInterval: 100 });
    open.push(s);
    for (const missed of ['skip', 'once', 'all'] as const) {
      await s.schedule({ name: missed, cron: '* * * * *', topic: 'jobs', payload: missed, missed });
    }
    clock.set(T0 + 5 * 60_000 + 10_000); // five minutes down; the 00:05 tick is 10 s late (on time)
    await s.runOnce();
    const byName = (n: string) =>
      s &&
      all(backend, 'jobs').then((es) =>
        es.filter((e) => e.payload === n).map((e) => Number(e.headers?.['sluice-tick'])),
      );
    expect(await byName('skip')).toEqual([T0 + 5 * 60_000]);
    expect(await byName('once')).toEqual([T0 + 4 * 60_000, T0 + 5 * 60_000]);
    expect(await byName('all')).toEqual([1, 2, 3, 4, 5].map((m) => T0 + m * 60_000));
  });

  it('follows the cron time zone, produce makes the payload, pause stops ticks and resume continues', async () => {
    const { clock, backend, schedulers } = await setup();
    const s = schedulers[0]!;
    // 09:00 in Berlin (UTC+1 in January) is 08:00 UTC.
    await s.schedule({
      name: 'morning',
      cron: '0 9 * * *',
      timezone: 'Europe/Berlin',
      topic: 'jobs',
      produce: ({ tick }) => ({ at: tick.toISOString() }),
    });
    clock.set(T0 + 8 * 3_600_000 - 1);
    await s.runOnce();
    expect(await all(backend, 'jobs')).toEqual([]);
    clock.set(T0 + 8 * 3_600_000);
    await s.runOnce();
    expect((await all(backend, 'jobs')).map((e) => e.payload)).toEqual([{ at: '2026-01-01T08:00:00.000Z' }]);
    await backend.schedules.setPaused('morning', true);
    clock.set(T0 + 32 * 3_600_000);
    await s.runOnce();
    expect(await all(backend, 'jobs')).toHaveLength(1);
  });

  it('a schedule whose produce throws is retried next round and does not hold up the others', async () => {
    const { clock, backend } = await setup(0);
    const errors: unknown[] = [];
    const s = createScheduler({ backend, clock, pollInterval: 100, onError: (e) => errors.push(e) });
    open.push(s);
    let fail = true;
    await s.schedule({
      name: 'a-flaky',
      every: 1000,
      topic: 'jobs',
      produce: () => {
        if (fail) throw new Error('not now');
        return 'flaky';
      },
    });
    await s.schedule({ name: 'b-steady', every: 1000, topic: 'jobs', payload: 'steady' });
    clock.set(T0 + 1000);
    await s.runOnce();
    expect((await all(backend, 'jobs')).map((e) => e.payload)).toEqual(['steady']);
    expect(errors).toHaveLength(1);
    fail = false;
    await s.runOnce();
    expect((await all(backend, 'jobs')).map((e) => e.payload).sort()).toEqual(['flaky', 'steady']);
  });

  it('rejects bad schedules with CONFIG_INVALID naming the field and value', async () => {
    const { schedulers } = await setup();
    const s = schedulers[0]!;
    const base = { name: 'x', topic: 'jobs', payload: 1 };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, cron: '99 * * * *' }, 'cron'],
      [{ ...base, cron: '* * * * *', timezone: 'Mars/Olympus' }, 'timezone'],
      [{ ...base, cron: '* * * * *', every: '1s' }, 'every'],
      [{ ...base, every: '-1s' }, 'every'],
      [{ ...base, every: 'often' }, 'every'],
      [{ name: 'x', every: '1s', payload: 1 }, 'topic'],
      [{ ...base }, 'cron'],
      [{ ...base, every: '1s', missed: 'never' }, 'missed'],
    ];
    for (const [opts, field] of cases) {
      const err = await s.schedule(opts as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isSluiceError(err) && err.code, JSON.stringify(opts)).toBe('CONFIG_INVALID');
      expect((err as Error).message).toContain(field);
    }
  });
});
