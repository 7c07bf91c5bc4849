// Conformance: the ScheduleStore (put keeps state, pause/resume, advance never backwards, remove, counts).
import { describe, expect, it } from 'vitest';
import type { ScheduleSpec, ScheduleStore } from '../ScheduleStore.ts';
import type { Harness } from './harness.ts';
import { rejectsWithCode, T0 } from './harness.ts';

function store(h: () => Harness): ScheduleStore {
  const s = h().backend.schedules;
  if (s === undefined) throw new Error(`backend ${h().backend.kind} has no schedule store`);
  return s;
}

const SPEC: ScheduleSpec = {
  name: 'report',
  topic: 'jobs',
  cron: '*/5 * * * *',
  everyMs: null,
  timezone: 'Europe/Berlin',
  payload: { kind: 'report' },
  produce: false,
  key: null,
  missed: 'once',
};

/** Conformance: stored schedules. */
export function scheduleTests(h: () => Harness): void {
  describe('schedules store', () => {
    it('stores, lists and replaces a schedule, keeping its pause flag, last tick and creation time', async () => {
      const s = store(h);
      expect(await s.put(SPEC, T0)).toEqual({ ...SPEC, paused: false, lastTick: null, createdAt: T0 });
      await s.put(
        { ...SPEC, name: 'a', cron: null, everyMs: 30_000, timezone: null, topic: 'other' },
        T0 + 1,
      );
      expect(await s.setPaused('report', true)).toBe(true);
      expect(await s.advance('report', T0 + 300_000)).toBe(true);
      const replaced = await s.put({ ...SPEC, payload: { kind: 'v2' } }, T0 + 5);
      expect(replaced).toEqual({
        ...SPEC,
        payload: { kind: 'v2' },
        paused: true,
        lastTick: T0 + 300_000,
        createdAt: T0,
      });
      expect((await s.list()).map((r) => r.name)).toEqual(['a', 'report']);
      expect(await s.get('report')).toEqual(replaced);
      expect(await s.counts()).toEqual([
        { topic: 'jobs', count: 1 },
        { topic: 'other', count: 1 },
      ]);
    });

    it('advance never moves the last tick backwards; unknown names say false', async () => {
      const s = store(h);
      await s.put(SPEC, T0);
      await s.advance('report', T0 + 600_000);
      await s.advance('report', T0 + 300_000);
      expect((await s.get('report'))?.lastTick).toBe(T0 + 600_000);
      expect(await s.advance('nope', T0)).toBe(false);
      expect(await s.setPaused('nope', true)).toBe(false);
      expect(await s.setPaused('report', true)).toBe(true);
      expect(await s.setPaused('report', false)).toBe(true);
      expect((await s.get('report'))?.paused).toBe(false);
    });

    it('removes a schedule', async () => {
      const s = store(h);
      await s.put(SPEC, T0);
      expect(await s.remove('report')).toBe(true);
      expect(await s.remove('report')).toBe(false);
      expect(await s.get('report')).toBeUndefined();
      expect(await s.list()).toEqual([]);
    });

    it('rejects a malformed schedule with CONFIG_INVALID', async () => {
      const s = store(h);
      await rejectsWithCode(s.put({ ...SPEC, everyMs: 1000 }, T0), 'CONFIG_INVALID');
      await rejectsWithCode(s.put({ ...SPEC, topic: '' }, T0), 'CONFIG_INVALID');
      await rejectsWithCode(s.put({ ...SPEC, missed: 'never' as 'skip' }, T0), 'CONFIG_INVALID');
    });
  });
}
