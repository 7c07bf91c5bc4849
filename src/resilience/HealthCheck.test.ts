// HealthCheck tests on a ManualClock with scripted probes: thresholds, resets, timeouts, no overlap, stop and lifecycle.
import { describe, expect, it, vi } from 'vitest';
import type { SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { HealthCheck, type HealthCheckOptions } from './HealthCheck.ts';

/** A probe whose answers are scripted per call: true/false, 'throw', 'hang' (ignores its signal) or a delay. */
function scripted(
  clock: ManualClock,
  answers: (boolean | 'throw' | 'hang' | { after: number; ok: boolean })[],
) {
  const starts: number[] = [];
  const signals: AbortSignal[] = [];
  let running = 0;
  let maxRunning = 0;
  const check = async (signal: AbortSignal) => {
    starts.push(clock.now());
    signals.push(signal);
    const a = answers[starts.length - 1] ?? true;
    running++;
    maxRunning = Math.max(maxRunning, running);
    try {
      if (a === 'throw') throw new Error('probe crashed');
      if (a === 'hang') return await new Promise<boolean>(() => {});
      if (typeof a === 'object') {
        await clock.sleep(a.after);
        return a.ok;
      }
      return a;
    } finally {
      running--;
    }
  };
  return { check, starts, signals, maxRunning: () => maxRunning };
}

function setup(answers: Parameters<typeof scripted>[1], opts: Partial<HealthCheckOptions> = {}) {
  const clock = new ManualClock();
  const probe = scripted(clock, answers);
  const hc = new HealthCheck({ interval: 100, timeout: 50, clock, check: probe.check, ...opts });
  const reasons: SluiceError[] = [];
  const log: string[] = [];
  hc.on('healthy', () => log.push('healthy'));
  hc.on('unhealthy', () => log.push('unhealthy'));
  hc.on('check', ({ ok }) => log.push(ok ? 'ok' : 'fail'));
  return { clock, hc, probe, reasons, log, onUnhealthy: (r: SluiceError) => reasons.push(r) };
}

describe('HealthCheck', () => {
  it('first check after the interval; passing checks make it healthy', async () => {
    const { clock, hc, probe, onUnhealthy, log } = setup([true, true]);
    hc.start(onUnhealthy);
    expect(hc.status).toBe('unknown');
    await clock.advance(99);
    expect(probe.starts).toEqual([]);
    await clock.advance(1);
    expect(probe.starts).toEqual([100]);
    expect(hc.status).toBe('healthy');
    await clock.advance(100);
    expect(probe.starts).toEqual([100, 200]);
    expect(log).toEqual(['ok', 'healthy', 'ok']);
    hc.stop();
  });

  it('calls onUnhealthy once after unhealthyThreshold consecutive failures', async () => {
    const { clock, hc, reasons, onUnhealthy, log } = setup([true, false, 'throw', false, false, false], {
      unhealthyThreshold: 3,
    });
    hc.start(onUnhealthy);
    await clock.advance(300);
    expect(hc.status).toBe('healthy');
    expect(reasons).toHaveLength(0);
    await clock.advance(100);
    expect(hc.status).toBe('unhealthy');
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatchObject({ code: 'HEALTH_CHECK_FAILED', context: { consecutiveFailures: 3 } });
    expect(hc.consecutiveFailures).toBe(3);
    await clock.advance(200);
    expect(reasons).toHaveLength(1);
    expect(log).toEqual(['ok', 'healthy', 'fail', 'fail', 'fail', 'unhealthy', 'fail', 'fail']);
    hc.stop();
  });

  it('a success in between resets the consecutive failures', async () => {
    const { clock, hc, reasons, onUnhealthy } = setup([false, false, true, false, false, true], {
      unhealthyThreshold: 3,
    });
    hc.start(onUnhealthy);
    await clock.advance(600);
    expect(reasons).toHaveLength(0);
    expect(hc.status).toBe('healthy');
    hc.stop();
  });

  it('a check exceeding the timeout fails and its signal aborts with TIMEOUT', async () => {
    const { clock, hc, probe, reasons, onUnhealthy } = setup([{ after: 51, ok: true }]);
    hc.start(onUnhealthy);
    await clock.advance(100);
    expect(probe.signals[0]?.aborted).toBe(false);
    await clock.advance(50);
    expect(probe.signals[0]?.aborted).toBe(true);
    expect(hc.status).toBe('unhealthy');
    expect(reasons[0]?.cause).toMatchObject({ code: 'TIMEOUT' });
    hc.stop();
  });

  it('a check that finishes just within the timeout passes', async () => {
    const { clock, hc, onUnhealthy } = setup([{ after: 49, ok: true }]);
    hc.start(onUnhealthy);
    await clock.advance(150);
    expect(hc.status).toBe('healthy');
    hc.stop();
  });

  it('reports the thrown error as the cause', async () => {
    const { clock, hc, reasons, onUnhealthy } = setup(['throw']);
    hc.start(onUnhealthy);
    await clock.advance(100);
    expect((reasons[0]?.cause as Error | undefined)?.message).toBe('probe crashed');
    expect(reasons[0]?.message).toContain('probe crashed');
    hc.stop();
  });

  it('recovers, then a new unhealthy episode calls onUnhealthy again', async () => {
    const { clock, hc, reasons, onUnhealthy, log } = setup([false, false, true, true, false], {
      healthyThreshold: 2,
    });
    hc.start(onUnhealthy);
    await clock.advance(200);
    expect(hc.status).toBe('unhealthy');
    await clock.advance(100);
    expect(hc.status).toBe('unhealthy');
    await clock.advance(100);
    expect(hc.status).toBe('healthy');
    await clock.advance(100);
    expect(hc.status).toBe('unhealthy');
    expect(reasons).toHaveLength(2);
    expect(log).toEqual(['fail', 'unhealthy', 'fail', 'ok', 'ok', 'healthy', 'fail', 'unhealthy']);
    hc.stop();
  });

  it('never overlaps: the next check starts an interval after the previous one ends', async () => {
    const { clock, hc, probe } = setup(
      [
        { after: 40, ok: true },
        { after: 40, ok: true },
        { after: 40, ok: true },
      ],
      { interval: 10, timeout: 50 },
    );
    hc.start();
    await clock.advance(10 + 50 + 50 + 40);
    expect(probe.starts).toEqual([10, 60, 110]);
    expect(probe.maxRunning()).toBe(1);
    hc.stop();
  });

  it('a hung check that ignores its signal is never overlapped; later rounds count as failures', async () => {
    const { clock, hc, probe, reasons, onUnhealthy } = setup(['hang'], { unhealthyThreshold: 3 });
    hc.start(onUnhealthy);
    await clock.advance(100 + 50);
    expect(hc.consecutiveFailures).toBe(1);
    await clock.advance(200);
    expect(probe.starts).toEqual([100]);
    expect(probe.maxRunning()).toBe(1);
    expect(hc.consecutiveFailures).toBe(3);
    expect(reasons).toHaveLength(1);
    hc.stop();
  });

  it('stop aborts the running check, cancels timers and ignores its result; start works again', async () => {
    const { clock, hc, probe, reasons, onUnhealthy } = setup([{ after: 30, ok: false }, true]);
    hc.start(onUnhealthy);
    await clock.advance(110);
    hc.stop();
    expect(hc.lifecycle).toBe('stopped');
    expect(probe.signals[0]?.aborted).toBe(true);
    await clock.advance(1000);
    expect(reasons).toHaveLength(0);
    expect(probe.starts).toEqual([100]);
    expect(clock.pendingTimers).toBe(0);

    hc.start(onUnhealthy);
    expect(hc.status).toBe('unknown');
    await clock.advance(100);
    expect(probe.starts).toEqual([100, 1210]);
    expect(hc.status).toBe('healthy');
    hc.stop();
  });

  it('onUnhealthy may stop the health check; no further check is scheduled', async () => {
    const clock = new ManualClock();
    const check = vi.fn(async () => false);
    const hc = new HealthCheck({ interval: 100, timeout: 50, clock, check });
    hc.start(() => hc.stop());
    await clock.advance(1000);
    expect(check).toHaveBeenCalledTimes(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a throwing onUnhealthy does not break the loop', async () => {
    const clock = new ManualClock();
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    const check = vi.fn(async () => false);
    const hc = new HealthCheck({ interval: 100, timeout: 50, clock, check });
    hc.start(() => {
      throw new Error('callback bug');
    });
    await clock.advance(300);
    expect(check).toHaveBeenCalledTimes(3);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    hc.stop();
  });

  it('lifecycle: start twice throws INVALID_STATE, start after close throws CLOSED', () => {
    const hc = new HealthCheck({ clock: new ManualClock(), check: () => true });
    expect(hc.lifecycle).toBe('idle');
    hc.start();
    expect(() => hc.start()).toThrow(expect.objectContaining({ code: 'INVALID_STATE' }));
    hc.close();
    expect(hc.lifecycle).toBe('closed');
    expect(() => hc.start()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    hc.close();
  });

  it('initialDelay sets when the first check runs', async () => {
    const { clock, hc, probe } = setup([true], { initialDelay: 0 });
    hc.start();
    await clock.advance(0);
    expect(probe.starts).toEqual([0]);
    hc.stop();
  });

  it('validates options', () => {
    expect(() => new HealthCheck({} as never)).toThrowError('Expected `healthCheck.check` to be a function');
    expect(() => new HealthCheck({ check: () => true, interval: 0 })).toThrowError(
      'Expected `healthCheck.interval` to be a duration >= 1ms, got 0',
    );
    expect(() => new HealthCheck({ check: () => true, timeout: 'x' })).toThrowError(
      'Expected `healthCheck.timeout` to be a duration',
    );
    expect(() => new HealthCheck({ check: () => true, unhealthyThreshold: 0 })).toThrowError(
      'Expected `healthCheck.unhealthyThreshold` to be an integer >= 1, got 0',
    );
  });
});
