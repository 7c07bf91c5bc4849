// Tick planning of schedules: cron and interval ticks, timezones, and the missed-tick policies skip/once/all.
import { describe, expect, it } from 'vitest';
import type { ScheduleRecord } from '../backend/ScheduleStore.ts';
import { planTicks, tickClock, tickId } from './ticks.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;

function rec(over: Partial<ScheduleRecord>): ScheduleRecord {
  return {
    name: 's',
    topic: 't',
    cron: '* * * * *',
    everyMs: null,
    timezone: null,
    payload: null,
    produce: false,
    key: null,
    missed: 'skip',
    paused: false,
    lastTick: null,
    createdAt: T0,
    ...over,
  };
}

describe('tickClock', () => {
  it('interval ticks are the multiples of the interval since the epoch; previous includes t itself', () => {
    const c = tickClock({ cron: null, everyMs: 30_000, timezone: null });
    expect(c.next(T0)).toBe(T0 + 30_000);
    expect(c.next(T0 + 1)).toBe(T0 + 30_000);
    expect(c.previous(T0 + 29_999)).toBe(T0);
    expect(c.previous(T0 + 30_000)).toBe(T0 + 30_000);
  });

  it('cron ticks follow the time zone, next strictly after, previous at or before', () => {
    const c = tickClock({ cron: '0 9 * * *', everyMs: null, timezone: 'America/New_York' });
    const nine = Date.UTC(2026, 0, 1, 14); // 09:00 in New York (UTC-5) in January
    expect(c.next(T0)).toBe(nine);
    expect(c.next(nine)).toBe(nine + 24 * 3_600_000);
    expect(c.previous(nine)).toBe(nine);
    expect(c.previous(nine - 1)).toBe(nine - 24 * 3_600_000);
  });
});

describe('planTicks', () => {
  const settings = { missedAfterMs: 30_000, maxTicks: 100 };

  it('fires nothing before the first tick after creation, then each tick once', () => {
    const c = tickClock({ cron: '* * * * *', everyMs: null, timezone: null });
    expect(planTicks(rec({}), c, T0 + MIN - 1, settings)).toEqual({ fire: [], advanceTo: null, more: false });
    expect(planTicks(rec({}), c, T0 + MIN, settings)).toEqual({
      fire: [T0 + MIN],
      advanceTo: T0 + MIN,
      more: false,
    });
    expect(planTicks(rec({ lastTick: T0 + MIN }), c, T0 + MIN + 5, settings).fire).toEqual([]);
  });

  it('caps a round at maxTicks and says more', () => {
    const c = tickClock({ cron: null, everyMs: 1000, timezone: null });
    const plan = planTicks(rec({ cron: null, everyMs: 1000, missed: 'all' }), c, T0 + 10_000, {
      missedAfterMs: 0,
      maxTicks: 3,
    });
    expect(plan).toEqual({ fire: [T0 + 1000, T0 + 2000, T0 + 3000], advanceTo: T0 + 3000, more: true });
  });

  it('a tick within missedAfter is on time under every policy', () => {
    const c = tickClock({ cron: '* * * * *', everyMs: null, timezone: null });
    for (const missed of ['skip', 'once', 'all'] as const) {
      expect(planTicks(rec({ missed, lastTick: T0 }), c, T0 + MIN + 29_000, settings).fire).toEqual([
        T0 + MIN,
      ]);
    }
  });

  it('tick ids are the same in every process', () => {
    expect(tickId('report', T0)).toBe(`sluice-schedule:report:${T0}`);
  });
});
