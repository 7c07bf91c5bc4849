// Bench: failover time of 3 partitioned runner processes after one is SIGKILLed, per backend, default and short timeouts.
/**
 * Failover time of partitioned runners: 3 runner processes share 16 partitions; one is killed
 * with SIGKILL while processing. Measured from the kill (parent clock) to:
 * - the first partition of the victim acquired by a survivor,
 * - the first event of the victim's partitions processed by a survivor,
 * - every partition of the victim processing again.
 * With the default settings (heartbeat 1 s, failureTimeout 5 s) and short ones (250 ms / 1 s), on
 * every backend available here (SQLite always; PostgreSQL and Redis when their modules exist and
 * the servers answer).
 *
 * Run: `node --import tsx bench/failover.bench.ts` (env `BENCH_ROUNDS`, default 2).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openBackend } from '../src/cli/backendSpec.ts';
import { clusterBackends } from '../test/fixtures/cluster/backends.ts';
import { fillTopic, forgetRunner, TestFleet } from '../test/fixtures/cluster/fleet.ts';
import { writeBenchResult } from './run.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const PARTITIONS = 16;
const EVENTS = 24_000;
const DELAY_MS = 10;

interface Setting {
  name: string;
  heartbeat: number;
  failureTimeout: number;
}

const settings: Setting[] = [
  { name: 'default (heartbeat 1s, failureTimeout 5s)', heartbeat: 1000, failureTimeout: 5000 },
  { name: 'short (heartbeat 250ms, failureTimeout 1s)', heartbeat: 250, failureTimeout: 1000 },
];

interface Sample {
  acquired: number;
  firstEvent: number;
  allResumed: number;
}

async function measure(spec: string, dir: string, s: Setting): Promise<Sample> {
  const id = randomUUID().slice(0, 8);
  const topic = `failover-${id}`;
  const effects = join(dir, `effects-${id}.db`);
  const backend = await openBackend(spec);
  await fillTopic(backend, topic, PARTITIONS, EVENTS);
  const fleet = new TestFleet({
    backend: spec,
    effects,
    group: `g-${id}`,
    topic,
    heartbeat: s.heartbeat,
    failureTimeout: s.failureTimeout,
    batchSize: 20,
    pollInterval: 50,
    delayMs: DELAY_MS,
  });
  try {
    for (const name of ['r1', 'r2', 'r3']) await fleet.spawn(name);
    await fleet.waitFor(() => fleet.settled(PARTITIONS, ['r1', 'r2', 'r3']), 60_000, 'settled');
    const base = fleet.committedTotal();
    await fleet.waitFor(() => fleet.committedTotal() >= base + 1000, 60_000, 'progress');
    // Kill at a random point of the victim's heartbeat cycle.
    await new Promise((r) => setTimeout(r, Math.random() * s.heartbeat));
    const victim = fleet.runners.get('r2')!;
    victim.child.kill('SIGKILL');
    const killedAt = Date.now();
    await victim.exited;
    const moved = forgetRunner(fleet, 'r2');
    await fleet.waitFor(() => moved.every((p) => fleet.owners.has(p)), s.failureTimeout * 4, 'takeover');
    // Wait until a survivor has processed an event of every moved partition.
    const firstByPartition = (): Map<number, number> => {
      const db = new Database(effects, { readonly: true });
      try {
        const rows = db
          .prepare(
            `SELECT partition, min(at) AS at FROM deliveries WHERE runner != 'r2' AND at >= ? GROUP BY partition`,
          )
          .all(killedAt) as { partition: number; at: number }[];
        return new Map(rows.filter((r) => moved.includes(r.partition)).map((r) => [r.partition, r.at]));
      } finally {
        db.close();
      }
    };
    const deadline = Date.now() + 30_000;
    let first = firstByPartition();
    while (first.size < moved.length) {
      if (Date.now() > deadline) throw new Error('moved partitions did not resume');
      await new Promise((r) => setTimeout(r, 50));
      first = firstByPartition();
    }
    const acquiredAt = fleet
      .allMessages()
      .filter((m) => m.type === 'acquired' && m.at >= killedAt && moved.includes(m.partition!))
      .map((m) => m.at);
    return {
      acquired: (Math.min(...acquiredAt) - killedAt) / 1000,
      firstEvent: (Math.min(...first.values()) - killedAt) / 1000,
      allResumed: (Math.max(...first.values()) - killedAt) / 1000,
    };
  } finally {
    await fleet.killAll();
    await backend.close();
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  const v = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return Math.round(v * 1000) / 1000;
};

const rows: (string | number)[][] = [];
const backends = await clusterBackends();
try {
  for (const b of backends) {
    for (const s of settings) {
      const samples: Sample[] = [];
      for (let i = 0; i < ROUNDS; i++) samples.push(await measure(b.spec, b.dir, s));
      const row = [
        b.name,
        s.name,
        median(samples.map((x) => x.acquired)),
        median(samples.map((x) => x.firstEvent)),
        median(samples.map((x) => x.allResumed)),
        `${(median(samples.map((x) => x.firstEvent)) / (s.failureTimeout / 1000)).toFixed(2)}x`,
      ];
      rows.push(row);
      process.stdout.write(`${row.join(' | ')}\n`);
    }
  }
} finally {
  for (const b of backends) b.cleanup();
}

const table = writeBenchResult('failover', {
  title: 'Partitioned runner failover — SIGKILL of 1 of 3 runner processes, 16 partitions',
  columns: [
    'backend',
    'setting',
    'kill → first partition acquired (s)',
    'kill → first event processed (s)',
    'kill → all moved partitions processing (s)',
    'first event vs failureTimeout',
  ],
  rows,
  notes: [
    `median of ${ROUNDS} rounds per row; each round starts 3 fresh runner processes (node --import tsx)`,
    `handler: ${DELAY_MS} ms per event, batches of 20; the victim is killed once the group has settled and committed 1000 more events, after a random delay within one heartbeat`,
    'times from the parent process clock at SIGKILL to the survivor-side timestamps (same machine)',
    'no peer library offers lease-based partition failover to compare with; the reference is the configured failureTimeout',
  ],
});
process.stdout.write(`\n${table}\n`);
