// The backend conformance suite and the cluster key layout on the local Redis Cluster (3 masters + 3 replicas).
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLUSTER_NODES, ensureRedisCluster } from '../../../test/support/redisCluster.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { runBackendConformance, T0 } from '../conformance/index.ts';
import { deleteRedisPrefix } from './admin.ts';
import { createRedisBackend, type RedisBackend } from './RedisBackend.ts';

const RUN = `sluice-test:cluster:${process.pid}:${Date.now()}`;
let seq = 0;
let admin: Cluster;

beforeAll(async () => {
  ensureRedisCluster();
  admin = new Cluster(CLUSTER_NODES);
  await admin.ping();
}, 60_000);

afterAll(async () => {
  await deleteRedisPrefix({ client: admin, prefix: RUN });
  admin.disconnect();
});

runBackendConformance('redis-cluster', async ({ clock }) => {
  const prefix = `${RUN}:c${++seq}`;
  return {
    backend: createRedisBackend({ cluster: CLUSTER_NODES, prefix, clock }),
    cleanup: async () => {
      await deleteRedisPrefix({ client: admin, prefix });
    },
  };
});

function fresh(): { backend: RedisBackend; prefix: string } {
  const prefix = `${RUN}:x${++seq}`;
  return {
    backend: createRedisBackend({ cluster: CLUSTER_NODES, prefix, clock: new ManualClock(T0) }),
    prefix,
  };
}

/** Every key of the prefix, with the slot and the port of the master holding it. */
async function keysBySlot(prefix: string): Promise<{ key: string; slot: number; port: number }[]> {
  const out: { key: string; slot: number; port: number }[] = [];
  for (const node of admin.nodes('master')) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        out.push({ key, slot: Number(await node.cluster('KEYSLOT', key)), port: node.options.port! });
      }
    } while (cursor !== '0');
  }
  return out;
}

describe('RedisBackend on a Redis Cluster', () => {
  it('rejects url together with cluster, and an empty or malformed node list, naming the field', () => {
    expect(() => createRedisBackend({ url: 'redis://127.0.0.1:6379', cluster: CLUSTER_NODES })).toThrow(
      /`RedisBackend\.cluster`/,
    );
    expect(() => createRedisBackend({ cluster: [] })).toThrow(/`RedisBackend\.cluster`/);
    expect(() => createRedisBackend({ cluster: [{ host: 'h', port: 0 }] })).toThrow(/RedisBackend\.cluster/);
    expect(() => createRedisBackend({ clusterOptions: {} })).toThrow(/`RedisBackend\.clusterOptions`/);
  });

  it('keeps every key of a topic in one slot, the control keys in another, and spreads topics over the masters', async () => {
    const { backend, prefix } = fresh();
    try {
      const topics = Array.from({ length: 12 }, (_, i) => `t${i}`);
      for (const t of topics) {
        await backend.ensureTopic(t, { partitions: 4 });
        await backend.append(
          t,
          [0, 1, 2, 3].map((p) => ({ partition: p, payload: p, id: `${t}-${p}` })),
        );
        await backend.commit('g', t, 1, 1, { idempotencyKeys: [`${t}-k`] });
      }
      expect(backend.isCluster).toBe(true);
      const keys = await keysBySlot(prefix);
      const slotsOf = (match: (k: string) => boolean) =>
        new Set(keys.filter((k) => match(k.key)).map((k) => k.slot));
      for (const t of topics) {
        const own = slotsOf((k) => k.startsWith(`${prefix}:{${prefix}:${t}}:`));
        expect(own.size).toBe(1); // log of 4 partitions, ids, next, topics copy
        expect(keys.filter((k) => k.key.startsWith(`${prefix}:{${prefix}:${t}}:log:`))).toHaveLength(4);
      }
      const control = slotsOf((k) => k.startsWith(`${prefix}:{${prefix}}:`));
      expect(control.size).toBe(1);
      const topicPorts = new Set(keys.filter((k) => k.key.includes(':log:')).map((k) => k.port));
      expect(topicPorts.size).toBeGreaterThanOrEqual(2);
      expect(await backend.listGroups()).toHaveLength(topics.length);
    } finally {
      await backend.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('runs concurrent calls on topics of different masters at once (each script goes to its own node)', async () => {
    const { backend, prefix } = fresh();
    try {
      const topics = Array.from({ length: 9 }, (_, i) => `p${i}`);
      await Promise.all(topics.map((t) => backend.ensureTopic(t, { partitions: 2 })));
      await Promise.all(
        topics.map((t) =>
          backend.append(
            t,
            [0, 1].map((p) => ({ partition: p, payload: `${t}/${p}` })),
          ),
        ),
      );
      const reads = await Promise.all(
        topics.flatMap((t) => [
          backend.read(t, 0, 0, 10),
          backend.readMany(t, [{ partition: 1, fromOffset: 0 }], 10).then((r) => r[0]!),
        ]),
      );
      expect(reads.map((r) => r.map((e) => e.payload))).toEqual(
        topics.flatMap((t) => [[`${t}/0`], [`${t}/1`]]),
      );
      await Promise.all(topics.map((t) => backend.commit('g', t, 0, 1)));
      expect(await Promise.all(topics.map((t) => backend.committed('g', t, 0)))).toEqual(topics.map(() => 1));
      const ports = new Set(
        (await keysBySlot(prefix)).filter((k) => k.key.includes(':log:')).map((k) => k.port),
      );
      expect(ports.size).toBeGreaterThanOrEqual(2);
    } finally {
      await backend.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('repairs a topic whose copy of the partition count is missing from its slot', async () => {
    const { backend, prefix } = fresh();
    try {
      await backend.ensureTopic('orders', { partitions: 2 });
      // As after a failover that lost the copy but not the topics hash.
      await admin.del(`${prefix}:{${prefix}:orders}:topics`);
      const other = createRedisBackend({ cluster: CLUSTER_NODES, prefix, clock: new ManualClock(T0) });
      try {
        const [pos] = await other.append('orders', [{ partition: 1, payload: 'x' }]);
        expect(pos).toMatchObject({ partition: 1, offset: 0 });
        expect((await other.read('orders', 1, 0, 10)).map((e) => e.payload)).toEqual(['x']);
      } finally {
        await other.close();
      }
    } finally {
      await backend.close();
      await deleteRedisPrefix({ client: admin, prefix });
    }
  });

  it('deleteRedisPrefix removes the keys on every master', async () => {
    const { backend, prefix } = fresh();
    try {
      for (let i = 0; i < 6; i++) await backend.ensureTopic(`d${i}`, { partitions: 1 });
      expect((await keysBySlot(prefix)).length).toBeGreaterThan(6);
    } finally {
      await backend.close();
    }
    expect(await deleteRedisPrefix({ cluster: CLUSTER_NODES, prefix })).toBeGreaterThan(6);
    expect(await keysBySlot(prefix)).toEqual([]);
  });
});
