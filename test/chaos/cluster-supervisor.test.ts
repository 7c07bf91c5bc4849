// DistributedSupervisor across real OS processes: 3 nodes share 6 children through one backend.
// SIGKILL of the leader node: its children restart on the survivors exactly once within
// failureTimeout. SIGSTOP of a node past failureTimeout, then SIGCONT: its children were restarted
// elsewhere and it stops its stale copies, so every child runs on exactly one node. A node without
// the children's behavior (a rolling deploy) gets none of them and the supervisor does not fail;
// nodes started together with `minNodes` share the children from the first placement.
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { DistributedLifecycleEvent } from '../../src/cluster/supervisor/dsupTypes.ts';
import { clusterBackends } from '../fixtures/cluster/backends.ts';
import { processState } from '../fixtures/cluster/fleet.ts';
import type { NodeFixtureConfig } from '../fixtures/cluster/node.ts';
import { ConditionWaiters } from '../support/conditionWaiters.ts';

const nodeFile = join(import.meta.dirname, '..', 'fixtures', 'cluster', 'node.ts');
const HEARTBEAT = 250;
const FAILURE_TIMEOUT = 1000;
const CHILDREN = 6;
const ALL = Array.from({ length: CHILDREN }, (_, i) => `c${i + 1}`);

const backends = await clusterBackends();
afterAll(() => {
  for (const b of backends) b.cleanup();
});

interface NodeMessage {
  node: string;
  at: number;
  type: string;
  leader?: boolean;
  local?: string[];
  supState?: string;
  event?: DistributedLifecycleEvent;
}

interface NodeProc {
  name: string;
  child: ChildProcess;
  messages: NodeMessage[];
  alive: boolean;
  output: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The latest state report. */
  state(): NodeMessage | undefined;
}

class Nodes {
  readonly procs = new Map<string, NodeProc>();
  private readonly waiters = new ConditionWaiters();

  constructor(private readonly base: Omit<NodeFixtureConfig, 'nodeName'>) {}

  spawn(name: string, extra: Partial<NodeFixtureConfig> = {}): NodeProc {
    const config: NodeFixtureConfig = { ...this.base, ...extra, nodeName: name };
    const child = fork(nodeFile, [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const proc: NodeProc = {
      name,
      child,
      messages: [],
      alive: true,
      output: '',
      exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))),
      state: () => proc.messages.findLast((m) => m.type === 'state'),
    };
    child.stdout?.on('data', (d) => (proc.output += d));
    child.stderr?.on('data', (d) => (proc.output += d));
    child.on('message', (m: NodeMessage) => {
      proc.messages.push(m);
      this.waiters.notify();
    });
    void proc.exited.then(() => {
      proc.alive = false;
      this.waiters.notify();
    });
    this.procs.set(name, proc);
    return proc;
  }

  waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
    return this.waiters.waitFor(cond, timeoutMs, what, () => {
      const states = [...this.procs.values()].map(
        (p) => `${p.name}${p.alive ? '' : '(dead)'}: ${JSON.stringify(p.state()?.local)}`,
      );
      const out = [...this.procs.values()].map((p) => p.output).join('\n');
      return `; ${states.join('; ')}\n${out}`;
    });
  }

  /** Child → nodes reporting it as running, from the latest state of each node in `among`. */
  placement(among: readonly string[]): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const name of among) {
      for (const id of this.procs.get(name)?.state()?.local ?? [])
        out.set(id, [...(out.get(id) ?? []), name]);
    }
    return out;
  }

  /** Every child runs on exactly one of `among`. */
  eachOnce(among: readonly string[]): boolean {
    const p = this.placement(among);
    return ALL.every((id) => p.get(id)?.length === 1);
  }

  events(name: string): DistributedLifecycleEvent[] {
    return this.procs
      .get(name)!
      .messages.filter((m) => m.type === 'lifecycle')
      .map((m) => m.event!);
  }

  async stopAll(): Promise<void> {
    for (const p of this.procs.values()) {
      if (!p.alive) continue;
      p.child.kill('SIGCONT');
      p.child.kill('SIGTERM');
    }
    for (const p of this.procs.values()) {
      const t = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
      await p.exited;
      clearTimeout(t);
    }
  }
}

function rows<T>(effects: string, sql: string, ...params: unknown[]): T[] {
  const db = new Database(effects, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as T[];
  } finally {
    db.close();
  }
}

/**
 * Runs `step`; when it fails, stops every node first, so a failed set-up leaves no process behind
 * to join the next test's cluster on the same backend.
 */
async function stopOnFailure(nodes: Nodes, step: () => Promise<void>): Promise<void> {
  try {
    await step();
  } catch (e) {
    await nodes.stopAll();
    throw e;
  }
}

describe.each(backends)('DistributedSupervisor across processes on $name', (cb) => {
  async function spawnAll(extra: (name: string) => Partial<NodeFixtureConfig> = () => ({})) {
    const id = randomUUID().slice(0, 8);
    const effects = join(cb.dir, `nodes-${id}.db`);
    // The effects file is made (in WAL mode, which persists) before the nodes open it: three
    // processes switching a new file's journal mode at once can meet SQLITE_BUSY.
    const init = new Database(effects);
    init.pragma('journal_mode = WAL');
    init.close();
    const nodes = new Nodes({
      backend: cb.spec,
      effects,
      name: `chaos-${id}`,
      heartbeat: HEARTBEAT,
      failureTimeout: FAILURE_TIMEOUT,
      nodes: 3,
      children: CHILDREN,
    });
    for (const name of ['n1', 'n2', 'n3']) nodes.spawn(name, extra(name));
    await stopOnFailure(nodes, () =>
      nodes.waitFor(
        () => ['n1', 'n2', 'n3'].every((n) => nodes.procs.get(n)!.messages.some((m) => m.type === 'ready')),
        60_000,
        'nodes ready',
      ),
    );
    return { nodes, effects };
  }

  async function setup() {
    const { nodes, effects } = await spawnAll();
    await stopOnFailure(nodes, () =>
      nodes.waitFor(() => nodes.eachOnce(['n1', 'n2', 'n3']), 20_000, 'every child running once'),
    );
    return { nodes, effects };
  }

  const startsPerChild = (effects: string) =>
    rows<{ child: string; n: number }>(
      effects,
      'SELECT child, count(*) AS n FROM child_starts GROUP BY child',
    );

  it('a node without the behavior gets no child and the supervisor does not fail (rolling deploy)', async () => {
    const { nodes, effects } = await spawnAll((name) =>
      name === 'n3' ? { behaviors: ['other'], maxRestarts: 3 } : { maxRestarts: 3 },
    );
    try {
      await nodes.waitFor(() => nodes.eachOnce(['n1', 'n2']), 20_000, 'every child on n1 or n2');
      await new Promise((r) => setTimeout(r, 3000)); // time enough for a restart loop to exhaust 3 restarts
      for (const p of nodes.procs.values()) {
        expect(
          p.messages.filter((m) => m.type === 'failed'),
          p.name,
        ).toEqual([]);
        expect(p.state()?.supState, p.name).toBe('running');
      }
      expect(nodes.procs.get('n3')!.state()?.local).toEqual([]);
      await nodes.waitFor(() => nodes.eachOnce(['n1', 'n2']), 10_000, 'every child on n1 or n2 again');
      // Nothing was ever started on n3, and no start failed (a start on a node without the behavior
      // fails and loops until the intensity is exceeded). A slow backend may still move a child whose
      // lease ran out, so starts are not required to be exactly one per child.
      const onN3 = rows<{ n: number }>(effects, "SELECT count(*) AS n FROM child_starts WHERE node = 'n3'");
      expect(onN3).toEqual([{ n: 0 }]);
      for (const name of ['n1', 'n2', 'n3']) {
        const crashed = nodes
          .events(name)
          .filter((e) => e.type === 'child_stopped' && e.reason === 'crashed');
        expect(crashed, name).toEqual([]);
      }
      expect(
        startsPerChild(effects)
          .map((s) => s.child)
          .sort(),
      ).toEqual(ALL);
    } finally {
      await nodes.stopAll();
    }
  }, 120_000);

  it('nodes started together with minNodes share the children from the first placement', async () => {
    const { nodes, effects } = await spawnAll(() => ({ waitForNodes: false, minNodes: 3 }));
    try {
      await nodes.waitFor(() => nodes.eachOnce(['n1', 'n2', 'n3']), 20_000, 'every child running once');
      for (const name of ['n1', 'n2', 'n3'])
        expect(nodes.procs.get(name)!.state()?.local, name).toHaveLength(CHILDREN / 3);
      for (const s of startsPerChild(effects)) expect(s.n, s.child).toBe(1);
    } finally {
      await nodes.stopAll();
    }
  }, 120_000);

  it('SIGKILL of the leader node: its children restart on the survivors exactly once within failureTimeout', async () => {
    const { nodes, effects } = await setup();
    try {
      const leader = [...nodes.procs.values()].find((p) => p.state()?.leader)!;
      expect(leader).toBeDefined();
      const orphans = leader.state()!.local!;
      expect(orphans.length).toBeGreaterThanOrEqual(1);
      const survivors = ['n1', 'n2', 'n3'].filter((n) => n !== leader.name);

      leader.child.kill('SIGKILL');
      const killedAt = Date.now();
      await leader.exited;
      await nodes.waitFor(() => nodes.eachOnce(survivors), 15_000, 'children running on the survivors');

      const restarts = rows<{ child: string; node: string; at: number }>(
        effects,
        'SELECT child, node, at FROM child_starts WHERE at >= ? ORDER BY at',
        killedAt,
      );
      // Exactly one new start per orphan, on a survivor, and none for the other children.
      expect(restarts.map((r) => r.child).sort()).toEqual([...orphans].sort());
      for (const r of restarts) expect(survivors).toContain(r.node);
      const slowest = Math.max(...restarts.map((r) => r.at)) - killedAt;
      if (process.env.SLUICE_CHAOS_VERBOSE) console.log(`restart after SIGKILL: ${slowest} ms`);
      expect(slowest).toBeLessThanOrEqual(FAILURE_TIMEOUT);

      // The survivors' logs agree: one node failure, one migration per orphan.
      await nodes.waitFor(
        () =>
          survivors.every(
            (n) => nodes.events(n).filter((e) => e.type === 'child_migrated').length === orphans.length,
          ),
        10_000,
        'migrations seen by the survivors',
      );
      for (const n of survivors) {
        const evs = nodes.events(n);
        expect(evs.filter((e) => e.type === 'node_failure_detected')).toEqual([
          expect.objectContaining({ node: leader.name }),
        ]);
        expect(
          evs
            .filter((e) => e.type === 'child_migrated')
            .map((e) => (e as { id: string }).id)
            .sort(),
        ).toEqual([...orphans].sort());
      }
      // Some survivor took over the leadership.
      await nodes.waitFor(
        () => survivors.some((n) => nodes.procs.get(n)!.state()?.leader === true),
        10_000,
        'a new leader',
      );

      // After settling, each child beats from exactly one node.
      const settledAt = Date.now();
      await new Promise((r) => setTimeout(r, 600));
      const beats = rows<{ child: string; nodes: number }>(
        effects,
        'SELECT child, count(DISTINCT node) AS nodes FROM child_beats WHERE at > ? GROUP BY child',
        settledAt,
      );
      expect(beats.map((b) => b.child).sort()).toEqual(ALL);
      for (const b of beats) expect(b.nodes, b.child).toBe(1);
    } finally {
      await nodes.stopAll();
    }
  }, 120_000);

  it('SIGSTOP of a node past failureTimeout, then SIGCONT: its children run elsewhere and it stops its stale copies', async () => {
    const { nodes, effects } = await setup();
    try {
      const victim = [...nodes.procs.values()].find(
        (p) => !p.state()?.leader && (p.state()?.local?.length ?? 0) > 0,
      )!;
      const stale = victim.state()!.local!;
      const others = ['n1', 'n2', 'n3'].filter((n) => n !== victim.name);

      victim.child.kill('SIGSTOP');
      const stoppedAt = Date.now();
      expect(await waitState(victim.child.pid!, 'T')).toBe(true);
      await nodes.waitFor(() => nodes.eachOnce(others), 15_000, 'children restarted on the other nodes');
      await nodes.waitFor(() => Date.now() - stoppedAt > FAILURE_TIMEOUT, 5_000, 'failureTimeout to pass');
      expect(processState(victim.child.pid!)).toBe('T');

      victim.child.kill('SIGCONT');
      const resumedAt = Date.now();
      // It notices its placements are gone and stops the stale children.
      await nodes.waitFor(
        () => {
          const s = victim.state();
          return s !== undefined && s.at > resumedAt && stale.every((id) => !(s.local ?? []).includes(id));
        },
        10_000,
        'the resumed node to drop its stale children',
      );
      const stopsOf = () =>
        nodes.events(victim.name).filter((e) => e.type === 'child_stopped' && e.node === victim.name);
      await nodes.waitFor(() => stopsOf().length >= stale.length, 10_000, 'the stops to be recorded');
      const stops = stopsOf();
      expect(stops.map((e) => (e as { id: string }).id).sort()).toEqual([...stale].sort());
      for (const e of stops) expect((e as { reason: string }).reason).toBe('lease_lost');

      // Each stale child was started exactly twice (on the victim, then once elsewhere).
      const starts = rows<{ child: string; n: number }>(
        effects,
        'SELECT child, count(*) AS n FROM child_starts GROUP BY child',
      );
      for (const s of starts) expect(s.n, s.child).toBe(stale.includes(s.child) ? 2 : 1);

      // After settling, each child runs on exactly one node.
      await nodes.waitFor(() => nodes.eachOnce(['n1', 'n2', 'n3']), 10_000, 'every child on one node');
      const settledAt = Date.now();
      await new Promise((r) => setTimeout(r, 600));
      const beats = rows<{ child: string; nodes: number }>(
        effects,
        'SELECT child, count(DISTINCT node) AS nodes FROM child_beats WHERE at > ? GROUP BY child',
        settledAt,
      );
      expect(beats.map((b) => b.child).sort()).toEqual(ALL);
      for (const b of beats) expect(b.nodes, b.child).toBe(1);
    } finally {
      await nodes.stopAll();
    }
  }, 120_000);
});

async function waitState(pid: number, state: string): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (processState(pid) === state) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}
