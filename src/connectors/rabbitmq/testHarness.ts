// Test fixtures on a real RabbitMQ: a quorum queue with a dead-letter exchange and queue, and the broker's counts.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { ConnectorFixture, ConnectorHarness, TestPayload } from '../conformance/index.ts';
import { rabbitSink } from './RabbitSink.ts';
import { rabbitSource } from './RabbitSource.ts';

/** The broker the integration tests use (override with `SLUICE_AMQP_URL`). */
export const AMQP_URL = process.env.SLUICE_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

const run = promisify(execFile);

/** Declares `<name>` (quorum, dead-lettered to `<name>.dlx` → `<name>.dlq`) and returns a channel model for admin calls. */
export async function declareQueue(
  name: string,
  options: { deliveryLimit: number; messageTtlMs?: number },
): Promise<void> {
  const model = await amqp.connect(AMQP_URL);
  try {
    const ch = await model.createChannel();
    await ch.assertExchange(`${name}.dlx`, 'fanout', { durable: true });
    await ch.assertQueue(`${name}.dlq`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await ch.bindQueue(`${name}.dlq`, `${name}.dlx`, '');
    await ch.assertQueue(name, {
      durable: true,
      arguments: {
        'x-queue-type': 'quorum',
        'x-dead-letter-exchange': `${name}.dlx`,
        'x-delivery-limit': options.deliveryLimit,
        ...(options.messageTtlMs !== undefined ? { 'x-message-ttl': options.messageTtlMs } : {}),
      },
    });
  } finally {
    await model.close();
  }
}

/** Reads (and acks) everything in `queue`, returning the bodies (parsed JSON, else text) with their headers. */
export async function drainQueue(
  queue: string,
): Promise<{ body: unknown; headers: Record<string, unknown> }[]> {
  const model = await amqp.connect(AMQP_URL);
  try {
    const ch = await model.createChannel();
    const out: { body: unknown; headers: Record<string, unknown> }[] = [];
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) return out;
      const text = m.content.toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: returned as text
      }
      out.push({ body, headers: m.properties.headers ?? {} });
    }
  } finally {
    await model.close();
  }
}

/**
 * Ready and unacked counts of a queue as the broker reports them: ready from `queue.declare`
 * (passive), unacked from `rabbitmqctl list_queues` (refreshed by the broker every few seconds,
 * so callers poll).
 */
export async function queueCounts(queue: string): Promise<{ unacked: number; ready: number }> {
  const model = await amqp.connect(AMQP_URL);
  let ready: number;
  try {
    ready = (await (await model.createChannel()).checkQueue(queue)).messageCount;
  } finally {
    await model.close().catch(() => {});
  }
  const { stdout } = await run('rabbitmqctl', [
    'list_queues',
    '-q',
    '--no-table-headers',
    'name',
    'messages_ready',
    'messages_unacknowledged',
  ]);
  for (const line of stdout.split('\n')) {
    const [n, , unacked] = line.trim().split(/\s+/);
    if (n === queue) return { ready, unacked: Number(unacked) };
  }
  throw new Error(`queue ${queue} not found`);
}

/** Deletes `<name>`, its dead-letter queue and exchange. */
export async function deleteQueue(name: string): Promise<void> {
  const model = await amqp.connect(AMQP_URL);
  try {
    const ch = await model.createChannel();
    await ch.deleteQueue(name);
    await ch.deleteQueue(`${name}.dlq`);
    await ch.deleteExchange(`${name}.dlx`);
  } finally {
    await model.close().catch(() => {});
  }
}

/** The conformance harness for RabbitMQ. */
export const rabbitHarness: ConnectorHarness = {
  async create({ deliveryLimit }): Promise<ConnectorFixture> {
    const queue = `conformance-${randomUUID().slice(0, 8)}`;
    await declareQueue(queue, { deliveryLimit });
    const dead: TestPayload[] = [];
    return {
      source: ({ prefetch }) => rabbitSource<TestPayload>({ url: AMQP_URL, queue, prefetch }),
      sink: rabbitSink<TestPayload>({ url: AMQP_URL, routingKey: queue }),
      async deadLetters() {
        for (const m of await drainQueue(`${queue}.dlq`)) dead.push(m.body as TestPayload);
        return [...dead];
      },
      brokerCounts: () => queueCounts(queue),
      cleanup: () => deleteQueue(queue),
    };
  },
};
