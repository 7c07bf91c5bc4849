// Saga tests on the memory backend with a ManualClock: steps, compensation, resume, recover, retry.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../backend/memory/MemoryBackend.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { defineSaga, type SagaStep } from './Saga.ts';
import type { SagaEvent } from './sagaState.ts';

const T0 = 1_700_000_000_000;

function setup() {
  const clock = new ManualClock(T0);
  const backend = createMemoryBackend({ clock });
  const log: string[] = [];
  const keys: string[] = [];
  const step = (
    name: string,
    opts: { fail?: boolean; compensate?: boolean } = {},
  ): SagaStep<{ n: number }> => ({
    name,
    run: (ctx) => {
      log.push(`run:${name}`);
      keys.push(ctx.idempotencyKey);
      if (opts.fail) throw new Error(`${name} failed`);
      return { step: name, n: ctx.input.n, seen: Object.keys(ctx.results) };
    },
    ...(opts.compensate === false
      ? {}
      : {
          compensate: (ctx) => {
            log.push(`undo:${name}`);
            keys.push(ctx.idempotencyKey);
            expect(ctx.result).toMatchObject({ step: name });
          },
        }),
  });
  return { clock, backend, log, keys, step };
}

async function events(backend: ReturnType<typeof createMemoryBackend>, topic: string): Promise<SagaEvent[]> {
  const info = await backend.topicInfo(topic);
  const out: SagaEvent[] = [];
  for (let p = 0; p < (info?.partitions ?? 0); p++) {
    for (const e of await backend.read(topic, p, 0, 10_000)) out.push(e.payload as SagaEvent);
  }
  return out;
}

describe('Saga', () => {
  it('runs the steps in order, passing results forward, and records each transition', async () => {
    const { clock, backend, log, step } = setup();
    const saga = defineSaga({ name: 'order', backend, clock, steps: [step('a'), step('b'), step('c')] });
    const outcome = await clock.runUntil(saga.execute({ n: 7 }, { id: 'o-1' }));
    expect(outcome).toEqual({
      id: 'o-1',
      status: 'completed',
      results: {
        a: { step: 'a', n: 7, seen: [] },
        b: { step: 'b', n: 7, seen: ['a'] },
        c: { step: 'c', n: 7, seen: ['a', 'b'] },
      },
    });
    expect(log).toEqual(['run:a', 'run:b', 'run:c']);
    expect((await events(backend, saga.topic)).map((e) => e.type)).toEqual([
      'saga_started',
      'step_started',
      'step_completed',
      'step_started',
      'step_completed',
      'step_started',
      'step_completed',
      'saga_completed',
    ]);
    // Executing the same id again reports the outcome without running anything.
    expect(await clock.runUntil(saga.execute({ n: 99 }, { id: 'o-1' }))).toEqual(outcome);
    expect(log).toHaveLength(3);
    expect(await backend.leases.get('sluice.saga/order/o-1')).toBeUndefined();
  });

  it('compensates completed steps in reverse order when a step fails', async () => {
    const { clock, backend, log, keys, step } = setup();
    const saga = defineSaga({
      name: 'order',
      backend,
      clock,
      steps: [step('a'), step('b', { compensate: false }), step('c'), step('d', { fail: true }), step('e')],
    });
    const outcome = await clock.runUntil(saga.execute({ n: 1 }, { id: 'o-2' }));
    expect(outcome).toMatchObject({
      id: 'o-2',
      status: 'compensated',
      failure: { step: 'd', error: { message: 'd failed' } },
    });
    expect(log).toEqual(['run:a', 'run:b', 'run:c', 'run:d', 'undo:c', 'undo:a']);
    expect(keys.slice(-2)).toEqual(['order:o-2:c:compensate', 'order:o-2:a:compensate']);
    const types = (await events(backend, saga.topic)).map((e) => e.type);
    expect(types.slice(-5)).toEqual([
      'step_failed',
      'compensated',
      'compensated',
      'compensated',
      'saga_compensated',
    ]);
    const state = await saga.status('o-2');
    expect(state?.status).toBe('compensated');
    expect([...state!.compensated].sort()).toEqual([0, 1, 2]);
  });

  it('an interrupted step is run again on resume with the same idempotency key; finished steps are not', async () => {
    const { clock, backend } = setup();
    const runs: string[] = [];
    let block = true;
    const saga = defineSaga<{ n: number }>({
      name: 'pay',
      backend,
      clock,
      steps: [
        { name: 'a', run: (c) => void runs.push(c.idempotencyKey) },
        {
          name: 'b',
          run: async (c) => {
            runs.push(c.idempotencyKey);
            if (block)
              await new Promise((_, reject) =>
                c.signal.addEventListener('abort', () => reject(c.signal.reason)),
              );
            return 'paid';
          },
        },
        { name: 'c', run: (c) => void runs.push(c.idempotencyKey) },
      ],
    });
    const ctrl = new AbortController();
    const first = saga.execute({ n: 1 }, { id: 'p-1', signal: ctrl.signal }).catch((e: unknown) => e);
    await clock.advance(10);
    ctrl.abort();
    expect(await first).toMatchObject({ code: 'ABORTED' });
    expect((await saga.status('p-1'))?.status).toBe('running');
    block = false;
    expect(await clock.runUntil(saga.resume('p-1'))).toMatchObject({
      status: 'completed',
      results: { b: 'paid' },
    });
    expect(runs).toEqual(['pay:p-1:a', 'pay:p-1:b', 'pay:p-1:b', 'pay:p-1:c']);
  });

  it('a compensation that keeps failing leaves the saga compensating; recover() finishes it later', async () => {
    const { clock, backend, log, step } = setup();
    let broken = true;
    const saga = defineSaga({
      name: 'trip',
      backend,
      clock,
      compensationRetry: { attempts: 2, backoff: 10 },
      steps: [
        step('hotel'),
        {
          name: 'flight',
          run: () => 'booked',
          compensate: () => {
            log.push('undo:flight');
            if (broken) throw new Error('airline down');
          },
        },
        step('car', { fail: true }),
      ],
    });
    const err = await clock.runUntil(saga.execute({ n: 1 }, { id: 't-1' }).catch((e: unknown) => e));
    expect(err).toMatchObject({ code: 'SAGA_COMPENSATION_FAILED', retryable: true });
    expect(log.filter((l) => l === 'undo:flight')).toHaveLength(2);
    expect(log).not.toContain('undo:hotel');
    const state = await saga.status('t-1');
    expect(state?.status).toBe('compensating');
    expect(state?.compensationError?.message).toBe('airline down');

    await clock.runUntil(saga.execute({ n: 2 }, { id: 't-2' }).catch(() => undefined));
    broken = false;
    const recovered = await clock.runUntil(saga.recover());
    expect(recovered.map((r) => [r.id, r.status]).sort()).toEqual([
      ['t-1', 'compensated'],
      ['t-2', 'compensated'],
    ]);
    expect(log.filter((l) => l === 'undo:hotel')).toHaveLength(2);
    // Finished sagas are not touched again.
    expect(await clock.runUntil(saga.recover())).toEqual([]);
  });

  it('retries a step with its retry policy before failing it', async () => {
    const { clock, backend } = setup();
    let calls = 0;
    const saga = defineSaga({
      name: 'flaky',
      backend,
      clock,
      steps: [
        {
          name: 'x',
          retry: { attempts: 3, backoff: 100 },
          run: () => {
            if (++calls < 3) throw new Error('transient');
            return calls;
          },
        },
      ],
    });
    expect(await clock.runUntil(saga.execute(null, { id: 'f' }))).toMatchObject({
      status: 'completed',
      results: { x: 3 },
    });
  });

  it('two runners executing the same id concurrently run each step once', async () => {
    const { clock, backend, log, step } = setup();
    const steps = [step('a'), step('b')];
    const one = defineSaga({ name: 'dup', backend, clock, steps });
    const two = defineSaga({ name: 'dup', backend, clock, steps });
    const [x, y] = await clock.runUntil(
      Promise.all([one.execute({ n: 1 }, { id: 'd' }), two.execute({ n: 1 }, { id: 'd' })]),
    );
    expect(x).toEqual(y);
    expect(log).toEqual(['run:a', 'run:b']);
  });

  it('resume of an unknown id rejects with NOT_FOUND; bad definitions with CONFIG_INVALID', async () => {
    const { clock, backend, step } = setup();
    const saga = defineSaga({ name: 's', backend, clock, steps: [step('a')] });
    await expect(clock.runUntil(saga.resume('nope'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(() => defineSaga({ name: 's', backend, steps: [step('a'), step('a')] })).toThrow(
      /`defineSaga\.steps\[1\]\.name` to be unique/,
    );
    expect(() => defineSaga({ name: 's', backend, steps: [] })).toThrow(/`defineSaga\.steps`/);
    expect(() => defineSaga({ name: '', backend, steps: [step('a')] })).toThrow(/`defineSaga\.name`/);
    await expect(saga.execute({ n: 1 }, { id: '' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});
