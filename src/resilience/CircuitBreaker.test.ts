// CircuitBreaker tests on a ManualClock: transitions, probes, stale results, aborts, isolation, snapshots, events, and building from config.
import { describe, expect, it } from 'vitest';
import type { SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  circuitBreakerFromConfig,
  isCircuitOpen,
} from './CircuitBreaker.ts';

const ok = async () => 'ok';
const boom = async () => {
  throw new Error('boom');
};

function setup(opts: CircuitBreakerOptions = {}) {
  const clock = new ManualClock(1_000_000);
  const breaker = new CircuitBreaker({
    failureThreshold: 3,
    timeout: '10s',
    halfOpenRequests: 2,
    clock,
    ...opts,
  });
  const log: string[] = [];
  breaker.on('open', ({ from }) => log.push(`open(from ${from})`));
  breaker.on('half_open', () => log.push('half_open'));
  breaker.on('close', () => log.push('close'));
  breaker.on('rejected', ({ state }) => log.push(`rejected(${state})`));
  breaker.on('success', ({ state }) => log.push(`success(${state})`));
  breaker.on('failure', ({ state }) => log.push(`failure(${state})`));
  return { clock, breaker, log };
}

async function fail(breaker: CircuitBreaker, n: number) {
  for (let i = 0; i < n; i++) await expect(breaker.execute(boom)).rejects.toThrow('boom');
}

/** A call that stays pending until resolved or rejected by the test. */
function deferred() {
  let resolve!: (v: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold; a success resets the consecutive count', async () => {
    const { breaker } = setup();
    await fail(breaker, 2);
    expect(breaker.failures).toBe(2);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.failures).toBe(0);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('opens after failureThreshold consecutive failures and rejects with CIRCUIT_OPEN without calling', async () => {
    const { breaker, clock } = setup();
    await fail(breaker, 3);
    expect(breaker.state).toBe('open');
    let called = false;
    const err = (await breaker
      .execute(async () => {
        called = true;
      })
      .catch((e: unknown) => e)) as SluiceError;
    expect(called).toBe(false);
    expect(isCircuitOpen(err)).toBe(true);
    expect(err.retryable).toBe(true);
    expect(err.context).toMatchObject({ state: 'open', retryAfterMs: 10_000 });
    await clock.advance(4000);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ context: { retryAfterMs: 6000 } });
  });

  it('moves to half-open after the timeout and closes after halfOpenRequests successful probes', async () => {
    const { breaker, clock, log } = setup();
    await fail(breaker, 3);
    await clock.advance(9999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
    expect(log).toEqual([
      'failure(closed)',
      'failure(closed)',
      'failure(closed)',
      'open(from closed)',
      'half_open',
      'success(half-open)',
      'success(half-open)',
      'close',
    ]);
  });

  it('lets exactly halfOpenRequests concurrent probes through and rejects the others', async () => {
    const { breaker, clock } = setup({ halfOpenRequests: 3 });
    await fail(breaker, 3);
    await clock.advance(10_000);
    const probes = [deferred(), deferred(), deferred()];
    let started = 0;
    const calls = Array.from({ length: 8 }, (_, i) =>
      breaker
        .execute(() => {
          started++;
          return (probes[i] ?? deferred()).promise;
        })
        .then(
          (v) => v,
          (e: unknown) => (e as SluiceError).code,
        ),
    );
    expect(started).toBe(3);
    for (const p of probes) p.resolve('probe');
    const results = await Promise.all(calls);
    expect(results).toEqual(['probe', 'probe', 'probe', ...Array(5).fill('CIRCUIT_OPEN')]);
    expect(breaker.state).toBe('closed');
  });

  it('does not close before all probes succeeded, and admits no new probe meanwhile', async () => {
    const { breaker, clock } = setup({ halfOpenRequests: 2 });
    await fail(breaker, 3);
    await clock.advance(10_000);
    const a = deferred();
    const b = deferred();
    const pa = breaker.execute(() => a.promise);
    const pb = breaker.execute(() => b.promise);
    a.resolve('a');
    await pa;
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).rejects.toMatchObject({
      code: 'CIRCUIT_OPEN',
      context: { state: 'half-open' },
    });
    b.resolve('b');
    await pb;
    expect(breaker.state).toBe('closed');
  });

  it('re-opens on a probe failure with the timer restarted; late probe results change nothing', async () => {
    const { breaker, clock, log } = setup({ halfOpenRequests: 2 });
    await fail(breaker, 3);
    await clock.advance(10_000);
    const a = deferred();
    const b = deferred();
    const pa = breaker.execute(() => a.promise).catch(() => 'a failed');
    const pb = breaker.execute(() => b.promise);
    await clock.advance(500);
    a.reject(new Error('still down'));
    await pa;
    expect(breaker.state).toBe('open');
    b.resolve('late');
    await expect(pb).resolves.toBe('late');
    expect(breaker.state).toBe('open');
    await clock.advance(9999);
    expect(breaker.state).toBe('open');
    await clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(log.slice(4)).toEqual([
      'half_open',
      'failure(half-open)',
      'open(from half-open)',
      'success(half-open)',
      'half_open',
    ]);
  });

  it('failures of calls started before the breaker opened do not extend the open time', async () => {
    const { breaker, clock } = setup();
    const slow = deferred();
    const pSlow = breaker.execute(() => slow.promise).catch(() => undefined);
    await fail(breaker, 3);
    await clock.advance(5000);
    slow.reject(new Error('late'));
    await pSlow;
    await clock.advance(5000);
    expect(breaker.state).toBe('half-open');
  });

  it('results of calls started before the breaker went half-open neither re-open nor close it', async () => {
    const { breaker, clock } = setup({ halfOpenRequests: 1 });
    const slowFail = deferred();
    const slowOk = deferred();
    const pFail = breaker.execute(() => slowFail.promise).catch(() => undefined);
    const pOk = breaker.execute(() => slowOk.promise);
    await fail(breaker, 3);
    await clock.advance(10_000);
    expect(breaker.state).toBe('half-open');
    slowFail.reject(new Error('stale failure'));
    await pFail;
    expect(breaker.state).toBe('half-open');
    slowOk.resolve('stale success');
    await pOk;
    expect(breaker.state).toBe('half-open');
    await breaker.execute(ok);
    expect(breaker.state).toBe('closed');
  });

  it('isFailure=false errors pass through and count as successes', async () => {
    const { breaker } = setup({ isFailure: (e) => !(e instanceof TypeError) });
    await fail(breaker, 2);
    await expect(
      breaker.execute(async () => {
        throw new TypeError('not found');
      }),
    ).rejects.toThrow('not found');
    expect(breaker.failures).toBe(0);
    await fail(breaker, 2);
    expect(breaker.state).toBe('closed');
  });

  it('an aborted call counts as neither success nor failure and frees its probe slot', async () => {
    const { breaker, clock } = setup({ halfOpenRequests: 1 });
    await fail(breaker, 3);
    await clock.advance(10_000);
    const ctrl = new AbortController();
    const p = breaker.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('cancelled')))),
      ctrl.signal,
    );
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    ctrl.abort();
    await expect(p).rejects.toThrow('cancelled');
    expect(breaker.state).toBe('half-open');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');

    const aborted = new AbortController();
    aborted.abort();
    await expect(breaker.execute(ok, aborted.signal)).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('toJSON/fromJSON keeps an open breaker open for its remaining time on the new clock', async () => {
    const { breaker, clock } = setup();
    await fail(breaker, 3);
    await clock.advance(3000);
    const json = JSON.parse(JSON.stringify(breaker));
    expect(json).toEqual({ version: 1, state: 'open', failures: 0, remainingMs: 7000 });

    const other = new ManualClock(42);
    const restored = CircuitBreaker.fromJSON(json, { failureThreshold: 3, timeout: '10s', clock: other });
    expect(restored.state).toBe('open');
    await expect(restored.execute(ok)).rejects.toMatchObject({ context: { retryAfterMs: 7000 } });
    await other.advance(6999);
    expect(restored.state).toBe('open');
    await other.advance(1);
    expect(restored.state).toBe('half-open');
  });

  it('toJSON/restore round-trips closed failures and half-open', async () => {
    const { breaker, clock } = setup();
    await fail(breaker, 2);
    const restored = CircuitBreaker.fromJSON(breaker.toJSON(), { failureThreshold: 3, clock });
    expect(restored.failures).toBe(2);
    await fail(restored, 1);
    expect(restored.state).toBe('open');

    const half = CircuitBreaker.fromJSON(
      { version: 1, state: 'half-open', failures: 0 },
      { halfOpenRequests: 1, clock },
    );
    expect(half.state).toBe('half-open');
    await half.execute(ok);
    expect(half.state).toBe('closed');
  });

  it('restore rejects a malformed snapshot with CONFIG_INVALID', () => {
    expect(() => CircuitBreaker.fromJSON({ state: 'ajar', failures: 0 })).toThrowError(
      'Expected `circuitBreaker.snapshot.state` to be "closed", "open" or "half-open", got "ajar"',
    );
    expect(() => CircuitBreaker.fromJSON(null)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('isolate holds the breaker open until every handle is disposed; reset closes', async () => {
    const { breaker, clock } = setup();
    const h1 = breaker.isolate();
    const h2 = breaker.isolate();
    await clock.advance(60_000);
    expect(breaker.state).toBe('open');
    await expect(breaker.execute(ok)).rejects.toMatchObject({ context: { isolated: true } });
    expect(breaker.toJSON()).toEqual({ version: 1, state: 'open', failures: 0, isolated: true });
    h1.dispose();
    h1.dispose();
    expect(breaker.state).toBe('open');
    h2.dispose();
    expect(breaker.state).toBe('closed');

    await fail(breaker, 3);
    breaker.reset();
    expect(breaker.state).toBe('closed');
    await expect(breaker.execute(ok)).resolves.toBe('ok');
  });

  it('validates options', () => {
    expect(() => new CircuitBreaker({ failureThreshold: 0 })).toThrowError(
      'Expected `circuitBreaker.failureThreshold` to be an integer >= 1, got 0',
    );
    expect(() => new CircuitBreaker({ halfOpenRequests: 1.5 })).toThrowError(
      'Expected `circuitBreaker.halfOpenRequests` to be an integer >= 1, got 1.5',
    );
    expect(() => new CircuitBreaker({ timeout: 'later' })).toThrowError(
      'Expected `circuitBreaker.timeout` to be a duration',
    );
  });
});

describe('circuitBreakerFromConfig', () => {
  it('accepts the snake_case configuration shape', async () => {
    const clock = new ManualClock();
    const b = circuitBreakerFromConfig(
      { enabled: true, failure_threshold: 2, timeout: '5s', half_open_requests: 1 },
      { clock },
    );
    expect(b).toBeInstanceOf(CircuitBreaker);
    expect([b?.failureThreshold, b?.timeoutMs, b?.halfOpenRequests]).toEqual([2, 5000, 1]);
  });

  it('returns undefined when disabled and defaults for true', () => {
    expect(circuitBreakerFromConfig({ enabled: false, failure_threshold: 2 })).toBeUndefined();
    expect(circuitBreakerFromConfig(undefined)).toBeUndefined();
    expect(circuitBreakerFromConfig(false)).toBeUndefined();
    const d = circuitBreakerFromConfig(true);
    expect([d?.failureThreshold, d?.timeoutMs, d?.halfOpenRequests]).toEqual([5, 30_000, 3]);
  });

  it('names the field in errors', () => {
    expect(() =>
      circuitBreakerFromConfig({ failure_threshold: 0 }, {}, 'supervision.circuitBreaker'),
    ).toThrowError('Expected `supervision.circuitBreaker.failure_threshold` to be an integer >= 1, got 0');
    expect(() => circuitBreakerFromConfig({ timeout: 'x' })).toThrowError(
      'Expected `circuitBreaker.timeout`',
    );
    expect(() => circuitBreakerFromConfig('on' as never)).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
