// The RabbitMQ sink: publishes persistent messages on a confirm channel and resolves after the broker's confirms.
import { randomUUID } from 'node:crypto';
import amqp from 'amqplib';
import { z } from 'zod';
import { SluiceError, throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import { jsonCodec, optionalFn } from '../common/keys.ts';
import { type ConnectorSink, KEY_HEADER, type OutgoingMessage, type PublishReceipt } from '../contract.ts';

/** Options of {@link rabbitSink}. */
export interface RabbitSinkOptions<T> {
  /** AMQP URL. */
  url: string;
  /** Exchange to publish to (default `''`, the default exchange: routing key = queue name). */
  exchange?: string;
  /** Routing key when a message has no `subject`. */
  routingKey?: string;
  /** Body encoder (default JSON). */
  encode?: (payload: T) => Buffer;
  /** Declares exchanges/queues once connected. */
  setup?: (channel: amqp.ConfirmChannel) => Promise<unknown>;
}

const schema = z.object({
  url: z.string({ error: 'an AMQP URL' }).min(1, 'an AMQP URL'),
  exchange: z.string({ error: 'an exchange name' }).optional(),
  routingKey: z.string({ error: 'a routing key' }).optional(),
  encode: optionalFn('a function (payload) => Buffer'),
  setup: optionalFn('a function (channel) => Promise'),
});

/**
 * Publishes to RabbitMQ with publisher confirms: {@link RabbitSink.publish} resolves only when
 * the broker confirmed every message (persistent, `message-id` set so consumers can
 * deduplicate; the key travels in the `sluice-key` header). A dropped connection fails the
 * pending call (`BACKEND_UNAVAILABLE`, retryable) and the next call reconnects.
 *
 * @example
 * ```ts
 * const sink = rabbitSink({ url, routingKey: 'orders' });
 * await sink.publish([{ key: 'customer-7', payload: { orderId: 1 } }]);
 * ```
 */
export class RabbitSink<T = unknown> implements ConnectorSink<T> {
  private conn: Promise<{ model: amqp.ChannelModel; channel: amqp.ConfirmChannel }> | undefined;
  private closed = false;

  constructor(readonly options: RabbitSinkOptions<T>) {
    validate(schema, options, 'rabbitSink');
  }

  async publish(
    messages: readonly OutgoingMessage<T>[],
    options: { signal?: AbortSignal } = {},
  ): Promise<PublishReceipt[]> {
    if (this.closed) throw new SluiceError('CLOSED', 'The RabbitMQ sink is closed');
    throwIfAborted(options.signal, 'publish');
    const { channel } = await this.connection();
    const encode = this.options.encode ?? jsonCodec.encode;
    const receipts: PublishReceipt[] = [];
    const confirms: Promise<void>[] = [];
    for (const m of messages) {
      const id = m.id ?? randomUUID();
      const routingKey = m.subject ?? this.options.routingKey ?? '';
      const headers: Record<string, string> = { ...m.headers };
      if (m.key !== undefined) headers[KEY_HEADER] = m.key;
      confirms.push(
        new Promise<void>((resolve, reject) => {
          channel.publish(
            this.options.exchange ?? '',
            routingKey,
            encode(m.payload),
            { persistent: true, messageId: id, headers, contentType: 'application/json' },
            (err) => (err ? reject(nacked(err, id)) : resolve()),
          );
        }),
      );
      receipts.push({ id, duplicate: false });
    }
    try {
      await Promise.all(confirms);
    } catch (e) {
      if (!(e instanceof SluiceError)) this.conn = undefined;
      throw e instanceof SluiceError ? e : unavailable(e);
    }
    return receipts;
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.conn;
    this.conn = undefined;
    if (!c) return;
    const { model } = await c.catch(() => ({ model: undefined }));
    await model?.close().catch(() => {});
  }

  private connection(): Promise<{ model: amqp.ChannelModel; channel: amqp.ConfirmChannel }> {
    if (this.conn) return this.conn;
    const p = (async () => {
      const model = await amqp.connect(this.options.url);
      const channel = await model.createConfirmChannel();
      const drop = () => {
        if (this.conn === p) this.conn = undefined;
      };
      model.on('error', () => {});
      model.on('close', drop);
      channel.on('error', () => {});
      channel.on('close', drop);
      if (this.options.setup) await this.options.setup(channel);
      return { model, channel };
    })();
    this.conn = p;
    p.catch(() => {
      if (this.conn === p) this.conn = undefined;
    });
    return p.catch((e) => {
      throw unavailable(e);
    });
  }
}

function nacked(err: unknown, id: string): SluiceError {
  return new SluiceError('PUBLISH_NACKED', `RabbitMQ did not confirm message ${id}`, {
    retryable: true,
    cause: err,
    context: { id },
  });
}

function unavailable(e: unknown): SluiceError {
  return new SluiceError(
    'BACKEND_UNAVAILABLE',
    `RabbitMQ is unavailable: ${(e as Error)?.message ?? String(e)}`,
    {
      retryable: true,
      cause: e,
    },
  );
}

/** Creates a {@link RabbitSink}. */
export function rabbitSink<T = unknown>(options: RabbitSinkOptions<T>): RabbitSink<T> {
  return new RabbitSink<T>(options);
}
