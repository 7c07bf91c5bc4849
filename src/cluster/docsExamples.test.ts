// The examples of docs/cluster.md, run against the memory backend with short timings.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { childFromAsync } from '../supervision/childFromAsync.ts';
import { partitionedRunner } from './runner/PartitionedRunner.ts';
import { BehaviorRegistry } from './supervisor/BehaviorRegistry.ts';
import { Cluster } from './supervisor/Cluster.ts';
import { DistributedSupervisor } from './supervisor/DistributedSupervisor.ts';
import type { DistributedLifecycleEvent } from './supervisor/dsupTypes.ts';

describe('docs/cluster.md examples', () => {
  it('a partitioned runner with an idempotency key per event', async () => {
    const backend = createMemoryBackend();
    const charged = new Map<string, number>();
    const runner = partitionedRunner<{ amount: number }>({
      backend,
      group: 'billing',
      topic: 'payments',
      partitions: 4,
      heartbeat: '50ms',
      failureTimeout: '250ms',
      handler: async (event, ctx) => {
        charged.set(ctx.idempotencyKey, event.payload.amount);
      },
    });
    const acquired: number[] = [];
    runner.on('partition_acquired', (e) => acquired.push(e.partition));
    await runner.start();
    await backend.append(
      'payments',
      Array.from({ length: 20 }, (_, i) => ({ key: `customer-${i}`, payload: { amount: i } })),
    );
    const deadline = Date.now() + 5000;
    while (charged.size < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await runner.stop();
    expect(charged.size).toBe(20);
    expect(acquired.sort()).toEqual([0, 1, 2, 3]);
    await backend.close();
  });

  it('a distributed supervisor with registered behaviors', async () => {
    const backend = createMemoryBackend();
    const running = new Set<number>();
    const cluster = await Cluster.start({
      nodeName: 'node-a',
      backend,
      heartbeat: '50ms',
      failureTimeout: '250ms',
    });
    const registry = new BehaviorRegistry().register('indexer', (args: { shard: number }, ctx) => {
      const child = childFromAsync(async ({ signal }) => {
        running.add(args.shard);
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        running.delete(args.shard);
      });
      return child({ signal: ctx.signal, attempt: 1, clock: cluster.clock });
    });
    const events: DistributedLifecycleEvent[] = [];
    const sup = await DistributedSupervisor.start({
      cluster,
      registry,
      name: 'indexers',
      strategy: 'one_for_one',
      nodeSelector: 'least_loaded',
      restartIntensity: { maxRestarts: 5, withinMs: '1m' },
      children: [1, 2, 3, 4].map((shard) => ({ id: `shard-${shard}`, behavior: 'indexer', args: { shard } })),
      onLifecycleEvent: (e) => events.push(e),
    });
    const placed = await sup.startChild({
      id: 'reindex',
      behavior: 'indexer',
      args: { shard: 9 },
      restart: 'transient',
    });
    expect(placed).toEqual({ id: 'reindex', node: 'node-a' });
    expect([...running].sort()).toEqual([1, 2, 3, 4, 9]);
    expect(sup.getStats().childrenByNode['node-a']?.sort()).toEqual([
      'reindex',
      'shard-1',
      'shard-2',
      'shard-3',
      'shard-4',
    ]);
    expect(events.filter((e) => e.type === 'child_started')).toHaveLength(5);
    await sup.stop();
    expect(running.size).toBe(0);
    expect(sup.state).toBe('stopped');
    await cluster.close();
    await backend.close();
  });
});
