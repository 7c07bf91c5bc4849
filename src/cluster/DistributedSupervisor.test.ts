import { afterEach, describe, expect, it } from 'vitest';
import type { Backend } from '../backend/Backend.ts';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { ManualClock } from '../core/ManualClock.ts';
import type { ChildHandle } from '../supervision/types.ts';
import { BehaviorRegistry } from './BehaviorRegistry.ts';
import { Cluster } from './Cluster.ts';
import { DistributedSupervisor } from './DistributedSupervisor.ts';
import type { DistributedSupervisorOptions } from './dsupOptions.ts';
import type { DistributedLifecycleEvent } from './dsupTypes.ts';

// Every node has its own ManualClock, advanced together by `step`; a frozen node's clock stands
// still, like a process under SIGSTOP (or a dead one), while the others and the backend go on.

interface TestNode {
  name: string;
  clock: ManualClock;
  cluster: Cluster;
  sup: DistributedSupervisor;
  events: DistributedLifecycleEvent[];
  frozen: boolean;
}

let world: ManualClock;
let backend: Backend;
let nodes: TestNode[];
/** child id → nodes where an instance is running now. */
let running: Map<string, Set<string>>;
/** child id → starts (node names, in order). */
let starts: Map<string, string[]>;
/** Running instances by `${id}@${node}`: call to end them. */
let enders: Map<string, { exit: () => void; crash: (e: Error) => void }>;

function registry(): BehaviorRegistry {
  return new BehaviorRegistry().register('worker', (_args: unknown, ctx): ChildHandle => {
    const set = running.get(ctx.id) ?? new Set<string>();
    running.set(ctx.id, set);
    set.add(ctx.node);
    starts.set(ctx.id, [...(starts.get(ctx.id) ?? []), ctx.node]);
    let resolveDone!: () => void;
    let rejectDone!: (e: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolveDone = res;
      rejectDone = rej;
    });
    done.catch(() => {});
    const end = () => set.delete(ctx.node);
    enders.set(`${ctx.id}@${ctx.node}`, {
      exit: () => {
        end();
        resolveDone();
      },
      crash: (e) => {
        end();
        rejectDone(e);
      },
    });
    return {
      done,
      stop: async () => {
        end();
        resolveDone();
      },
    };
  });
}

/** Advances the world and every non-frozen node by `ms`, in 10 ms steps. */
async function step(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 10) {
    await world.advance(10);
    for (const n of nodes) if (!n.frozen) await n.clock.advance(10);
  }
}

async function until(cond: () => boolean, maxMs = 20_000): Promise<number> {
  const start = world.now();
  while (!cond()) {
    if (world.now() - start > maxMs) throw new Error('condition not reached');
    await step(10);
  }
  return world.now() - start;
}

/** Steps time until `promise` settles; returns its value. */
async function settle<T>(promise: Promise<T>, maxMs = 20_000): Promise<T> {
  let done = false;
  const watched = promise.finally(() => {
    done = true;
  });
  watched.catch(() => {});
  await until(() => done, maxMs);
  return watched;
}

function resume(node: TestNode): void {
  node.clock.set(world.now() - 1);
  node.frozen = false;
}

const runningOn = (id: string) => [...(running.get(id) ?? [])];
const children = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    id: `c${i + 1}`,
    behavior: 'worker',
    restart: 'permanent' as const,
  }));

async function startCluster(count: number, options: Partial<DistributedSupervisorOptions> = {}) {
  // All nodes join the cluster before the supervisor places anything.
  const clocks = Array.from({ length: count }, () => new ManualClock(world.now()));
  const clusters = await Promise.all(
    clocks.map((clock, i) =>
      Cluster.start({ nodeName: `n${i + 1}`, backend, heartbeat: 100, failureTimeout: 500, clock }),
    ),
  );
  for (const c of clusters) await c.refresh();
  for (let i = 0; i < count; i++) {
    const events: DistributedLifecycleEvent[] = [];
    const sup = await DistributedSupervisor.start({
      cluster: clusters[i]!,
      registry: registry(),
      name: 'sup',
      nodeSelector: 'least_loaded',
      onLifecycleEvent: (e) => events.push(e),
      ...options,
    });
    nodes.push({ name: `n${i + 1}`, clock: clocks[i]!, cluster: clusters[i]!, sup, events, frozen: false });
  }
}

function reset() {
  world = new ManualClock(1_000_000);
  backend = createMemoryBackend({ clock: world });
  nodes = [];
  running = new Map();
  starts = new Map();
  enders = new Map();
}

afterEach(async () => {
  for (const n of nodes) {
    n.frozen = false;
    n.clock.set(world.now());
  }
  for (const n of nodes) {
    const closing = Promise.all([n.sup.close(), n.cluster.close()]);
    await n.clock.runUntil(closing).catch(() => {});
  }
});

describe('DistributedSupervisor', () => {
  it('places static children across the live nodes, each running exactly once, and every node sees the same stats', async () => {
    reset();
    await startCluster(3, { children: children(6) });
    await until(() => [...running.values()].filter((s) => s.size === 1).length === 6);
    for (const n of nodes) await n.sup.refresh();
    const byNode = nodes[0]!.sup.getStats().childrenByNode;
    expect(Object.values(byNode).map((ids) => ids.length)).toEqual([2, 2, 2]);
    for (const n of nodes) expect(n.sup.getStats().childrenByNode).toEqual(byNode);
    for (const [id, list] of starts) expect(list, id).toHaveLength(1);
    expect(nodes.filter((n) => n.sup.isLeader)).toHaveLength(1);
    // The first node saw every start; later nodes see the events recorded after they joined.
    await until(() => nodes[0]!.events.filter((e) => e.type === 'child_started').length === 6);
  });

  it('a node that stops heartbeating loses its children to the survivors, each restarted exactly once within failureTimeout', async () => {
    reset();
    await startCluster(3, { children: children(6) });
    await until(() => [...running.values()].filter((s) => s.size === 1).length === 6);
    const victim = nodes.find((n) => !n.sup.isLeader)!;
    const victimChildren = [...running].filter(([, s]) => s.has(victim.name)).map(([id]) => id);
    expect(victimChildren).toHaveLength(2);
    victim.frozen = true;
    // Its instances are gone as far as the test is concerned (as after SIGKILL).
    for (const id of victimChildren) running.get(id)!.delete(victim.name);
    const took = await until(() => victimChildren.every((id) => runningOn(id).length === 1));
    expect(took).toBeLessThanOrEqual(500);
    for (const id of victimChildren) {
      expect(starts.get(id)).toHaveLength(2);
      expect(runningOn(id)[0]).not.toBe(victim.name);
    }
    const survivor = nodes.find((n) => n !== victim)!;
    await until(() => survivor.events.filter((e) => e.type === 'child_migrated').length === 2);
    await step(1000);
    expect(survivor.events.filter((e) => e.type === 'node_failure_detected')).toEqual([
      expect.objectContaining({ node: victim.name }),
    ]);
    expect(survivor.sup.getStats().nodeFailureRestarts).toBe(2);
    for (const [id, list] of starts) expect(list.length, id).toBe(victimChildren.includes(id) ? 2 : 1);
  });

  it('a node that comes back after being declared dead stops its stale children: no child runs twice', async () => {
    reset();
    await startCluster(3, { children: children(6) });
    await until(() => [...running.values()].filter((s) => s.size === 1).length === 6);
    const victim = nodes.find((n) => !n.sup.isLeader)!;
    const stale = [...running].filter(([, s]) => s.has(victim.name)).map(([id]) => id);
    victim.frozen = true; // paused: its children keep "running"
    await until(() => stale.every((id) => runningOn(id).length === 2));
    resume(victim);
    await until(
      () => stale.every((id) => runningOn(id).length === 1 && runningOn(id)[0] !== victim.name),
      2000,
    );
    await step(1000);
    for (const set of running.values()) expect(set.size).toBe(1);
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
    enders.get(`perm@${runningOn('perm')[0]}`)!.crash(new Error('boom'));
    enders.get(`trans@${runningOn('trans')[0]}`)!.exit();
    enders.get(`temp@${runningOn('temp')[0]}`)!.crash(new Error('boom'));
    await until(() => runningOn('perm').length === 1);
    await step(1000);
    expect(starts.get('perm')).toHaveLength(2);
    expect(starts.get('trans')).toHaveLength(1);
    expect(starts.get('temp')).toHaveLength(1);
    const events = nodes[0]!.events;
    expect(events.filter((e) => e.type === 'child_restarted').map((e) => (e as { id: string }).id)).toEqual([
      'perm',
    ]);
    expect(
      events
        .filter((e) => e.type === 'child_terminated')
        .map((e) => (e as { id: string }).id)
        .sort(),
    ).toEqual(['temp', 'trans']);
    expect(nodes[1]!.sup.whichChildren().find((c) => c.id === 'trans')?.status).toBe('terminated');
  });

  it('a temporary child on a failed node is not restarted elsewhere', async () => {
    reset();
    await startCluster(2, { children: [{ id: 'temp', behavior: 'worker', restart: 'temporary' }] });
    await until(() => runningOn('temp').length === 1);
    const victim = nodes.find((n) => n.name === runningOn('temp')[0])!;
    victim.frozen = true;
    running.get('temp')!.clear();
    const other = nodes.find((n) => n !== victim)!;
    await until(() => other.events.some((e) => e.type === 'child_terminated'), 3000);
    await step(500);
    expect(starts.get('temp')).toHaveLength(1);
  });

  it('startChild, terminateChild and restartChild work from any node; unknown behaviors and ids are refused', async () => {
    reset();
    await startCluster(2);
    const [a, b] = nodes as [TestNode, TestNode];
    const r = await settle(b.sup.startChild({ id: 'dyn', behavior: 'worker', restart: 'transient' }));
    expect(r.id).toBe('dyn');
    expect(runningOn('dyn')).toEqual([r.node]);
    await expect(a.sup.startChild({ id: 'x', behavior: 'nope' })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    await step(300);
    await expect(a.sup.startChild({ id: 'dyn', behavior: 'worker' })).rejects.toMatchObject({
      code: 'ALREADY_EXISTS',
    });
    await expect(a.sup.terminateChild('missing')).rejects.toMatchObject({ code: 'NOT_FOUND' });

    const again = await settle(a.sup.restartChild('dyn'));
    expect(starts.get('dyn')).toHaveLength(2);
    expect(runningOn('dyn')).toEqual([again.node]);

    await settle(a.sup.terminateChild('dyn'));
    expect(runningOn('dyn')).toEqual([]);
    await step(1000);
    expect(starts.get('dyn')).toHaveLength(2);
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
      enders.get(`flaky@${runningOn('flaky')[0]}`)!.crash(new Error(`crash ${i}`));
    }
    await until(() => nodes.every((n) => n.sup.state === 'failed'));
    expect(runningOn('flaky')).toEqual([]);
    expect(starts.get('flaky')).toHaveLength(3);
    for (const n of nodes) expect(n.events.map((e) => e.type)).toContain('max_restarts_exceeded');
  });

  it('one_for_all restarts every child when one crashes', async () => {
    reset();
    await startCluster(2, { strategy: 'one_for_all', children: children(3) });
    await until(() => ['c1', 'c2', 'c3'].every((id) => runningOn(id).length === 1));
    enders.get(`c2@${runningOn('c2')[0]}`)!.crash(new Error('boom'));
    await until(() =>
      ['c1', 'c2', 'c3'].every((id) => starts.get(id)?.length === 2 && runningOn(id).length === 1),
    );
    await step(500);
    for (const id of ['c1', 'c2', 'c3']) expect(starts.get(id)).toHaveLength(2);
  });

  it('a node that leaves hands its children over (not a failure) and gives up the leadership', async () => {
    reset();
    await startCluster(3, { children: children(3) });
    await until(() => ['c1', 'c2', 'c3'].every((id) => runningOn(id).length === 1));
    const leader = nodes.find((n) => n.sup.isLeader)!;
    const moved = [...running].filter(([, s]) => s.has(leader.name)).map(([id]) => id);
    await leader.clock.runUntil(leader.sup.close());
    await leader.clock.runUntil(leader.cluster.close());
    leader.frozen = true;
    const others = nodes.filter((n) => n !== leader);
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
    enders.get(`job@n1`)!.exit();
    await until(() => nodes[0]!.sup.state === 'stopped');
    expect(runningOn('helper')).toEqual([]);
  });

  it('validates options', async () => {
    reset();
    const clock = new ManualClock(world.now());
    const cluster = await Cluster.start({ nodeName: 'v', backend, clock });
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
    await cluster.close();
  });
});

describe('Cluster', () => {
  it('reports joined, failed and left nodes', async () => {
    reset();
    const ca = new ManualClock(world.now());
    const cb = new ManualClock(world.now());
    const a = await Cluster.start({ nodeName: 'a', backend, heartbeat: 100, failureTimeout: 500, clock: ca });
    const seen: string[] = [];
    a.on('node_joined', (m) => seen.push(`joined ${m.node}`));
    a.on('node_failed', (m) => seen.push(`failed ${m.node}`));
    a.on('node_left', (m) => seen.push(`left ${m.node}`));
    const b = await Cluster.start({ nodeName: 'b', backend, heartbeat: 100, failureTimeout: 500, clock: cb });
    const tick = async (ms: number, both: boolean) => {
      for (let t = 0; t < ms; t += 10) {
        await world.advance(10);
        await ca.advance(10);
        if (both) await cb.advance(10);
      }
    };
    await tick(200, true);
    expect(a.members().map((m) => m.node)).toEqual(['a', 'b']);
    await tick(700, false); // b stops heartbeating
    expect(a.members().map((m) => m.node)).toEqual(['a']);
    cb.set(world.now());
    await tick(200, true); // b is back
    await cb.runUntil(b.close());
    await tick(200, false);
    expect(seen).toEqual(['joined b', 'failed b', 'joined b', 'left b']);
    await ca.runUntil(a.close());
  });

  it('rejects a failureTimeout not longer than the heartbeat', async () => {
    reset();
    await expect(
      Cluster.start({ nodeName: 'a', backend, heartbeat: '1s', failureTimeout: '1s' }),
    ).rejects.toThrow(/`cluster.failureTimeout`/);
    await expect(Cluster.start({ nodeName: 'a#1', backend })).rejects.toThrow(/`cluster.nodeName`/);
  });
});
