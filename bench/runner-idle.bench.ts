// Bench: backend operations/s of an idle partitioned runner per partition count, and two-runner throughput, counted by the servers.
/**
 * Backend cost of partitioned runners, counted by the servers themselves:
 * - idle: one runner (default settings: heartbeat 1 s, failureTimeout 5 s, pollInterval default)
 *   owning an idle topic of P = 64, 256, 1024, 4096 partitions; backend operations per second
 *   over a 10 s window once it owns every partition. PostgreSQL: `xact_commit` delta of
 *   `pg_stat_database` for a database created for the bench (nothing else runs in it). Redis:
 *   `INFO commandstats` delta (every command, including the ones run inside scripts, and the
 *   `EVALSHA` calls alone) of a private `redis-server` started for the bench on a free port.
 * - throughput: 50,000 queued no-op events, 2 runner processes, P = 16 and P = 1024: events/s
 *   from the first runner's start until the runners report every event handled.
 * Each runner runs in a fresh process (`bench/fixtures/runner-idle/runnerProcess.ts`).
 *
 * Run: `node --import tsx bench/runner-idle.bench.ts` (env `BENCH_PG` for the server URL,
 * `BENCH_IDLE_P` to choose partition counts, e.g. `64,1024`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { openBackend } from '../src/cli/backendSpec.ts';
import { postgresTarget, redisTarget, type Target } from './fixtures/backendTargets.ts';
import { writeBenchResult } from './run.ts';

const PG_URL = process.env.BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/test';
const IDLE_P = (process.env.BENCH_IDLE_P ?? '64,256,1024,4096').split(',').map(Number);
const WINDOW_MS = 10_000;
const SETTLE_MS = 3_000;
const EVENTS = 50_000;
const fixture = join(import.meta.dirname, 'fixtures', 'runner-idle', 'runnerProcess.ts');

interface Child {
  readonly proc: ChildProcess;
  readonly messages: { type: string; at: number; [k: string]: unknown }[];
  waitFor(type: string, timeoutMs: number): Promise<{ at: number; [k: string]: unknown }>;
  stop(): Promise<void>;
}

function startRunner(config: Record<string, unknown>): Child {
  const proc = fork(fixture, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
  const messages: Child['messages'] = [];
  const waiters: (() => void)[] = [];
  proc.on('message', (m) => {
    messages.push(m as Child['messages'][number]);
    for (const w of waiters.splice(0)) w();
  });
  const waitFor = (type: string, timeoutMs: number) =>
    new Promise<{ at: number }>((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`runner: no ${type} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const check = () => {
        const m = messages.find((x) => x.type === type);
        if (m !== undefined) {
          clearTimeout(deadline);
          resolve(m);
        } else waiters.push(check);
      };
      check();
    });
  const stop = async () => {
    if (proc.exitCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.send({ type: 'stop' });
    const timer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timer);
  };
  return { proc, messages, waitFor, stop };
}

const NAMES: Record<string, string> = {
  PostgreSQL: 'PostgreSQL (transactions/s)',
  Redis: 'Redis (commands/s, incl. inside scripts; EVALSHA/s)',
};

async function idleOps(t: Target, partitions: number): Promise<[number, number]> {
  const id = randomUUID().slice(0, 8);
  const r = startRunner({
    backend: t.spec,
    topic: `idle-${id}`,
    group: `g-${id}`,
    nodeName: `idle-${id}`,
    partitions,
    readyAt: partitions,
  });
  try {
    await r.waitFor('ready', 300_000);
    await new Promise((res) => setTimeout(res, SETTLE_MS));
    const [a0, b0] = await t.count();
    const t0 = Date.now();
    await new Promise((res) => setTimeout(res, WINDOW_MS));
    const [a1, b1] = await t.count();
    const s = (Date.now() - t0) / 1000;
    return [(a1 - a0) / s, (b1 - b0) / s];
  } finally {
    await r.stop();
  }
}

async function throughput(t: Target, partitions: number): Promise<number> {
  const id = randomUUID().slice(0, 8);
  const topic = `busy-${id}`;
  const group = `g-${id}`;
  const backend = await openBackend(t.spec);
  try {
    await backend.ensureTopic(topic, { partitions });
    for (let i = 0; i < EVENTS; i += 5000) {
      await backend.append(
        topic,
        Array.from({ length: 5000 }, (_, j) => ({ payload: i + j, partition: (i + j) % partitions })),
      );
    }
    const runners = ['a', 'b'].map((n) =>
      startRunner({ backend: t.spec, topic, group, nodeName: `${n}-${id}`, partitions, readyAt: 1 }),
    );
    try {
      const started = await Promise.race(runners.map((r) => r.waitFor('started', 300_000)));
      // Handled events as the runners report them (every 100 ms): no extra load on the backend.
      const handled = () =>
        runners.reduce((sum, r) => {
          const last = r.messages.findLast((m) => m.type === 'progress');
          return sum + Number(last?.handled ?? 0);
        }, 0);
      while (handled() < EVENTS) await new Promise((res) => setTimeout(res, 20));
      return EVENTS / ((Date.now() - started.at) / 1000);
    } finally {
      await Promise.all(runners.map((r) => r.stop()));
    }
  } finally {
    await backend.close();
  }
}

const rows: (string | number)[][] = [];
const tputRows: (string | number)[][] = [];
for (const make of [() => postgresTarget(PG_URL), redisTarget]) {
  const target = await make();
  const t = { ...target, name: NAMES[target.name] ?? target.name };
  try {
    for (const p of IDLE_P) {
      const [all, trips] = await idleOps(t, p);
      rows.push([t.name, p, Math.round(all), Math.round(trips)]);
      console.log(t.name, 'P =', p, Math.round(all), Math.round(trips));
    }
    const small = await throughput(t, 16);
    const large = await throughput(t, 1024);
    tputRows.push([
      t.name.split(' ')[0]!,
      Math.round(small),
      Math.round(large),
      `${(large / small).toFixed(2)}x`,
    ]);
    console.log(t.name, 'events/s P=16', Math.round(small), 'P=1024', Math.round(large));
  } finally {
    await t.close();
  }
}

await writeBenchResult('runner-idle', {
  title: 'Partitioned runner backend cost: one idle runner, P partitions (server-side counters)',
  columns: ['backend', 'partitions', 'ops/s', 'PostgreSQL: same / Redis: EVALSHA/s'],
  rows: [
    ...rows,
    ...tputRows.map((r) => [
      `${r[0]} events/s, 2 runners, 50k no-op events`,
      'P=16 → P=1024',
      `${r[1]} → ${r[2]}`,
      r[3]!,
    ]),
  ],
  notes: [
    `Idle: ${WINDOW_MS / 1000} s window after the runner owns every partition (+${SETTLE_MS / 1000} s settle); defaults (heartbeat 1 s, failureTimeout 5 s).`,
    'PostgreSQL: xact_commit + xact_rollback of a database created for the run. Redis: INFO commandstats of a private redis-server (commands inside Lua scripts count).',
    'Throughput: 50,000 queued events appended before start, 2 runner processes, from the first start until every event is handled (reported by the runners every 100 ms).',
    '2-CPU machine: the runner processes and the servers share it; the load average at start (above) says whether other work ran too.',
  ],
});
process.exit(0);
