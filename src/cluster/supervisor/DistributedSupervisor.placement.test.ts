// DistributedSupervisor placement on simulated nodes: advertised behaviors, NO_ELIGIBLE_NODE, start-up (minNodes, settle), re-spreading, done.
import { afterEach, describe, expect, it } from 'vitest';
import { children, DsupWorld, type TestNode } from '../../../test/fixtures/supervision/dsupWorld.ts';
import type { DistributedLifecycleEvent } from './dsupTypes.ts';

let w: DsupWorld;
afterEach(async () => {
  await w.close();
});

const ofType = <T extends DistributedLifecycleEvent['type']>(events: DistributedLifecycleEvent[], type: T) =>
  events.filter((e): e is Extract<DistributedLifecycleEvent, { type: T }> => e.type === type);

const counts = (byNode: Record<string, string[]>) =>
  Object.values(byNode)
    .map((ids) => ids.length)
    .sort();

describe('DistributedSupervisor: behaviors advertised by nodes', () => {
  it('never places a child on a node that lacks its behavior, so a rolling deploy does not fail the supervisor', async () => {
    w = new DsupWorld();
    // Both nodes are members of the cluster before either supervisor places anything; n2 is an
    // older build without `worker`.
    const options = { children: children(3), restartIntensity: { maxRestarts: 3, withinMs: 3000 } };
    await w.startCluster(2, options, (name) => (name === 'n2' ? ['other'] : ['worker']));
    const [n1, n2] = w.nodes as [TestNode, TestNode];
    await w.until(() => ['c1', 'c2', 'c3'].every((id) => w.runningOn(id).length === 1));
    await w.step(3000);
    for (const id of ['c1', 'c2', 'c3']) expect(w.starts.get(id)).toEqual(['n1']);
    expect(n1.sup.state).toBe('running');
    expect(n2.sup.state).toBe('running');
    expect(ofType(n1.events, 'child_stopped')).toEqual([]);
    expect(n1.sup.getStats().childrenByNode).toEqual({ n1: ['c1', 'c2', 'c3'], n2: [] });
  });

  it('refuses startChild with NO_ELIGIBLE_NODE, reports a static child once, and places it when a node with the behavior joins', async () => {
    w = new DsupWorld();
    const options = {
      children: [
        { id: 'c1', behavior: 'worker' },
        { id: 's', behavior: 'special' },
      ],
    };
    const n1 = await w.addNode('n1', options, ['worker']);
    await w.until(() => w.runningOn('c1').length === 1);
    await expect(n1.sup.startChild({ id: 'd', behavior: 'special' })).rejects.toMatchObject({
      code: 'NO_ELIGIBLE_NODE',
      message: expect.stringContaining('"special"'),
      context: { id: 'd', behavior: 'special' },
    });
    await w.step(2000);
    expect(ofType(n1.events, 'child_unplaceable')).toEqual([
      expect.objectContaining({ id: 's', behavior: 'special', code: 'NO_ELIGIBLE_NODE' }),
    ]);
    expect(w.starts.get('s')).toBeUndefined();
    expect(n1.sup.whichChildren().find((c) => c.id === 's')?.status).toBe('pending');
    expect(n1.sup.state).toBe('running');

    await w.addNode('n2', options, ['worker', 'special']);
    await w.until(() => w.runningOn('s').length === 1);
    expect(w.starts.get('s')).toEqual(['n2']);
    const placed = await w.settle(n1.sup.startChild({ id: 'd', behavior: 'special' }));
    expect(placed).toEqual({ id: 'd', node: 'n2' });
  });
});

describe('DistributedSupervisor: placement at start-up', () => {
  it('without minNodes the first node takes every child, then re-spreading moves them one at a time to a node that joins', async () => {
    w = new DsupWorld();
    const n1 = await w.addNode('n1', { children: children(4) });
    await w.until(() => ['c1', 'c2', 'c3', 'c4'].every((id) => w.runningOn(id).length === 1));
    expect(counts(n1.sup.getStats().childrenByNode)).toEqual([4]);
    await w.step(500);
    await w.addNode('n2', { children: children(4) });
    await w.until(() => counts(n1.sup.getStats().childrenByNode).join() === '2,2');
    await w.step(2000);
    expect(counts(n1.sup.getStats().childrenByNode)).toEqual([2, 2]);
    const moved = [...w.starts].filter(([, s]) => s.length > 1);
    expect(moved.map(([, s]) => s)).toEqual([
      ['n1', 'n2'],
      ['n1', 'n2'],
    ]);
    for (const [id] of moved) expect(w.runningOn(id)).toEqual(['n2']);
    const stops = ofType(n1.events, 'child_stopped');
    expect(stops.map((e) => e.reason)).toEqual(['rebalance', 'rebalance']);
    // One at a time: the second move begins after the first child runs on its new node.
    const order = n1.events
      .filter((e) => e.type === 'child_stopped' || e.type === 'child_started')
      .slice(-4)
      .map((e) => e.type);
    expect(order).toEqual(['child_stopped', 'child_started', 'child_stopped', 'child_started']);
    expect(n1.sup.getStats()).toMatchObject({ rebalances: 2, migrations: 0, nodeFailures: 0 });
  });

  it('temporary children are never moved by re-spreading', async () => {
    w = new DsupWorld();
    const temp = children(3).map((c) => ({ ...c, restart: 'temporary' as const }));
    const n1 = await w.addNode('n1', { children: temp });
    await w.until(() => ['c1', 'c2', 'c3'].every((id) => w.runningOn(id).length === 1));
    await w.addNode('n2', { children: temp });
    await w.step(2000);
    expect(counts(n1.sup.getStats().childrenByNode)).toEqual([0, 3]);
    for (const id of ['c1', 'c2', 'c3']) expect(w.starts.get(id)).toHaveLength(1);
  });

  it('minNodes holds the first placement until that many nodes run the supervisor', async () => {
    w = new DsupWorld();
    const options = { children: children(3), minNodes: 2, respread: false };
    const n1 = await w.addNode('n1', options);
    await w.step(1000);
    expect(w.starts.size).toBe(0);
    await w.addNode('n2', options);
    await w.until(() => ['c1', 'c2', 'c3'].every((id) => w.runningOn(id).length === 1));
    expect(counts(n1.sup.getStats().childrenByNode)).toEqual([1, 2]);
    for (const id of ['c1', 'c2', 'c3']) expect(w.starts.get(id)).toHaveLength(1);
  });

  it('settle delays the first placement so nodes started together share the children', async () => {
    w = new DsupWorld();
    const options = { children: children(4), settle: '1s', respread: false };
    const n1 = await w.addNode('n1', options);
    await w.step(300);
    expect(w.starts.size).toBe(0);
    await w.addNode('n2', options);
    await w.until(() => ['c1', 'c2', 'c3', 'c4'].every((id) => w.runningOn(id).length === 1));
    expect(counts(n1.sup.getStats().childrenByNode)).toEqual([2, 2]);
  });
});

describe('DistributedSupervisor: requests and failure', () => {
  it('restartChild records reason restart_requested and resolves with {id, node}', async () => {
    w = new DsupWorld();
    await w.startCluster(2, { children: children(1) });
    await w.until(() => w.runningOn('c1').length === 1);
    const [a] = w.nodes;
    const result = await w.settle(a!.sup.restartChild('c1'));
    expect(result).toEqual({ id: 'c1', node: w.runningOn('c1')[0] });
    const stops = ofType(a!.events, 'child_stopped');
    expect(stops.map((e) => e.reason)).toEqual(['restart_requested']);
  });

  it('done rejects with MAX_RESTARTS_EXCEEDED on every node when the restart intensity is exceeded', async () => {
    w = new DsupWorld();
    await w.startCluster(2, {
      children: [{ id: 'flaky', behavior: 'worker' }],
      restartIntensity: { maxRestarts: 1, withinMs: 60_000 },
    });
    const outcomes = w.nodes.map((n) =>
      n.sup.done.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
    );
    for (let i = 0; i < 2; i++) {
      await w.until(() => w.runningOn('flaky').length === 1);
      w.enders.get(`flaky@${w.runningOn('flaky')[0]}`)!.crash(new Error(`crash ${i}`));
    }
    await w.until(() => w.nodes.every((n) => n.sup.state === 'failed'));
    for (const o of outcomes) {
      expect(await o).toMatchObject({
        code: 'MAX_RESTARTS_EXCEEDED',
        context: { supervisor: 'sup', maxRestarts: 1, withinMs: 60_000 },
      });
    }
  });

  it('done resolves when the supervisor is stopped or the node leaves', async () => {
    w = new DsupWorld();
    await w.startCluster(2, { children: children(2) });
    const [a, b] = w.nodes;
    await w.until(() => ['c1', 'c2'].every((id) => w.runningOn(id).length === 1));
    await a!.clock.runUntil(a!.sup.close());
    await expect(a!.sup.done).resolves.toBeUndefined();
    await w.settle(b!.sup.stop());
    await expect(b!.sup.done).resolves.toBeUndefined();
    expect(b!.sup.state).toBe('stopped');
  });
});
