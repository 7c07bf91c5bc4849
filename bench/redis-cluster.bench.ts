// Bench: partitionedRunner jobs/s on one Redis server vs a 1-master and a 3-master Redis Cluster.
/**
 * Redis Cluster scaling: partitionedRunner jobs/s on one Redis server, on a 1-master Redis
 * Cluster and on the 3-master (+3 replica) cluster of the tests, each contender in a fresh
 * process on a fresh key prefix.
 *
 * Workload: TOPICS topics of PARTITIONS partitions (a topic is one hash slot on a cluster, so
 * several topics are what spreads the work over masters), JOBS small JSON jobs appended in
 * batches of 1000, then one partitionedRunner per topic in the contender's process with a no-op
 * handler (one event at a time per partition, offsets committed per batch). Throughput is from
 * the first handled job to the last commit.
 *
 * The 3-master cluster is the one `.ci/redis-cluster` starts (ports 7000-7005); the 1-master
 * cluster is started here on port 7100 (all 16384 slots on one node) and stopped afterwards.
 *
 * Run: `node --import tsx bench/redis-cluster.bench.ts` (env `BENCH_JOBS` default 30000).
 * Writes bench/results/redis-cluster.json.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createRedisBackend,
  deleteRedisPrefix,
  type RedisBackendOptions,
} from '../src/backend/redis/index.ts';
import { partitionedRunner } from '../src/cluster/index.ts';
import { writeBenchResult } from './run.ts';

const JOBS = Number(process.env.BENCH_JOBS ?? 30_000);
const TOPICS = 6;
const PARTITIONS = 4;
const BATCH = 1000;
const SINGLE_URL = process.env.SLUICE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const ONE_MASTER_PORT = 7100;
const THREE_MASTERS = [7000, 7001, 7002, 7003, 7004, 7005].map((port) => ({ host: '127.0.0.1', port }));

type Contender = 'single' | 'cluster-1' | 'cluster-3';
interface Outcome {
  jobs: number;
  ms: number;
}

function connection(c: Contender): RedisBackendOptions {
  if (c === 'single') return { url: SINGLE_URL };
  if (c === 'cluster-1') return { cluster: [{ host: '127.0.0.1', port: ONE_MASTER_PORT }] };
  return { cluster: THREE_MASTERS };
}

/** The contender's run, in its own process. */
async function child(c: Contender): Promise<Outcome> {
  const prefix = `sluice-bench-cluster:${process.pid}`;
  const opts = connection(c);
  const backend = createRedisBackend({ ...opts, prefix });
  const topics = Array.from({ length: TOPICS }, (_, t) => `jobs-${t}`);
  try {
    for (const topic of topics) await backend.ensureTopic(topic, { partitions: PARTITIONS });
    for (let b = 0; b < JOBS; b += BATCH) {
      const n = Math.min(BATCH, JOBS - b);
      await backend.append(
        topics[(b / BATCH) % TOPICS]!,
        Array.from({ length: n }, (_, i) => ({
          key: `k-${b + i}`,
          payload: { orderId: `o-${b + i}`, total: i },
        })),
      );
    }
    let first = 0;
    let last = 0;
    let committed = 0;
    let resolveDone!: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    const runners = topics.map((topic) =>
      partitionedRunner({
        backend,
        group: 'bench',
        topic,
        heartbeat: '200ms',
        failureTimeout: '2s',
        handler: async () => {
          if (first === 0) first = performance.now();
        },
      }),
    );
    for (const r of runners) {
      r.on('committed', (e) => {
        committed += e.count;
        if (committed >= JOBS) {
          last = performance.now();
          resolveDone();
        }
      });
    }
    await Promise.all(runners.map((r) => r.start()));
    await done;
    await Promise.all(runners.map((r) => r.stop()));
    return { jobs: JOBS, ms: last - first };
  } finally {
    await backend.close();
    await deleteRedisPrefix(
      opts.cluster === undefined ? { url: SINGLE_URL, prefix } : { cluster: opts.cluster, prefix },
    );
  }
}

function spawnContender(c: Contender): Outcome {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), c], {
    encoding: 'utf8',
    env: process.env,
    timeout: 600_000,
    killSignal: 'SIGKILL',
  });
  if (r.status !== 0) throw new Error(`${c} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Outcome;
}

const cli = (port: number, ...args: string[]) =>
  execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: 5000,
  });

/** Starts a one-node cluster owning every slot; returns its stop function. */
async function startOneMasterCluster(): Promise<() => void> {
  const dir = join(tmpdir(), `sluice-bench-cluster-${ONE_MASTER_PORT}`);
  try {
    cli(ONE_MASTER_PORT, 'ping');
    throw new Error(`port ${ONE_MASTER_PORT} is in use: cannot start the 1-master cluster`);
  } catch (e) {
    if ((e as Error).message.includes('in use')) throw e;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  execFileSync(
    'redis-server',
    [
      ...['--daemonize', 'yes', '--bind', '127.0.0.1', '--port', String(ONE_MASTER_PORT)],
      ...[
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-announce-ip',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      ...['--dir', dir, '--logfile', join(dir, 'redis.log')],
    ],
    { stdio: 'ignore' },
  );
  const stop = () => {
    try {
      cli(ONE_MASTER_PORT, 'shutdown', 'nosave');
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      if (cli(ONE_MASTER_PORT, 'ping').trim() === 'PONG') break;
    } catch {
      if (i > 50) {
        stop();
        throw new Error(`redis-server on ${ONE_MASTER_PORT} did not start`);
      }
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  cli(ONE_MASTER_PORT, 'cluster', 'addslotsrange', '0', '16383');
  for (let i = 0; !/cluster_state:ok/.test(cli(ONE_MASTER_PORT, 'cluster', 'info')); i++) {
    if (i > 100) throw new Error('the 1-master cluster did not reach cluster_state:ok');
    await new Promise((r) => setTimeout(r, 100));
  }
  return stop;
}

const contender = process.argv[2] as Contender | undefined;
if (contender !== undefined) {
  process.stdout.write(`${JSON.stringify(await child(contender))}\n`);
  process.exit(0);
} else {
  const ci = join(dirname(fileURLToPath(import.meta.url)), '..', '.ci', 'redis-cluster');
  execFileSync('bash', [ci], { stdio: 'inherit' });
  const outcomes = new Map<Contender, Outcome>();
  process.stdout.write('contender: one Redis server\n');
  outcomes.set('single', spawnContender('single'));
  process.stdout.write('contender: 1-master cluster\n');
  const stop = await startOneMasterCluster();
  try {
    outcomes.set('cluster-1', spawnContender('cluster-1'));
  } finally {
    stop();
  }
  process.stdout.write('contender: 3-master cluster\n');
  outcomes.set('cluster-3', spawnContender('cluster-3'));
  const rate = (o: Outcome) => (o.jobs / o.ms) * 1000;
  const single = rate(outcomes.get('single')!);
  const one = rate(outcomes.get('cluster-1')!);
  const labels: Record<Contender, string> = {
    single: 'one Redis server',
    'cluster-1': 'Redis Cluster, 1 master',
    'cluster-3': 'Redis Cluster, 3 masters + 3 replicas',
  };
  const rows = [...outcomes].map(([c, o]) => {
    process.stdout.write(`${labels[c]}: ${Math.round(rate(o))} jobs/s\n`);
    return [
      labels[c],
      Math.round(rate(o)),
      `${(rate(o) / single).toFixed(2)}x`,
      `${(rate(o) / one).toFixed(2)}x`,
    ];
  });
  writeBenchResult('redis-cluster', {
    title: `Redis Cluster scaling — partitionedRunner, ${JOBS} jobs over ${TOPICS} topics × ${PARTITIONS} partitions, no-op handler`,
    columns: ['Redis', 'jobs/s', 'vs one server', 'vs 1-master cluster'],
    rows,
    notes: [
      'One run; each contender in a fresh process on a fresh key prefix. All Redis processes and the runner process share one loaded 2-CPU machine, so the client process is the limit and this run cannot show what more masters add; re-run on separate hosts to see it.',
      'On a cluster the Lua scripts are sent one by one (ioredis cannot auto-pipeline scripts by key on a cluster) while one server pipelines them, one cause of the gap between one server and the 1-master cluster (not measured apart).',
      'A topic is one hash slot (its id index and offsets counter are topic-wide), so work spreads over masters by topic; offsets, leases and membership share one control slot.',
    ],
  });
}
