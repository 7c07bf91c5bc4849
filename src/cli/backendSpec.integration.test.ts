// openBackend against the real PostgreSQL and Redis servers from postgres:// and redis:// specs.
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureRedisCluster } from '../../test/support/redisCluster.ts';
import { withBackend } from './backendSpec.ts';

describe('openBackend with servers', () => {
  it('opens PostgreSQL from a postgres:// URL (driver loaded on demand)', async () => {
    const partitions = await withBackend('postgres://postgres@127.0.0.1:5432/test', async (b) => {
      expect(b.kind).toBe('postgres');
      await b.ensureTopic('sluice-cli-spec', { partitions: 3 });
      return (await b.topicInfo('sluice-cli-spec'))?.partitions;
    });
    expect(partitions).toBe(3);
  });

  it('opens Redis from a redis:// URL', async () => {
    const partitions = await withBackend('redis://127.0.0.1:6379/0', async (b) => {
      expect(b.kind).toBe('redis');
      await b.ensureTopic('sluice-cli-spec', { partitions: 2 });
      return (await b.topicInfo('sluice-cli-spec'))?.partitions;
    });
    expect(partitions).toBe(2);
  });

  it('opens a Redis Cluster from a redis+cluster:// node list', async () => {
    const partitions = await withBackend('redis+cluster://127.0.0.1:7000,127.0.0.1:7001', async (b) => {
      expect(b.kind).toBe('redis');
      await b.ensureTopic('sluice-cli-spec', { partitions: 4 });
      return (await b.topicInfo('sluice-cli-spec'))?.partitions;
    });
    expect(partitions).toBe(4);
  });
});

beforeAll(() => ensureRedisCluster(), 60_000);
