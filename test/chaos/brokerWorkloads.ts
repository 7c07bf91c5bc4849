// The connector chaos tests' shared workload: 16 keys x 100 messages on RabbitMQ or JetStream, the
// consumer fixture's environment, and starting nats-server as the machine's service runs it.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect } from '@nats-io/transport-node';
import { natsSink } from '../../src/connectors/nats/index.ts';
import { createStream, NATS_URL } from '../../src/connectors/nats/testHarness.ts';
import { rabbitSink } from '../../src/connectors/rabbitmq/index.ts';
import { AMQP_URL, declareQueue } from '../../src/connectors/rabbitmq/testHarness.ts';
import { waitFor } from './connectorFixture.ts';

/** A temporary folder for this test file's effects databases. */
export const dir = mkdtempSync(join(tmpdir(), 'sluice-connector-chaos-'));
/** The keys of the workload. */
export const KEYS = Array.from({ length: 16 }, (_, i) => `k${i}`);
/** Messages per key. */
export const PER_KEY = 100;
/** Messages in all. */
export const TOTAL = KEYS.length * PER_KEY;

/** A fresh queue holding the workload, and the effects database of its consumer. */
export async function setupRabbit(): Promise<{ queue: string; effects: string }> {
  const queue = `chaos-${randomUUID().slice(0, 8)}`;
  await declareQueue(queue, { deliveryLimit: 20 });
  const sink = rabbitSink({ url: AMQP_URL, routingKey: queue });
  const msgs = [];
  for (let n = 0; n < PER_KEY; n++) for (const key of KEYS) msgs.push({ key, payload: { key, n } });
  await sink.publish(msgs);
  await sink.close();
  return { queue, effects: join(dir, `${queue}.db`) };
}

/** The consumer fixture's environment for a RabbitMQ queue. */
export const rabbitEnv = (queue: string, effects: string) => ({
  BROKER: 'rabbitmq',
  AMQP_URL,
  QUEUE: queue,
  EFFECTS_DB: effects,
  TOTAL: String(TOTAL),
});

const run = promisify(execFile);

/** A fresh JetStream stream holding the workload, and the effects database of its consumer. */
export async function setupNats(): Promise<{ stream: string; effects: string }> {
  const id = randomUUID().slice(0, 8);
  const stream = `CHAOS_${id}`;
  await createStream(stream, [`chaos.${id}.>`]);
  const sink = natsSink({ servers: NATS_URL });
  const msgs = [];
  // Keys spread over two subjects: per-key order holds across subjects.
  for (let n = 0; n < PER_KEY; n++) {
    for (const key of KEYS)
      msgs.push({ key, subject: `chaos.${id}.${n % 2 ? 'odd' : 'even'}`, payload: { key, n } });
  }
  await sink.publish(msgs);
  await sink.close();
  return { stream, effects: join(dir, `${stream}.db`) };
}

/** The consumer fixture's environment for a NATS stream. */
export const natsEnv = (stream: string, effects: string) => ({
  BROKER: 'nats',
  NATS_URL,
  STREAM: stream,
  EFFECTS_DB: effects,
  TOTAL: String(TOTAL),
});

/** Whether nats-server accepts connections. */
export async function natsServerUp(): Promise<boolean> {
  const nc = await connect({ servers: NATS_URL, reconnect: false }).catch(() => undefined);
  await nc?.close();
  return nc !== undefined;
}

/** Starts nats-server as the machine's service runs it (idempotent). */
export async function startNatsServer(): Promise<void> {
  await run('start-stop-daemon', [
    '--start',
    '--oknodo',
    '--background',
    '--exec',
    '/usr/sbin/nats-server',
    '--',
    '-a',
    '127.0.0.1',
    '-p',
    '4222',
    '-js',
    '-sd',
    '/var/lib/nats-server',
    '-l',
    '/var/log/nats-server.log',
  ]);
  await waitFor(natsServerUp, 'nats-server to accept connections', 30_000);
}
