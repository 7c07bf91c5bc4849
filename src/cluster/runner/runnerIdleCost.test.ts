// Backend calls of an idle runner do not grow with its partitions; batched start-up and renewal.
import { AsyncLocalStorage } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../../backend/Backend.ts';
import { createMemoryBackend } from '../../backend/memory/index.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { type PartitionedRunner, partitionedRunner } from './PartitionedRunner.ts';

/**
 * Counts every call to a method of the backend, its leases and its membership, by name: calls
 * from outside only (a batched call the memory backend answers with single calls counts once).
 */
function counted(backend: Backend): { backend: Backend; calls: Map<string, number>; total(): number } {
  const calls = new Map<string, number>();
  const inside = new AsyncLocalStorage<true>();
  const wrap = (target: object, prefix: string, names: string[]) => {
    const t = target as Record<string, (...a: unknown[]) => unknown>;
    for (const name of names) {
      const original = t[name]!.bind(target);
      t[name] = (...a: unknown[]) => {
        if (inside.getStore() === true) return original(...a);
        calls.set(`${prefix}${name}`, (calls.get(`${prefix}${name}`) ?? 0) + 1);
        return inside.run(true, () => original(...a));
      };
    }
  };
  wrap(backend, '', ['topicInfo', 'ensureTopic', 'read', 'readMany', 'commit', 'committed', 'committedMany']);
  wrap(backend.leases, 'leases.', ['acquire', 'acquireMany', 'renew', 'renewMany', 'release', 'get', 'list']);
  wrap(backend.membership, 'membership.', ['heartbeat', 'members', 'leave']);
  wrap(backend.assignments, 'assignments.', ['generation', 'get', 'publish']);
  return { backend, calls, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
}

let clock: ManualClock;
const runners: PartitionedRunner[] = [];

afterEach(async () => {
  await clock.runUntil(Promise.all(runners.splice(0).map((r) => r.stop()))).catch(() => {});
});

/** Starts one runner owning an idle topic of `partitions`; returns its backend call counts over 10 s of idle time. */
async function idleCalls(
  partitions: number,
): Promise<{ total: number; calls: Map<string, number>; startup: Map<string, number> }> {
  clock = new ManualClock(1_000_000);
  const c = counted(createMemoryBackend({ clock }));
  const r = partitionedRunner({
    backend: c.backend,
    group: 'g',
    topic: 'idle',
    partitions,
    nodeName: 'solo',
    heartbeat: '1s',
    failureTimeout: '5s',
    clock,
    handler: () => {},
  });
  runners.push(r);
  await r.start();
  await clock.advance(2_000);
  expect(r.assigned()).toHaveLength(partitions);
  const startup = new Map(c.calls);
  c.calls.clear();
  await clock.advance(10_000);
  return { total: c.total(), calls: new Map(c.calls), startup };
}

describe('runner backend cost', () => {
  it('an idle runner makes the same number of backend calls at 4 and at 1024 partitions, at most 6 per second', async () => {
    const small = await idleCalls(4);
    await clock.runUntil(Promise.all(runners.splice(0).map((r) => r.stop())));
    const large = await idleCalls(1024);
    expect(large.total).toBe(small.total);
    expect(large.total).toBeLessThanOrEqual(60);
    // Polls, renewals and heartbeats are one call each per interval, never per partition: the
    // partition leases are bound to the runner's holder lease, whose one renewal keeps them all.
    expect(large.calls.get('read') ?? 0).toBe(0);
    expect(large.calls.get('leases.renew')).toBe(10);
    expect(large.calls.get('leases.renewMany') ?? 0).toBe(0);
    expect(large.calls.get('membership.heartbeat')).toBe(10);
    expect(large.calls.get('readMany')).toBeLessThanOrEqual(11);
    // The group coordinator: one generation read and one leader-lease renewal per heartbeat, the
    // members read by the leader; nobody lists the partition leases, nothing is republished.
    expect(large.calls.get('assignments.generation')).toBe(10);
    expect(large.calls.get('leases.acquire')).toBe(10);
    expect(large.calls.get('membership.members')).toBe(10);
    expect(large.calls.get('leases.list') ?? 0).toBe(0);
    expect(large.calls.get('assignments.publish') ?? 0).toBe(0);
    // Start-up takes the holder lease, then acquires every partition and reads every committed
    // offset in one call each.
    expect(large.startup.get('leases.acquireMany')).toBe(1);
    expect(large.startup.get('assignments.publish')).toBe(1);
    expect(large.startup.get('committedMany')).toBe(1);
    expect(large.startup.get('committed') ?? 0).toBe(0);
  });

  it('events appended to an idle partition are picked up through watch without waiting for the fallback poll', async () => {
    clock = new ManualClock(1_000_000);
    const backend = createMemoryBackend({ clock });
    const seen: number[] = [];
    const r = partitionedRunner({
      backend,
      group: 'g',
      topic: 'hinted',
      partitions: 64,
      nodeName: 'solo',
      pollInterval: '1h',
      clock,
      handler: (e) => {
        seen.push(e.partition);
      },
    });
    runners.push(r);
    await r.start();
    await clock.advance(2_000);
    await backend.append('hinted', [{ payload: 1, partition: 17 }]);
    await clock.advance(1);
    expect(seen).toEqual([17]);
  });
});
