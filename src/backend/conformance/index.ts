// runBackendConformance: the one suite run against every backend, from a factory of fresh isolated backends.
import { afterEach, beforeEach, describe } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import type { Backend } from '../Backend.ts';
import { appendTests } from './append.ts';
import { assignmentTests } from './assignments.ts';
import { batchedTests } from './batched.ts';
import { boundLeaseTests } from './boundLeases.ts';
import { commitTests } from './commits.ts';
import { delayedTests } from './delayed.ts';
import { dlqTests } from './dlq.ts';
import { fencingTests } from './fencing.ts';
import { type Harness, T0 } from './harness.ts';
import { leaseTests } from './leases.ts';
import { lifecycleTests } from './lifecycle.ts';
import { limitTests } from './limits.ts';
import { listingTests } from './listing.ts';
import { membershipTests } from './membership.ts';
import { payloadTests } from './payloads.ts';
import { readTests } from './read.ts';
import { retentionTests } from './retention.ts';
import { scheduleTests } from './schedules.ts';
import { topicTests } from './topics.ts';

export { rejectsWithCode, T0 } from './harness.ts';

/** What a conformance factory receives. */
export interface ConformanceContext {
  /** The clock the backend must read time from (and pass to SQL/Lua); starts at {@link T0}. */
  readonly clock: ManualClock;
}

/** What a conformance factory returns. */
export interface ConformanceSubject {
  /** A backend with **empty, isolated state** (fresh file, schema or key prefix per call). */
  readonly backend: Backend;
  /** Called after the backend was closed: delete files, drop the schema, remove keys. */
  readonly cleanup?: () => Promise<void>;
}

/** Builds one backend per test. */
export type ConformanceFactory = (ctx: ConformanceContext) => Promise<ConformanceSubject>;

/**
 * Defines the backend conformance suite (a vitest `describe` block) for one implementation.
 * Every test gets a fresh backend from `factory`, built around a {@link ManualClock} that the
 * suite advances to test expiry; the backend is closed (then `cleanup` runs) after each test.
 * The suite is the executable form of the contract documented on {@link Backend}.
 *
 * Test-only: imports vitest; it is excluded from the published build.
 *
 * @example
 * ```ts
 * // src/backend/memory/memory.test.ts
 * import { runBackendConformance } from '../conformance/index.ts';
 * import { createMemoryBackend } from './MemoryBackend.ts';
 *
 * runBackendConformance('memory', async ({ clock }) => ({ backend: createMemoryBackend({ clock }) }));
 * ```
 */
export function runBackendConformance(name: string, factory: ConformanceFactory): void {
  describe(`backend conformance: ${name}`, () => {
    let current: (Harness & ConformanceSubject) | undefined;
    const harness = (): Harness => {
      if (!current) throw new Error('conformance harness used outside a test');
      return current;
    };

    beforeEach(async () => {
      const clock = new ManualClock(T0);
      const subject = await factory({ clock });
      current = { ...subject, clock };
    });

    afterEach(async () => {
      const subject = current;
      current = undefined;
      if (!subject) return;
      try {
        await subject.backend.close();
      } finally {
        await subject.cleanup?.();
      }
    });

    topicTests(harness);
    listingTests(harness);
    appendTests(harness);
    readTests(harness);
    payloadTests(harness);
    commitTests(harness);
    fencingTests(harness);
    dlqTests(harness);
    leaseTests(harness);
    boundLeaseTests(harness);
    membershipTests(harness);
    limitTests(harness);
    lifecycleTests(harness);
    retentionTests(harness);
    batchedTests(harness);
    delayedTests(harness);
    scheduleTests(harness);
    assignmentTests(harness);
  });
}
