// A saga process SIGKILLed mid-step on Redis; another process recovers it and each effect happens once.
/**
 * A saga process is SIGKILLed in the middle of a step; another process recovers the saga.
 * Needs the local Redis server.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createRedisBackend, deleteRedisPrefix } from '../../src/backend/redis/index.ts';
import { startFixture } from '../fixtures/patterns/childProcess.ts';

const URL = 'redis://127.0.0.1:6379';
const RUN = `sluice-test:saga-crash:${process.pid}:${Date.now()}`;
const FIXTURE = 'test/fixtures/patterns/sagaChild.ts';
const prefixes: string[] = [];

afterAll(async () => {
  for (const prefix of prefixes) await deleteRedisPrefix({ url: URL, prefix });
});

async function crashThenRecover(name: string, failAt: string) {
  const prefix = `${RUN}:${name}`;
  prefixes.push(prefix);
  const crashing = startFixture(FIXTURE, [prefix, 'crash', 'order-1', failAt]);
  await crashing.waitForLine('CHARGED');
  crashing.proc.kill('SIGKILL');
  expect((await crashing.exited).signal).toBe('SIGKILL');

  const recovering = startFixture(FIXTURE, [prefix, 'recover', 'order-1', failAt]);
  const exit = await recovering.exited;
  expect(exit.code, recovering.stderr()).toBe(0);
  const results = JSON.parse(recovering.stdout().trim().split('\n').pop()!) as unknown[];

  const backend = createRedisBackend({ url: URL, prefix });
  try {
    const effects = (await backend.read('effects', 0, 0, 100)).map((e) => e.payload);
    const attempts = (await backend.read('attempts', 0, 0, 100)).map(
      (e) => (e.payload as { what: string }).what,
    );
    const log = (
      await Promise.all(Array.from({ length: 16 }, (_, p) => backend.read('sluice.saga.order', p, 0, 100)))
    )
      .flat()
      .map((e) => e.payload as { type: string; step?: string });
    return { results, effects, attempts, log };
  } finally {
    await backend.close();
  }
}

describe('saga crash recovery (real processes)', () => {
  it('a step interrupted by SIGKILL runs again in the recovering process, its effect happens once', {
    timeout: 60_000,
  }, async () => {
    const { results, effects, attempts, log } = await crashThenRecover('forward', '');
    expect(results).toMatchObject([
      { id: 'order-1', status: 'completed', results: { charge: { payment: 'p-order-1' } } },
    ]);
    // "charge" ran twice (before the crash and after it) but its effect exists once.
    expect(attempts).toEqual(['reserve', 'charge', 'charge', 'ship']);
    expect(effects).toEqual(['reserve', 'charge', 'ship']);
    expect(log.filter((e) => e.type === 'step_completed').map((e) => e.step)).toEqual([
      'reserve',
      'charge',
      'ship',
    ]);
    expect(log.at(-1)?.type).toBe('saga_completed');
  });

  it('after the crash a later step fails: compensations run in reverse order, each once', {
    timeout: 60_000,
  }, async () => {
    const { results, effects, attempts, log } = await crashThenRecover('compensate', 'ship');
    expect(results).toMatchObject([
      {
        id: 'order-1',
        status: 'compensated',
        failure: { step: 'ship', error: { message: 'no courier available' } },
      },
    ]);
    expect(attempts).toEqual(['reserve', 'charge', 'charge', 'ship']);
    expect(effects).toEqual(['reserve', 'charge', 'undo-charge', 'undo-reserve']);
    expect(log.filter((e) => e.type === 'compensated').map((e) => e.step)).toEqual(['charge', 'reserve']);
    expect(log.at(-1)?.type).toBe('saga_compensated');
  });
});
