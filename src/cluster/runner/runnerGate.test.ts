// partitionedRunner with rateLimit / concurrencyLimit: two runners on one SQLite file share the limiters.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import { createSqliteBackend } from '../../backend/sqlite/SqliteBackend.ts';
import { RateLimitedError } from '../../core/rateLimited.ts';
import { concurrencyLimit, rateLimit } from '../../flow/rateLimit.ts';
import { type PartitionedRunner, partitionedRunner } from './PartitionedRunner.ts';
import type { PartitionedRunnerOptions } from './runnerOptions.ts';

const TOPIC = 'flowpool-gate-orders';
const GROUP = 'flowpool-gate';

let dir: string;
const backends: Backend[] = [];
const runners: PartitionedRunner[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-runner-gate-'));
});

afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
  await Promise.all(backends.splice(0).map((b) => b.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A backend on the test's SQLite file: each one stands for another process. */
function sqlite(): Backend {
  const b = createSqliteBackend({ path: join(dir, 'sluice.db') });
  backends.push(b);
  return b;
}

async function seed(partitions: number, events: number): Promise<void> {
  const b = sqlite();
  await b.ensureTopic(TOPIC, { partitions });
  await b.append(
    TOPIC,
    Array.from({ length: events }, (_, i) => ({ id: `e${i}`, partition: i % partitions, payload: i })),
  );
}

function runner(
  backend: Backend,
  nodeName: string,
  handler: (e: LogEvent) => unknown,
  extra: Partial<PartitionedRunnerOptions> = {},
): PartitionedRunner {
  const r = partitionedRunner({
    backend,
    group: GROUP,
    topic: TOPIC,
    nodeName,
    heartbeat: 100,
    failureTimeout: 1000,
    batchSize: 5,
    pollInterval: 20,
    handler,
    ...extra,
  });
  runners.push(r);
  return r;
}

async function until(cond: () => boolean, maxMs = 20_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > maxMs) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Most timestamps inside any window of `ms`. */
function maxInWindow(times: readonly number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= ms) j++;
    best = Math.max(best, i - j + 1);
  }
  return best;
}

describe('partitionedRunner: limiters on a real backend (SQLite)', () => {
  it('two runners sharing a rate limit through the backend stay under it together', async () => {
    await seed(4, 48);
    const handled = new Map<number, number>();
    const times: number[] = [];
    const handler = (e: LogEvent) => {
      times.push(Date.now());
      handled.set(e.payload as number, (handled.get(e.payload as number) ?? 0) + 1);
    };
    const a = sqlite();
    const b = sqlite();
    const shared = { rate: 20, per: '1s', name: 'flowpool-gate-rate' } as const;
    // One runner gets a limiter instance, the other the factory's options: both address one bucket.
    const r1 = runner(a, 'r1', handler, { rateLimit: rateLimit({ ...shared, backend: a }) });
    const r2 = runner(b, 'r2', handler, { rateLimit: { ...shared, backend: b } });
    await Promise.all([r1.start(), r2.start()]);
    await until(() => handled.size === 48);
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    // 20/s, burst 1: at most 20 calls start inside any 1 s (the GCRA spaces them 50 ms apart).
    expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(20);
    const span = Math.max(...times) - Math.min(...times);
    expect(span).toBeGreaterThanOrEqual(47 * 50 - 50);
  }, 30_000);

  it('a shared concurrency cap of 1 holds across two runners', async () => {
    await seed(4, 24);
    let running = 0;
    let max = 0;
    let done = 0;
    const handler = async () => {
      running++;
      max = Math.max(max, running);
      await new Promise((r) => setTimeout(r, 15));
      running--;
      done++;
    };
    const a = sqlite();
    const b = sqlite();
    const cap = { max: 1, name: 'flowpool-gate-cap', ttl: '5s', pollMax: '20ms' } as const;
    runner(a, 'r1', handler, { concurrencyLimit: concurrencyLimit({ ...cap, backend: a }) });
    runner(b, 'r2', handler, { concurrencyLimit: { ...cap, backend: b } });
    await Promise.all(runners.map((r) => r.start()));
    await until(() => done === 24);
    expect(max).toBe(1);
  }, 30_000);

  it('a RateLimitedError pauses the handler and calls it again, without a handler error', async () => {
    await seed(1, 6);
    const calls: { n: number; at: number }[] = [];
    let refused = false;
    const errors: unknown[] = [];
    const r = runner(
      sqlite(),
      'r1',
      (e) => {
        calls.push({ n: e.payload as number, at: Date.now() });
        if (e.payload === 2 && !refused) {
          refused = true;
          throw new RateLimitedError({ retryAfter: 300 });
        }
      },
      { rateLimit: { rate: 1000, burst: 10 } },
    );
    r.on('error', (e) => errors.push(e.error));
    await r.start();
    await until(() => calls.filter((c) => c.n === 5).length === 1);
    expect(errors).toEqual([]);
    expect(calls.map((c) => c.n)).toEqual([0, 1, 2, 2, 3, 4, 5]);
    const [first, again] = calls.filter((c) => c.n === 2);
    expect(again!.at - first!.at).toBeGreaterThanOrEqual(290);
  }, 30_000);

  it('rejects bad limiter options with CONFIG_INVALID naming the field', () => {
    const backend = sqlite();
    const make = (extra: Partial<PartitionedRunnerOptions>) => () =>
      partitionedRunner({ backend, group: GROUP, topic: TOPIC, handler: () => {}, ...extra });
    expect(make({ rateLimit: { rate: 0 } })).toThrow(/`partitionedRunner\.rateLimit\.rate`/);
    expect(make({ concurrencyLimit: { max: 0 } })).toThrow(/`partitionedRunner\.concurrencyLimit\.max`/);
    expect(make({ rateLimit: concurrencyLimit({ max: 1 }) as never })).toThrow(
      /`partitionedRunner\.rateLimit`/,
    );
  });
});
