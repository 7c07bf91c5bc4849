// The RabbitMQ pipeline source: consumes a queue with bounded prefetch, acks after success, dead-letters by reject.
import { createHash } from 'node:crypto';
import amqp from 'amqplib';
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { SluiceError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type { Backoff } from '../../resilience/Backoff.ts';
import { toBackoff } from '../../resilience/index.ts';
import { DeliveryBuffer } from '../common/DeliveryBuffer.ts';
import { int1, jsonCodec, keySelectorSchema, optionalFn, selectKey, stringHeaders } from '../common/keys.ts';
import type {
  ConnectorMessage,
  ConnectorSource,
  ConnectorState,
  ConnectorStats,
  KeySelector,
} from '../contract.ts';

/** Options of {@link rabbitSource}. */
export interface RabbitSourceOptions<T> {
  /** AMQP URL, e.g. `amqp://guest:guest@127.0.0.1:5672`. */
  url: string;
  /** Queue to consume (classic or quorum). */
  queue: string;
  /** Unacked deliveries allowed at once (`basic.qos`); the backpressure bound. Default 64. */
  prefetch?: number;
  /** Partition key: a header name or a function of the payload. Default: header `sluice-key`, else the routing key. */
  key?: KeySelector<T>;
  /** Body decoder (default JSON). A body that fails to decode is dead-lettered. */
  decode?: (body: Buffer) => T;
  /** Declares queues/exchanges on each (re)connect, before consuming. */
  setup?: (channel: amqp.Channel) => Promise<unknown>;
  /** Delay between reconnect attempts (default exponential 100 ms .. 5 s). */
  reconnect?: Backoff | { initial?: string | number; max?: string | number };
  /** Name of the pipeline (default the queue). */
  name?: string;
  /** Time source for reconnect delays. */
  clock?: Clock;
}

const schema = z.object({
  url: z.string({ error: 'an AMQP URL' }).min(1, 'an AMQP URL'),
  queue: z.string({ error: 'a queue name' }).min(1, 'a queue name'),
  prefetch: int1.max(65535, 'an integer from 1 to 65535').optional(),
  key: keySelectorSchema,
  decode: optionalFn('a function (body) => payload'),
  setup: optionalFn('a function (channel) => Promise'),
  reconnect: z.unknown().optional(),
  name: z.string().min(1).optional(),
  clock: z.unknown().optional(),
});

/** A delivery as a pipeline item. @internal fields are the source's own. */
export interface RabbitMessage<T = unknown> extends ConnectorMessage<T> {
  /** The raw amqplib message. */
  readonly raw: amqp.ConsumeMessage;
  /** @internal Connection generation it was delivered on. */
  readonly generation: number;
  /** @internal Set when the body did not decode. */
  readonly decodeError: Error | undefined;
}

type Conn =
  | { readonly phase: 'down' }
  | {
      readonly phase: 'up';
      readonly model: amqp.ChannelModel;
      readonly channel: amqp.Channel;
      readonly generation: number;
    };

/**
 * A pipeline source over a RabbitMQ queue. Each message is acked only once the pipeline finished
 * it (items of one key run one at a time, in order, so every earlier message of its key was
 * finished first); a message that failed for good (after the pipeline's retries and `onError`)
 * is rejected without requeue, so the queue's dead-letter exchange receives it with a true
 * `x-death` record. Unsettled deliveries are requeued by the broker when the source closes or
 * the connection drops (a quorum queue counts them toward `x-delivery-limit`).
 *
 * @example
 * ```ts
 * const source = rabbitSource({ url: 'amqp://guest:guest@127.0.0.1:5672', queue: 'orders', prefetch: 64 });
 * await stream(source)
 *   .concurrent({ maxWorkers: 8, retry: { attempts: 3, backoff: 'exponential' } })
 *   .process((m, ctx) => ship(m.payload, ctx.idempotencyKey))
 *   .run({ signal });
 * ```
 */
export class RabbitSource<T = unknown> implements ConnectorSource<T> {
  readonly kind = 'ack-source' as const;
  readonly name: string;
  private readonly buffer = new DeliveryBuffer<RabbitMessage<T>>();
  private readonly backoff: Backoff;
  private readonly clock: Clock;
  private conn: Conn = { phase: 'down' };
  private generation = 0;
  private lifecycle: ConnectorState = 'idle';
  private started: Promise<void> | undefined;
  private readonly counts = { delivered: 0, acked: 0, deadLettered: 0, released: 0, reconnects: 0 };
  private unsettled = 0;
  private closing: AbortController = new AbortController();

  constructor(readonly options: RabbitSourceOptions<T>) {
    validate(schema, options, 'rabbitSource');
    this.name = options.name ?? options.queue;
    this.clock = options.clock ?? systemClock;
    const r = options.reconnect;
    this.backoff =
      r !== undefined && typeof (r as Backoff).next === 'function'
        ? (r as Backoff)
        : toBackoff(
            { initial: '100ms', max: '5s', multiplier: 2, jitter: 'equal', ...(r as object) } as never,
            'rabbitSource.reconnect',
          );
  }

  /** Current lifecycle state. */
  get state(): ConnectorState {
    return this.lifecycle;
  }

  stats(): ConnectorStats {
    return { ...this.counts, unacked: this.unsettled };
  }

  items(signal: AbortSignal | undefined): AsyncIterable<RabbitMessage<T>> {
    this.started ??= this.connectLoop(true);
    this.started.catch(() => {});
    return this.iterate(signal);
  }

  keyOf(m: RabbitMessage<T>): string {
    if (m.decodeError) throw m.decodeError;
    return m.key;
  }

  idempotencyKeyOf(m: RabbitMessage<T>): string {
    return `${this.options.queue}:${m.id}`;
  }

  settle(m: RabbitMessage<T>, outcome: { status: 'ok' } | { status: 'failed'; error: Error }): void {
    const c = this.conn;
    if (c.phase !== 'up' || c.generation !== m.generation) return; // already requeued by the broker
    this.unsettled--;
    if (outcome.status === 'ok') {
      c.channel.ack(m.raw);
      this.counts.acked++;
    } else {
      c.channel.nack(m.raw, false, false);
      this.counts.deadLettered++;
    }
  }

  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    this.closing.abort();
    this.counts.released += this.buffer.end().length;
    const c = this.conn;
    this.conn = { phase: 'down' };
    if (c.phase === 'up') {
      this.counts.released += Math.max(0, this.unsettled);
      this.unsettled = 0;
      // Closing the channel requeues every unacked delivery.
      await c.channel.close().catch(() => {});
      await c.model.close().catch(() => {});
    }
  }

  private async *iterate(signal: AbortSignal | undefined): AsyncGenerator<RabbitMessage<T>> {
    await this.started;
    yield* this.buffer.iterate(signal);
  }

  /** Connects (the first time failing fast on bad config), then reconnects whenever the connection drops. */
  private async connectLoop(first: boolean): Promise<void> {
    let attempt = 0;
    let prev = 0;
    this.lifecycle = first ? 'connecting' : 'reconnecting';
    while (!this.closing.signal.aborted) {
      try {
        await this.connectOnce();
        if (!first) this.counts.reconnects++;
        return;
      } catch (e) {
        if (first && attempt === 0 && isConfigFailure(e)) throw e;
        attempt++;
        prev = this.backoff.next(attempt, prev);
        await this.clock.sleep(prev, this.closing.signal).catch(() => {});
      }
    }
  }

  private async connectOnce(): Promise<void> {
    const model = await amqp.connect(this.options.url);
    try {
      const channel = await model.createChannel();
      await channel.prefetch(this.options.prefetch ?? 64);
      if (this.options.setup) await this.options.setup(channel);
      const generation = ++this.generation;
      if ((this.lifecycle as ConnectorState) === 'closed')
        throw new SluiceError('CLOSED', 'The source was closed');
      this.conn = { phase: 'up', model, channel, generation };
      this.unsettled = 0;
      model.on('error', () => {});
      model.on('close', () => this.dropped(generation));
      channel.on('error', () => {});
      channel.on('close', () => this.dropped(generation));
      await channel.consume(this.options.queue, (raw) => {
        if (raw === null)
          this.dropped(generation); // consumer cancelled by the broker (queue deleted)
        else this.deliver(raw, generation);
      });
      this.lifecycle = 'consuming';
    } catch (e) {
      await model.close().catch(() => {});
      throw e;
    }
  }

  private dropped(generation: number): void {
    const c = this.conn;
    if (c.phase !== 'up' || c.generation !== generation || this.lifecycle === 'closed') return;
    this.conn = { phase: 'down' };
    this.counts.released += this.unsettled;
    this.unsettled = 0;
    this.buffer.dropWhere((m) => m.generation === generation);
    c.model.close().catch(() => {});
    void this.connectLoop(false);
  }

  private deliver(raw: amqp.ConsumeMessage, generation: number): void {
    this.counts.delivered++;
    this.unsettled++;
    const headers = stringHeaders(raw.properties.headers as Record<string, unknown> | undefined);
    let payload: T = undefined as T;
    let decodeError: Error | undefined;
    try {
      payload = this.options.decode ? this.options.decode(raw.content) : (jsonCodec.decode(raw.content) as T);
    } catch (e) {
      decodeError = new SluiceError(
        'DECODE_FAILED',
        `Message body of queue ${this.options.queue} did not decode`,
        {
          cause: e,
        },
      );
    }
    const returns = Number(headers['x-delivery-count'] ?? (raw.fields.redelivered ? 1 : 0));
    const subject = raw.fields.routingKey;
    let key = '';
    if (!decodeError) {
      try {
        key = selectKey(this.options.key, payload, headers, subject);
      } catch (e) {
        decodeError = e instanceof Error ? e : new Error(String(e));
      }
    }
    const id = (raw.properties.messageId as string | undefined) ?? `sha256:${createHashHex(raw.content)}`;
    this.buffer.push({
      payload,
      key,
      id,
      headers,
      deliveryCount: returns + 1,
      subject,
      raw,
      generation,
      decodeError,
    });
  }
}

function createHashHex(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 32);
}

function isConfigFailure(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  // 404 NOT_FOUND (queue missing), 403 ACCESS_REFUSED: retrying cannot help.
  return code === 404 || code === 403;
}

/**
 * Creates a {@link RabbitSource}; pass it to `stream(source)`.
 * @example
 * ```ts
 * await stream(rabbitSource({ url, queue: 'jobs', key: (job) => job.accountId }))
 *   .process(handle)
 *   .run({ signal });
 * ```
 */
export function rabbitSource<T = unknown>(options: RabbitSourceOptions<T>): RabbitSource<T> {
  return new RabbitSource<T>(options);
}
