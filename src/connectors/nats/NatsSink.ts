// The JetStream sink: publishes with publish acks and Nats-Msg-Id deduplication.
import { randomUUID } from 'node:crypto';
import { type JetStreamClient, jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection, headers as natsHeaders } from '@nats-io/transport-node';
import { z } from 'zod';
import { SluiceError, throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import { jsonCodec, optionalFn } from '../common/keys.ts';
import { type ConnectorSink, KEY_HEADER, type OutgoingMessage, type PublishReceipt } from '../contract.ts';

/** Options of {@link natsSink}. */
export interface NatsSinkOptions<T> {
  /** NATS server URL(s). */
  servers: string | readonly string[];
  /** Subject when a message has none. */
  subject?: string;
  /** Body encoder (default JSON). */
  encode?: (payload: T) => Uint8Array;
  /** Stream the messages must land in (publish fails otherwise). */
  expectStream?: string;
}

const schema = z.object({
  servers: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'a server URL or a list of them',
  }),
  subject: z.string().min(1).optional(),
  encode: optionalFn('a function (payload) => Uint8Array'),
  expectStream: z.string().min(1).optional(),
});

/**
 * Publishes to JetStream and resolves once every message was acknowledged by the stream. Each
 * message carries `Nats-Msg-Id` (its `id`, random when absent): publishing the same id again
 * within the stream's duplicate window stores nothing and is reported as `duplicate: true`, so a
 * retried publish after a crash stays exactly once.
 *
 * @example
 * ```ts
 * const sink = natsSink({ servers: 'nats://127.0.0.1:4222', subject: 'orders.created' });
 * await sink.publish([{ id: 'order-1', key: 'customer-7', payload: { orderId: 1 } }]);
 * ```
 */
export class NatsSink<T = unknown> implements ConnectorSink<T> {
  private conn: Promise<{ nc: NatsConnection; js: JetStreamClient }> | undefined;
  private closed = false;

  constructor(readonly options: NatsSinkOptions<T>) {
    validate(schema, options, 'natsSink');
  }

  async publish(
    messages: readonly OutgoingMessage<T>[],
    options: { signal?: AbortSignal } = {},
  ): Promise<PublishReceipt[]> {
    if (this.closed) throw new SluiceError('CLOSED', 'The NATS sink is closed');
    throwIfAborted(options.signal, 'publish');
    const { js } = await this.connection();
    const encode = this.options.encode ?? jsonCodec.encode;
    const pending = messages.map((m) => {
      const id = m.id ?? randomUUID();
      const subject = m.subject ?? this.options.subject;
      if (subject === undefined) {
        throw new SluiceError(
          'CONFIG_INVALID',
          'Expected a message `subject` or the sink option `subject`, got none',
          {
            context: { field: 'subject' },
          },
        );
      }
      const h = natsHeaders();
      for (const [k, v] of Object.entries(m.headers ?? {})) h.set(k, v);
      if (m.key !== undefined) h.set(KEY_HEADER, m.key);
      return js
        .publish(subject, encode(m.payload), {
          msgID: id,
          headers: h,
          ...(this.options.expectStream ? { expect: { streamName: this.options.expectStream } } : {}),
        })
        .then((ack): PublishReceipt => ({ id, duplicate: ack.duplicate, seq: ack.seq }));
    });
    try {
      return await Promise.all(pending);
    } catch (e) {
      throw new SluiceError(
        'PUBLISH_FAILED',
        `JetStream did not acknowledge a publish: ${(e as Error).message}`,
        {
          retryable: true,
          cause: e,
        },
      );
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const c = this.conn;
    this.conn = undefined;
    const l = await c?.catch(() => undefined);
    await l?.nc.close().catch(() => {});
  }

  private connection(): Promise<{ nc: NatsConnection; js: JetStreamClient }> {
    if (this.conn) return this.conn;
    const o = this.options;
    const p = connect({
      servers: typeof o.servers === 'string' ? o.servers : [...o.servers],
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
    }).then((nc) => ({ nc, js: jetstream(nc) }));
    this.conn = p;
    p.catch(() => {
      if (this.conn === p) this.conn = undefined;
    });
    return p;
  }
}

/** Creates a {@link NatsSink}. */
export function natsSink<T = unknown>(options: NatsSinkOptions<T>): NatsSink<T> {
  return new NatsSink<T>(options);
}
