// Supervisor tests of restart intensity: exceeding it fails, the sliding window, failed restarts, nested escalation, backoff on the clock.
import { describe, expect, it } from 'vitest';
import { FakeChildren } from '../../test/fixtures/supervision/fakeChildren.ts';
import {
  eventRecorder,
  failOnUnhandledRejections,
  runningIds,
  settle,
} from '../../test/fixtures/supervision/harness.ts';
import { isSluiceError } from '../core/errors.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { backoff } from '../resilience/backoffFactories.ts';
import { Supervisor } from './Supervisor.ts';
import { supervisorChild } from './supervisorChild.ts';

failOnUnhandledRejections();

describe('restart intensity', () => {
  it('more than maxRestarts within the window stops all children right to left and fails', async () => {
    const fakes = new FakeChildren();
    const rec = eventRecorder();
    const clock = new ManualClock();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 2, withinMs: 1000 },
      listeners: rec.listeners,
      children: ['a', 'b', 'c'].map((id) => fakes.spec(id)),
    });
    fakes.take();
    rec.take();
    fakes.crash('b');
    await settle(sup);
    await clock.advance(100);
    fakes.crash('b');
    await settle(sup);
    expect(sup.state).toBe('running');
    await clock.advance(100);
    fakes.crash('b');
    await settle(sup);
    expect(fakes.take()).toEqual(['start:b', 'start:b', 'stop:c', 'stop:a']);
    expect(rec.take()).toEqual([
      'crashed:b',
      'restarted:b',
      'crashed:b',
      'restarted:b',
      'crashed:b',
      'max_restarts_exceeded:b',
      'stopped:c:shutdown',
      'stopped:a:shutdown',
      'supervisor_stopped:failed',
    ]);
    expect(sup.state).toBe('failed');
    const err = await sup.done.catch((e: unknown) => e);
    expect(isSluiceError(err) && err.code).toBe('MAX_RESTARTS_EXCEEDED');
    expect(err).toMatchObject({ context: { id: 'b', maxRestarts: 2, withinMs: 1000 } });
    expect(sup.whichChildren().every((c) => c.status === 'terminated')).toBe(true);
    expect(fakes.running('a') || fakes.running('b') || fakes.running('c')).toBe(false);
    await expect(sup.stop()).resolves.toBeUndefined();
  });

  it('maxRestarts 0 fails on the first crash', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      restartIntensity: { maxRestarts: 0, withinMs: 1000 },
      children: [fakes.spec('a')],
    });
    fakes.crash('a');
    await settle(sup);
    expect(sup.state).toBe('failed');
    await expect(sup.done).rejects.toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED' });
  });

  it('window expiry restores the budget (sliding window on the clock)', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 2, withinMs: '1s' },
      children: [fakes.spec('a')],
    });
    fakes.crash('a'); // t=0
    await settle(sup);
    await clock.advance(600);
    fakes.crash('a'); // t=600
    await settle(sup);
    await clock.advance(401); // t=1001: the t=0 restart left the window
    fakes.crash('a');
    await settle(sup);
    expect(sup.state).toBe('running');
    expect(sup.stats().restartsInWindow).toBe(2);
    await clock.advance(100); // t=1101: restarts at 600 and 1001 still inside
    fakes.crash('a');
    await settle(sup);
    expect(sup.state).toBe('failed');
    expect(sup.stats().totalRestarts).toBe(3);
  });

  it('a restart exactly withinMs after an earlier one still counts it (OTP boundary)', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 1, withinMs: 1000 },
      children: [fakes.spec('a')],
    });
    fakes.crash('a');
    await settle(sup);
    await clock.advance(1000);
    fakes.crash('a');
    await settle(sup);
    expect(sup.state).toBe('failed');
  });

  it('a start that fails during a restart counts as another restart', async () => {
    const fakes = new FakeChildren();
    const rec = eventRecorder();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      restartIntensity: { maxRestarts: 3, withinMs: 1000 },
      listeners: rec.listeners,
      children: [fakes.spec('a'), fakes.spec('b')],
    });
    rec.take();
    fakes.failStarts('b', 2);
    fakes.crash('b');
    await settle(sup);
    expect(rec.take()).toEqual(['crashed:b', 'start_failed:b', 'start_failed:b', 'restarted:b']);
    expect(sup.stats().totalRestarts).toBe(3);
    fakes.failStarts('b', 5);
    fakes.crash('b');
    await settle(sup);
    expect(sup.state).toBe('failed');
  });

  it('one_for_all retries the whole group when a child fails to start during the group restart', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_all',
      clock: new ManualClock(),
      restartIntensity: { maxRestarts: 5, withinMs: 1000 },
      children: ['a', 'b', 'c'].map((id) => fakes.spec(id)),
    });
    fakes.take();
    fakes.failStarts('b', 1);
    fakes.crash('c');
    await settle(sup);
    expect(fakes.take()).toEqual([
      'stop:b',
      'stop:a',
      'start:a',
      'start_failed:b',
      'stop:a',
      'start:a',
      'start:b',
      'start:c',
    ]);
    expect(sup.stats().totalRestarts).toBe(2);
    expect(runningIds(sup)).toEqual(['a', 'b', 'c']);
    await sup.stop();
  });
});

describe('escalation in a nested tree', () => {
  it('a failing child supervisor is restarted by its parent', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const rec = eventRecorder();
    const root = await Supervisor.start({
      name: 'root',
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 5, withinMs: 1000 },
      listeners: rec.listeners,
      children: [
        fakes.spec('x'),
        supervisorChild({
          id: 'inner',
          strategy: 'one_for_one',
          restartIntensity: { maxRestarts: 0, withinMs: 1000 },
          children: [fakes.spec('w1'), fakes.spec('w2')],
        }),
      ],
    });
    expect(root.whichChildren().map((c) => [c.id, c.kind])).toEqual([
      ['x', 'fake'],
      ['inner', 'supervisor'],
    ]);
    expect(root.countChildren()).toEqual({ specs: 2, active: 2, supervisors: 1, workers: 1 });
    fakes.take();
    rec.take();
    fakes.crash('w1');
    await settle(root);
    await settle(root);
    expect(fakes.take()).toEqual(['stop:w2', 'start:w1', 'start:w2']);
    expect(rec.take()).toEqual(['crashed:inner', 'restarted:inner']);
    expect(root.state).toBe('running');
    await root.stop();
    expect(fakes.take()).toEqual(['stop:w2', 'stop:w1', 'stop:x']);
  });

  it('escalates up to the root, which fails with MAX_RESTARTS_EXCEEDED', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const root = await Supervisor.start({
      name: 'root',
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 0, withinMs: 1000 },
      children: [
        fakes.spec('x'),
        supervisorChild({
          id: 'mid',
          strategy: 'one_for_one',
          restartIntensity: { maxRestarts: 0, withinMs: 1000 },
          children: [
            supervisorChild({
              id: 'leaf',
              strategy: 'one_for_one',
              restartIntensity: { maxRestarts: 0, withinMs: 1000 },
              children: [fakes.spec('w')],
            }),
          ],
        }),
      ],
    });
    fakes.take();
    fakes.crash('w');
    for (let i = 0; i < 3; i++) await settle(root);
    expect(root.state).toBe('failed');
    expect(fakes.take()).toEqual(['stop:x']);
    const err = await root.done.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED', context: { supervisor: 'root', id: 'mid' } });
    const midErr = (err as Error).cause;
    expect(midErr).toMatchObject({
      code: 'MAX_RESTARTS_EXCEEDED',
      context: { supervisor: 'mid', id: 'leaf' },
    });
    expect((midErr as Error).cause).toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED', context: { id: 'w' } });
  });

  it('a Supervisor returned by a start function is a valid child handle', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const root = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      children: [
        {
          id: 'inner',
          shutdownTimeout: 'infinity',
          start: ({ signal }) =>
            Supervisor.start({ strategy: 'one_for_one', clock, signal, children: [fakes.spec('w')] }),
        },
      ],
    });
    expect(fakes.running('w')).toBe(true);
    await root.stop();
    expect(fakes.running('w')).toBe(false);
  });
});

describe('backoff between restarts', () => {
  it('waits the backoff delay on the injected clock before restarting', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const rec = eventRecorder();
    const delays: number[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 10, withinMs: 60_000 },
      backoff: backoff.exponential({ initial: 100, max: 10_000, multiplier: 2, jitter: 'none' }),
      listeners: { ...rec.listeners, child_restarted: (e) => delays.push(e.delayMs) },
      children: [fakes.spec('a'), fakes.spec('b')],
    });
    fakes.take();
    fakes.crash('a');
    await flushMicrotasks();
    expect(sup.whichChildren()[0]?.status).toBe('restarting');
    await clock.advance(99);
    expect(fakes.take()).toEqual([]);
    await clock.advance(1);
    await flushMicrotasks();
    expect(fakes.take()).toEqual(['start:a']);
    fakes.crash('a');
    await flushMicrotasks();
    await clock.advance(199);
    expect(fakes.running('a')).toBe(false);
    await clock.advance(1);
    await flushMicrotasks();
    expect(fakes.running('a')).toBe(true);
    expect(delays).toEqual([100, 200]);
  });

  it('stop() during a backoff wait stops at once without restarting', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 10, withinMs: 60_000 },
      backoff: backoff.fixed('10s'),
      children: [fakes.spec('a'), fakes.spec('b')],
    });
    fakes.take();
    fakes.crash('a');
    await flushMicrotasks();
    // The supervisor is waiting for the backoff: its mailbox is busy until stop() interrupts it.
    await sup.stop();
    expect(fakes.take()).toEqual(['stop:b']);
    expect(sup.state).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
  });

  it('accepts the seed backoff shapes', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      maxRestarts: 3,
      backoff: { initial: '1s', max: '1m', multiplier: 2, jitter: 'none' },
      children: [fakes.spec('a')],
    });
    fakes.take();
    fakes.crash('a');
    await flushMicrotasks();
    await clock.advance(999);
    expect(fakes.take()).toEqual([]);
    await clock.advance(1);
    await flushMicrotasks();
    expect(fakes.take()).toEqual(['start:a']);
    await sup.stop();
  });
});
