// Bench: recovery after SIGKILL on Redis, Sluice partitioned runners vs BullMQ's stalled-job check.
/**
 * Failover after SIGKILL on one Redis server: Sluice partitioned runners vs BullMQ's stalled-job
 * recovery, in the same run.
 *
 * - Sluice: 3 runner processes share 16 partitions of a topic (10 ms per event); one is
 *   SIGKILLed while processing. Measured from the kill to a survivor acquiring the first of its
 *   partitions, starting the first event of those partitions (the victim's uncommitted work,
 *   re-delivered from its last commit) and finishing it.
 * - BullMQ: 3 worker processes consume a queue fed with 10 ms jobs; one of them is SIGKILLed while
 *   it holds a job (the job never finishes on its first run). Measured from the kill to the job
 *   being moved back by a survivor's stalled-job check, started on a survivor and completed there.
 *
 * Headline rows use each library's defaults (Sluice heartbeat 1 s / failureTimeout 5 s; BullMQ
 * lockDuration 30 s / stalledInterval 30 s); extra rows use shorter settings, named as such.
 * Every round uses its own Redis key prefix and deletes its keys at the end.
 *
 * Run: `node --import tsx bench/redis-failover.bench.ts` (env `BENCH_ROUNDS`, default 2;
 * `SLUICE_TEST_REDIS`, default `redis://127.0.0.1:6379`).
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { createRedisBackend, deleteRedisPrefix } from '../src/backend/redis/index.ts';
import { fillTopic } from '../test/fixtures/cluster/fleet.ts';
import { type ChildMessage, Children } from './fixtures/redis-failover/children.ts';
import { writeBenchResult } from './run.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const REDIS_URL = process.env.SLUICE_TEST_REDIS ?? 'redis://127.0.0.1:6379';
const redisUrl = new URL(REDIS_URL);
const REDIS_HOST = redisUrl.hostname || '127.0.0.1';
const REDIS_PORT = Number(redisUrl.port || 6379);
const DELAY_MS = 10;
const PARTITIONS = 16;
const EVENTS = 40_000;
const BULL_CONCURRENCY = 4;
const fixtures = join(import.meta.dirname, 'fixtures', 'redis-failover');
const bullVersion = (
  JSON.parse(
    readFileSync(join(import.meta.dirname, '..', 'node_modules', 'bullmq', 'package.json'), 'utf8'),
  ) as {
    version: string;
  }
).version;
const compiled = existsSync(join(import.meta.dirname, '..', 'dist', 'index.js'));

/** Seconds from the kill to: failure detected, in-flight work started on a survivor, completed. */
interface Sample {
  detected: number;
  restarted: number;
  completed: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (at: number, killedAt: number) => (at - killedAt) / 1000;

/** Partitions each runner holds, from its own acquired/released/lost messages. */
function held(msgs: readonly ChildMessage[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of msgs) {
    const p = m.partition as number;
    if (m.type === 'acquired') out.set(p, m.token as number);
    else if ((m.type === 'released' || m.type === 'lost') && out.get(p) === m.token) out.delete(p);
  }
  return out;
}

function settled(kids: Children, members: readonly string[]): boolean {
  const expected = [...members].sort().join(',');
  const owners = new Set<number>();
  for (const name of members) {
    const proc = kids.procs.get(name);
    if (proc === undefined || !proc.alive) return false;
    const last = proc.messages.findLast((m) => m.type === 'rebalance');
    if (last === undefined || (last.members as string[]).join(',') !== expected) return false;
    const owned = [...held(proc.messages).keys()].sort((a, b) => a - b);
    if ((last.assigned as number[]).join(',') !== owned.join(',')) return false;
    for (const p of owned) owners.add(p);
  }
  return owners.size === PARTITIONS;
}

function committedTotal(kids: Children): number {
  const best = new Map<number, number>();
  for (const m of kids.all()) {
    if (m.type !== 'committed') continue;
    const p = m.partition as number;
    best.set(p, Math.max(best.get(p) ?? 0, m.offset as number));
  }
  let n = 0;
  for (const v of best.values()) n += v;
  return n;
}

interface SluiceSetting {
  name: string;
  heartbeat?: number;
  failureTimeout?: number;
}

async function sluiceRound(s: SluiceSetting): Promise<Sample> {
  const id = randomUUID().slice(0, 8);
  const prefix = `bench-fo-sluice-${id}`;
  const topic = 'events';
  const backend = createRedisBackend({ url: REDIS_URL, prefix });
  const kids = new Children();
  try {
    await fillTopic(backend, topic, PARTITIONS, EVENTS);
    const config = {
      url: REDIS_URL,
      prefix,
      group: 'g',
      topic,
      delayMs: DELAY_MS,
      ...(s.heartbeat === undefined ? {} : { heartbeat: s.heartbeat }),
      ...(s.failureTimeout === undefined ? {} : { failureTimeout: s.failureTimeout }),
    };
    const names = ['r1', 'r2', 'r3'];
    for (const n of names) await kids.spawn(join(fixtures, 'sluiceRunner.ts'), n, config);
    await kids.waitFor(() => settled(kids, names), 60_000, 'settled');
    const base = committedTotal(kids);
    await kids.waitFor(() => committedTotal(kids) >= base + 1000, 60_000, 'progress');
    // Kill at a random point of the victim's heartbeat cycle.
    await sleep(Math.random() * (s.heartbeat ?? 1000));
    const moved = [...held(kids.procs.get('r2')!.messages).keys()];
    const killedAt = kids.kill('r2');
    const after = (m: ChildMessage) =>
      m.name !== 'r2' && m.at >= killedAt && moved.includes(m.partition as number);
    await kids.waitFor(
      () =>
        new Set(
          kids
            .all()
            .filter((m) => m.type === 'first' && after(m))
            .map((m) => m.partition),
        ).size === moved.length,
      60_000,
      'moved partitions processing',
    );
    const msgs = kids.all().filter(after);
    const firsts = msgs.filter((m) => m.type === 'first');
    return {
      detected: secs(Math.min(...msgs.filter((m) => m.type === 'acquired').map((m) => m.at)), killedAt),
      restarted: secs(Math.min(...firsts.map((m) => m.startedAt as number)), killedAt),
      completed: secs(Math.min(...firsts.map((m) => m.doneAt as number)), killedAt),
    };
  } finally {
    await kids.killAll();
    await backend.close();
    await deleteRedisPrefix({ url: REDIS_URL, prefix });
  }
}

interface BullSetting {
  name: string;
  lockDuration?: number;
  stalledInterval?: number;
}

async function bullRound(s: BullSetting): Promise<Sample> {
  const id = randomUUID().slice(0, 8);
  const prefix = `bench-fo-bull-${id}`;
  const queueName = 'failover';
  const connection = { host: REDIS_HOST, port: REDIS_PORT, maxRetriesPerRequest: null };
  const queue = new Queue(queueName, { connection, prefix });
  const kids = new Children();
  let producing = true;
  let producer: Promise<void> = Promise.resolve();
  try {
    const config = {
      host: REDIS_HOST,
      port: REDIS_PORT,
      prefix,
      queue: queueName,
      concurrency: BULL_CONCURRENCY,
      delayMs: DELAY_MS,
      ...(s.lockDuration === undefined ? {} : { lockDuration: s.lockDuration }),
      ...(s.stalledInterval === undefined ? {} : { stalledInterval: s.stalledInterval }),
    };
    for (const n of ['w1', 'w2', 'w3']) await kids.spawn(join(fixtures, 'bullmqWorker.ts'), n, config);
    // Background load: 200 jobs/s of 10 ms each, well under the 3 workers' capacity.
    producer = (async () => {
      let n = 0;
      while (producing) {
        await queue.addBulk(
          Array.from({ length: 20 }, () => ({
            name: 'job',
            data: { n: n++ },
            opts: { removeOnComplete: true, removeOnFail: true },
          })),
        );
        await sleep(100);
      }
    })();
    await sleep(1000);
    const job = await queue.add('held', {});
    let victim = '';
    await kids.waitFor(
      () => {
        const m = kids
          .all()
          .find((x) => x.type === 'started' && x.jobId === job.id && x.stalledCounter === 0);
        victim = m?.name ?? '';
        return m !== undefined;
      },
      30_000,
      'held job started',
    );
    // Kill at a random point of both the lock-renewal cycle (every lockDuration / 2 at most) and
    // the survivors' stalled-check cycle (every stalledInterval, from their start).
    const lock = s.lockDuration ?? 30_000;
    await sleep(Math.random() * Math.max(lock / 2, s.stalledInterval ?? 30_000));
    const killedAt = kids.kill(victim);
    const after = (m: ChildMessage) => m.name !== victim && m.at >= killedAt && m.jobId === job.id;
    const limit = 2 * ((s.lockDuration ?? 30_000) + (s.stalledInterval ?? 30_000)) + 30_000;
    await kids.waitFor(
      () => kids.all().some((m) => m.type === 'completed' && after(m)),
      limit,
      'held job completed',
    );
    const msgs = kids.all().filter(after);
    const at = (type: string) => Math.min(...msgs.filter((m) => m.type === type).map((m) => m.at));
    return {
      detected: secs(at('stalled'), killedAt),
      restarted: secs(at('started'), killedAt),
      completed: secs(at('completed'), killedAt),
    };
  } finally {
    producing = false;
    await producer.catch(() => undefined);
    await kids.killAll();
    await queue.obliterate({ force: true });
    await queue.close();
    const left = await deleteRedisPrefix({ url: REDIS_URL, prefix });
    if (left > 0) process.stdout.write(`(${left} BullMQ keys left after obliterate, deleted)\n`);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  const v = s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  return Math.round(v * 1000) / 1000;
};

const cases: { system: string; setting: string; run: () => Promise<Sample> }[] = [
  {
    system: 'sluice (redis backend)',
    setting: 'default: heartbeat 1s, failureTimeout 5s',
    run: () => sluiceRound({ name: 'default' }),
  },
  {
    system: 'bullmq',
    setting: 'default: lockDuration 30s, stalledInterval 30s',
    run: () => bullRound({ name: 'default' }),
  },
  {
    system: 'bullmq',
    setting: 'tuned: lockDuration 5s, stalledInterval 5s',
    run: () => bullRound({ name: 'tuned', lockDuration: 5000, stalledInterval: 5000 }),
  },
];

const results: { system: string; setting: string; sample: Sample }[] = [];
for (const c of cases) {
  const samples: Sample[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const started = Date.now();
    const sample = await c.run();
    samples.push(sample);
    process.stdout.write(
      `${c.system} | ${c.setting} | round ${i + 1}: ${JSON.stringify(sample)} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  }
  results.push({
    system: c.system,
    setting: c.setting,
    sample: {
      detected: median(samples.map((x) => x.detected)),
      restarted: median(samples.map((x) => x.restarted)),
      completed: median(samples.map((x) => x.completed)),
    },
  });
}

const ref = results[0]!.sample.completed;
const rows = results.map((r) => [
  r.system,
  r.setting,
  r.sample.detected,
  r.sample.restarted,
  r.sample.completed,
  `${(r.sample.completed / ref).toFixed(2)}x`,
]);

const table = writeBenchResult('redis-failover', {
  title: 'Failover after SIGKILL on Redis — Sluice partitioned runners vs BullMQ stalled-job recovery',
  columns: [
    'system',
    'setting',
    'kill → failure detected (s)',
    'kill → in-flight work restarted on a survivor (s)',
    'kill → that work completed (s)',
    'completed vs sluice default',
  ],
  rows,
  notes: [
    `median of ${ROUNDS} rounds per row; each round starts 3 fresh processes (node --import tsx) on the same local Redis, under its own key prefix, deleted afterwards; Sluice ${compiled ? 'compiled package (dist/)' : 'sources'}`,
    `Sluice: ${PARTITIONS} partitions, ${EVENTS} events of ${DELAY_MS} ms, default batch size and poll interval; one runner is killed once the group has settled and committed 1000 more events, after a random delay within one heartbeat. "Detected" = first of its partitions acquired by a survivor; "restarted"/"completed" = start/end of the first event of its partitions handled by a survivor (its uncommitted work, re-delivered from the last commit)`,
    `BullMQ ${bullVersion}: 3 workers with concurrency ${BULL_CONCURRENCY}, background load of 200 jobs/s of ${DELAY_MS} ms; the worker that took the "held" job (which never finishes on its first run) is killed after a random delay within max(lockDuration / 2, stalledInterval), so the kill falls at a random point of both the lock-renewal and the stalled-check cycles. "Detected" = a survivor's stalled-job check moved it back to wait; "restarted"/"completed" = its start/end on a survivor`,
    'BullMQ moves a job back only at a stalled-job check (at most once per stalledInterval for the whole queue) that finds it marked by the previous check and its lock expired (lockDuration after the last renewal); Sluice moves partitions once the runner heartbeat is older than failureTimeout',
    'the tuned BullMQ row shortens lock and check intervals to Sluice-like values (more Redis traffic per worker); it is not the default',
    'times from the parent clock at SIGKILL to timestamps taken in the surviving processes (same machine)',
  ],
});
process.stdout.write(`\n${table}\n`);
