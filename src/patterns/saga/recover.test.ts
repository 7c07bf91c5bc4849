// Saga.recover() with a ManualClock: progress while waiting for a crashed holder's lock, and abort during the wait.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../backend/memory/MemoryBackend.ts';
import { flushMicrotasks, ManualClock } from '../../core/ManualClock.ts';
import { defineSaga } from './Saga.ts';
import type { SagaRecoveryProgress } from './sagaTypes.ts';

const T0 = 1_700_000_000_000;
const DEAD = 'host-a:4242:0b7c';

/** A saga left half done by a process that died while holding its lock (the lease still runs). */
async function crashedSaga() {
  const clock = new ManualClock(T0);
  const backend = createMemoryBackend({ clock });
  const runs: string[] = [];
  const saga = defineSaga<{ n: number }>({
    name: 'order',
    backend,
    clock,
    lockTtl: '30s',
    steps: [
      { name: 'reserve', run: () => runs.push('reserve') },
      { name: 'charge', run: () => runs.push('charge') },
    ],
  });
  await backend.ensureTopic(saga.topic, { partitions: 16 });
  await backend.append(saga.topic, [
    { key: 'o-1', id: 'o-1:saga_started', payload: { type: 'saga_started', sagaId: 'o-1', input: { n: 1 } } },
  ]);
  const lease = await backend.leases.acquire('sluice.saga/order/o-1', DEAD, 30_000);
  expect(lease).not.toBeNull();
  return { clock, backend, saga, runs };
}

describe('Saga.recover', () => {
  it('reports who holds the lock and until when, waits for the expiry, then resumes', async () => {
    const { clock, saga, runs } = await crashedSaga();
    const progress: SagaRecoveryProgress[] = [];
    let settled = false;
    const done = saga.recover({ onProgress: (p) => progress.push(p) }).finally(() => {
      settled = true;
    });
    await flushMicrotasks(50);
    expect(progress.map((p) => p.type)).toEqual(['scanned', 'waiting_for_lock']);
    const wait = progress[1];
    expect(wait).toMatchObject({ saga: 'order', sagaId: 'o-1', owner: DEAD, expiresAt: T0 + 30_000 });
    expect(wait?.message).toBe(
      `waiting for lock of saga order/o-1 held by ${DEAD} until ${new Date(T0 + 30_000).toISOString()}`,
    );
    await clock.advance(29_000);
    expect(settled).toBe(false);
    expect(runs).toEqual([]);
    // The dead holder renews nothing: one report for one holder and expiry, however long the wait.
    expect(progress.filter((p) => p.type === 'waiting_for_lock')).toHaveLength(1);
    const results = await clock.runUntil(done);
    expect(clock.now()).toBeGreaterThanOrEqual(T0 + 30_000);
    expect(results).toEqual([{ id: 'o-1', status: 'completed', results: { reserve: 1, charge: 2 } }]);
    expect(runs).toEqual(['reserve', 'charge']);
    expect(progress.at(-1)).toMatchObject({ type: 'resumed', message: 'saga order/o-1: completed' });
  });

  it('stops waiting with ABORTED when its signal aborts', async () => {
    const { clock, saga, runs } = await crashedSaga();
    const ctrl = new AbortController();
    const progress: string[] = [];
    const done = saga.recover({ signal: ctrl.signal, onProgress: (p) => progress.push(p.type) });
    const outcome = done.catch((e: unknown) => e);
    await flushMicrotasks(50);
    await clock.advance(5_000);
    expect(progress).toEqual(['scanned', 'waiting_for_lock']);
    ctrl.abort();
    await expect(outcome).resolves.toMatchObject({ code: 'ABORTED' });
    expect(runs).toEqual([]);
  });

  it('a throwing progress callback does not stop the recovery', async () => {
    const { clock, saga } = await crashedSaga();
    const results = await clock.runUntil(
      saga.recover({
        onProgress: () => {
          throw new Error('logger down');
        },
      }),
    );
    expect(results.map((r) => r.status)).toEqual(['completed']);
  });
});
