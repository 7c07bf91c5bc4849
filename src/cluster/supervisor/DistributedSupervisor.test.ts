// DistributedSupervisor on simulated w.nodes (one ManualClock each) over a memory backend: placement, failures, restarts, requests.
import { afterEach, describe, expect, it } from 'vitest';
import { children, DsupWorld, type TestNode } from '../../../test/fixtures/supervision/dsupWorld.ts';
import { ManualClock } from '../../core/ManualClock.ts';
import { Cluster } from './Cluster.ts';
import { DistributedSupervisor } from './DistributedSupervisor.ts';
import type { DistributedSupervisorOptions } from './dsupOptions.ts';

let w: DsupWorld;
const reset = () => {
  w = new DsupWorld();
};
const step = (ms: number) => w.step(ms);
const until = (cond: () => boolean, maxMs?: number) => w.until(cond, maxMs);
const settle = <T>(p: Promise<T>) => w.settle(p);
const runningOn = (id: string) => w.runningOn(id);
const startCluster = (count: number, options: Partial<DistributedSupervisorOptions> = {}) =>
  w.startCluster(count, options);
const registry = () => w.registry();

afterEach(async () => {
  await w.close();
});

describe('DistributedSupervisor', () => {
  it('places static children across the live nodes, each running exactly once, and every node sees the same stats', async () => {
    reset();
    await startCluster(3, { children: children(6) });
    await until(() => [...w.running.values()].filter((s) => s.size === 1).length === 6);
    for (const n of w.nodes) await n.sup.refresh();
    const byNode = w.nodes[0]!.sup.getStats().childrenByNode;
    expect(Object.values(byNode).map((ids) => ids.length)).toEqual([2, 2, 2]);
    for (const n of w.nodes) expect(n.sup.getStats().childrenByNode).toEqual(byNode);
    for (const [id, list] of w.starts) expect(list, id).toHaveLength(1);
    expect(w.nodes.filter((n) => n.sup.isLeader)).toHaveLength(1);
    // The first node saw every start; later w.nodes see the events recorded after they joined.
    await until(() => w.nodes[0]!.events.filter((e) => e.type === 'child_started').length === 6);
  });

  it('a node that stops heartbeating loses its children to the survivors, each restarted exactly once within failureTimeout', async () => {
    reset();
    await startCluster(3, { children: children(6) });
    await until(() => [...w.running.values()].filter((s) => s.size === 1).length === 6);
    const victim = w.nodes.find((n) => !n.sup.isLeader)!;
    const victimChildren = [...w.running].filter(([, s]) => s.has(victim.name)).map(([id]) => id);
    expect(victimChildren).toHaveLength(2);
    victim.frozen = true;
    // Its instances are gone as far as the test is concerned (as after SIGKILL).
    for (const id of victimChildren) w.running.get(id)!.delete(victim.name);
    const took = await until(() => victimChildren.every((id) => runningOn(id).length === 1));
    expect(took).toBeLessThanOrEqual(500);
    for (const id of victimChildren) {
      expect(w.starts.get(id)).toHaveLength(2);
      expect(runningOn(id)[0]).not.toBe(victim.name);
    }
    const survivor = w.nodes.find((n) => n !== victim)!;
    await until(() => survivor.events.filter((e) => e.type === 'child_migrated').length === 2);
    await step(1000);
    expect(survivor.events.filter((e) => e.type === 'node_failure_detected')).toEqual([
      expect.objectContaining({ node: victim.name }),
    ]);
    // One node failure: counted once (as the restart intensity counts it), two children moved.
    expect(survivor.sup.getStats()).toMatchObject({ nodeFailureRestarts: 1, migrations: 2, nodeFailures: 1 });
    for (const [id, list] of w.starts) expect(list.length, id).toBe(victimChildren.includes(id) ? 2 : 1);
  });

  it('a node that comes back after being declared dead stops its stale children: no child runs twice', async () => {
    reset();
    await startCluster(3, { children: children(6) });
    await until(() => [...w.running.values()].filter((s) => s.size === 1).length === 6);
    const victim = w.nodes.find((n) => !n.sup.isLeader)!;
    const stale = [...w.running].filter(([, s]) => s.has(victim.name)).map(([id]) => id);
    victim.frozen = true; // paused: its children keep "running"
    await until(() => stale.every((id) => runningOn(id).length === 2));
    w.resume(victim);
    await until(
      () => stale.every((id) => runningOn(id).length === 1 && runningOn(id)[0] !== victim.name),
      2000,
    );
    await step(1000);
    for (const set of w.running.values()) expect(set.size).toBe(1);
  });

  it('restarts a crashed permanent child; a transient child that exits normally and a crashed temporary child are not restarted', async () => {
    reset();
    await startCluster(2, {
      children: [
        { id: 'perm', behavior: 'worker', restart: 'permanent' },
        { id: 'trans', behavior: 'worker', restart: 'transient' },
        { id: 'temp', behavior: 'worker', restart: 'temporary' },
      ],
    });
    await until(() => ['perm', 'trans', 'temp'].every((id) => runningOn(id).length === 1));
    w.enders.get(`perm@${runningOn('perm')[0]}`)!.crash(new Error('boom'));
    w.enders.get(`trans@${runningOn('trans')[0]}`)!.exit();
    w.enders.get(`temp@${runningOn('temp')[0]}`)!.crash(new Error('boom'));
    await until(() => runningOn('perm').length === 1);
    await step(1000);
    expect(w.starts.get('perm')).toHaveLength(2);
    expect(w.starts.get('trans')).toHaveLength(1);
    expect(w.starts.get('temp')).toHaveLength(1);
    const events = w.nodes[0]!.events;
    expect(events.filter((e) => e.type === 'child_restarted').map((e) => (e as { id: string }).id)).toEqual([
      'perm',
    ]);
    expect(
      events
        .filter((e) => e.type === 'child_terminated')
        .map((e) => (e as { id: string }).id)
        .sort(),
    ).toEqual(['temp', 'trans']);
    expect(w.nodes[1]!.sup.whichChildren().find((c) => c.id === 'trans')?.status).toBe('terminated');
  });

  it('a temporary child on a failed node is not restarted elsewhere', async () => {
    reset();
    await startCluster(2, { children: [{ id: 'temp', behavior: 'worker', restart: 'temporary' }] });
    await until(() => runningOn('temp').length === 1);
    const victim = w.nodes.find((n) => n.name === runningOn('temp')[0])!;
    victim.frozen = true;
    w.running.get('temp')!.clear();
    const other = w.nodes.find((n) => n !== victim)!;
    await until(() => other.events.some((e) => e.type === 'child_terminated'), 3000);
    await step(500);
    expect(w.starts.get('temp')).toHaveLength(1);
  });

  it('startChild, terminateChild and restartChild work from any node; unknown behaviors and ids are refused', async () => {
    reset();
    await startCluster(2);
    const [a, b] = w.nodes as [TestNode, TestNode];
    const r = await settle(b.sup.startChild({ id: 'dyn', behavior: 'worker', restart: 'transient' }));
    expect(r.id).toBe('dyn');
    expect(runningOn('dyn')).toEqual([r.node]);
    await expect(a.sup.startChild({ id: 'x', behavior: 'nope' })).rejects.toMatchObject({
      code: 'NO_ELIGIBLE_NODE',
      context: { behavior: 'nope' },
    });
    await step(300);
    await expect(a.sup.startChild({ id: 'dyn', behavior: 'worker' })).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    await expect(a.sup.terminateChild('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const again = await settle(a.sup.restartChild('dyn'));
    expect(w.starts.get('dyn')).toHaveLength(2);
    expect(runningOn('dyn')).toEqual([again.node]);

    await settle(a.sup.terminateChild('dyn'));
    expect(runningOn('dyn')).toEqual([]);
    await step(1000);
    expect(w.starts.get('dyn')).toHaveLength(2);
    expect(a.sup.whichChildren()).toEqual([expect.objectContaining({ id: 'dyn', status: 'terminated' })]);
  });

  it('exceeding the restart intensity stops the supervisor and its children on every node', async () => {
    reset();
    await startCluster(2, {
      children: [{ id: 'flaky', behavior: 'worker' }],
      restartIntensity: { maxRestarts: 2, withinMs: 60_000 },
    });
    for (let i = 0; i < 3; i++) {
      await until(() => runningOn('flaky').length === 1);
      w.enders.get(`flaky@${runningOn('flaky')[0]}`)!.crash(new Error(`crash ${i}`));
    }
    await until(() => w.nodes.every((n) => n.sup.state === 'failed'));
    expect(runningOn('flaky')).toEqual([]);
    expect(w.starts.get('flaky')).toHaveLength(3);
    for (const n of w.nodes) expect(n.events.map((e) => e.type)).toContain('max_restarts_exceeded');
  });

  it('one_for_all restarts every child when one crashes', async () => {
    reset();
    await startCluster(2, { strategy: 'one_for_all', children: children(3) });
    await until(() => ['c1', 'c2', 'c3'].every((id) => runningOn(id).length === 1));
    w.enders.get(`c2@${runningOn('c2')[0]}`)!.crash(new Error('boom'));
    await until(() =>
      ['c1', 'c2', 'c3'].every((id) => w.starts.get(id)?.length === 2 && runningOn(id).length === 1),
    );
    await step(500);
    for (const id of ['c1', 'c2', 'c3']) expect(w.starts.get(id)).toHaveLength(2);
  });

  it('a node that leaves hands its children over (not a failure) and gives up the leadership', async () => {
    reset();
    await startCluster(3, { children: children(3) });
    await until(() => ['c1', 'c2', 'c3'].every((id) => runningOn(id).length === 1));
    const leader = w.nodes.find((n) => n.sup.isLeader)!;
    const moved = [...w.running].filter(([, s]) => s.has(leader.name)).map(([id]) => id);
    await leader.clock.runUntil(leader.sup.close());
    await leader.clock.runUntil(leader.cluster.close());
    leader.frozen = true;
    const others = w.nodes.filter((n) => n !== leader);
    await until(() => others.some((n) => n.sup.isLeader), 3000);
    await until(
      () => moved.every((id) => runningOn(id).length === 1 && runningOn(id)[0] !== leader.name),
      3000,
    );
    await step(500);
    const stats = others[0]!.sup.getStats();
    expect(stats.nodeFailureRestarts).toBe(0);
    expect(stats.migrations).toBe(moved.length);
    expect(stats.nodeFailures).toBe(0);
  });

  it('autoShutdown any_significant stops the supervisor when a significant child exits', async () => {
    reset();
    await startCluster(1, {
      autoShutdown: 'any_significant',
      children: [
        { id: 'job', behavior: 'worker', restart: 'transient', significant: true },
        { id: 'helper', behavior: 'worker' },
      ],
    });
    await until(() => runningOn('job').length === 1 && runningOn('helper').length === 1);
    w.enders.get(`job@n1`)!.exit();
    await until(() => w.nodes[0]!.sup.state === 'stopped');
    expect(runningOn('helper')).toEqual([]);
  });

  it('validates options', async () => {
    reset();
    const clock = new ManualClock(w.world.now());
    const cluster = await Cluster.start({ nodeName: 'v', backend: w.backend, clock });
    const base = { cluster, registry: registry() };
    await expect(DistributedSupervisor.start({ ...base, strategy: 'nope' as 'one_for_one' })).rejects.toThrow(
      /`distributedSupervisor.strategy`/,
    );
    await expect(
      DistributedSupervisor.start({ ...base, strategy: 'simple_one_for_one', children: children(1) }),
    ).rejects.toThrow(/`distributedSupervisor.children`/);
    await expect(
      DistributedSupervisor.start({
        ...base,
        children: [{ id: 'a', behavior: 'worker', significant: true }],
      }),
    ).rejects.toThrow(/significant/);
    await expect(DistributedSupervisor.start({ ...base, minNodes: 0 })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining('distributedSupervisor.minNodes'),
    });
    await expect(DistributedSupervisor.start({ ...base, settle: 'soon' })).rejects.toThrow(
      /distributedSupervisor.settle/,
    );
    await cluster.close();
  });
});
