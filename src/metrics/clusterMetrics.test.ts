// Tests of the cluster metrics (runner, lease observer, DistributedSupervisor) and the ops server over real HTTP.
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import type { RunnerEvents, RunnerState } from '../cluster/runner/runnerEvents.ts';
import { runnerReadiness } from '../cluster/runner/runnerReadiness.ts';
import type { Runner } from '../cluster/runner/runnerTypes.ts';
import type { DistributedSupervisorStats } from '../cluster/supervisor/dsupTypes.ts';
import { TypedEmitter } from '../core/events.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { observeLeases } from './leaseObserver.ts';
import { type OpsServer, startOpsServer } from './opsServer.ts';
import { runnerMetrics } from './runnerMetrics.ts';
import { instrumentDistributedSupervisor } from './supervisorMetrics.ts';

/** A runner driven by hand: emits what the test says, owns what the test sets. */
function fakeRunner(nodeName: string) {
  const events = new TypedEmitter<RunnerEvents>();
  let owned: number[] = [];
  let state: RunnerState = 'running';
  const runner = {
    nodeName,
    get state() {
      return state;
    },
    assigned: () => [...owned],
    on: <E extends keyof RunnerEvents>(e: E, fn: (...a: RunnerEvents[E]) => void) => events.on(e, fn),
  } as unknown as Runner;
  return {
    runner,
    events,
    own: (p: number[]) => {
      owned = p;
    },
    setState: (s: RunnerState) => {
      state = s;
    },
  };
}

async function sample(registry: Registry, name: string, labels = ''): Promise<number | undefined> {
  for (const line of (await registry.metrics()).split('\n')) {
    const m = /^([\w:]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] === name && (m[2] ?? '').includes(labels)) return Number(m[3]);
  }
  return undefined;
}

const servers: OpsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

describe('runnerMetrics', () => {
  it('counts rebalances, acquisitions, fenced losses and commits from the events; owned is read at scrape', async () => {
    const registry = new Registry();
    const f = fakeRunner('r1');
    const stop = runnerMetrics({ registry, group: 'g', topic: 't', node: 'r1' }).instrument(f.runner);
    f.own([0, 1, 2]);
    f.events.emit('rebalance', { members: ['r1'], assigned: [0, 1, 2], previous: [] });
    f.events.emit('partition_acquired', { partition: 0, fencingToken: 1, offset: 0 });
    f.events.emit('partition_lost', { partition: 1, fencingToken: 2, reason: 'fenced', offset: 4 });
    f.events.emit('partition_lost', { partition: 2, fencingToken: 3, reason: 'lease_lost', offset: 0 });
    f.events.emit('committed', { partition: 0, offset: 10, count: 10, fencingToken: 1 });
    f.events.emit('error', { error: new Error('x'), during: 'commit', partition: 0 });
    expect(await sample(registry, 'sluice_runner_owned_partitions', 'node="r1"')).toBe(3);
    expect(await sample(registry, 'sluice_runner_rebalances_total')).toBe(1);
    expect(await sample(registry, 'sluice_runner_partitions_acquired_total')).toBe(1);
    expect(await sample(registry, 'sluice_runner_fenced_commits_total')).toBe(1);
    expect(await sample(registry, 'sluice_runner_partitions_lost_total', 'reason="lease_lost"')).toBe(1);
    expect(await sample(registry, 'sluice_runner_events_committed_total')).toBe(10);
    expect(await sample(registry, 'sluice_runner_errors_total', 'during="commit"')).toBe(1);
    f.setState('stopping');
    expect(await sample(registry, 'sluice_runner_up')).toBe(0);
    stop();
    expect(await sample(registry, 'sluice_runner_owned_partitions', 'node="r1"')).toBeUndefined();
  });

  it('observes renewals (latency, failures) and takeovers of expired leases, not of released ones', async () => {
    const clock = new ManualClock(1000);
    const backend = createMemoryBackend({ clock });
    const seen: string[] = [];
    const renewals: { failed: boolean; lost: number }[] = [];
    const observed = observeLeases(
      backend,
      {
        renewed: (e) => renewals.push({ failed: e.failed, lost: e.lost }),
        tookOver: (e) => seen.push(e.name),
      },
      { now: () => clock.now() },
    );
    const dead = await backend.leases.acquire('g/t/0', 'dead#1#1', 500);
    const leaving = await backend.leases.acquire('g/t/1', 'leaving#1#1', 500);
    expect(dead && leaving).toBeTruthy();
    await observed.leases.list('g/t/');
    await backend.leases.release(leaving!);
    await clock.advance(100);
    await observed.leases.list('g/t/'); // leaving's lease is gone before its expiry: released
    await clock.advance(500); // dead's lease ran out unrenewed
    await observed.leases.list('g/t/');
    const got = await observed.leases.acquireMany(
      [
        { name: 'g/t/0', owner: 'me#1#1' },
        { name: 'g/t/1', owner: 'me#1#2' },
      ],
      500,
    );
    expect(got.every((l) => l !== null)).toBe(true);
    expect(seen).toEqual(['g/t/0']);
    await observed.leases.renewMany([got[0]!, leaving!], 500);
    expect(renewals).toEqual([{ failed: false, lost: 1 }]);
    expect(observed.kind).toBe(backend.kind);
    await backend.close();
    await expect(observed.leases.renewMany([got[0]!], 500)).rejects.toThrow();
    expect(renewals.at(-1)).toEqual({ failed: true, lost: 0 });
  });
});

describe('observeLeases without lease listings of its own', () => {
  it('lists the folder of its renewed leases once per half TTL, so a takeover of a dead peer counts', async () => {
    const clock = new ManualClock(1000);
    const backend = createMemoryBackend({ clock });
    const seen: string[] = [];
    let lists = 0;
    const counting = new Proxy(backend, {
      get(target, prop) {
        if (prop !== 'leases') return Reflect.get(target, prop, target);
        const inner = target.leases;
        return {
          ...inner,
          list: (prefix: string) => {
            lists++;
            return inner.list(prefix);
          },
          renewMany: inner.renewMany.bind(inner),
          acquireMany: inner.acquireMany.bind(inner),
          acquire: inner.acquire.bind(inner),
          renew: inner.renew.bind(inner),
          release: inner.release.bind(inner),
          get: inner.get.bind(inner),
        };
      },
    });
    const observed = observeLeases(
      counting,
      { renewed: () => {}, tookOver: (e) => seen.push(e.name) },
      { now: () => clock.now() },
    );
    const dead = await backend.leases.acquire('g/t/0', 'dead#1#1', 1000);
    const mine = await observed.leases.acquire('g/t/1', 'me#1#1', 1000);
    expect(dead && mine).toBeTruthy();
    await observed.leases.renewMany([mine!], 1000);
    await observed.leases.renewMany([mine!], 1000); // within half a TTL: no second listing
    await Promise.resolve();
    expect(lists).toBe(1);
    await clock.advance(1200); // the dead peer's lease ran out unrenewed
    const [taken] = await observed.leases.acquireMany([{ name: 'g/t/0', owner: 'me#1#1' }], 1000);
    expect(taken).not.toBeNull();
    expect(seen).toEqual(['g/t/0']);
    await backend.close();
  });
});

describe('instrumentDistributedSupervisor', () => {
  it('exports the leader, children per node and the supervisor totals from getStats()', async () => {
    const registry = new Registry();
    let stats: DistributedSupervisorStats = {
      state: 'running',
      leader: 'node-a',
      nodes: ['node-a', 'node-b'],
      children: 3,
      childrenByNode: { 'node-a': ['c1', 'c2'], 'node-b': ['c3'] },
      local: ['c1', 'c2'],
      totalRestarts: 2,
      nodeFailureRestarts: 1,
      migrations: 2,
      rebalances: 0,
      nodeFailures: 1,
    };
    instrumentDistributedSupervisor({ getStats: () => stats }, { registry, name: 'idx', node: 'node-a' });
    expect(await sample(registry, 'sluice_dsup_leader', 'node="node-a"')).toBe(1);
    expect(await sample(registry, 'sluice_dsup_node_children', 'node="node-b"')).toBe(1);
    expect(await sample(registry, 'sluice_dsup_node_children', 'node="node-a"')).toBe(2);
    expect(await sample(registry, 'sluice_dsup_node_failure_restarts')).toBe(1);
    stats = { ...stats, leader: 'node-b' };
    expect(await sample(registry, 'sluice_dsup_leader', 'node="node-a"')).toBe(0);
  });
});

describe('startOpsServer', () => {
  it('serves /metrics, /livez and /readyz (503 with the reason), 404 and 405 otherwise', async () => {
    const registry = new Registry();
    const f = fakeRunner('r1');
    const ready = runnerReadiness(f.runner);
    const s = await startOpsServer({ port: 0, registry, readiness: ready });
    servers.push(s);
    expect((await fetch(`${s.url}/metrics`)).status).toBe(200);
    expect(await (await fetch(`${s.url}/livez`)).json()).toMatchObject({ status: 'alive' });
    let r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({
      status: 'not_ready',
      reason: 'waiting for the first assignment (joining the group)',
    });
    f.events.emit('rebalance', { members: ['r0', 'r1'], assigned: [2, 3], previous: [] });
    f.own([2]);
    r = await fetch(`${s.url}/readyz`);
    expect(await r.json()).toMatchObject({ status: 'not_ready', owned: [2], assigned: [2, 3] });
    f.own([2, 3]);
    r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: 'ready', reason: 'holds its 2 assigned partitions' });
    expect((await fetch(`${s.url}/nope`)).status).toBe(404);
    expect((await fetch(`${s.url}/readyz`, { method: 'POST' })).status).toBe(405);
    await s.close();
    await expect(fetch(`${s.url}/livez`)).rejects.toThrow();
  });

  it('refuses a bad port with CONFIG_INVALID naming the field', async () => {
    await expect(startOpsServer({ port: 70000 })).rejects.toThrow(/`port`/);
  });
});
