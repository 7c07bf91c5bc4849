// A CircuitBreaker's internal state union and its versioned JSON snapshot: taking one and restoring from one.
import { z } from 'zod';
import { validate } from '../core/validate.ts';
import type { CircuitBreakerSnapshot } from './circuitTypes.ts';

/** The breaker's state with what each state needs: failures while closed, deadline while open, probes while half-open. */
export type Internal =
  | { kind: 'closed'; failures: number }
  | { kind: 'open'; until: number; failures: number }
  | { kind: 'half-open'; admitted: number; successes: number };

const snapshotSchema = z.object(
  {
    version: z.literal(1, { error: 'the number 1' }).optional(),
    state: z.enum(['closed', 'open', 'half-open'], { error: '"closed", "open" or "half-open"' }),
    failures: z.number({ error: 'an integer >= 0' }).int('an integer >= 0').min(0, 'an integer >= 0'),
    remainingMs: z.number({ error: 'a number >= 0' }).min(0, 'a number >= 0').optional(),
    isolated: z.boolean({ error: 'a boolean' }).optional(),
  },
  { error: 'a circuit breaker snapshot object' },
);

/** The snapshot of `s`; `isolated` marks an open state held by isolation. */
export function snapshotOf(s: Internal, isolated: boolean, now: number): CircuitBreakerSnapshot {
  switch (s.kind) {
    case 'closed':
      return { version: 1, state: 'closed', failures: s.failures };
    case 'half-open':
      return { version: 1, state: 'half-open', failures: 0 };
    case 'open':
      if (isolated) return { version: 1, state: 'open', failures: 0, isolated: true };
      return { version: 1, state: 'open', failures: 0, remainingMs: Math.max(0, s.until - now) };
  }
}

/**
 * The state a snapshot restores to, from `now`: an open one stays open for its `remainingMs`
 * (`timeoutMs` when absent), an isolated one until reset; closed failures stay below the threshold.
 *
 * @throws SluiceError `CONFIG_INVALID` when `json` is not a snapshot.
 */
export function stateFromSnapshot(
  json: unknown,
  limits: { failureThreshold: number; timeoutMs: number },
  now: number,
): { internal: Internal; isolated: boolean } {
  const snap = validate(snapshotSchema, json, 'circuitBreaker.snapshot');
  if (snap.state === 'closed') {
    return {
      internal: { kind: 'closed', failures: Math.min(snap.failures, limits.failureThreshold - 1) },
      isolated: false,
    };
  }
  if (snap.state === 'half-open')
    return { internal: { kind: 'half-open', admitted: 0, successes: 0 }, isolated: false };
  if (snap.isolated)
    return { internal: { kind: 'open', until: Number.POSITIVE_INFINITY, failures: 0 }, isolated: true };
  const remaining = snap.remainingMs ?? limits.timeoutMs;
  return { internal: { kind: 'open', until: now + remaining, failures: 0 }, isolated: false };
}
