// Bench: per-key ordered consumption from RabbitMQ and NATS JetStream, Sluice sources vs hand-written consumers (order violations counted).
/**
 * Broker connectors: per-key ordered consumption of N messages (K keys, a 1 ms simulated I/O per
 * message) from RabbitMQ and NATS JetStream. Sluice's sources vs hand-written consumers with the
 * same prefetch / max_ack_pending, each contender in a fresh process, one run.
 *
 * A hand-written consumer keeps per-key order only when it handles one message at a time
 * (prefetch 1, or a sequential `consume` loop); with a larger prefetch and concurrent handlers it
 * is faster but reorders keys, counted here as order violations.
 *
 * Run: `npm run bench -- connectors` (env `BENCH_N`, `BENCH_KEYS`, `BENCH_PREFETCH`).
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect as natsConnect } from '@nats-io/transport-node';
import amqp from 'amqplib';
import { writeBenchResult } from './run.ts';

const N = Number(process.env.BENCH_N ?? 5000);
const KEYS = Number(process.env.BENCH_KEYS ?? 50);
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? 100);
const AMQP_URL = process.env.SLUICE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const NATS_URL = process.env.SLUICE_NATS_URL ?? 'nats://127.0.0.1:4222';
const io = () => new Promise<void>((r) => setTimeout(r, 1));

interface Outcome {
  ms: number;
  processed: number;
  violations: number;
}

/**
 * Counts per-key order violations: a message that starts while an earlier message of its key is
 * still running (or after a later one started) breaks per-key order.
 */
function orderCheck() {
  const running = new Map<string, number>();
  const last = new Map<string, number>();
  let violations = 0;
  return {
    start(key: string, n: number) {
      if ((running.get(key) ?? 0) > 0 || n < (last.get(key) ?? -1)) violations++;
      running.set(key, (running.get(key) ?? 0) + 1);
      last.set(key, Math.max(last.get(key) ?? -1, n));
    },
    end(key: string) {
      running.set(key, (running.get(key) ?? 1) - 1);
    },
    get violations() {
      return violations;
    },
  };
}

type Body = { key: string; n: number };
const dist = (p: string) => new URL(`../dist/connectors/${p}/index.js`, import.meta.url).href;
const sluiceDist = () => new URL('../dist/index.js', import.meta.url).href;

async function sluiceRun(source: unknown): Promise<Outcome> {
  const { stream } = (await import(sluiceDist())) as typeof import('../src/index.ts');
  const order = orderCheck();
  let processed = 0;
  const ctrl = new AbortController();
  const t0 = performance.now();
  await stream(source as import('../src/pipeline/source.ts').AckSource<{ payload: Body }>)
    .concurrent({ maxWorkers: 8, concurrencyPerWorker: 16, maxInFlight: PREFETCH * 2 })
    .process(async (m) => {
      order.start(m.payload.key, m.payload.n);
      await io();
      order.end(m.payload.key);
      if (++processed === N) ctrl.abort();
    })
    .run({ signal: ctrl.signal });
  return { ms: performance.now() - t0, processed, violations: order.violations };
}

async function amqplibRun(queue: string, prefetch: number): Promise<Outcome> {
  const model = await amqp.connect(AMQP_URL);
  const ch = await model.createChannel();
  await ch.prefetch(prefetch);
  const order = orderCheck();
  let processed = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    void ch.consume(queue, (m) => {
      if (!m) return;
      const body = JSON.parse(m.content.toString()) as Body;
      order.start(body.key, body.n);
      void io().then(() => {
        order.end(body.key);
        ch.ack(m);
        if (++processed === N) resolve();
      });
    });
  });
  const ms = performance.now() - t0;
  await model.close();
  return { ms, processed, violations: order.violations };
}

async function natsLoopRun(streamName: string, sequential: boolean): Promise<Outcome> {
  const nc = await natsConnect({ servers: NATS_URL });
  const consumer = await jetstream(nc).consumers.get(streamName, 'bench');
  const messages = await consumer.consume({ max_messages: PREFETCH });
  const order = orderCheck();
  let processed = 0;
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    void (async () => {
      for await (const m of messages) {
        const body = m.json<Body>();
        order.start(body.key, body.n);
        const done = io().then(() => {
          order.end(body.key);
          m.ack();
          if (++processed === N) resolve();
        });
        if (sequential) await done;
      }
    })();
  });
  const ms = performance.now() - t0;
  await messages.close();
  await nc.close();
  return { ms, processed, violations: order.violations };
}

async function child(name: string, target: string): Promise<Outcome> {
  if (name === 'sluice-rabbitmq') {
    const { rabbitSource } = (await import(
      dist('rabbitmq')
    )) as typeof import('../src/connectors/rabbitmq/index.ts');
    return sluiceRun(
      rabbitSource({ url: AMQP_URL, queue: target, prefetch: PREFETCH, key: { header: 'sluice-key' } }),
    );
  }
  if (name === 'amqplib-prefetch-1') return amqplibRun(target, 1);
  if (name === 'amqplib-same-prefetch') return amqplibRun(target, PREFETCH);
  if (name === 'sluice-nats') {
    const { natsSource } = (await import(dist('nats'))) as typeof import('../src/connectors/nats/index.ts');
    return sluiceRun(
      natsSource({ servers: NATS_URL, stream: target, consumer: 'bench', maxAckPending: PREFETCH }),
    );
  }
  if (name === 'nats-consume-sequential') return natsLoopRun(target, true);
  if (name === 'nats-consume-concurrent') return natsLoopRun(target, false);
  throw new Error(`unknown contender ${name}`);
}

function bodies(): Body[] {
  const out: Body[] = [];
  for (let n = 0; n < N / KEYS; n++) for (let k = 0; k < KEYS; k++) out.push({ key: `k${k}`, n });
  return out;
}

async function prepareQueue(): Promise<string> {
  const queue = `bench-${randomUUID().slice(0, 8)}`;
  const model = await amqp.connect(AMQP_URL);
  const ch = await model.createConfirmChannel();
  await ch.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  for (const b of bodies()) {
    ch.sendToQueue(queue, Buffer.from(JSON.stringify(b)), {
      persistent: true,
      headers: { 'sluice-key': b.key },
    });
  }
  await ch.waitForConfirms();
  await model.close();
  return queue;
}

async function dropQueue(queue: string): Promise<void> {
  const model = await amqp.connect(AMQP_URL);
  await (await model.createChannel()).deleteQueue(queue);
  await model.close();
}

async function prepareStream(): Promise<string> {
  const name = `BENCH_${randomUUID().slice(0, 8)}`;
  const nc = await natsConnect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name, subjects: [`bench.${name}.>`] });
  await jsm.consumers.add(name, {
    durable_name: 'bench',
    ack_policy: 'explicit' as never,
    max_ack_pending: PREFETCH,
  });
  const js = jetstream(nc);
  const acks = bodies().map((b) => js.publish(`bench.${name}.${b.key}`, JSON.stringify(b)));
  await Promise.all(acks);
  await nc.close();
  return name;
}

async function dropStream(name: string): Promise<void> {
  const nc = await natsConnect({ servers: NATS_URL });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.delete(name).catch(() => false);
  await jsm.streams.delete(`${name}_DLQ`).catch(() => false);
  await nc.close();
}

function spawnContender(name: string, target: string): Outcome {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), name, target], {
    encoding: 'utf8',
    env: process.env,
    timeout: 600_000,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return JSON.parse(line) as Outcome;
}

const [, , contender, target] = process.argv;
if (contender && target) {
  const outcome = await child(contender, target);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
  process.exit(0);
} else {
  const rows: (string | number)[][] = [];
  const groups: [string, () => Promise<string>, (t: string) => Promise<void>, string[]][] = [
    ['RabbitMQ', prepareQueue, dropQueue, ['sluice-rabbitmq', 'amqplib-prefetch-1', 'amqplib-same-prefetch']],
    [
      'JetStream',
      prepareStream,
      dropStream,
      ['sluice-nats', 'nats-consume-sequential', 'nats-consume-concurrent'],
    ],
  ];
  for (const [broker, prepare, drop, names] of groups) {
    const results: [string, Outcome][] = [];
    for (const name of names) {
      const t = await prepare();
      try {
        results.push([name, spawnContender(name, t)]);
      } finally {
        await drop(t);
      }
    }
    const rate = (o: Outcome) => (o.processed / o.ms) * 1000;
    const ordered = rate(results[1]![1]);
    const same = rate(results[2]![1]);
    for (const [name, o] of results) {
      rows.push([
        broker,
        name,
        Math.round(rate(o)),
        o.violations,
        `${(rate(o) / ordered).toFixed(2)}x`,
        `${(rate(o) / same).toFixed(2)}x`,
      ]);
      process.stdout.write(
        `${broker} ${name}: ${Math.round(rate(o))} msg/s, ${o.violations} order violations\n`,
      );
    }
  }
  writeBenchResult('connectors', {
    title: `Broker connectors — ${N} messages over ${KEYS} keys, 1 ms simulated I/O each, prefetch / max_ack_pending ${PREFETCH}`,
    columns: [
      'broker',
      'consumer',
      'msg/s',
      'per-key order violations (overlaps)',
      'vs ordered hand-written',
      'vs same-prefetch hand-written',
    ],
    rows,
    notes: [
      'One run; each contender in a fresh process on a fresh queue/stream holding the same messages. Shared 2-CPU machine: other work ran at the same time.',
      'Hand-written consumers keep per-key order only one message at a time (amqplib prefetch 1, sequential consume loop); with the same prefetch and concurrent handlers they reorder keys.',
      'Sluice: maxWorkers 8, concurrencyPerWorker 16, key from the sluice-key header (RabbitMQ) / subject (JetStream); acks after each message finished.',
    ],
  });
}
