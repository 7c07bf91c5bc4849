// The leader's decisions as a pure function: model, leases, live nodes, restart window and time in; a list of actions out.
import { RestartWindow } from '../../supervision/RestartWindow.ts';
import { type DsupChildState, placementOf } from './DsupModel.ts';
import type { Plan, PlanAction, PlanInput } from './dsupPlanTypes.ts';
import type { PlacementReason } from './dsupTypes.ts';
import type { NodeLoad } from './nodeSelectors.ts';

export type { LiveNode, PlacementLease, Plan, PlanAction, PlanInput } from './dsupPlanTypes.ts';

type Decision =
  | { kind: 'place'; reason: PlacementReason; preferred?: string; exclude?: string; from?: string }
  | { kind: 'failed'; node: string; incarnation: string; exclude: string; from: string }
  | { kind: 'terminate' }
  | { kind: 'group' };

interface ToPlace {
  id: string;
  reason: PlacementReason;
  preferred?: string;
  exclude?: string;
  from?: string;
}

/** The working state of one round. */
interface Round {
  readonly input: PlanInput;
  readonly actions: PlanAction[];
  readonly window: RestartWindow;
  readonly loads: Map<string, number>;
  readonly failedNow: Map<string, { node: string; incarnation: string; children: number }>;
  readonly terminatedNow: Map<string, 'request' | 'exit'>;
  readonly toPlace: ToPlace[];
  groupStarted: boolean;
  stop: boolean;
  nextAt: number;
}

const ownerKey = (node: string, incarnation: string) => `${node}#${incarnation}`;

/**
 * Plans one leader round. Pure: the same input gives the same actions (the node selector is
 * the only callback). Nothing in `input` is changed.
 */
export function planRound(input: PlanInput): Plan {
  const window = new RestartWindow(input.maxRestarts, input.withinMs);
  for (const t of input.model.restartTimes) if (t >= input.now - input.withinMs) window.add(t);
  const round: Round = {
    input,
    actions: [],
    window,
    loads: loadsOf(input),
    failedNow: new Map(),
    terminatedNow: new Map(),
    toPlace: [],
    groupStarted: false,
    stop: false,
    nextAt: Number.POSITIVE_INFINITY,
  };
  for (const id of input.model.order) {
    planChild(round, id);
    if (round.stop) return done(round);
  }
  planNodeFailures(round);
  if (round.stop) return done(round);
  planGroupPlacement(round);
  for (const p of round.toPlace) placeOne(round, p);
  planAutoShutdown(round);
  if (!round.stop && input.respread && round.actions.length === 0) planRespread(round);
  return done(round);
}

function done(round: Round): Plan {
  return { actions: round.actions, nextAt: round.nextAt };
}

function isLive(input: PlanInput, node: string, incarnation: string): boolean {
  return input.nodes.some((n) => n.node === node && n.incarnation === incarnation);
}

function loadsOf(input: PlanInput): Map<string, number> {
  const loads = new Map<string, number>(input.nodes.map((n) => [n.node, 0]));
  for (const l of input.leases.values()) {
    if (isLive(input, l.node, l.incarnation)) loads.set(l.node, (loads.get(l.node) ?? 0) + 1);
  }
  return loads;
}

function countFailed(round: Round, node: string, incarnation: string): void {
  const key = ownerKey(node, incarnation);
  const f = round.failedNow.get(key) ?? { node, incarnation, children: 0 };
  f.children++;
  round.failedNow.set(key, f);
}

/** Counts a restart against the intensity; on excess plans the shutdown. */
function countRestart(round: Round): boolean {
  if (round.window.add(round.input.now)) return true;
  round.actions.push({ kind: 'shutdown', reason: 'max_restarts' });
  round.stop = true;
  return false;
}

function planChild(round: Round, id: string): void {
  const { input, actions } = round;
  const c = input.model.children.get(id)!;
  const lease = input.leases.get(id);
  const terminated = c.phase.phase === 'terminated';
  if (c.request === 'terminate' && !terminated) {
    actions.push({ kind: 'terminated', id, cause: 'request' });
    round.terminatedNow.set(id, 'request');
    if (lease !== undefined) actions.push({ kind: 'release', id });
    return;
  }
  if (terminated && c.request !== 'restart') {
    if (lease !== undefined) actions.push({ kind: 'release', id }); // stale placement of a terminated child
    return;
  }
  if (lease !== undefined) {
    if (!isLive(input, lease.node, lease.incarnation)) {
      // Its node is gone (or restarted): the lease must expire before the child moves.
      countFailed(round, lease.node, lease.incarnation);
      round.nextAt = Math.min(round.nextAt, lease.expiresAt + 1);
    } else if (
      c.request === 'restart' ||
      c.request === 'move' ||
      (c.request === 'group' && lease.token === c.lastToken)
    ) {
      actions.push({ kind: 'release', id }); // bounce: placed again once its node stopped it
    }
    return;
  }
  if (c.request === 'group') return; // placed together below
  const p = placementOf(c);
  const bounced = c.request === 'restart' || c.request === 'move';
  if (bounced && p !== undefined && c.phase.phase !== 'ended' && isLive(input, p.node, p.incarnation)) {
    return; // wait until its node reports it stopped, so it never runs twice
  }
  const decision = decide(input, c);
  if (decision.kind === 'terminate') {
    actions.push({ kind: 'terminated', id, cause: 'exit' });
    round.terminatedNow.set(id, 'exit');
    return;
  }
  if (decision.kind === 'group') {
    if (countRestart(round)) planGroupRestart(round, id);
    return;
  }
  if (decision.kind === 'failed') {
    countFailed(round, decision.node, decision.incarnation);
    round.toPlace.push({ id, reason: 'migrate', exclude: decision.exclude, from: decision.from });
    return;
  }
  if (decision.reason === 'restart') {
    // Nowhere to restart it: wait (reported once) without counting a restart.
    if (eligibleNodes(input, round.loads, c.spec.behavior).length === 0) {
      if (!c.unplaceable) actions.push({ kind: 'unplaceable', id, behavior: c.spec.behavior });
      return;
    }
    if (!countRestart(round)) return;
  }
  if (decision.reason === 'start' && c.addedBy === undefined && !startupDone(round)) return;
  round.toPlace.push({ id, ...decision });
}

/** What to do with a child that has no placement lease. */
function decide(input: PlanInput, c: DsupChildState): Decision {
  const phase = c.phase;
  if (phase.phase === 'unplaced')
    return { kind: 'place', reason: 'start', preferred: c.addedBy ?? input.self };
  const p = placementOf(c);
  if (p === undefined) return { kind: 'place', reason: 'request' }; // a terminated child restarted
  if (c.request === 'restart') return { kind: 'place', reason: 'request', preferred: p.node };
  const exclude = ownerKey(p.node, p.incarnation);
  if (c.request === 'move') return { kind: 'place', reason: 'rebalance', exclude, from: p.node };
  const end = phase.phase === 'ended' ? phase.end : undefined;
  if (end?.kind === 'stopped' && end.reason === 'node_leaving') {
    return { kind: 'place', reason: 'handover', exclude, from: p.node };
  }
  const exitedNormally = end?.kind === 'exit' && end.normal;
  const restart = c.spec.restart;
  if (restart === 'temporary' || (restart === 'transient' && exitedNormally)) return { kind: 'terminate' };
  if (input.strategy === 'one_for_all' || input.strategy === 'rest_for_one') return { kind: 'group' };
  if (end?.kind === 'exit') {
    const live = isLive(input, p.node, p.incarnation);
    return { kind: 'place', reason: 'restart', ...(live ? { preferred: p.node } : {}) };
  }
  // No exit recorded and no lease: the node stopped renewing it (failed, paused or cut off).
  return { kind: 'failed', node: p.node, incarnation: p.incarnation, exclude, from: p.node };
}

/** Whether static children may be placed for the first time (enough nodes, settle time over). */
function startupDone(round: Round): boolean {
  const { input } = round;
  const running = input.nodes.filter((n) => n.behaviors !== undefined).length;
  if (input.now < input.startup.settleUntil) {
    round.nextAt = Math.min(round.nextAt, input.startup.settleUntil);
    return false;
  }
  return running >= input.startup.minNodes;
}

/** `one_for_all` / `rest_for_one`: stop the group right to left; it is placed again once all stopped. */
function planGroupRestart(round: Round, deadId: string): void {
  const { input, actions } = round;
  const active = input.model.activeIds().filter((id) => !round.terminatedNow.has(id));
  const ids = input.strategy === 'one_for_all' ? active : active.slice(Math.max(0, active.indexOf(deadId)));
  const group: string[] = [];
  for (const id of ids) {
    const c = input.model.children.get(id)!;
    if (c.spec.restart === 'temporary' && id !== deadId) {
      actions.push({ kind: 'terminated', id, cause: 'exit' });
      round.terminatedNow.set(id, 'exit');
      if (input.leases.has(id)) actions.push({ kind: 'release', id });
    } else group.push(id);
  }
  actions.push({ kind: 'group_restart', ids: group, cause: deadId });
  for (const id of [...group].reverse()) if (input.leases.has(id)) actions.push({ kind: 'release', id });
  round.groupStarted = true;
}

function planNodeFailures(round: Round): void {
  const { input, actions } = round;
  for (const f of round.failedNow.values()) {
    if (input.model.failedNodes.has(ownerKey(f.node, f.incarnation))) continue;
    actions.push({ kind: 'node_failed', ...f });
    if (f.children > 0 && !countRestart(round)) return;
  }
}

/** Once no member of a pending group restart is placed any more, start them left to right. */
function planGroupPlacement(round: Round): void {
  const { input } = round;
  if (round.groupStarted) return;
  const pending = input.model.order.filter((id) => input.model.children.get(id)!.request === 'group');
  const stopped = (id: string) => {
    const c = input.model.children.get(id)!;
    const p = placementOf(c);
    return (
      !input.leases.has(id) &&
      (p === undefined || c.phase.phase === 'ended' || !isLive(input, p.node, p.incarnation))
    );
  };
  if (pending.length === 0 || !pending.every(stopped)) return;
  for (const id of pending) {
    const p = placementOf(input.model.children.get(id)!);
    round.toPlace.push({ id, reason: 'group', ...(p === undefined ? {} : { preferred: p.node }) });
  }
}

/**
 * The live nodes that run this supervisor and offer `behavior`, with their load; a node recorded
 * as failed counts again once it heartbeats after that (a paused node that resumed).
 */
export function eligibleNodes(
  input: PlanInput,
  loads: ReadonlyMap<string, number>,
  behavior: string,
  exclude?: string,
): NodeLoad[] {
  return input.nodes
    .filter((n) => {
      const key = ownerKey(n.node, n.incarnation);
      const failedAt = input.model.failedNodes.get(key);
      if (failedAt !== undefined && n.lastHeartbeat <= failedAt) return false;
      return n.behaviors?.includes(behavior) === true && key !== exclude;
    })
    .map((n) => ({ node: n.node, children: loads.get(n.node) ?? 0, meta: n.meta }));
}

function placeOne(round: Round, p: ToPlace): void {
  const { input } = round;
  const c = input.model.children.get(p.id)!;
  const nodes = eligibleNodes(input, round.loads, c.spec.behavior, p.exclude);
  if (nodes.length === 0) {
    if (!c.unplaceable) round.actions.push({ kind: 'unplaceable', id: p.id, behavior: c.spec.behavior });
    return;
  }
  const target = input.select({
    child: { id: c.spec.id, behavior: c.spec.behavior, args: c.spec.args, restart: c.spec.restart },
    nodes,
    ...(p.preferred === undefined ? {} : { preferred: p.preferred }),
    self: input.self,
  });
  const node = input.nodes.find((n) => n.node === target);
  if (node === undefined || !nodes.some((n) => n.node === target)) return; // not placeable now
  round.loads.set(target, (round.loads.get(target) ?? 0) + 1);
  round.actions.push({
    kind: 'place',
    id: p.id,
    node: target,
    incarnation: node.incarnation,
    reason: p.reason,
    ...(p.from === undefined ? {} : { from: p.from }),
  });
}

function planAutoShutdown(round: Round): void {
  const { input } = round;
  if (input.autoShutdown === 'never') return;
  const significant = input.model.order.filter((id) => input.model.children.get(id)!.spec.significant);
  if (significant.length === 0) return;
  const exited = significant.filter((id) => {
    const now = round.terminatedNow.get(id);
    if (now !== undefined) return now === 'exit';
    const phase = input.model.children.get(id)!.phase;
    return phase.phase === 'terminated' && phase.cause === 'exit';
  });
  if (
    (input.autoShutdown === 'any_significant' && exited.length > 0) ||
    (input.autoShutdown === 'all_significant' && exited.length === significant.length)
  ) {
    round.actions.push({ kind: 'shutdown', reason: 'auto_shutdown' });
    round.stop = true;
  }
}

/**
 * Re-spreading: when everything is settled (every active child placed on a live node, no request
 * pending), moves one non-temporary child from the most loaded node to an eligible node with at
 * least 2 children fewer. One move at a time: the next waits until this one is placed.
 */
function planRespread(round: Round): void {
  const { input } = round;
  const active = input.model.activeIds();
  for (const id of active) {
    const c = input.model.children.get(id)!;
    const lease = input.leases.get(id);
    if (c.request !== undefined || c.phase.phase !== 'running' || lease === undefined) return;
    if (!isLive(input, lease.node, lease.incarnation)) return;
  }
  let best: { id: string; from: string; load: number } | undefined;
  for (const id of [...active].reverse()) {
    const c = input.model.children.get(id)!;
    if (c.spec.restart === 'temporary') continue;
    const lease = input.leases.get(id)!;
    const load = round.loads.get(lease.node) ?? 0;
    const lighter = eligibleNodes(input, round.loads, c.spec.behavior).some((n) => n.children <= load - 2);
    if (lighter && (best === undefined || load > best.load)) best = { id, from: lease.node, load };
  }
  if (best !== undefined) round.actions.push({ kind: 'move', id: best.id, from: best.from });
}
