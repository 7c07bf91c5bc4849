// Supervisor tests of stopping: shutdownTimeout then kill(), and autoShutdown on significant children.
import { describe, expect, it } from 'vitest';
import { FakeChildren } from '../../test/fixtures/supervision/fakeChildren.ts';
import {
  eventRecorder,
  failOnUnhandledRejections,
  runningIds,
  settle,
} from '../../test/fixtures/supervision/harness.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { Supervisor } from './Supervisor.ts';

failOnUnhandledRejections();

describe('shutdownTimeout', () => {
  it('forces a child that does not stop within its timeout with kill()', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const rec = eventRecorder();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      listeners: rec.listeners,
      children: [fakes.spec('a'), fakes.spec('b', 'permanent', { shutdownTimeout: '2s' })],
    });
    fakes.setStopBehavior('b', 'hang');
    fakes.take();
    rec.take();
    let stopped = false;
    const p = sup.stop().then(() => {
      stopped = true;
    });
    await clock.advance(1999);
    expect(stopped).toBe(false);
    expect(fakes.take()).toEqual(['stop:b']);
    await clock.advance(1);
    await p;
    expect(fakes.take()).toEqual(['kill:b', 'stop:a']);
    expect(rec.take()).toEqual([
      'stopped:b:shutdown:forced',
      'stopped:a:shutdown',
      'supervisor_stopped:stopped',
    ]);
  });

  it('uses the 5s default and treats a child without kill() as stopped after the timeout', async () => {
    const clock = new ManualClock();
    const rec = eventRecorder();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      listeners: rec.listeners,
      children: [
        {
          id: 'stuck',
          start: () => ({ done: new Promise<void>(() => {}), stop: () => new Promise(() => {}) }),
        },
      ],
    });
    let stopped = false;
    const p = sup.stop().then(() => {
      stopped = true;
    });
    await clock.advance(4999);
    expect(stopped).toBe(false);
    await clock.advance(1);
    await p;
    expect(rec.events).toContain('stopped:stuck:shutdown:forced');
  });

  it("'infinity' waits for the child however long it takes", async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      children: [fakes.spec('a', 'permanent', { shutdownTimeout: 'infinity' })],
    });
    fakes.setStopBehavior('a', 'hang');
    let stopped = false;
    const p = sup.stop().then(() => {
      stopped = true;
    });
    await clock.advance(3_600_000);
    expect(stopped).toBe(false);
    fakes.exit('a');
    await p;
    expect(fakes.log).not.toContain('kill:a');
  });

  it('shutdownTimeout 0 kills at once (brutal kill)', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      children: [fakes.spec('a', 'permanent', { shutdownTimeout: 0 })],
    });
    fakes.take();
    await sup.stop();
    expect(fakes.take()).toEqual(['kill:a']);
  });
});

describe('autoShutdown', () => {
  it('any_significant: a significant transient child exiting normally stops the supervisor', async () => {
    const fakes = new FakeChildren();
    const rec = eventRecorder();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      autoShutdown: 'any_significant',
      listeners: rec.listeners,
      children: [fakes.spec('a'), fakes.spec('s', 'transient', { significant: true }), fakes.spec('c')],
    });
    rec.take();
    fakes.exit('s');
    await settle(sup);
    expect(rec.take()).toEqual([
      'stopped:s:normal',
      'stopped:c:shutdown',
      'stopped:a:shutdown',
      'supervisor_stopped:stopped',
    ]);
    expect(sup.state).toBe('stopped');
    await expect(sup.done).resolves.toBeUndefined();
  });

  it('any_significant: the first of several significant children exiting is enough', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      autoShutdown: 'any_significant',
      children: [
        fakes.spec('s1', 'temporary', { significant: true }),
        fakes.spec('s2', 'temporary', { significant: true }),
      ],
    });
    fakes.exit('s2');
    await settle(sup);
    expect(sup.state).toBe('stopped');
    expect(fakes.running('s1')).toBe(false);
  });

  it('a significant transient child that crashes is restarted, not a shutdown', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      autoShutdown: 'any_significant',
      restartIntensity: { maxRestarts: 5, withinMs: 1000 },
      children: [fakes.spec('s', 'transient', { significant: true })],
    });
    fakes.crash('s');
    await settle(sup);
    expect(sup.state).toBe('running');
    expect(runningIds(sup)).toEqual(['s']);
    await sup.stop();
  });

  it('a significant temporary child triggers it on any exit, a crash included', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      autoShutdown: 'any_significant',
      children: [fakes.spec('a'), fakes.spec('t', 'temporary', { significant: true })],
    });
    fakes.crash('t');
    await settle(sup);
    expect(sup.state).toBe('stopped');
    expect(fakes.running('a')).toBe(false);
  });

  it('all_significant: stops only when the last significant child has exited', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      autoShutdown: 'all_significant',
      children: [
        fakes.spec('a'),
        fakes.spec('s1', 'temporary', { significant: true }),
        fakes.spec('s2', 'transient', { significant: true }),
      ],
    });
    fakes.exit('s1');
    await settle(sup);
    expect(sup.state).toBe('running');
    fakes.exit('s2');
    await settle(sup);
    expect(sup.state).toBe('stopped');
  });

  it('never: significant children exiting do not stop the supervisor', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      children: [fakes.spec('a'), fakes.spec('s', 'transient', { significant: true })],
    });
    fakes.exit('s');
    await settle(sup);
    expect(sup.state).toBe('running');
    await sup.stop();
  });

  it('terminateChild of a significant child does not trigger it', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      autoShutdown: 'any_significant',
      children: [fakes.spec('a'), fakes.spec('s', 'transient', { significant: true })],
    });
    await sup.terminateChild('s');
    await settle(sup);
    expect(sup.state).toBe('running');
    expect(sup.whichChildren().map((c) => [c.id, c.status])).toEqual([
      ['a', 'running'],
      ['s', 'terminated'],
    ]);
    await sup.stop();
  });

  it('significant is forbidden on a permanent child', async () => {
    const fakes = new FakeChildren();
    await expect(
      Supervisor.start({
        strategy: 'one_for_one',
        autoShutdown: 'any_significant',
        children: [fakes.spec('a', 'permanent', { significant: true })],
      }),
    ).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('children.0.significant'),
    });
    expect(fakes.log).toEqual([]);
  });
});
