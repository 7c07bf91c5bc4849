// Supervisor tests of simple_one_for_one, per-child health checks, the child API, introspection, listeners, signals and option checks.
import { describe, expect, it } from 'vitest';
import { FakeChildren } from '../../test/fixtures/supervision/fakeChildren.ts';
import {
  eventRecorder,
  failOnUnhandledRejections,
  runningIds,
  settle,
} from '../../test/fixtures/supervision/harness.ts';
import { flushMicrotasks, ManualClock } from '../core/ManualClock.ts';
import { childFromAsync } from './childFromAsync.ts';
import { Supervisor } from './Supervisor.ts';

failOnUnhandledRejections();

describe('simple_one_for_one', () => {
  it('rejects static children and requires a template', async () => {
    const fakes = new FakeChildren();
    await expect(
      Supervisor.start({
        strategy: 'simple_one_for_one',
        childTemplate: fakes.spec('w'),
        children: [fakes.spec('a')],
      }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('`children`') });
    await expect(Supervisor.start({ strategy: 'simple_one_for_one' })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('childTemplate'),
    });
  });

  it('creates dynamic instances whose args survive restarts; terminate by id or handle', async () => {
    const fakes = new FakeChildren();
    const rec = eventRecorder();
    const sup = await Supervisor.start<{ n: number }>({
      strategy: 'simple_one_for_one',
      clock: new ManualClock(),
      restartIntensity: { maxRestarts: 5, withinMs: 1000 },
      listeners: rec.listeners,
      childTemplate: fakes.spec('w', 'permanent'),
    });
    const id1 = await sup.startChild({ n: 1 });
    const id2 = await sup.startChild({ n: 2 });
    const id3 = await sup.startChild({ n: 3 });
    expect([id1, id2, id3]).toEqual(['w-1', 'w-2', 'w-3']);
    expect(sup.whichChildren().map((c) => c.args)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    fakes.take();
    fakes.crash('w:{"n":2}');
    await settle(sup);
    expect(fakes.take()).toEqual(['start:w:{"n":2}']);
    expect(fakes.instance('w:{"n":2}').args).toEqual({ n: 2 });
    await sup.terminateChild('w-1');
    await sup.terminateChild(fakes.instance('w:{"n":3}').handle);
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['w-2']);
    await expect(sup.restartChild('w-2')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(sup.deleteChild('w-2')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await sup.stop();
    expect(fakes.running('w:{"n":2}')).toBe(false);
  });

  it('removes a transient instance that exits normally', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'simple_one_for_one',
      clock: new ManualClock(),
      childTemplate: fakes.spec('w', 'transient'),
    });
    await sup.startChild('a');
    fakes.exit('w:"a"');
    await settle(sup);
    expect(sup.whichChildren()).toEqual([]);
    await sup.stop();
  });
});

describe('health checks', () => {
  it('restarts an unhealthy child through the supervisor, counted by the intensity', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const rec = eventRecorder();
    let healthy = true;
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 1, withinMs: 60_000 },
      listeners: rec.listeners,
      children: [
        fakes.spec('a', 'permanent', {
          healthCheck: { interval: '1s', timeout: '100ms', unhealthyThreshold: 2, check: () => healthy },
        }),
      ],
    });
    rec.take();
    fakes.take();
    await clock.advance(5000);
    expect(rec.take()).toEqual([]);
    healthy = false;
    await clock.advance(1000);
    await settle(sup);
    expect(rec.events).toEqual([]);
    await clock.advance(1000);
    await settle(sup);
    expect(rec.take()).toEqual(['unhealthy:a', 'crashed:a', 'restarted:a']);
    expect(fakes.take()).toEqual(['stop:a', 'start:a']);
    expect(sup.stats().totalRestarts).toBe(1);
    await clock.advance(2000);
    await settle(sup);
    expect(rec.take()).toEqual([
      'unhealthy:a',
      'crashed:a',
      'max_restarts_exceeded:a',
      'supervisor_stopped:failed',
    ]);
    await expect(sup.done).rejects.toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED' });
    expect(clock.pendingTimers).toBe(0);
  });

  it('a check that times out counts as a failure; the handle is passed to the check', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock();
    const seen: unknown[] = [];
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock,
      restartIntensity: { maxRestarts: 3, withinMs: 60_000 },
      children: [
        fakes.spec('a', 'permanent', {
          healthCheck: {
            interval: 1000,
            timeout: 100,
            check: (_signal, handle) => {
              seen.push(handle);
              return new Promise(() => {});
            },
          },
        }),
      ],
    });
    const first = fakes.instance('a').handle;
    await clock.advance(1100);
    await settle(sup);
    expect(seen[0]).toBe(first);
    expect(sup.stats().totalRestarts).toBe(1);
    await sup.stop();
  });
});

describe('API', () => {
  it('startChild / terminateChild / restartChild / deleteChild follow OTP rules', async () => {
    const fakes = new FakeChildren();
    const rec = eventRecorder();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      listeners: rec.listeners,
      children: [fakes.spec('a')],
    });
    expect(await sup.startChild(fakes.spec('b'))).toBe('b');
    await expect(sup.startChild(fakes.spec('b'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(sup.startChild(fakes.spec('a'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
    await expect(sup.terminateChild('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(sup.restartChild('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(sup.deleteChild('nope')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(sup.restartChild('a')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    await expect(sup.deleteChild('a')).rejects.toMatchObject({ code: 'INVALID_STATE' });
    fakes.failStarts('c');
    await expect(sup.startChild(fakes.spec('c'))).rejects.toMatchObject({ code: 'CHILD_FAILED' });
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a', 'b']);

    await sup.terminateChild('a');
    expect(sup.whichChildren()[0]).toMatchObject({ id: 'a', status: 'terminated', restarts: 0 });
    await sup.restartChild('a');
    expect(sup.whichChildren()[0]?.status).toBe('running');
    expect(sup.stats().totalRestarts).toBe(0);
    await sup.terminateChild('b');
    await sup.deleteChild('b');
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a']);
    expect(rec.take()).toEqual([
      'started:a',
      'started:b',
      'start_failed:c',
      'stopped:a:terminated',
      'started:a',
      'stopped:b:terminated',
    ]);
    await sup.stop();
    await expect(sup.startChild(fakes.spec('z'))).rejects.toMatchObject({ code: 'INVALID_STATE' });
  });

  it('terminateChild removes a temporary child; children added later stop first', async () => {
    const fakes = new FakeChildren();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      children: [fakes.spec('a'), fakes.spec('t', 'temporary')],
    });
    await sup.terminateChild('t');
    expect(sup.whichChildren().map((c) => c.id)).toEqual(['a']);
    await sup.startChild(fakes.spec('late'));
    fakes.take();
    await sup.stop();
    expect(fakes.take()).toEqual(['stop:late', 'stop:a']);
  });

  it('whichChildren, countChildren and stats report the tree', async () => {
    const fakes = new FakeChildren();
    const clock = new ManualClock(1000);
    const sup = await Supervisor.start({
      strategy: 'rest_for_one',
      clock,
      restartIntensity: { maxRestarts: 5, withinMs: 1000 },
      children: [fakes.spec('a'), fakes.spec('b', 'transient')],
    });
    fakes.crash('a');
    await settle(sup);
    await clock.advance(250);
    expect(sup.whichChildren()).toEqual([
      { id: 'a', status: 'running', restart: 'permanent', restarts: 1, kind: 'fake', significant: false },
      { id: 'b', status: 'running', restart: 'transient', restarts: 1, kind: 'fake', significant: false },
    ]);
    expect(sup.countChildren()).toEqual({ specs: 2, active: 2, supervisors: 0, workers: 2 });
    expect(sup.stats()).toEqual({
      childCount: 2,
      activeChildren: 2,
      totalRestarts: 1,
      restartsByChild: { a: 1, b: 1 },
      uptimeMs: 250,
      strategy: 'rest_for_one',
      state: 'running',
      restartsInWindow: 1,
    });
    await sup.stop();
  });

  it('on() returns an unsubscribe function; a throwing listener does not break the supervisor', async () => {
    const fakes = new FakeChildren();
    const errors: unknown[] = [];
    const origError = console.error;
    console.error = (e: unknown) => errors.push(e);
    try {
      const sup = await Supervisor.start({
        strategy: 'one_for_one',
        clock: new ManualClock(),
        restartIntensity: { maxRestarts: 5, withinMs: 1000 },
        children: [fakes.spec('a')],
      });
      const seen: string[] = [];
      const off = sup.on('child_restarted', (e) => seen.push(e.id));
      sup.on('child_crashed', () => {
        throw new Error('listener bug');
      });
      fakes.crash('a');
      await settle(sup);
      off();
      fakes.crash('a');
      await settle(sup);
      expect(seen).toEqual(['a']);
      expect(runningIds(sup)).toEqual(['a']);
      expect(errors).toHaveLength(2);
      await sup.stop();
    } finally {
      console.error = origError;
    }
  });

  it('aborting the start signal stops the supervisor', async () => {
    const fakes = new FakeChildren();
    const ctrl = new AbortController();
    const sup = await Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      signal: ctrl.signal,
      children: [fakes.spec('a'), fakes.spec('b')],
    });
    fakes.take();
    ctrl.abort();
    await sup.done;
    expect(sup.state).toBe('stopped');
    expect(fakes.take()).toEqual(['stop:b', 'stop:a']);
  });

  it('an aborted signal rejects start; an abort during start stops the children already started', async () => {
    await expect(
      Supervisor.start({ strategy: 'one_for_one', signal: AbortSignal.abort(), children: [] }),
    ).rejects.toMatchObject({ code: 'ABORTED' });
    const fakes = new FakeChildren();
    const ctrl = new AbortController();
    const slow = childFromAsync(async ({ signal }) => {
      if (!signal.aborted) await new Promise((r) => signal.addEventListener('abort', r));
    });
    const p = Supervisor.start({
      strategy: 'one_for_one',
      clock: new ManualClock(),
      signal: ctrl.signal,
      children: [
        fakes.spec('a'),
        {
          id: 'gate',
          start: async (ctx) => {
            ctrl.abort();
            return slow(ctx);
          },
        },
        fakes.spec('never'),
      ],
    });
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    await flushMicrotasks();
    expect(fakes.log).toEqual(['start:a', 'stop:a']);
  });

  it('a start function that returns something else than a handle is a start failure', async () => {
    await expect(
      Supervisor.start({
        strategy: 'one_for_one',
        children: [{ id: 'bad', start: () => ({}) as never }],
      }),
    ).rejects.toMatchObject({ code: 'CHILD_FAILED', cause: { code: 'CONFIG_INVALID' } });
  });

  it('validates options with messages naming the field and value', async () => {
    const cases: [unknown, string][] = [
      [{ strategy: 'one_for_some' }, 'Expected `strategy` to be one of'],
      [{ strategy: 'one_for_one', children: [{ id: '', start: () => null }] }, '`children.0.id`'],
      [{ strategy: 'one_for_one', children: [{ id: 'a' }] }, '`children.0.start`'],
      [
        { strategy: 'one_for_one', children: [{ id: 'a', start: () => null, restart: 'sometimes' }] },
        '`children.0.restart` to be one of',
      ],
      [
        { strategy: 'one_for_one', children: [{ id: 'a', start: () => null, shutdownTimeout: 'soon' }] },
        '`children.0.shutdownTimeout`',
      ],
      [
        { strategy: 'one_for_one', restartIntensity: { maxRestarts: -1, withinMs: 10 } },
        'restartIntensity.maxRestarts',
      ],
      [
        { strategy: 'one_for_one', restartIntensity: { maxRestarts: 1, withinMs: 0 } },
        'restartIntensity.withinMs',
      ],
      [{ strategy: 'one_for_one', autoShutdown: 'sometimes' }, '`autoShutdown`'],
      [{ strategy: 'one_for_one', backoff: 'later' }, '`backoff`'],
      [
        {
          strategy: 'one_for_one',
          children: [{ id: 'a', start: () => null, healthCheck: { interval: 0, check: () => true } }],
        },
        'Expected `children.0.healthCheck.interval` to be a duration >= 1ms, got 0',
      ],
      [
        {
          strategy: 'one_for_one',
          children: [
            { id: 'a', start: () => null },
            { id: 'a', start: () => null },
          ],
        },
        'Expected `children.1.id` to be unique (already used by children.0), got "a"',
      ],
    ];
    for (const [options, message] of cases) {
      await expect(Supervisor.start(options as never), JSON.stringify(options)).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringContaining(message),
      });
    }
  });
});
