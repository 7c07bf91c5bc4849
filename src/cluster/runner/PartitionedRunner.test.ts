// partitionedRunner tests on the memory backend with a ManualClock: ordering, sharing, rebalance, handover, takeover, retries, modes, options.
import { afterEach, describe, expect, it } from 'vitest';
import {
  backend,
  clock,
  committedAll,
  freshBackend,
  GROUP,
  runner,
  runners,
  setup,
  stopRunners,
  TOPIC,
  until,
} from '../../../test/support/partitionedRunnerFixture.ts';
import type { LogEvent } from '../../backend/Backend.ts';
import { partitionedRunner, partitionLeaseName } from './PartitionedRunner.ts';

afterEach(stopRunners);

describe('partitionedRunner', () => {
  it('processes every partition in offset order and commits with the lease as fence', async () => {
    await setup(4, 25);
    const seen = new Map<number, number[]>();
    const r = runner('a', (e) => {
      const list = seen.get(e.partition) ?? [];
      list.push(e.offset);
      seen.set(e.partition, list);
    });
    const commits: number[] = [];
    r.on('committed', (c) => commits.push(c.fencingToken));
    await r.start();
    expect(r.assigned()).toEqual([0, 1, 2, 3]);
    await until(async () => (await committedAll(4)).every((c) => c === 25));
    for (let p = 0; p < 4; p++) expect(seen.get(p)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(commits.every((t) => t >= 1)).toBe(true);
    const lease = await backend.leases.get(partitionLeaseName(GROUP, TOPIC, 0));
    expect(lease?.owner.startsWith('a#')).toBe(true);
  });

  it('shares partitions between live runners without overlap', async () => {
    await setup(8, 5);
    const a = runner('a', () => {});
    const b = runner('b', () => {});
    await a.start();
    await b.start();
    await until(() => a.assigned().length === 4 && b.assigned().length === 4);
    expect([...a.assigned(), ...b.assigned()].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('rebalance() converges at once after a runner joins, without waiting for a heartbeat', async () => {
    await setup(8, 0);
    const a = runner('a', () => {});
    await a.start();
    expect(a.assigned()).toHaveLength(8);
    const b = runner('b', () => {});
    await b.start(); // b's heartbeat is visible; a has not ticked since
    expect(a.assigned()).toHaveLength(8);
    const t0 = clock.now();
    await a.rebalance();
    expect(a.assigned()).toHaveLength(4);
    await b.rebalance();
    expect(b.assigned()).toHaveLength(4);
    expect(clock.now()).toBe(t0);
    expect([...a.assigned(), ...b.assigned()].sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('hands over on a graceful stop: the survivor starts at the committed offsets, nothing runs twice', async () => {
    await setup(4, 40);
    const handled = new Map<string, number>();
    const count = (e: LogEvent) => handled.set(e.id, (handled.get(e.id) ?? 0) + 1);
    const a = runner('a', count);
    const b = runner('b', count, { batchSize: 3 });
    await a.start();
    await b.start();
    await until(() => a.assigned().length === 2 && b.assigned().length === 2);
    await until(() => handled.size >= 60);
    const released: number[] = [];
    b.on('partition_released', (e) => released.push(e.partition));
    const owned = b.assigned();
    await clock.runUntil(b.stop());
    expect(released.sort()).toEqual(owned);
    expect(await backend.leases.list(`${GROUP}/`)).toHaveLength(2);
    await until(() => a.assigned().length === 4);
    await until(async () => (await committedAll(4)).every((c) => c === 40));
    expect(handled.size).toBe(160);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(await backend.membership.members(10_000)).toHaveLength(1);
  });

  it('takes over the partitions of a dead runner once its heartbeat and leases expire', async () => {
    await setup(4, 10);
    // A runner that joined, took partitions 2 and 3, and died.
    await backend.membership.heartbeat(`sluice-runner/${GROUP}/${TOPIC}/dead`, {
      group: GROUP,
      topic: TOPIC,
      instance: 'x',
    });
    await backend.leases.acquire(partitionLeaseName(GROUP, TOPIC, 2), 'dead#x#1', 500);
    await backend.leases.acquire(partitionLeaseName(GROUP, TOPIC, 3), 'dead#x#1', 500);
    const died = clock.now();
    const a = runner('a', () => {});
    const acquired: { partition: number; at: number; token: number }[] = [];
    a.on('partition_acquired', (e) =>
      acquired.push({ partition: e.partition, at: clock.now(), token: e.fencingToken }),
    );
    await a.start();
    expect(a.assigned()).toEqual([0, 1]);
    await until(() => a.assigned().length === 4, 10);
    const late = acquired.filter((x) => x.partition >= 2);
    expect(late.map((x) => x.token)).toEqual([2, 2]);
    for (const x of late) expect(x.at - died).toBeLessThanOrEqual(500 + 20);
  });

  it('on a scale-up only the partitions that move are released; the others never pause', async () => {
    await setup(12, 3);
    const a = runner('a', () => {});
    const b = runner('b', () => {});
    await a.start();
    await b.start();
    await until(() => a.assigned().length === 6 && b.assigned().length === 6);
    const before = { a: a.assigned(), b: b.assigned() };
    const released: string[] = [];
    a.on('partition_released', (e) => released.push(`a${e.partition}`));
    b.on('partition_released', (e) => released.push(`b${e.partition}`));
    const c = runner('c', () => {});
    await c.start();
    await until(() => a.assigned().length === 4 && b.assigned().length === 4 && c.assigned().length === 4);
    expect(released).toHaveLength(4);
    for (const p of a.assigned()) expect(before.a).toContain(p);
    for (const p of b.assigned()) expect(before.b).toContain(p);
    expect(released.sort()).toEqual(
      [
        ...before.a.filter((p) => !a.assigned().includes(p)).map((p) => `a${p}`),
        ...before.b.filter((p) => !b.assigned().includes(p)).map((p) => `b${p}`),
      ].sort(),
    );
  });

  it('a failing handler is retried after a backoff; earlier events of the batch are committed once', async () => {
    await setup(1, 10);
    let failures = 0;
    const handled: number[] = [];
    const a = runner('a', (e) => {
      if (e.offset === 4 && failures < 2) {
        failures++;
        throw new Error('boom');
      }
      handled.push(e.offset);
    });
    const errors: string[] = [];
    a.on('error', (e) => errors.push(e.during));
    await a.start();
    await until(async () => (await backend.committed(GROUP, TOPIC, 0)) === 10);
    expect(handled).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(errors).toEqual(['handler', 'handler']);
  });

  it('batchHandler receives whole batches in order', async () => {
    await setup(1, 25);
    const sizes: number[] = [];
    const r = partitionedRunner({
      backend,
      group: GROUP,
      topic: TOPIC,
      nodeName: 'a',
      heartbeat: 100,
      failureTimeout: 500,
      batchSize: 10,
      clock,
      batchHandler: (events) => {
        sizes.push(events.length);
      },
    });
    runners.push(r);
    await r.start();
    await until(async () => (await backend.committed(GROUP, TOPIC, 0)) === 25);
    expect(sizes).toEqual([10, 10, 5]);
  });

  it('fixed mode owns p % total === index without leases or membership', async () => {
    await setup(7, 2);
    const seen = new Set<number>();
    const r = runner('f', (e) => seen.add(e.partition), { fixed: { index: 1, total: 3 } });
    await r.start();
    expect(r.assigned()).toEqual([1, 4]);
    await until(async () => (await committedAll(7)).filter((c) => c === 2).length === 2);
    expect([...seen].sort()).toEqual([1, 4]);
    expect(await backend.leases.list('')).toEqual([]);
    expect(await backend.membership.members(10_000)).toEqual([]);
  });

  it('creates the topic with `partitions` and rejects a missing topic without it', async () => {
    freshBackend(0);
    const missing = runner('a', () => {});
    await expect(missing.start()).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(missing.state).toBe('failed');
    const made = runner('b', () => {}, { partitions: 3 });
    await made.start();
    expect((await backend.topicInfo(TOPIC))?.partitions).toBe(3);
    expect(made.assigned()).toEqual([0, 1, 2]);
  });

  it('stops when its signal aborts', async () => {
    await setup(2, 1);
    const ac = new AbortController();
    const r = runner('a', () => {}, { signal: ac.signal });
    await r.start();
    ac.abort();
    await clock.runUntil(r.stop());
    expect(r.state).toBe('stopped');
    expect(await backend.leases.list('')).toEqual([]);
  });

  it('validates options with CONFIG_INVALID naming the field', () => {
    freshBackend(0);
    const base = { backend, group: 'g', topic: 't', handler: () => {} };
    expect(() => partitionedRunner({ backend, group: 'g', topic: 't' })).toThrow(
      /`partitionedRunner.handler`/,
    );
    expect(() => partitionedRunner({ ...base, batchSize: 0 })).toThrow(
      /`partitionedRunner.batchSize` to be an integer >= 1, got 0/,
    );
    expect(() => partitionedRunner({ ...base, heartbeat: '2s', leaseTtl: '1s' })).toThrow(
      /`partitionedRunner.leaseTtl`/,
    );
    expect(() => partitionedRunner({ ...base, fixed: { index: 3, total: 3 } })).toThrow(
      /`partitionedRunner.fixed.index`/,
    );
    expect(() => partitionedRunner({ ...base, heartbeat: 'soon' })).toThrow(/`partitionedRunner.heartbeat`/);
    expect(() => partitionedRunner({ ...base, group: '' })).toThrow(/`partitionedRunner.group`/);
  });
});
