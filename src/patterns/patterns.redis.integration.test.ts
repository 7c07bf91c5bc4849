// The DistributedLock and Projection suites on a real Redis server, each subject under a fresh key prefix.
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { distributedLockSuite } from '../../test/fixtures/patterns/lockSuite.ts';
import { projectionSuite } from '../../test/fixtures/patterns/projectionSuite.ts';
import { createRedisBackend, deleteRedisPrefix } from '../backend/redis/index.ts';
import { ManualClock } from '../core/ManualClock.ts';

const URL = 'redis://127.0.0.1:6379';
const RUN = `sluice-test:patterns:${process.pid}:${Date.now()}`;
const admin = new Redis(URL);
let seq = 0;

afterAll(async () => {
  await deleteRedisPrefix({ client: admin, prefix: RUN });
  admin.disconnect();
});

/** A Redis backend on a fresh prefix around a manual clock, and the cleanup deleting its keys. */
async function subject() {
  const clock = new ManualClock(1_700_000_000_000);
  const prefix = `${RUN}:${++seq}`;
  return {
    backend: createRedisBackend({ url: URL, prefix, clock }),
    clock,
    cleanup: async () => {
      await deleteRedisPrefix({ client: admin, prefix });
    },
  };
}

distributedLockSuite('redis', subject);
projectionSuite('redis', subject);
