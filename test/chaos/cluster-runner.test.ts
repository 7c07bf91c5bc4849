// Partitioned runners as real OS processes sharing one backend: SIGKILL, SIGSTOP/SIGCONT and
// scaling 3 → 5 → 2, with the whole history (deliveries, commits, partition events) recorded in a
// separate effects database and checked against the backend's offsets.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/Backend.ts';
import { openBackend } from '../../src/cli/backendSpec.ts';
import { clusterBackends } from '../fixtures/cluster/backends.ts';
import { checkHistory, fillTopic, forgetRunner, processState, TestFleet } from '../fixtures/cluster/fleet.ts';

const PARTITIONS = 16;
const EVENTS = 10_000;
const HEARTBEAT = 250;
const FAILURE_TIMEOUT = 1000;
const BATCH = 50;

const backends = await clusterBackends();
afterAll(() => {
  for (const b of backends) b.cleanup();
});

/** Polls `fn` every 50 ms until it returns true; fails after `timeoutMs`. */
async function pollUntil(fn: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function lifecycleRows(
  effects: string,
  kind: string,
): { runner: string; partition: number; token: number; offset: number }[] {
  try {
    const db = new Database(effects, { readonly: true });
    try {
      return db
        .prepare('SELECT runner, partition, token, "offset" FROM lifecycle WHERE kind = ?')
        .all(kind) as {
        runner: string;
        partition: number;
        token: number;
        offset: number;
      }[];
    } finally {
      db.close();
    }
  } catch {
    return [];
  }
}

/**
 * Handler calls made by `runner` under a lease it held before a pause, after another runner had
 * acquired that partition (so after the lease had expired): each one is a side effect run
 * concurrently with the new owner.
 */
function callsAfterTakeover(effects: string, runner: string, before: number) {
  const db = new Database(effects, { readonly: true });
  try {
    return db
      .prepare(
        `SELECT d.partition, d."offset", d.token, d.at FROM deliveries d
         JOIN lifecycle mine ON mine.kind = 'acquired' AND mine.runner = d.runner
           AND mine.partition = d.partition AND mine.token = d.token AND mine.at < ?
         WHERE d.runner = ? AND d.at > (SELECT MIN(t.at) FROM lifecycle t
           WHERE t.kind = 'acquired' AND t.runner <> d.runner AND t.partition = d.partition AND t.at > mine.at)`,
      )
      .all(before, runner) as { partition: number; offset: number; token: number; at: number }[];
  } finally {
    db.close();
  }
}

describe.each(backends)('partitioned runners as processes on $name', (cb) => {
  /** Whether a write transaction on the SQLite file can start right now (no other writer holds it). */
  function writeLockFree(path: string): boolean {
    const db = new Database(path);
    try {
      db.pragma('busy_timeout = 0');
      db.exec('BEGIN IMMEDIATE');
      db.exec('ROLLBACK');
      return true;
    } catch {
      return false;
    } finally {
      db.close();
    }
  }

  /**
   * `timing` defaults to short leases (failover tests). Graceful tests pass longer ones: there a
   * lease never has to expire, and a 1 s lease could lapse while a loaded machine stalls a runner.
   */
  async function setup(delayMs: number, timing = { heartbeat: HEARTBEAT, failureTimeout: FAILURE_TIMEOUT }) {
    const id = randomUUID().slice(0, 8);
    const topic = `chaos-${id}`;
    const group = `g-${id}`;
    const effects = join(cb.dir, `effects-${id}.db`);
    const backend: Backend = await openBackend(cb.spec);
    await backend.ensureTopic(topic, { partitions: PARTITIONS });
    // Filled once the runners have settled, so the work outlasts process start-up on a loaded machine.
    const fill = () => fillTopic(backend, topic, PARTITIONS, EVENTS);
    const fleet = new TestFleet({
      backend: cb.spec,
      effects,
      group,
      topic,
      heartbeat: timing.heartbeat,
      failureTimeout: timing.failureTimeout,
      batchSize: BATCH,
      pollInterval: 50,
      delayMs,
    });
    return { topic, group, effects, backend, fleet, fill };
  }

  it('SIGKILL of one of 3 runners: survivors take its partitions within failureTimeout; 0 lost, 0 duplicate committed effects', async () => {
    const { topic, group, effects, backend, fleet, fill } = await setup(4);
    try {
      for (const name of ['r1', 'r2', 'r3']) await fleet.spawn(name);
      await fleet.waitFor(() => fleet.settled(PARTITIONS, ['r1', 'r2', 'r3']), 60_000, 'settled over 3');
      await fill();
      await fleet.waitFor(() => fleet.committedTotal() >= EVENTS / 5, 60_000, 'progress');
      expect(fleet.committedTotal()).toBeLessThan(EVENTS);

      const victim = fleet.runners.get('r2')!;
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect((await victim.exited).signal).toBe('SIGKILL');
      const moved = forgetRunner(fleet, 'r2');
      expect(moved.length).toBeGreaterThanOrEqual(5);

      await fleet.waitFor(() => moved.every((p) => fleet.owners.has(p)), 15_000, 'takeover');
      const takeovers = [...fleet.runners.values()]
        .flatMap((r) => r.messages)
        .filter((m) => m.type === 'acquired' && moved.includes(m.partition!) && m.at >= killedAt);
      const slowest = Math.max(...takeovers.map((m) => m.at)) - killedAt;
      // Heartbeat and lease of the victim are at most one heartbeat old when it dies; survivors
      // act when they expire. The margin covers process scheduling on a busy machine.
      expect(slowest).toBeLessThanOrEqual(FAILURE_TIMEOUT + HEARTBEAT);
      for (const p of moved) expect(['r1', 'r3']).toContain(fleet.owners.get(p));

      await fleet.waitFor(() => fleet.committedTotal() === EVENTS, 120_000, 'all committed');
      await Promise.all([fleet.stop('r1'), fleet.stop('r3')]);
      const report = await checkHistory(effects, backend, topic, group, PARTITIONS, EVENTS);
      // Only the victim's uncommitted in-flight batches may run again: at most one batch per moved partition.
      expect(report.uncommittedDeliveries).toBeLessThanOrEqual(moved.length * BATCH);
      expect(report.deliveries).toBe(EVENTS + report.uncommittedDeliveries);
    } finally {
      await fleet.killAll();
      await backend.close();
    }
  }, 180_000);

  it('a runner stopped (SIGSTOP) inside its handler past the lease TTL is FENCED on commit after SIGCONT and drops the partition', async () => {
    const { topic, group, effects, backend, fleet, fill } = await setup(4);
    try {
      await fleet.spawn('r1');
      await fleet.spawn('r3');
      const paused = await fleet.spawn('r2', { selfStopAfter: 400 });
      await fleet.waitFor(() => fleet.settled(PARTITIONS, ['r1', 'r2', 'r3']), 60_000, 'settled over 3');
      await fill();
      await pollUntil(() => lifecycleRows(effects, 'pausing').length === 1, 60_000, 'r2 to pause');
      await pollUntil(() => processState(paused.child.pid!) === 'T', 5_000, 'r2 stopped state');
      const [pausing] = lifecycleRows(effects, 'pausing');
      const held = fleet.ownedBy('r2');
      expect(held).toContain(pausing!.partition);
      // The others take its partitions once its heartbeat and leases have expired.
      await fleet.waitFor(
        () => held.every((p) => ['r1', 'r3'].includes(fleet.owners.get(p) ?? '')),
        15_000,
        'takeover of the paused runner',
      );
      expect(processState(paused.child.pid!)).toBe('T');
      const resumedAt = Date.now();
      paused.child.kill('SIGCONT');

      await fleet.waitFor(
        () =>
          paused.messages.some(
            (m) => m.type === 'lost' && m.partition === pausing!.partition && m.token === pausing!.token,
          ),
        15_000,
        'r2 to drop the partition',
      );
      const lost = paused.messages.find(
        (m) => m.type === 'lost' && m.partition === pausing!.partition && m.token === pausing!.token,
      )!;
      expect(lost.reason).toBe('fenced');
      expect(lost.token).toBe(pausing!.token);
      // Its other stale partitions are dropped too (fenced on commit or found lost on renewal).
      await fleet.waitFor(
        () => held.every((p) => paused.messages.some((m) => m.type === 'lost' && m.partition === p)),
        15_000,
        'r2 to drop every stale partition',
      );
      // It comes back as a live member and gets a fair share again.
      await fleet.waitFor(
        () => fleet.settled(PARTITIONS, ['r1', 'r2', 'r3']),
        20_000,
        'settled again over 3',
      );
      await fleet.waitFor(() => fleet.committedTotal() === EVENTS, 120_000, 'all committed');
      await Promise.all(['r1', 'r2', 'r3'].map((r) => fleet.stop(r)));
      const report = await checkHistory(effects, backend, topic, group, PARTITIONS, EVENTS);
      expect(report.uncommittedDeliveries).toBeGreaterThanOrEqual(1); // the paused batch ran again elsewhere
      // Resumed, it called no handler under the leases that had expired meanwhile.
      expect(callsAfterTakeover(effects, 'r2', resumedAt)).toEqual([]);
    } finally {
      await fleet.killAll();
      await backend.close();
    }
  }, 180_000);

  it('a runner paused by an external SIGSTOP past the TTL drops all its stale partitions after SIGCONT', async () => {
    const { topic, group, effects, backend, fleet, fill } = await setup(4);
    try {
      for (const name of ['r1', 'r2', 'r3']) await fleet.spawn(name);
      await fleet.waitFor(() => fleet.settled(PARTITIONS, ['r1', 'r2', 'r3']), 60_000, 'settled over 3');
      await fill();
      await fleet.waitFor(() => fleet.committedTotal() >= EVENTS / 5, 60_000, 'progress');
      const paused = fleet.runners.get('r2')!;
      const held = fleet.ownedBy('r2');
      // Freeze r2 at a moment when it is not inside a write transaction of a SQLite file the
      // others share (the effects log, or the SQLite backend): a process frozen holding a
      // SQLite write lock blocks every writer of that file, which is SQLite's rule, not the
      // runner's. PostgreSQL ends such sessions itself (idle_in_transaction_session_timeout).
      const sqliteFiles = [
        effects,
        ...(cb.spec.startsWith('sqlite:') ? [cb.spec.slice('sqlite:'.length)] : []),
      ];
      for (let tries = 0; ; tries++) {
        if (tries > 200) throw new Error('r2 always held a SQLite write lock');
        paused.child.kill('SIGSTOP');
        await pollUntil(() => processState(paused.child.pid!) === 'T', 5_000, 'r2 stopped state');
        if (sqliteFiles.every(writeLockFree)) break;
        paused.child.kill('SIGCONT');
        await new Promise((r) => setTimeout(r, 10));
      }
      await fleet.waitFor(
        () => held.every((p) => ['r1', 'r3'].includes(fleet.owners.get(p) ?? '')),
        15_000,
        'takeover of the paused runner',
      );
      const resumedAt = Date.now();
      paused.child.kill('SIGCONT');
      await fleet.waitFor(
        () => held.every((p) => paused.messages.some((m) => m.type === 'lost' && m.partition === p)),
        15_000,
        'r2 to drop every stale partition',
      );
      for (const m of paused.messages.filter((x) => x.type === 'lost')) {
        expect(['fenced', 'lease_lost']).toContain(m.reason);
      }
      await fleet.waitFor(() => fleet.committedTotal() === EVENTS, 120_000, 'all committed');
      await Promise.all(['r1', 'r2', 'r3'].map((r) => fleet.stop(r)));
      await checkHistory(effects, backend, topic, group, PARTITIONS, EVENTS);
      // Resumed mid-batch, it called no handler for the rest of the batch: the lease is checked
      // before each event, by the clock against its known expiry.
      expect(callsAfterTakeover(effects, 'r2', resumedAt)).toEqual([]);
    } finally {
      await fleet.killAll();
      await backend.close();
    }
  }, 180_000);

  it('scaling 3 → 5 → 2 loses nothing, re-runs nothing, and never pauses partitions that stay', async () => {
    // Every move here is a graceful release, so leases of the default length (5 s) change nothing
    // but keep a stalled heartbeat on a busy machine from counting as a failure.
    const { topic, group, effects, backend, fleet, fill } = await setup(30, {
      heartbeat: 500,
      failureTimeout: 5000,
    });
    try {
      for (const name of ['r1', 'r2', 'r3']) await fleet.spawn(name);
      await fleet.waitFor(() => fleet.settled(PARTITIONS, ['r1', 'r2', 'r3']), 60_000, 'settled over 3');
      await fill();
      await fleet.waitFor(() => fleet.committedTotal() >= EVENTS / 10, 60_000, 'progress');
      const a = fleet.owners;
      const tA = Date.now();

      await Promise.all([fleet.spawn('r4'), fleet.spawn('r5')]);
      await fleet.waitFor(
        () => fleet.settled(PARTITIONS, ['r1', 'r2', 'r3', 'r4', 'r5']),
        60_000,
        'settled over 5',
      );
      const b = fleet.owners;
      const tB = Date.now();
      expect(fleet.committedTotal()).toBeLessThan(EVENTS); // the scale-up happened mid-stream

      await Promise.all([fleet.stop('r1'), fleet.stop('r3'), fleet.stop('r5')]);
      await fleet.waitFor(() => fleet.settled(PARTITIONS, ['r2', 'r4']), 30_000, 'settled over 2');
      const c = fleet.owners;
      const tC = Date.now();

      await fleet.waitFor(() => fleet.committedTotal() === EVENTS, 120_000, 'all committed');
      await Promise.all([fleet.stop('r2'), fleet.stop('r4')]);
      const stops = fleet.allMessages().filter((m) => m.type === 'released' || m.type === 'lost');
      expect(stops.filter((m) => m.type === 'lost')).toEqual([]);

      // 3 → 5: partitions that kept their owner were never released; each moved one was, once.
      const up = stops.filter((m) => m.at > tA && m.at <= tB);
      const stayedUp = [...a].filter(([p, r]) => b.get(p) === r).map(([p]) => p);
      const movedUp = [...a].filter(([p, r]) => b.get(p) !== r).map(([p]) => p);
      expect(stayedUp.length).toBeGreaterThanOrEqual(8);
      for (const m of up) expect(stayedUp).not.toContain(m.partition);
      for (const p of movedUp)
        expect(up.filter((m) => m.partition === p && m.runner === a.get(p))).toHaveLength(1);

      // 5 → 2: the survivors kept what they had and took the rest; only the stopped runners released.
      const down = stops.filter((m) => m.at > tB && m.at <= tC);
      for (const [p, r] of b) if (r === 'r2' || r === 'r4') expect(c.get(p)).toBe(r);
      expect(down.every((m) => ['r1', 'r3', 'r5'].includes(m.runner))).toBe(true);
      expect(down).toHaveLength([...b.values()].filter((r) => !['r2', 'r4'].includes(r)).length);

      const report = await checkHistory(effects, backend, topic, group, PARTITIONS, EVENTS);
      // Graceful moves: the old owner finishes and commits its batch before the new owner starts.
      expect(report.uncommittedDeliveries).toBe(0);
      expect(report.deliveries).toBe(EVENTS);
    } finally {
      await fleet.killAll();
      await backend.close();
    }
  }, 240_000);
});
