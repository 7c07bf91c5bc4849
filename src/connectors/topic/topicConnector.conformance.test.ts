// The connector conformance suite run against Sluice's own topics (memory and SQLite backends) through the topic connector.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll } from 'vitest';
import { CLUSTER_NODES, ensureRedisCluster } from '../../../test/support/redisCluster.ts';
import type { Backend } from '../../backend/Backend.ts';
import { createMemoryBackend } from '../../backend/memory/index.ts';
import { createRedisBackend, deleteRedisPrefix } from '../../backend/redis/index.ts';
import { createSqliteBackend } from '../../backend/sqlite/index.ts';
import type { ConnectorFixture, ConnectorHarness, TestPayload } from '../conformance/index.ts';
import { runConnectorConformance } from '../conformance/index.ts';
import {
  type TopicConnectorSource,
  topicConnectorSink,
  topicConnectorSource,
} from './TopicConnectorSource.ts';

const PARTITIONS = 4;

/**
 * A harness over one backend per fixture. A backend has no broker-side notion of "delivered but
 * not acked": `unacked` is what the fixture's live sources hold, `ready` what remains of the log
 * between the committed offsets and the ends.
 */
function topicHarness(
  open: () => { backend: Backend; cleanup: () => void | Promise<void> },
): ConnectorHarness {
  return {
    async create({ deliveryLimit }): Promise<ConnectorFixture> {
      const { backend, cleanup } = open();
      const topic = `conf-${randomUUID().slice(0, 8)}`;
      const group = 'conformance';
      await backend.ensureTopic(topic, { partitions: PARTITIONS });
      const sources = new Set<TopicConnectorSource>();
      return {
        source: ({ prefetch }) => {
          const s = topicConnectorSource({
            backend,
            topic,
            group,
            prefetch,
            deliveryLimit,
            pollInterval: 10,
          });
          sources.add(s);
          return s as unknown as ReturnType<ConnectorFixture['source']>;
        },
        sink: topicConnectorSink<TestPayload>(backend, topic),
        deadLetters: async () =>
          (await backend.dlq.list({ source: group })).map((d) => d.payload as TestPayload),
        brokerCounts: async () => {
          const parts = Array.from({ length: PARTITIONS }, (_, p) => p);
          const committed = await backend.committedMany(group, topic, parts);
          let pending = 0;
          for (const p of parts) pending += (await backend.endOffset(topic, p)) - committed[p]!;
          let unacked = 0;
          for (const s of sources) if (s.state !== 'closed') unacked += s.stats().unacked;
          return { unacked, ready: pending - unacked };
        },
        cleanup: async () => {
          for (const s of sources) await s.close();
          await backend.close();
          await cleanup();
        },
      };
    },
  };
}

runConnectorConformance(
  'sluice topic (memory backend)',
  topicHarness(() => ({ backend: createMemoryBackend(), cleanup: () => {} })),
);

runConnectorConformance(
  'sluice topic (SQLite backend)',
  topicHarness(() => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-topic-connector-'));
    return {
      backend: createSqliteBackend({ path: join(dir, 'db.sqlite') }),
      cleanup: () => rmSync(dir, { recursive: true, force: true }),
    };
  }),
);

beforeAll(() => ensureRedisCluster(), 60_000);
let seq = 0;
runConnectorConformance(
  'sluice topic (Redis Cluster backend)',
  topicHarness(() => {
    const prefix = `sluice-test:topic-connector:${process.pid}:${++seq}`;
    return {
      backend: createRedisBackend({ cluster: CLUSTER_NODES, prefix }),
      cleanup: async () => {
        await deleteRedisPrefix({ cluster: CLUSTER_NODES, prefix });
      },
    };
  }),
);
