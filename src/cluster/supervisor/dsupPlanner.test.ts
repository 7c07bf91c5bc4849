// The leader's planner as a pure function: records in, actions out, without backend or clock.
import { describe, expect, it } from 'vitest';
import { DsupModel } from './DsupModel.ts';
import { type LiveNode, type PlacementLease, type PlanInput, planRound } from './dsupPlanner.ts';
import type { DsupRecord, NormalizedDistributedChild } from './dsupTypes.ts';
import { toNodeSelector } from './nodeSelectors.ts';

const child = (id: string, extra: Partial<NormalizedDistributedChild> = {}): NormalizedDistributedChild => ({
  id,
  behavior: 'worker',
  args: null,
  restart: 'permanent',
  significant: false,
  shutdownTimeoutMs: 1000,
  ...extra,
});

const node = (name: string, behaviors: string[] | undefined = ['worker'], lastHeartbeat = 0): LiveNode => ({
  node: name,
  incarnation: `${name}-1`,
  lastHeartbeat,
  behaviors,
  meta: {},
});

function modelOf(children: NormalizedDistributedChild[], records: DsupRecord[] = []): DsupModel {
  const m = new DsupModel(children);
  for (const r of records) m.apply(r);
  return m;
}

/** Records that place and start `id` on `n` with `token`. */
const running = (id: string, n: string, token: number, at = 0): DsupRecord[] => [
  { t: 'placed', id, node: n, incarnation: `${n}-1`, token, reason: 'start', at },
  { t: 'started', id, node: n, token, at },
];

const lease = (n: string, token: number, expiresAt = 10_000): PlacementLease => ({
  node: n,
  incarnation: `${n}-1`,
  token,
  expiresAt,
});

function input(model: DsupModel, over: Partial<PlanInput> = {}): PlanInput {
  return {
    model,
    strategy: 'one_for_one',
    autoShutdown: 'never',
    leases: new Map(),
    nodes: [node('a'), node('b')],
    maxRestarts: 3,
    withinMs: 5000,
    now: 1000,
    self: 'a',
    select: toNodeSelector('least_loaded'),
    startup: { minNodes: 1, settleUntil: 0 },
    respread: false,
    ...over,
  };
}

const kinds = (actions: { kind: string }[]) => actions.map((a) => a.kind);

describe('planRound', () => {
  it('places static children with the selector among the nodes that advertise their behavior', () => {
    const m = modelOf([child('c1'), child('c2'), child('c3'), child('x', { behavior: 'other' })]);
    const nodes = [
      node('a'),
      node('b', ['worker', 'other']),
      node('c', ['nothing']),
      { ...node('d'), behaviors: undefined },
    ];
    const plan = planRound(input(m, { nodes }));
    expect(plan.actions).toEqual([
      { kind: 'place', id: 'c1', node: 'a', incarnation: 'a-1', reason: 'start' },
      { kind: 'place', id: 'c2', node: 'b', incarnation: 'b-1', reason: 'start' },
      { kind: 'place', id: 'c3', node: 'a', incarnation: 'a-1', reason: 'start' },
      { kind: 'place', id: 'x', node: 'b', incarnation: 'b-1', reason: 'start' },
    ]);
  });

  it('reports a child no node can run once, places nothing, and places it when a node with the behavior joins', () => {
    const m = modelOf([child('s', { behavior: 'special' })]);
    const first = planRound(input(m));
    expect(first.actions).toEqual([{ kind: 'unplaceable', id: 's', behavior: 'special' }]);
    m.apply({ t: 'unplaceable', id: 's', behavior: 'special', at: 1000 });
    expect(planRound(input(m)).actions).toEqual([]);
    const joined = planRound(input(m, { nodes: [node('a'), node('b'), node('z', ['special'])] }));
    expect(joined.actions).toEqual([
      { kind: 'place', id: 's', node: 'z', incarnation: 'z-1', reason: 'start' },
    ]);
  });

  it('waits for minNodes and the settle time before the first placement of static children', () => {
    const m = modelOf([child('c1'), child('c2')]);
    const alone = planRound(input(m, { nodes: [node('a')], startup: { minNodes: 2, settleUntil: 0 } }));
    expect(alone.actions).toEqual([]);
    const settling = planRound(input(m, { startup: { minNodes: 1, settleUntil: 1500 } }));
    expect(settling).toEqual({ actions: [], nextAt: 1500 });
    const ready = planRound(input(m, { startup: { minNodes: 2, settleUntil: 1000 } }));
    expect(ready.actions.map((a) => (a.kind === 'place' ? a.node : a.kind))).toEqual(['a', 'b']);
  });

  it('restarts a crashed child on its node and fails the supervisor when the intensity is exceeded', () => {
    const recs = [
      ...running('c1', 'b', 1),
      { t: 'exit', id: 'c1', node: 'b', token: 1, normal: false, at: 900 },
    ];
    const m = modelOf([child('c1')], recs as DsupRecord[]);
    const select = toNodeSelector('local_first');
    expect(planRound(input(m, { select })).actions).toEqual([
      { kind: 'place', id: 'c1', node: 'b', incarnation: 'b-1', reason: 'restart' },
    ]);
    // With no node to restart it on, nothing is counted: a full window does not fail the supervisor.
    for (const at of [100, 200, 300]) m.restartTimes.push(at);
    expect(planRound(input(m, { nodes: [node('a', ['other'])] })).actions).toEqual([
      { kind: 'unplaceable', id: 'c1', behavior: 'worker' },
    ]);
    expect(planRound(input(m)).actions).toEqual([{ kind: 'shutdown', reason: 'max_restarts' }]);
  });

  it('does not restart a transient child that exited normally and applies autoShutdown', () => {
    const recs = [
      ...running('t', 'a', 1),
      { t: 'exit', id: 't', node: 'a', token: 1, normal: true, at: 900 },
    ];
    const m = modelOf([child('t', { restart: 'transient', significant: true })], recs as DsupRecord[]);
    const plan = planRound(input(m, { autoShutdown: 'any_significant' }));
    expect(plan.actions).toEqual([
      { kind: 'terminated', id: 't', cause: 'exit' },
      { kind: 'shutdown', reason: 'auto_shutdown' },
    ]);
  });

  it('records a failed node once, counted as one restart, and migrates its children once their leases are gone', () => {
    const m = modelOf([child('c1'), child('c2')], [...running('c1', 'b', 1), ...running('c2', 'b', 2)]);
    const leases = new Map([
      ['c1', lease('b', 1, 1200)],
      ['c2', lease('b', 2, 1300)],
    ]);
    const nodes = [node('a')];
    const expiring = planRound(input(m, { nodes, leases }));
    expect(expiring).toEqual({
      actions: [{ kind: 'node_failed', node: 'b', incarnation: 'b-1', children: 2 }],
      nextAt: 1201,
    });
    m.apply({ t: 'node_failed', node: 'b', incarnation: 'b-1', children: 2, at: 1000 });
    expect(m.restartTimes).toEqual([1000]);
    const moved = planRound(input(m, { nodes, now: 1400 }));
    expect(moved.actions).toEqual([
      { kind: 'place', id: 'c1', node: 'a', incarnation: 'a-1', reason: 'migrate', from: 'b' },
      { kind: 'place', id: 'c2', node: 'a', incarnation: 'a-1', reason: 'migrate', from: 'b' },
    ]);
    // The failed node is not a candidate again until it heartbeats after the failure.
    const stale = planRound(input(m, { nodes: [node('a'), node('b', ['worker'], 900)], now: 1400 }));
    expect(stale.actions.every((a) => a.kind === 'place' && a.node === 'a')).toBe(true);
  });

  it('bounces a child on restartChild: release, wait for its node to stop it, place it again', () => {
    const m = modelOf(
      [child('c1')],
      [...running('c1', 'a', 1), { t: 'restart', id: 'c1', by: 'b', at: 900 }],
    );
    expect(planRound(input(m, { leases: new Map([['c1', lease('a', 1)]]) })).actions).toEqual([
      { kind: 'release', id: 'c1' },
    ]);
    expect(planRound(input(m)).actions).toEqual([]); // its node has not reported the stop yet
    m.apply({ t: 'stopped', id: 'c1', node: 'a', token: 1, reason: 'restart_requested', at: 950 });
    expect(planRound(input(m)).actions).toEqual([
      { kind: 'place', id: 'c1', node: 'a', incarnation: 'a-1', reason: 'request' },
    ]);
  });

  it('re-spreads one non-temporary child at a time from the most to a node with 2 fewer', () => {
    const children = [child('c1'), child('c2', { restart: 'temporary' }), child('c3'), child('c4')];
    const recs = children.flatMap((c, i) => running(c.id, 'a', i + 1));
    const m = modelOf(children, recs);
    const leases = new Map(children.map((c, i) => [c.id, lease('a', i + 1)]));
    expect(planRound(input(m, { leases })).actions).toEqual([]); // respread off
    const plan = planRound(input(m, { leases, respread: true }));
    expect(plan.actions).toEqual([{ kind: 'move', id: 'c4', from: 'a' }]);
    m.apply({ t: 'move', id: 'c4', from: 'a', at: 1000 });
    // While it moves nothing else is moved.
    const during = planRound(input(m, { leases, respread: true }));
    expect(kinds(during.actions)).toEqual(['release']);
    m.apply({ t: 'stopped', id: 'c4', node: 'a', token: 4, reason: 'rebalance', at: 1010 });
    leases.delete('c4');
    expect(planRound(input(m, { leases, respread: true })).actions).toEqual([
      { kind: 'place', id: 'c4', node: 'b', incarnation: 'b-1', reason: 'rebalance', from: 'a' },
    ]);
    // Balanced within 1 (3 and 1 would move again; 2 and 2 does not; temporary c2 never moves).
    const two = new Map([...leases, ['c4', lease('b', 5)], ['c3', lease('b', 3)]]);
    const m2 = modelOf(children, [...recs, ...running('c4', 'b', 5), ...running('c3', 'b', 6)]);
    expect(planRound(input(m2, { leases: two, respread: true })).actions).toEqual([]);
  });

  it('one_for_all: a crash stops the whole group, placed again left to right once all stopped', () => {
    const recs = [
      ...running('c1', 'a', 1),
      ...running('c2', 'b', 2),
      { t: 'exit', id: 'c2', node: 'b', token: 2, normal: false, at: 900 },
    ] as DsupRecord[];
    const m = modelOf([child('c1'), child('c2')], recs);
    const leases = new Map([['c1', lease('a', 1)]]);
    expect(planRound(input(m, { strategy: 'one_for_all', leases })).actions).toEqual([
      { kind: 'group_restart', ids: ['c1', 'c2'], cause: 'c2' },
      { kind: 'release', id: 'c1' },
    ]);
    m.apply({ t: 'group_restart', ids: ['c1', 'c2'], cause: 'c2', at: 1000 });
    m.apply({ t: 'stopped', id: 'c1', node: 'a', token: 1, reason: 'group_restart', at: 1010 });
    expect(kinds(planRound(input(m, { strategy: 'one_for_all' })).actions)).toEqual(['place', 'place']);
  });
});
