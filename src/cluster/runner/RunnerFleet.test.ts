// RunnerFleet tests with fake runner children: desired-count records, scaling up and down, restarts, MAX_RESTARTS_EXCEEDED, options.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../../backend/memory/index.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { childFromAsync } from '../../supervision/childFromAsync.ts';
import { defineRunner } from './defineRunner.ts';
import { DesiredReplicasReader, fleetName, SCALE_TOPIC, setDesiredReplicas } from './desiredReplicas.ts';
import { RunnerFleet } from './RunnerFleet.ts';

/** Children that run until stopped and record which are alive; `crash(name)` makes one fail. */
function fakeRunners() {
  const alive = new Set<string>();
  const crashers = new Map<string, (e: Error) => void>();
  const starts: string[] = [];
  const child = (node: string) =>
    childFromAsync(
      ({ signal }) =>
        new Promise<void>((resolve, reject) => {
          alive.add(node);
          starts.push(node);
          crashers.set(node, (e) => {
            alive.delete(node);
            reject(e);
          });
          signal.addEventListener('abort', () => {
            alive.delete(node);
            resolve();
          });
        }),
    );
  return { alive, starts, child, crash: (node: string) => crashers.get(node)?.(new Error('boom')) };
}

describe('desired replicas records', () => {
  it('the latest record of a fleet wins; other fleets are ignored; reads are incremental', async () => {
    const backend = createMemoryBackend();
    const reader = new DesiredReplicasReader(backend, fleetName('g', 't'));
    expect(await reader.read()).toBeUndefined();
    await setDesiredReplicas(backend, 'g/t', 3);
    await setDesiredReplicas(backend, 'other/t', 7);
    expect((await reader.read())?.replicas).toBe(3);
    await setDesiredReplicas(backend, 'g/t', 5);
    expect((await reader.read())?.replicas).toBe(5);
    expect(await backend.endOffset(SCALE_TOPIC, 0)).toBe(3);
    expect((await new DesiredReplicasReader(backend, 'g/t').read())?.replicas).toBe(5);
  });

  it('rejects a negative or fractional count with CONFIG_INVALID', async () => {
    const backend = createMemoryBackend();
    await expect(setDesiredReplicas(backend, 'g/t', -1)).rejects.toThrow(/`replicas`/);
    await expect(setDesiredReplicas(backend, 'g/t', 1.5)).rejects.toThrow(/`replicas`/);
  });
});

describe('RunnerFleet', () => {
  it('starts the initial count, follows the desired count up and down, stopping the highest numbers first', async () => {
    const clock = new ManualClock(0);
    const backend = createMemoryBackend({ clock });
    const runners = fakeRunners();
    const fleet = await RunnerFleet.start({
      backend,
      fleet: 'g/t',
      child: runners.child,
      replicas: 2,
      nodeNamePrefix: 'n',
      pollInterval: 100,
      clock,
    });
    expect(fleet.nodes()).toEqual(['n-1', 'n-2']);
    expect([...runners.alive].sort()).toEqual(['n-1', 'n-2']);
    const scaled: number[] = [];
    fleet.on('scaled', (e) => scaled.push(e.to));
    await setDesiredReplicas(backend, 'g/t', 4);
    await clock.advance(100);
    expect(fleet.nodes()).toEqual(['n-1', 'n-2', 'n-3', 'n-4']);
    await setDesiredReplicas(backend, 'g/t', 1);
    await clock.advance(100);
    expect(fleet.nodes()).toEqual(['n-1']);
    expect([...runners.alive]).toEqual(['n-1']);
    expect(scaled).toEqual([4, 1]);
    await fleet.stop();
    expect(runners.alive.size).toBe(0);
  });

  it('restarts a crashed runner under the same name', async () => {
    const clock = new ManualClock(0);
    const backend = createMemoryBackend({ clock });
    const runners = fakeRunners();
    const fleet = await RunnerFleet.start({
      backend,
      fleet: 'g/t',
      child: runners.child,
      replicas: 2,
      nodeNamePrefix: 'n',
      clock,
    });
    runners.crash('n-2');
    await clock.advance(10);
    expect(runners.starts).toEqual(['n-1', 'n-2', 'n-2']);
    expect([...runners.alive].sort()).toEqual(['n-1', 'n-2']);
    expect(fleet.children.stats().totalRestarts).toBe(1);
    await fleet.stop();
  });

  it('fails with MAX_RESTARTS_EXCEEDED when runners keep crashing', async () => {
    const clock = new ManualClock(0);
    const backend = createMemoryBackend({ clock });
    const runners = fakeRunners();
    const fleet = await RunnerFleet.start({
      backend,
      fleet: 'g/t',
      child: runners.child,
      replicas: 1,
      nodeNamePrefix: 'n',
      restartIntensity: { maxRestarts: 1, withinMs: 60_000 },
      clock,
    });
    runners.crash('n-1');
    await clock.advance(1);
    runners.crash('n-1');
    await clock.advance(1);
    await expect(fleet.done).rejects.toMatchObject({ code: 'MAX_RESTARTS_EXCEEDED' });
  });

  it('validates options', async () => {
    const backend = createMemoryBackend();
    await expect(
      RunnerFleet.start({
        backend,
        fleet: '',
        child: () => () => ({ stop: async () => {}, done: Promise.resolve() }),
      }),
    ).rejects.toThrow(/`runnerFleet.fleet`/);
  });
});

describe('defineRunner', () => {
  it('requires group, topic and exactly one handler', () => {
    expect(() => defineRunner({ group: 'g', topic: 't' })).toThrow(/`runner.handler`/);
    expect(() => defineRunner({ group: '', topic: 't', handler: () => {} })).toThrow(/`runner.group`/);
    expect(defineRunner({ group: 'g', topic: 't', handler: () => {} }).group).toBe('g');
  });
});
