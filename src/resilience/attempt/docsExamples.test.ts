// The attempt primitive example of docs/resilience.md, run as written (imports from the sources).
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/ManualClock.ts';
import { RateLimitedError } from '../../core/rateLimited.ts';
import { backoff } from '../backoffFactories.ts';
import { attemptPolicy } from './AttemptPolicy.ts';

describe('docs/resilience.md: the attempt primitive', () => {
  it('waits a rate limit without counting it, retries a failure, and returns an ok outcome', async () => {
    const warnings: string[] = [];
    const console = { warn: (m: string) => warnings.push(m) };
    // --- as in the docs ---
    const clock = new ManualClock();
    const policy = attemptPolicy({ attempts: 3, backoff: backoff.fixed('100ms'), timeout: '1s', clock });
    const seen: number[] = [];
    const run = policy.execute(
      async ({ attempt }) => {
        seen.push(attempt);
        if (seen.length === 1) throw new RateLimitedError({ retryAfter: '2s' }); // not counted
        if (attempt === 1) throw new Error('flaky');
        return 'done';
      },
      { onRetry: ({ attempt, delayMs }) => console.warn(`attempt ${attempt} failed, next in ${delayMs} ms`) },
    );
    await clock.runUntil(run);
    const outcome = await run; // { kind: 'ok', value: 'done', attempts: 2 }; seen = [1, 1, 2]
    // --- end ---
    expect(outcome).toEqual({ kind: 'ok', value: 'done', attempts: 2 });
    expect(seen).toEqual([1, 1, 2]);
    expect(warnings).toEqual(['attempt 1 failed, next in 100 ms']);
    expect(clock.now()).toBe(2100);
  });
});
