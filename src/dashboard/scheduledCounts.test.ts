// collectStatus's delayed and schedule counts: read from the backend's stores, never counted twice.
import { describe, expect, it } from 'vitest';
import type { Backend } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/MemoryBackend.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { createScheduler } from '../time/Scheduler.ts';
import { collectStatus } from './collectStatus.ts';

describe('collectStatus: delayed and scheduled counts', () => {
  it('come from the backend stores, and drop as delayed events fall due', async () => {
    const clock = new ManualClock(1_000_000);
    const backend = createMemoryBackend({ clock });
    await backend.ensureTopic('jobs', { partitions: 2 });
    expect((await collectStatus(backend)).scheduled).toEqual({ delayed: 0, schedules: 0 });
    await backend.append('jobs', [
      { payload: 1, delay: 1000 },
      { payload: 2, delay: 1000 },
      { payload: 3, delay: 5000 },
    ]);
    const scheduler = createScheduler({ backend, clock });
    await scheduler.schedule({ name: 'hourly', every: '1h', topic: 'jobs', payload: {} });
    // A source reporting its own counts is not added on top of the backend's.
    const source = { name: 'x', scheduled: () => ({ delayed: 100, schedules: 100 }) };
    expect((await collectStatus(backend, { sources: [source] })).scheduled).toEqual({
      delayed: 3,
      schedules: 1,
    });
    await clock.advance(1000);
    await scheduler.runOnce();
    expect((await collectStatus(backend)).scheduled).toEqual({ delayed: 1, schedules: 1 });
    await scheduler.close();
  });

  it('come from the sources for a backend without the stores', async () => {
    const inner = createMemoryBackend();
    const backend = Object.assign(Object.create(inner) as Backend, {
      delayed: undefined,
      schedules: undefined,
    });
    const source = { name: 'x', scheduled: () => ({ delayed: 4, schedules: 2 }) };
    expect((await collectStatus(backend, { sources: [source] })).scheduled).toEqual({
      delayed: 4,
      schedules: 2,
    });
    expect((await collectStatus(backend)).scheduled).toBeUndefined();
  });
});
