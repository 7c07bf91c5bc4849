// Supervisor tests of start/stop order, the strategies one_for_one, one_for_all, rest_for_one and the restart types.
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
import type { ChildSpec, RestartType, SupervisorStrategy } from './types.ts';

failOnUnhandledRejections();

const roomy = { maxRestarts: 100, withinMs: 1000 };

async function boot(
  strategy: SupervisorStrategy,
  ids: string[],
  restart: Record<string, RestartType> = {},
  extra: Partial<ChildSpec> = {},
) {
  const fakes = new FakeChildren();
  const rec = eventRecorder();
  const clock = new ManualClock();
  const sup = await Supervisor.start({
    strategy,
    clock,
    restartIntensity: roomy,
    listeners: rec.listeners,
    children: ids.map((id) => fakes.spec(id, restart[id] ?? 'permanent', extra)),
  });
  return { fakes, rec, clock, sup };
}

describe('start and stop order', () => {
  it('starts children left to right and stops them right to left', async () => {
    const { fakes, rec, sup } = await boot('one_for_one', ['a', 'b', 'c']);
    expect(fakes.take()).toEqual(['start:a', 'start:b', 'start:c']);
    expect(rec.take()).toEqual(['started:a', 'started:b', 'started:c']);
    expect(sup.state).toBe('running');
    await sup.stop();
    expect(fakes.take()).toEqual(['stop:c', 'stop:b', 'stop:a']);
    expect(rec.take()).toEqual([
      'stopped:c:shutdown',
      'stopped:b:shutdown',
      'stopped:a:shutdown',
      'supervisor_stopped:stopped',
    ]);
    expect(sup.state).toBe('stopped');
    await expect(sup.done).resolves.toBeUndefined();
  });

  it('fails start when a child cannot start, after stopping the started ones right to left', async () => {
    const fakes = new FakeChildren();
    fakes.failStarts('c');
    const rec = eventRecorder();
    const err = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      listeners: rec.listeners,
      children: ['a', 'b', 'c', 'd'].map((id) => fakes.spec(id)),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CHILD_FAILED', context: { id: 'c' } });
    expect(fakes.take()).toEqual(['start:a', 'start:b', 'start_failed:c', 'stop:b', 'stop:a']);
    expect(rec.take()).toEqual([
      'started:a',
      'started:b',
      'start_failed:c',
      'stopped:b:shutdown',
      'stopped:a:shutdown',
      'supervisor_stopped:failed',
    ]);
  });

  it('stop is idempotent and close() is an alias', async () => {
    const { fakes, sup } = await boot('one_for_one', ['a']);
    fakes.take();
    const p1 = sup.stop();
    const p2 = sup.close();
    await Promise.all([p1, p2]);
    await sup.stop();
    expect(fakes.take()).toEqual(['stop:a']);
  });
});

describe('one_for_one', () => {
  it('restarts only the dead child', async () => {
    const { fakes, rec, sup } = await boot('one_for_one', ['a', 'b', 'c']);
    fakes.take();
    rec.take();
    fakes.crash('b');
    await settle(sup);
    expect(fakes.take()).toEqual(['start:b']);
    expect(rec.take()).toEqual(['crashed:b', 'restarted:b']);
    expect(runningIds(sup)).toEqual(['a', 'b', 'c']);
    expect(sup.stats()).toMatchObject({ totalRestarts: 1, restartsByChild: { a: 0, b: 1, c: 0 } });
    expect(fakes.instance('b').attempt).toBe(2);
    await sup.stop();
  });
});

describe('one_for_all', () => {
  it('stops the others right to left, then starts all left to right', async () => {
    const { fakes, rec, sup } = await boot('one_for_all', ['a', 'b', 'c', 'd']);
    fakes.take();
    rec.take();
    fakes.crash('b');
    await settle(sup);
    expect(fakes.take()).toEqual(['stop:d', 'stop:c', 'stop:a', 'start:a', 'start:b', 'start:c', 'start:d']);
    expect(rec.take()).toEqual([
      'crashed:b',
      'stopped:d:sibling_restart',
      'stopped:c:sibling_restart',
      'stopped:a:sibling_restart',
      'restarted:a',
      'restarted:b',
      'restarted:c',
      'restarted:d',
    ]);
    expect(runningIds(sup)).toEqual(['a', 'b', 'c', 'd']);
    expect(sup.stats().totalRestarts).toBe(1);
    expect(sup.stats().restartsByChild).toEqual({ a: 1, b: 1, c: 1, d: 1 });
    await sup.stop();
  });

  it('removes a temporary sibling instead of restarting it', async () => {
    const { fakes, rec, sup } = await boot('one_for_all', ['a', 't', 'b'], { t: 'temporary' });
    fakes.take();
    rec.take();
    fakes.crash('a');
    await settle(sup);
    expect(fakes.take()).toEqual(['stop:b', 'stop:t', 'start:a', 'start:b']);
    expect(rec.take()).toEqual([
      'crashed:a',
      'stopped:b:sibling_restart',
      'stopped:t:sibling_restart',
      'restarted:a',
      'restarted:b',
    ]);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'b']);
    await sup.stop();
  });

  it('starts a terminated (transient, exited normally) sibling again in a group restart, as OTP', async () => {
    const { fakes, rec, sup } = await boot('one_for_all', ['a', 'b'], { b: 'transient' });
    fakes.exit('b');
    await settle(sup);
    expect(sup.whichChildren().map((c) => c.status)).toEqual(['running', 'terminated']);
    fakes.take();
    rec.take();
    fakes.crash('a');
    await settle(sup);
    expect(fakes.take()).toEqual(['start:a', 'start:b']);
    expect(rec.take()).toEqual(['crashed:a', 'restarted:a', 'restarted:b']);
    await sup.stop();
  });
});

describe('rest_for_one', () => {
  it('restarts the dead child and those started after it', async () => {
    const { fakes, rec, sup } = await boot('rest_for_one', ['a', 'b', 'c', 'd']);
    fakes.take();
    rec.take();
    fakes.crash('b');
    await settle(sup);
    expect(fakes.take()).toEqual(['stop:d', 'stop:c', 'start:b', 'start:c', 'start:d']);
    expect(rec.take()).toEqual([
      'crashed:b',
      'stopped:d:sibling_restart',
      'stopped:c:sibling_restart',
      'restarted:b',
      'restarted:c',
      'restarted:d',
    ]);
    expect(sup.stats().restartsByChild).toEqual({ a: 0, b: 1, c: 1, d: 1 });
    await sup.stop();
  });

  it('does not restart a temporary child after the dead one', async () => {
    const { fakes, sup } = await boot('rest_for_one', ['a', 'b', 't', 'c'], { t: 'temporary' });
    fakes.take();
    fakes.crash('b');
    await settle(sup);
    expect(fakes.take()).toEqual(['stop:c', 'stop:t', 'start:b', 'start:c']);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'b', 'c']);
    await sup.stop();
  });

  it('the last child dying restarts only itself', async () => {
    const { fakes, sup } = await boot('rest_for_one', ['a', 'b', 'c']);
    fakes.take();
    fakes.crash('c');
    await settle(sup);
    expect(fakes.take()).toEqual(['start:c']);
    await sup.stop();
  });
});

describe('restart types', () => {
  it('permanent: restarted after a normal exit too', async () => {
    const { fakes, rec, sup } = await boot('one_for_one', ['a']);
    rec.take();
    fakes.exit('a');
    await settle(sup);
    expect(rec.take()).toEqual(['stopped:a:normal', 'restarted:a']);
    await sup.stop();
  });

  it('transient: a normal exit is not restarted, a crash is', async () => {
    const { fakes, rec, sup } = await boot('one_for_one', ['a', 'b'], { a: 'transient', b: 'transient' });
    rec.take();
    fakes.exit('a');
    fakes.crash('b');
    await settle(sup);
    expect(rec.take()).toEqual(['stopped:a:normal', 'crashed:b', 'restarted:b']);
    expect(sup.whichChildren().map((c) => [c.id, c.status])).toEqual([
      ['a', 'terminated'],
      ['b', 'running'],
    ]);
    expect(sup.stats().totalRestarts).toBe(1);
    await sup.stop();
  });

  it('temporary: never restarted, removed after it exits', async () => {
    const { fakes, rec, sup } = await boot('one_for_one', ['a', 'b'], { a: 'temporary', b: 'temporary' });
    rec.take();
    fakes.crash('a');
    fakes.exit('b');
    await settle(sup);
    expect(rec.take()).toEqual(['crashed:a', 'stopped:b:normal']);
    expect(sup.whichChildren()).toEqual([]);
    expect(sup.stats().totalRestarts).toBe(0);
    await sup.stop();
  });

  it('a temporary child dying does not trigger a group restart', async () => {
    const { fakes, sup } = await boot('one_for_all', ['a', 't', 'b'], { t: 'temporary' });
    fakes.take();
    fakes.crash('t');
    await settle(sup);
    expect(fakes.take()).toEqual([]);
    expect(runningIds(sup)).toEqual(['a', 'b']);
    await sup.stop();
  });

  it('accepts the seed names always / on_failure / never', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      children: [
        { id: 'a', restart: 'always', start: fakes.starter('a') },
        { id: 'b', restart: 'on_failure', start: fakes.starter('b') },
        { id: 'c', restart: 'never', start: fakes.starter('c') },
      ],
    });
    expect(sup.whichChildren().map((c) => c.restart)).toEqual(['permanent', 'transient', 'temporary']);
    await sup.stop();
  });
});

describe('exits seen while busy', () => {
  it('ignores the exit of an instance that was already replaced', async () => {
    const { fakes, sup } = await boot('one_for_all', ['a', 'b']);
    fakes.take();
    const oldB = fakes.instance('b');
    fakes.crash('a');
    // b is stopped by the group restart; its exit must not cause a second restart.
    await settle(sup);
    expect(oldB.exited).toBe(true);
    expect(fakes.take()).toEqual(['stop:b', 'start:a', 'start:b']);
    expect(sup.stats().totalRestarts).toBe(1);
    await sup.stop();
  });

  it('two crashes at once are handled one after the other', async () => {
    const { fakes, rec, sup } = await boot('one_for_one', ['a', 'b']);
    rec.take();
    fakes.crash('a');
    fakes.crash('b');
    await settle(sup);
    expect(rec.take()).toEqual(['crashed:a', 'restarted:a', 'crashed:b', 'restarted:b']);
    await sup.stop();
  });
});
