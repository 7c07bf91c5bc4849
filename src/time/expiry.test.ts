// TTL expiry under a ManualClock: expired events are dead-lettered with EXPIRED by pipelines and runners, never handled.
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEvent } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/MemoryBackend.ts';
import { type PartitionedRunner, partitionedRunner } from '../cluster/runner/PartitionedRunner.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { stream } from '../pipeline/stream.ts';

const T0 = 1_700_000_000_000;
const runners: PartitionedRunner[] = [];
let clock = new ManualClock(T0);

afterEach(async () => {
  const stops = runners.splice(0).map((r) => r.stop());
  await clock.runUntil(Promise.all(stops)).catch(() => {});
});

async function seeded() {
  clock = new ManualClock(T0);
  const backend = createMemoryBackend({ clock });
  await backend.ensureTopic('jobs', { partitions: 2 });
  await backend.ensureTopic('short', { partitions: 1, ttl: '5s' });
  await backend.append('jobs', [
    { id: 'fresh', key: 'a', payload: 'fresh', ttl: '1h' },
    { id: 'stale', key: 'a', payload: 'stale', ttl: '1s' },
    { id: 'forever', key: 'b', payload: 'forever' },
  ]);
  await backend.append('short', [{ id: 'old', payload: 'old' }]);
  clock.set(T0 + 4_000);
  await backend.append('short', [{ id: 'young', payload: 'young' }]);
  // Past the 1 s ttl and the topic's 5 s default of "old", within it for "young" (appended at +4 s).
  clock.set(T0 + 6_000);
  return backend;
}

describe('TTL: expired events are dead-lettered with EXPIRED, never processed', () => {
  it('in a topic pipeline (per-event ttl and the topic default)', async () => {
    const backend = await seeded();
    const seen: unknown[] = [];
    for (const topic of ['jobs', 'short']) {
      await stream({ backend, topic, group: 'g' }, { clock })
        .process((e: LogEvent) => {
          seen.push(e.payload);
        })
        .checkpoint({ every: '1h' })
        .collect();
    }
    expect(seen.sort()).toEqual(['forever', 'fresh', 'young']);
    const dead = await backend.dlq.list({ source: 'g' });
    expect(dead.map((d) => [d.id, d.error.code])).toEqual([
      ['old', 'EXPIRED'],
      ['stale', 'EXPIRED'],
    ]);
    // Expired events count as done: the group's offsets passed them.
    expect(await backend.committed('g', 'short', 0)).toBe(2);
  });

  it('in a partitioned runner', async () => {
    const backend = await seeded();
    const seen: unknown[] = [];
    const r = partitionedRunner({
      backend,
      group: 'r',
      topic: 'jobs',
      nodeName: 'n1',
      heartbeat: 100,
      failureTimeout: 500,
      pollInterval: 20,
      clock,
      handler: (e) => {
        seen.push(e.payload);
      },
    });
    runners.push(r);
    await r.start();
    for (let i = 0; i < 500 && seen.length < 2; i++) await clock.advance(20);
    expect(seen.sort()).toEqual(['forever', 'fresh']);
    const dead = await backend.dlq.list({ source: 'r' });
    expect(dead.map((d) => [d.id, d.error.code])).toEqual([['stale', 'EXPIRED']]);
  });
});
