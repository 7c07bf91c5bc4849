// partitionedRunner's holder lease on the memory backend with a ManualClock: one renewal keeps every partition, a late one is checked, a busy name waits.
import { afterEach, describe, expect, it } from 'vitest';
import {
  backend,
  clock,
  GROUP,
  runner,
  setup,
  stopRunners,
  TOPIC,
  until,
} from '../../../test/support/partitionedRunnerFixture.ts';
import type { Lease } from '../../backend/Backend.ts';
import { isSluiceError } from '../../core/errors.ts';
import { partitionLeaseName } from './PartitionedRunner.ts';
import { runnerHolderLeaseName } from './runnerLeases.ts';

afterEach(stopRunners);

/** Counts `leases.<name>` calls on the fixture's backend from now on. */
function countLeaseCalls(): Map<string, number> {
  const calls = new Map<string, number>();
  const leases = backend.leases as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['renew', 'renewMany', 'releaseMany', 'acquireMany']) {
    const inner = leases[name]!.bind(leases);
    leases[name] = (...a: unknown[]) => {
      calls.set(name, (calls.get(name) ?? 0) + 1);
      return inner(...a);
    };
  }
  return calls;
}

describe('partitionedRunner: the holder lease', () => {
  it('binds every partition lease to the runner lease: one renewal per heartbeat keeps them all', async () => {
    await setup(8, 0);
    const a = runner('a', () => {});
    await a.start();
    expect(a.assigned()).toHaveLength(8);
    const holder = await backend.leases.get(runnerHolderLeaseName(GROUP, TOPIC, 'a'));
    expect(holder).toBeDefined();
    const bound = await backend.leases.list(`${GROUP}/${TOPIC}/`);
    expect(bound).toHaveLength(8);
    expect(
      bound.every((l) => l.holder?.name === holder!.name && l.holder.token === holder!.fencingToken),
    ).toBe(true);
    const calls = countLeaseCalls();
    await clock.advance(1000);
    expect(calls.get('renew')).toBe(10);
    expect(calls.get('renewMany') ?? 0).toBe(0);
    // Long past the TTL the partition leases had when acquired: still held, through the holder.
    expect(await backend.leases.list(`${GROUP}/${TOPIC}/`)).toHaveLength(8);
  });

  it('a renewal that comes after the expiry checks the partitions in one call and drops only the ones taken meanwhile', async () => {
    await setup(4, 0);
    const renew = backend.leases.renew.bind(backend.leases);
    let failing = false;
    backend.leases.renew = (lease: Lease, ttl: number) =>
      failing && lease.name.startsWith('sluice-runner-holder/')
        ? Promise.reject(new Error('timeout'))
        : renew(lease, ttl);
    const a = runner('a', () => {});
    const lost: { partition: number; reason: string }[] = [];
    a.on('partition_lost', (e) => lost.push({ partition: e.partition, reason: e.reason }));
    await a.start();
    expect(a.assigned()).toEqual([0, 1, 2, 3]);
    failing = true;
    await clock.advance(600); // past the 500 ms lease: every partition lease is free
    expect(await backend.leases.list(`${GROUP}/${TOPIC}/`)).toEqual([]);
    const intruder = await backend.leases.acquire(partitionLeaseName(GROUP, TOPIC, 2), 'intruder', 60_000);
    expect(intruder).not.toBeNull();
    const calls = countLeaseCalls();
    failing = false;
    await until(() => lost.length > 0);
    expect(calls.get('renewMany')).toBe(1);
    expect(lost).toEqual([{ partition: 2, reason: 'lease_lost' }]);
    expect(a.assigned()).toEqual([0, 1, 3]);
    expect((await backend.leases.list(`${GROUP}/${TOPIC}/`)).map((l) => l.owner.split('#')[0])).toEqual([
      'a',
      'a',
      'intruder',
      'a',
    ]);
  });

  it('a second runner under the same name reports it once and owns nothing until the first one stops', async () => {
    await setup(4, 0);
    const first = runner('same', () => {});
    await first.start();
    expect(first.assigned()).toHaveLength(4);
    const second = runner('same', () => {});
    const errors: unknown[] = [];
    second.on('error', (e) => errors.push(e.error));
    await second.start();
    await clock.advance(1000);
    expect(second.assigned()).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(isSluiceError(errors[0]) && errors[0].code).toBe('INVALID_STATE');
    expect(String((errors[0] as Error).message)).toContain('"same"');
    await clock.runUntil(first.stop());
    await until(() => second.assigned().length === 4);
  });

  it('hands partitions over with one releaseMany per pass, and stop releases the rest and the holder', async () => {
    await setup(8, 0);
    const a = runner('a', () => {});
    await a.start();
    const calls = countLeaseCalls();
    const b = runner('b', () => {});
    await b.start();
    await a.rebalance();
    expect(a.assigned()).toHaveLength(4);
    expect(calls.get('releaseMany')).toBe(1);
    await clock.runUntil(a.stop());
    expect(calls.get('releaseMany')).toBe(2);
    expect(await backend.leases.get(runnerHolderLeaseName(GROUP, TOPIC, 'a'))).toBeUndefined();
    await until(() => b.assigned().length === 8);
  });

  it('a partition lost to a failed commit is released and acquired again, although the holder lease keeps being renewed', async () => {
    await setup(2, 30);
    const commitMany = backend.commitMany.bind(backend);
    let failures = 1;
    backend.commitMany = (...a: Parameters<typeof commitMany>) =>
      failures-- > 0 ? Promise.reject(new Error('connection reset')) : commitMany(...a);
    const a = runner('a', () => {});
    const events: string[] = [];
    a.on('partition_lost', (e) => events.push(`lost ${e.partition} ${e.reason} token ${e.fencingToken}`));
    a.on('partition_acquired', (e) => events.push(`acquired ${e.partition} token ${e.fencingToken}`));
    await a.start();
    await until(
      async () =>
        (await backend.committed(GROUP, TOPIC, 0)) === 30 &&
        (await backend.committed(GROUP, TOPIC, 1)) === 30,
    );
    // The one failed group commit carried both partitions' commits: both were lost, and each was
    // acquired again with a larger token once its old lease was released.
    const lost = events.filter((e) => e.startsWith('lost'));
    expect(lost.map((e) => e.split(' ').slice(0, 3).join(' ')).sort()).toEqual([
      'lost 0 error',
      'lost 1 error',
    ]);
    for (const e of lost) {
      const [, partition, , , token] = e.split(' ');
      const tokens = events
        .filter((x) => x.startsWith(`acquired ${partition} `))
        .map((x) => Number(x.split(' ')[3]));
      expect(tokens).toEqual([Number(token), Number(token) + 1]);
    }
    expect(a.assigned()).toEqual([0, 1]);
  });

  it('a check that fails after a late renewal is made again at the next heartbeat, never skipped', async () => {
    await setup(4, 0);
    const renew = backend.leases.renew.bind(backend.leases);
    const renewMany = backend.leases.renewMany.bind(backend.leases);
    let failing = false;
    let checkFailures = 1;
    let checks = 0;
    backend.leases.renew = (lease: Lease, ttl: number) =>
      failing && lease.name.startsWith('sluice-runner-holder/')
        ? Promise.reject(new Error('timeout'))
        : renew(lease, ttl);
    backend.leases.renewMany = (leases: readonly Lease[], ttl: number) => {
      checks++;
      return checkFailures-- > 0 ? Promise.reject(new Error('timeout')) : renewMany(leases, ttl);
    };
    const a = runner('a', () => {});
    const lost: number[] = [];
    a.on('partition_lost', (e) => lost.push(e.partition));
    await a.start();
    failing = true;
    await clock.advance(600);
    await backend.leases.acquire(partitionLeaseName(GROUP, TOPIC, 1), 'intruder', 60_000);
    failing = false;
    // The first check after the late renewal fails; the holder is renewed in time afterwards,
    // but the partitions are checked again before any of them counts as held.
    await until(() => lost.length > 0);
    expect(checks).toBe(2);
    expect(lost).toEqual([1]);
    expect(a.assigned()).toEqual([0, 2, 3]);
  });
});
