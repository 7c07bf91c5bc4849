// The watermark retry queue rebuilt with Sluice: a quorum queue with DLX, 24 h TTL and delivery limit 5, a worker and a DLQ monitor.
import type { Channel } from 'amqplib';
import { stream, UnrecoverableError } from 'sluice';
import { rabbitSource } from 'sluice/rabbitmq';

/** A watermarking job: stamp `text` on image `imageId` of `albumId`. */
export interface WatermarkJob {
  readonly albumId: string;
  readonly imageId: string;
  readonly text: string;
}

/** Names of the queues and exchanges for one deployment `prefix`. */
export function topology(prefix: string) {
  return {
    exchange: `${prefix}.jobs`,
    queue: `${prefix}.watermark`,
    deadLetterExchange: `${prefix}.dlx`,
    deadLetterQueue: `${prefix}.watermark.dlq`,
  };
}

/**
 * Declares the topology: jobs are routed by `watermark` into a quorum queue that dead-letters
 * to `<prefix>.dlx` after 5 redeliveries (`x-delivery-limit`) or 24 h (`x-message-ttl`), or when
 * a job is rejected after Sluice's retries; the DLX fans out to the dead-letter queue.
 */
export async function declareTopology(channel: Channel, prefix: string): Promise<void> {
  const t = topology(prefix);
  await channel.assertExchange(t.exchange, 'direct', { durable: true });
  await channel.assertExchange(t.deadLetterExchange, 'fanout', { durable: true });
  await channel.assertQueue(t.deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await channel.bindQueue(t.deadLetterQueue, t.deadLetterExchange, '');
  await channel.assertQueue(t.queue, {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-delivery-limit': 5,
      'x-message-ttl': 24 * 60 * 60 * 1000,
      'x-dead-letter-exchange': t.deadLetterExchange,
    },
  });
  await channel.bindQueue(t.queue, t.exchange, 'watermark');
}

/**
 * Runs the watermark worker until `signal` aborts: jobs of one album are stamped one at a time
 * in order (the album's cover is stamped before its pages), albums in parallel; a failing job is
 * retried with backoff (3 attempts), a corrupt image is dead-lettered at once.
 */
export function runWatermarkWorker(options: {
  url: string;
  prefix: string;
  stamp: (job: WatermarkJob, idempotencyKey: string) => Promise<void>;
  signal: AbortSignal;
}) {
  const source = rabbitSource<WatermarkJob>({
    url: options.url,
    queue: topology(options.prefix).queue,
    prefetch: 32,
    key: (job) => job.albumId,
    setup: (channel) => declareTopology(channel, options.prefix),
  });
  return stream(source)
    .concurrent({ maxWorkers: 4, retry: { attempts: 3, backoff: { initial: '20ms', max: '200ms' } } })
    .process(async (m, ctx) => {
      if (m.payload.text.length === 0)
        throw new UnrecoverableError(`empty watermark for ${m.payload.imageId}`);
      await options.stamp(m.payload, ctx.idempotencyKey);
    })
    .run({ signal: options.signal });
}

/** A dead-lettered job as the monitor reports it. */
export interface DeadJob {
  readonly job: WatermarkJob;
  /** `rejected` (failed after retries), `delivery_limit` (crashed its worker 5 times) or `expired` (24 h). */
  readonly reason: string;
  /** How many times it was dead-lettered from the watermark queue. */
  readonly count: number;
}

/**
 * The DLQ monitor: consumes the dead-letter queue and reports each job with the reason RabbitMQ
 * recorded in `x-death`, then acks it (it stays in your alerting, not in the broker).
 */
export function runDlqMonitor(options: {
  url: string;
  prefix: string;
  onDeadJob: (dead: DeadJob) => void | Promise<void>;
  signal: AbortSignal;
}) {
  const source = rabbitSource<WatermarkJob>({
    url: options.url,
    queue: topology(options.prefix).deadLetterQueue,
    prefetch: 16,
    key: (job) => job.albumId,
    setup: (channel) => declareTopology(channel, options.prefix),
  });
  return stream(source)
    .concurrent({ maxWorkers: 1 })
    .process(async (m) => {
      const deaths = JSON.parse(m.headers['x-death'] ?? '[]') as { reason?: string; count?: number }[];
      await options.onDeadJob({
        job: m.payload,
        reason: deaths[0]?.reason ?? 'unknown',
        count: deaths[0]?.count ?? 0,
      });
    })
    .run({ signal: options.signal });
}
