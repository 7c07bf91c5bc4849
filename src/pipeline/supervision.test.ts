// Tests supervised pipeline workers: restarts, restart intensity and the circuit breaker.
import { describe, expect, it } from 'vitest';
import { SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { stream } from './stream.ts';

const crash = () => new SluiceError('WORKER_CRASHED', 'worker lost its connection');

describe('pipeline supervision', () => {
  it('restarts a crashed worker, which resumes its partitions with nothing lost or reordered', async () => {
    const clock = new ManualClock();
    const input = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 6}`, n: i }));
    const setups: number[] = [];
    const processed: Array<{ key: string; n: number; attempt: number; state: string }> = [];
    let crashed = false;
    const run = stream(input, { clock })
      .partitionBy((e) => e.key)
      .concurrent({
        maxWorkers: 3,
        supervision: { restart: 'always', maxRestarts: 3, backoff: 100 },
        setup: ({ workerId }) => {
          setups.push(workerId);
          return `conn-${workerId}-${setups.filter((w) => w === workerId).length}`;
        },
      })
      .process(async (e, ctx) => {
        if (e.n === 20 && !crashed) {
          crashed = true;
          throw crash();
        }
        processed.push({ key: e.key, n: e.n, attempt: ctx.attempt, state: ctx.state as string });
        return e.n;
      })
      .start();
    const events: string[] = [];
    run.on('worker_crashed', ({ workerId }) => events.push(`crashed ${workerId}`));
    run.on('worker_restarted', ({ workerId }) => events.push(`restarted ${workerId}`));
    const report = await clock.runUntil(run.done);

    expect(report.ok).toBe(60);
    expect(report.failed).toBe(0);
    expect(report.restarts).toBe(1);
    expect(events).toHaveLength(2);
    const crashedWorker = Number(events[0]?.split(' ')[1]);
    expect(events).toEqual([`crashed ${crashedWorker}`, `restarted ${crashedWorker}`]);
    // setup ran once per worker, and once more for the restarted one.
    expect(setups.sort()).toEqual([0, 1, 2, crashedWorker].sort());
    // Every item processed exactly once, in order per key; item 20 ran again as attempt 1 on the new state.
    expect(processed.map((p) => p.n).sort((a, b) => a - b)).toEqual([...Array(60).keys()]);
    for (let k = 0; k < 6; k++) {
      const ns = processed.filter((p) => p.key === `k${k}`).map((p) => p.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    const twenty = processed.find((p) => p.n === 20);
    expect(twenty?.attempt).toBe(1);
    expect(twenty?.state).toBe(`conn-${crashedWorker}-2`);
  });

  it('fails the run with MAX_RESTARTS_EXCEEDED when workers keep crashing', async () => {
    const clock = new ManualClock();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const run = stream([1, 2, 3], { clock })
        .concurrent({ maxWorkers: 1, supervision: { maxRestarts: 2, withinMs: '1m', backoff: 10 } })
        .process(() => {
          throw crash();
        })
        .start();
      await expect(clock.runUntil(run.done)).rejects.toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED' });
      expect(run.report().restarts).toBe(2);
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a circuit breaker stops calls to a failing dependency, then resumes without failing items', async () => {
    const clock = new ManualClock();
    let healthyAt = 5_000;
    const calls: number[] = [];
    const run = stream([...Array(20).keys()], { clock })
      .concurrent({
        maxWorkers: 2,
        retry: { attempts: 10, backoff: 10 },
        supervision: { circuitBreaker: { failure_threshold: 3, timeout: '1s', half_open_requests: 1 } },
      })
      .process(async (n) => {
        calls.push(clock.now());
        if (clock.now() < healthyAt) throw new Error('dependency down');
        return n;
      })
      .start();
    const transitions: string[] = [];
    run.breaker?.on('open', () => transitions.push(`open@${clock.now()}`));
    run.breaker?.on('half_open', () => transitions.push(`half_open@${clock.now()}`));
    run.breaker?.on('close', () => transitions.push(`close@${clock.now()}`));
    const report = await clock.runUntil(run.done);
    expect(report.ok).toBe(20);
    expect(report.failed).toBe(0);
    expect(transitions[0]).toMatch(/^open@/);
    expect(transitions.at(-1)).toMatch(/^close@/);
    // While open, the dependency was not called: every call happened either before the first
    // opening or at/after a half-open transition.
    const opens = transitions.filter((t) => t.startsWith('open@')).map((t) => Number(t.split('@')[1]));
    const halfOpens = transitions
      .filter((t) => t.startsWith('half_open@'))
      .map((t) => Number(t.split('@')[1]));
    for (let i = 0; i < opens.length; i++) {
      const from = opens[i]!;
      const to = halfOpens[i] ?? Number.POSITIVE_INFINITY;
      expect(calls.filter((t) => t > from && t < to)).toEqual([]);
    }
    // Far fewer calls than 20 items × attempts: the breaker shielded the dependency.
    expect(calls.length).toBeLessThan(60);
    healthyAt = 0;
  });
});
