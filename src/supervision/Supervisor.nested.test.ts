// A nested supervisor that exceeds its intensity exits with reason `shutdown`, as in OTP: transient children stay down, significant ones trigger autoShutdown.
import { describe, expect, it } from 'vitest';
import { FakeChildren } from '../../test/fixtures/supervision/fakeChildren.ts';
import { eventRecorder, failOnUnhandledRejections, settle } from '../../test/fixtures/supervision/harness.ts';
import { SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { isShutdownExit } from './exitReason.ts';
import { Supervisor } from './Supervisor.ts';
import { supervisorChild } from './supervisorChild.ts';

failOnUnhandledRejections();

const inner = (fakes: FakeChildren, extra: { restart?: 'transient' | 'permanent'; significant?: boolean }) =>
  supervisorChild({
    id: 'inner',
    strategy: 'one_for_one',
    restartIntensity: { maxRestarts: 0, withinMs: 1000 },
    children: [fakes.spec('w')],
    ...extra,
  });

describe('a child supervisor that exceeds its restart intensity', () => {
  it('as a transient child: is not restarted, and the parent keeps running', async () => {
    const fakes = new FakeChildren();
    const rec = eventRecorder();
    const root = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      restartIntensity: { maxRestarts: 5, withinMs: 1000 },
      listeners: rec.listeners,
      children: [fakes.spec('x'), inner(fakes, { restart: 'transient' })],
    });
    fakes.take();
    rec.take();
    fakes.crash('w');
    for (let i = 0; i < 3; i++) await settle(root);
    expect(fakes.take()).toEqual([]); // inner is not started again, x untouched
    expect(rec.take()).toEqual(['crashed:inner']);
    expect(root.state).toBe('running');
    expect(root.stats().totalRestarts).toBe(0);
    expect(root.whichChildren().map((c) => [c.id, c.status])).toEqual([
      ['x', 'running'],
      ['inner', 'terminated'],
    ]);
    await root.stop();
  });

  it('as a significant transient child: the parent applies autoShutdown and stops normally', async () => {
    const fakes = new FakeChildren();
    const root = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      autoShutdown: 'any_significant',
      children: [fakes.spec('x'), inner(fakes, { restart: 'transient', significant: true })],
    });
    fakes.take();
    fakes.crash('w');
    for (let i = 0; i < 3; i++) await settle(root);
    expect(root.state).toBe('stopped');
    await expect(root.done).resolves.toBeUndefined();
    expect(fakes.take()).toEqual(['stop:x']);
  });

  it('as a permanent child: is restarted (a shutdown exit is still an exit)', async () => {
    const fakes = new FakeChildren();
    const root = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      children: [inner(fakes, { restart: 'permanent' })],
    });
    fakes.take();
    fakes.crash('w');
    for (let i = 0; i < 3; i++) await settle(root);
    expect(fakes.take()).toEqual(['start:w']);
    expect(root.stats().totalRestarts).toBe(1);
    await root.stop();
  });

  it('a transient worker that crashes with another error is still restarted', async () => {
    const fakes = new FakeChildren();
    const root = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      children: [fakes.spec('t', 'transient')],
    });
    fakes.take();
    fakes.crash('t', new SluiceError('TIMEOUT', 'slow'));
    await settle(root);
    expect(fakes.take()).toEqual(['start:t']);
    await root.stop();
  });
});

describe('isShutdownExit', () => {
  it('is true only for MAX_RESTARTS_EXCEEDED', () => {
    expect(isShutdownExit(new SluiceError('MAX_RESTARTS_EXCEEDED', 'x'))).toBe(true);
    expect(isShutdownExit(new SluiceError('TIMEOUT', 'x'))).toBe(false);
    expect(isShutdownExit(new Error('MAX_RESTARTS_EXCEEDED'))).toBe(false);
    expect(isShutdownExit(undefined)).toBe(false);
  });
});
