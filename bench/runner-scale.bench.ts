// Bench: runner groups at scale (rows read, start to balanced, a 100-runner simulation), counted by the servers.
/**
 * Runner groups at scale, counted by the servers themselves (PostgreSQL `pg_stat_database` of a
 * database of its own, a private `redis-server`'s `INFO commandstats`):
 * - rows read per second by idle groups of N = 1 and 8 runners at P = 1024 and 4096 (should be
 *   flat in P: the coordinator reads O(N) rows per heartbeat, nobody lists partition leases);
 * - start → balanced: 8 runner processes started together on P = 4096; time until each holds
 *   its 512 partitions, and partitions lost on the way;
 * - scale simulation: SCALE_PROCS processes × SCALE_PER runners (each process one backend, so one
 *   connection budget) on SCALE_P partitions: time to balanced, idle ops/s, rows read/s and
 *   server CPU over a window; then SIGKILL of one process and the time until the survivors hold
 *   every partition.
 * Run: `node --import tsx bench/runner-scale.bench.ts` (env `BENCH_PG`, `BENCH_SCALE_PROCS`
 * default 4, `BENCH_SCALE_PER` default 25, `BENCH_SCALE_P` default 10000).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { postgresTarget, redisTarget, type Target } from './fixtures/backendTargets.ts';
import { writeBenchResult } from './run.ts';

const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const SCALE_PROCS = Number(process.env.BENCH_SCALE_PROCS ?? 4);
const SCALE_PER = Number(process.env.BENCH_SCALE_PER ?? 25);
const SCALE_P = Number(process.env.BENCH_SCALE_P ?? 10_000);
const WINDOW_MS = 10_000;
const fixture = join(import.meta.dirname, 'fixtures', 'runner-scale', 'fleetProcess.ts');

/** One fleet process and the latest state it reported. */
interface Fleet {
  readonly proc: ChildProcess;
  assigned: Record<string, number>;
  lost: number;
  /** When the process had opened its backend and called its runners' start() (its clock). */
  startingAt: number | undefined;
  stop(): Promise<void>;
}

function startFleet(spec: string, topic: string, group: string, names: string[], partitions: number): Fleet {
  const proc = fork(fixture, [JSON.stringify({ backend: spec, topic, group, names, partitions })], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const fleet: Fleet = {
    proc,
    assigned: {},
    lost: 0,
    startingAt: undefined,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.send({ type: 'stop' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
  proc.on('message', (m: { type: string; at?: number; assigned?: Record<string, number>; lost?: number }) => {
    if (m.type === 'starting') fleet.startingAt = m.at;
    if (m.type === 'state') {
      fleet.assigned = m.assigned ?? {};
      fleet.lost = m.lost ?? 0;
    }
  });
  return fleet;
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<number | undefined> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now();
}

/** Every runner of `fleets` holds its fair share of `partitions` (and together all of them). */
function balanced(fleets: readonly Fleet[], runners: number, partitions: number): boolean {
  const counts = fleets.flatMap((f) => Object.values(f.assigned));
  if (counts.length !== runners) return false;
  const lo = Math.floor(partitions / runners);
  return counts.every((c) => c === lo || c === lo + 1) && counts.reduce((a, b) => a + b, 0) === partitions;
}

const names = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);

async function rate(
  t: Target,
  ms: number,
): Promise<{ ops: number; rows: number; control: number; cpu: number }> {
  const [o0] = await t.count();
  const r0 = await t.rowsRead();
  const l0 = await t.controlRowsRead();
  const c0 = t.cpuSeconds();
  const t0 = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  const [o1] = await t.count();
  const r1 = await t.rowsRead();
  const l1 = await t.controlRowsRead();
  const s = (Date.now() - t0) / 1000;
  return {
    ops: (o1 - o0) / s,
    rows: (r1 - r0) / s,
    control: (l1 - l0) / s,
    cpu: ((t.cpuSeconds() - c0) / s) * 100,
  };
}

const rows: (string | number)[][] = [];
const row = (...r: (string | number)[]) => {
  rows.push(r);
  console.log(r.join(' | '));
};

for (const make of [() => postgresTarget(PG_URL), redisTarget]) {
  const t = await make();
  try {
    // Rows read by idle groups: flat in P.
    for (const n of [1, 8]) {
      for (const p of [1024, 4096]) {
        const id = randomUUID().slice(0, 8);
        const f = startFleet(t.spec, `rows-${id}`, `g-${id}`, names('r', n), p);
        try {
          if ((await waitUntil(() => balanced([f], n, p), 120_000)) === undefined) {
            row(t.name, `rows read/s, N=${n}, P=${p}`, 'not balanced within 120 s', '');
            continue;
          }
          await new Promise((r) => setTimeout(r, 2000));
          const m = await rate(t, 5000);
          row(
            t.name,
            `lease/membership/assignment rows read/s, N=${n}, P=${p} (idle)`,
            Math.round(m.control),
            `${Math.round(m.rows)} rows read/s in all, ${Math.round(m.ops)} ops/s`,
          );
        } finally {
          await f.stop();
        }
      }
    }
    // Start → balanced: 8 processes on 4096 partitions.
    {
      const id = randomUUID().slice(0, 8);
      const t0 = Date.now();
      const fleets = names('b', 8).map((n) => startFleet(t.spec, `start-${id}`, `g-${id}`, [n], 4096));
      try {
        const at = await waitUntil(() => balanced(fleets, 8, 4096), 120_000);
        const lost = fleets.reduce((s, f) => s + f.lost, 0);
        // From the moment the last process had loaded and called start() (process start-up of
        // 8 Node processes on 2 CPUs is not the runner's), and from the first spawn.
        const ready = Math.max(...fleets.map((f) => f.startingAt ?? Number.NaN));
        row(
          t.name,
          'start → balanced, 8 runner processes × 4096 partitions (from the last start() call)',
          at === undefined ? 'not within 120 s' : `${((at - ready) / 1000).toFixed(1)} s`,
          `${lost} partitions lost; ${at === undefined ? '-' : ((at - t0) / 1000).toFixed(1)} s from spawning the processes`,
        );
      } finally {
        await Promise.all(fleets.map((f) => f.stop()));
      }
    }
    // Scale simulation.
    {
      const id = randomUUID().slice(0, 8);
      const total = SCALE_PROCS * SCALE_PER;
      const t0 = Date.now();
      const fleets = Array.from({ length: SCALE_PROCS }, (_, i) =>
        startFleet(t.spec, `scale-${id}`, `g-${id}`, names(`p${i}`, SCALE_PER), SCALE_P),
      );
      try {
        const at = await waitUntil(() => balanced(fleets, total, SCALE_P), 300_000);
        const label = `${total} runners (${SCALE_PROCS} processes) × ${SCALE_P} partitions`;
        row(
          t.name,
          `${label}: start → balanced`,
          at === undefined ? 'not within 300 s' : `${((at - t0) / 1000).toFixed(1)} s`,
          '',
        );
        if (at !== undefined) {
          await new Promise((r) => setTimeout(r, 3000));
          const m = await rate(t, WINDOW_MS);
          row(
            t.name,
            `${label}: idle`,
            `${Math.round(m.ops)} ops/s`,
            `${Math.round(m.rows)} rows read/s, server CPU ${Math.round(m.cpu)}%`,
          );
          const victim = fleets[0]!;
          victim.proc.kill('SIGKILL');
          const killedAt = Date.now();
          const rest = fleets.slice(1);
          const covered = () =>
            rest.reduce((s, f) => s + Object.values(f.assigned).reduce((a, b) => a + b, 0), 0) === SCALE_P;
          const allHeld = await waitUntil(covered, 120_000);
          const even = await waitUntil(() => balanced(rest, total - SCALE_PER, SCALE_P), 120_000);
          row(
            t.name,
            `${label}: SIGKILL of a process with ${SCALE_PER} runners → survivors hold every partition`,
            allHeld === undefined ? 'not within 120 s' : `${((allHeld - killedAt) / 1000).toFixed(1)} s`,
            even === undefined
              ? 'not balanced within 120 s'
              : `balanced after ${((even - killedAt) / 1000).toFixed(1)} s`,
          );
        }
      } finally {
        await Promise.all(fleets.map((f) => f.stop()));
      }
    }
  } finally {
    await t.close();
  }
}

await writeBenchResult('runner-scale', {
  title:
    'Runner groups at scale: rows read, start → balanced, and 100 runners × 10,000 partitions with a SIGKILL (server-side counters)',
  columns: ['backend', 'measure', 'value', 'also'],
  rows,
  notes: [
    'Defaults: heartbeat 1 s, failureTimeout 5 s. Each fleet process runs its runners on one backend (PostgreSQL: at most 3 connections per process).',
    'Lease/membership/assignment rows: PostgreSQL seq_tup_read + idx_tup_fetch of those tables (pg_stat_user_tables) in a database created for the run; "in all": tup_returned + tup_fetched of that database, which includes the fallback poll of every idle partition (one readMany per second). Redis: HGET/HMGET/HGETALL/ZRANGE calls (commands, not fields, inside scripts included) of a private redis-server, which cannot tell leases from event reads.',
    'Server CPU: PostgreSQL counts every postgres process of the machine (other databases included); Redis the private server only.',
    '2-CPU machine: the runner processes and the servers share it; the load average at start (above) says whether other work ran too.',
  ],
});
process.exit(0);
