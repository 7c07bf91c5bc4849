// partitionedRunner lease tests on the memory backend with a ManualClock: fencing, expiry mid-batch, renewals.
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
import { flushMicrotasks } from '../../core/ManualClock.ts';
import { partitionLeaseName } from './PartitionedRunner.ts';

afterEach(stopRunners);

describe('partitionedRunner: leases and fencing', () => {
  it('a paused runner whose lease was taken is FENCED on commit and drops the partition', async () => {
    await setup(1, 30);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const handled: number[] = [];
    const a = runner('a', async (e) => {
      if (e.offset === 12) await gate; // stuck in the handler, like a process under SIGSTOP
      handled.push(e.offset);
    });
    const lost: { reason: string; offset: number }[] = [];
    a.on('partition_lost', (e) => lost.push({ reason: e.reason, offset: e.offset }));
    await a.start();
    await until(() => handled.length === 12);
    // Meanwhile another owner took the lease (as after an expiry).
    const name = partitionLeaseName(GROUP, TOPIC, 0);
    const current = await backend.leases.get(name);
    expect(current).toBeDefined();
    await backend.leases.release(current!);
    const intruder = await backend.leases.acquire(name, 'other#1', 60_000);
    expect(intruder?.fencingToken).toBe(current!.fencingToken + 1);
    release();
    await flushMicrotasks(10);
    expect(lost).toEqual([{ reason: 'fenced', offset: 10 }]);
    expect(a.assigned()).toEqual([]);
    expect(await backend.committed(GROUP, TOPIC, 0)).toBe(10);
    // It keeps running without the partition: the lease is held by someone else.
    await clock.advance(1000);
    expect(a.assigned()).toEqual([]);
    expect(handled.filter((o) => o >= 20)).toEqual([]);
  });

  it('a lease whose expiry passes mid-batch aborts ctx.signal and no further event of the batch is handled', async () => {
    await setup(1, 30);
    // Renewals hang from the moment the handler is stuck (like a process under SIGSTOP).
    let blockRenewals = false;
    const stuck: (() => void)[] = [];
    const renew = backend.leases.renew.bind(backend.leases);
    backend.leases.renew = (lease, ttl) =>
      blockRenewals ? new Promise((r) => stuck.push(() => r(renew(lease, ttl)))) : renew(lease, ttl);
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const handled: number[] = [];
    let seen: { signal: AbortSignal; fence: unknown; token: number } | undefined;
    const a = runner('a', () => {}, {
      handler: async (e, ctx) => {
        handled.push(e.offset);
        if (e.offset === 13) {
          seen = { signal: ctx.signal, fence: ctx.fence, token: ctx.fencingToken };
          blockRenewals = true;
          await gate;
        }
      },
    });
    const lost: { reason: string; offset: number }[] = [];
    a.on('partition_lost', (e) => lost.push({ reason: e.reason, offset: e.offset }));
    await a.start();
    await until(() => seen !== undefined);
    const name = partitionLeaseName(GROUP, TOPIC, 0);
    expect(seen!.fence).toEqual({ lease: name, token: seen!.token });
    expect(seen!.signal.aborted).toBe(false);
    const lease = await backend.leases.get(name);
    await clock.advance(lease!.expiresAt - clock.now() - 1);
    expect(seen!.signal.aborted).toBe(false);
    await clock.advance(1); // the expiry passes while the handler is still running
    expect(seen!.signal.aborted).toBe(true);
    expect((seen!.signal.reason as { code?: string }).code).toBe('LEASE_LOST');
    release();
    await flushMicrotasks(10);
    // Events 14..19 of the batch were read but none was handed to the handler.
    expect(handled).toEqual(Array.from({ length: 14 }, (_, i) => i));
    expect(lost).toEqual([{ reason: 'fenced', offset: 10 }]);
    expect(await backend.committed(GROUP, TOPIC, 0)).toBe(10);
    blockRenewals = false;
    for (const r of stuck.splice(0)) r();
  });

  it('a renewal re-arms the signal timer: a lease kept alive never aborts ctx.signal', async () => {
    await setup(1, 3);
    const signals: AbortSignal[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const a = runner('a', () => {}, {
      handler: async (e, ctx) => {
        signals.push(ctx.signal);
        if (e.offset === 1) await gate;
      },
    });
    await a.start();
    await until(() => signals.length === 2);
    await clock.advance(5_000); // ten lease lengths, renewed every heartbeat
    expect(signals[1]!.aborted).toBe(false);
    release();
    await until(async () => (await backend.committed(GROUP, TOPIC, 0)) === 3);
    expect(signals.map((s) => s.aborted)).toEqual([false, false, false]);
  });

  it('renewal notices a lost lease and stops processing the partition', async () => {
    await setup(1, 1000);
    const a = runner('a', () => {}, { batchSize: 1 });
    const lost: string[] = [];
    a.on('partition_lost', (e) => lost.push(e.reason));
    await a.start();
    const name = partitionLeaseName(GROUP, TOPIC, 0);
    await backend.leases.release((await backend.leases.get(name))!);
    await backend.leases.acquire(name, 'other#1', 60_000);
    await until(() => lost.length > 0);
    expect(['lease_lost', 'fenced']).toContain(lost[0]);
    const at = await backend.committed(GROUP, TOPIC, 0);
    await clock.advance(500);
    expect(await backend.committed(GROUP, TOPIC, 0)).toBe(at);
  });
});
