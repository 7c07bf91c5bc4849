import { createSqliteBackend } from '../backend/sqlite/index.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { distributedLockSuite } from './lock/DistributedLock.suite.ts';
import { projectionSuite } from './projection/Projection.suite.ts';

/** An in-memory SQLite database around a manual clock. */
async function subject() {
  const clock = new ManualClock(1_700_000_000_000);
  return { backend: createSqliteBackend({ path: ':memory:', clock }), clock, cleanup: async () => {} };
}

distributedLockSuite('sqlite', subject);
projectionSuite('sqlite', subject);
