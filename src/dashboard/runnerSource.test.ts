// Test of runnerSource with two real partitioned runners on the memory backend: owned partitions vs leases.
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { partitionedRunner } from '../cluster/runner/PartitionedRunner.ts';
import { collectStatus } from './collectStatus.ts';
import { runnerSource } from './StatusSource.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

describe('runnerSource with real partitioned runners', () => {
  it('shows each runner with the partitions it owns, matching the lease owners in the status', async () => {
    const backend = createMemoryBackend();
    await backend.ensureTopic('orders', { partitions: 4 });
    await backend.append(
      'orders',
      Array.from({ length: 20 }, (_, i) => ({ payload: i, partition: i % 4 })),
    );
    const make = (nodeName: string) =>
      partitionedRunner({
        backend,
        group: 'billing',
        topic: 'orders',
        nodeName,
        heartbeat: 50,
        failureTimeout: 1000,
        pollInterval: 10,
        handler: () => {},
      });
    const a = make('a');
    const b = make('b');
    stops.push(
      () => a.stop(),
      () => b.stop(),
    );
    await a.start();
    await b.start();
    await expect.poll(() => a.assigned().length + b.assigned().length, { timeout: 10_000 }).toBe(4);
    await expect.poll(() => [a.assigned().length, b.assigned().length], { timeout: 10_000 }).toEqual([2, 2]);
    const status = await collectStatus(backend, { sources: [runnerSource('billing', { a, b })] });
    const tree = status.supervision[0];
    expect(tree?.children?.map((c) => [c.id, c.status, c.children?.length])).toEqual([
      ['a', 'running', 2],
      ['b', 'running', 2],
    ]);
    const owners = status.groups[0]?.partitions.map((p) => (p.owner?.startsWith('a') ? 'a' : 'b'));
    const fromTree = [0, 1, 2, 3].map((p) => (a.assigned().includes(p) ? 'a' : 'b'));
    expect(owners).toEqual(fromTree);
    await expect
      .poll(
        async () =>
          (await collectStatus(backend, { sources: [runnerSource('billing', { a, b })] })).pipelines.reduce(
            (s, p) => s + p.processed,
            0,
          ),
        { timeout: 10_000 },
      )
      .toBe(20);
  });
});

describe('runnerSource waiting partitions', () => {
  it('lists a partition whose batch waits for a retry after a handler failure, with the error', async () => {
    const backend = createMemoryBackend();
    await backend.ensureTopic('payments', { partitions: 2 });
    await backend.append('payments', [{ payload: 'bad', partition: 1 }]);
    const r = partitionedRunner<string>({
      backend,
      group: 'billing',
      topic: 'payments',
      nodeName: 'r',
      pollInterval: 10,
      retryBackoff: { initial: '10m' },
      handler: (e) => {
        if (e.payload === 'bad') throw new Error('ledger is down');
      },
    });
    stops.push(() => r.stop());
    await r.start();
    const source = runnerSource('billing', { r });
    await expect
      .poll(async () => (await collectStatus(backend, { sources: [source] })).keys.waiting.length, {
        timeout: 10_000,
      })
      .toBe(1);
    const [w] = (await collectStatus(backend, { sources: [source] })).keys.waiting;
    expect(w).toMatchObject({
      source: 'billing',
      pipeline: 'r',
      key: 'partition 1',
      state: 'retrying',
      reason: 'backoff',
      attempts: 1,
      error: 'ledger is down',
    });
    expect(w!.until).toBeGreaterThan(w!.since);
  });
});
