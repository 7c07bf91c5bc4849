import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, LogEvent } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { type PartitionedRunner, partitionedRunner, partitionLeaseName } from './PartitionedRunner.ts';
import type { PartitionedRunnerOptions } from './runnerOptions.ts';

const TOPIC = 'orders';
const GROUP = 'billing';

let clock: ManualClock;
let backend: Backend;
const runners: PartitionedRunner[] = [];

async function setup(partitions: number, perPartition: number): Promise<void> {
  clock = new ManualClock(1_000_000);
  backend = createMemoryBackend({ clock });
  await backend.ensureTopic(TOPIC, { partitions });
  for (let p = 0; p < partitions; p++) {
    await backend.append(
      TOPIC,
      Array.from({ length: perPartition }, (_, i) => ({ id: `p${p}-${i}`, partition: p, payload: i })),
    );
  }
}

function runner(
  nodeName: string,
  handler: (e: LogEvent, node: string) => unknown,
  extra: Partial<PartitionedRunnerOptions> = {},
): PartitionedRunner {
  const r = partitionedRunner({
    backend,
    group: GROUP,
    topic: TOPIC,
    nodeName,
    heartbeat: 100,
    failureTimeout: 500,
    batchSize: 10,
    pollInterval: 20,
    clock,
    handler: (e) => handler(e, nodeName),
    ...extra,
  });
  runners.push(r);
  return r;
}

/** Advances the manual clock in steps until `cond` holds. */
async function until(cond: () => boolean | Promise<boolean>, stepMs = 20, maxMs = 60_000): Promise<void> {
  for (let t = 0; t <= maxMs; t += stepMs) {
    if (await cond()) return;
    await clock.advance(stepMs);
  }
  throw new Error('condition not reached');
}

async function committedAll(partitions: number): Promise<number[]> {
  const out: number[] = [];
  for (let p = 0; p < partitions; p++) out.push(await backend.committed(GROUP, TOPIC, p));
  return out;
}

afterEach(async () => {
  const stops = runners.splice(0).map((r) => r.stop());
  await clock.runUntil(Promise.all(stops)).catch(() => {});
});

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

  it('a paused runner whose lease was taken is FENCED on commit and drops the partition', async () => {
    await setup(1, 30);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const handled: number[] = [];
    const a = runner('a', async (e) => {
      if (e.offset === 12) await gate; // stuck in the handler, like a process under SIGSTOP
      handled.push(e.offset);
    });
    const lost: { reason: string; offset: number }[] = [];
    a.on('partition_lost', (e) => lost.push({ reason: e.reason, offset: e.offset }));
    await a.start();
    await until(() => handled.length === 12);
    // Meanwhile another owner took the lease (as after an expiry).
    const name = partitionLeaseName(GROUP, TOPIC, 0);
    const current = await backend.leases.get(name);
    expect(current).toBeDefined();
    await backend.leases.release(current!);
    const intruder = await backend.leases.acquire(name, 'other#1', 60_000);
    expect(intruder?.fencingToken).toBe(current!.fencingToken + 1);
    release();
    await flushMicrotasks(10);
    expect(lost).toEqual([{ reason: 'fenced', offset: 10 }]);
    expect(a.assigned()).toEqual([]);
    expect(await backend.committed(GROUP, TOPIC, 0)).toBe(10);
    // It keeps running without the partition: the lease is held by someone else.
    await clock.advance(1000);
    expect(a.assigned()).toEqual([]);
    expect(handled.filter((o) => o >= 20)).toEqual([]);
  });

  it('renewal notices a lost lease and stops processing the partition', async () => {
    await setup(1, 1000);
    const a = runner('a', () => {}, { batchSize: 1 });
    const lost: string[] = [];
    a.on('partition_lost', (e) => lost.push(e.reason));
    await a.start();
    const name = partitionLeaseName(GROUP, TOPIC, 0);
    await backend.leases.release((await backend.leases.get(name))!);
    await backend.leases.acquire(name, 'other#1', 60_000);
    await until(() => lost.length > 0);
    expect(['lease_lost', 'fenced']).toContain(lost[0]);
    const at = await backend.committed(GROUP, TOPIC, 0);
    await clock.advance(500);
    expect(await backend.committed(GROUP, TOPIC, 0)).toBe(at);
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
    clock = new ManualClock(0);
    backend = createMemoryBackend({ clock });
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
    clock = new ManualClock(0);
    backend = createMemoryBackend({ clock });
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
