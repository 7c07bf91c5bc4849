// The DistributedLock and Projection suites on an in-memory SQLite backend with a ManualClock.
import { distributedLockSuite } from '../../test/fixtures/patterns/lockSuite.ts';
import { projectionSuite } from '../../test/fixtures/patterns/projectionSuite.ts';
import { createSqliteBackend } from '../backend/sqlite/index.ts';
import { ManualClock } from '../core/ManualClock.ts';

/** An in-memory SQLite database around a manual clock. */
async function subject() {
  const clock = new ManualClock(1_700_000_000_000);
  return { backend: createSqliteBackend({ path: ':memory:', clock }), clock, cleanup: async () => {} };
}

distributedLockSuite('sqlite', subject);
projectionSuite('sqlite', subject);
