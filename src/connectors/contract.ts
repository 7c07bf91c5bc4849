// The source/sink contract every broker connector (sluice/rabbitmq, sluice/nats) implements.
import type { AckSource } from '../pipeline/source.ts';

/**
 * Conventions shared by every connector (stated once here, relied on by the conformance suite
 * in `conformance/`):
 *
 * - **Ack after success only.** A message is acknowledged to the broker when the pipeline
 *   finished it: processed, or failed for good and dead-lettered. Items of one key run one at a
 *   time in delivery order, so a message is never acked before an earlier message of its key.
 * - **Retries are Sluice's.** Failed attempts are retried in process with the pipeline's
 *   `retry` backoff while the message stays unacked (its key waits; other keys flow). After the
 *   last attempt the message is dead-lettered through the broker's own mechanism, so the
 *   broker's accounting (RabbitMQ `x-death`, JetStream delivery counts) stays true.
 * - **Redelivery after a crash.** A message taken but never settled (the process died, the
 *   connection dropped, the source was closed) goes back to the broker and is delivered again,
 *   with `deliveryCount` one higher; `ctx.idempotencyKey` (= {@link ConnectorMessage.id} scoped
 *   by the source) is the same on every delivery, so effects can be made exactly once.
 * - **Delivery limit.** A message delivered more than `1 + deliveryLimit` times (it crashed its
 *   consumer that often) is dead-lettered by the broker (RabbitMQ `x-delivery-limit`) or by the
 *   source on arrival (JetStream, whose `max_deliver` is set one above so that the extra
 *   delivery only moves it to the dead-letter subject).
 * - **Backpressure.** At most `prefetch` (RabbitMQ) or `maxAckPending` (JetStream) messages are
 *   unacknowledged at once: the broker enforces it; the source buffers nothing beyond it.
 * - **Reconnects.** When the connection drops the source reconnects with backoff and resumes;
 *   items still in the pipeline from the old connection are not acked (the broker redelivers
 *   them), so nothing is lost and duplicates carry the same idempotency key.
 */
export interface ConnectorMessage<T = unknown> {
  /** The decoded body (JSON by default). */
  readonly payload: T;
  /** The partition key: items of one key are processed one at a time, in delivery order. */
  readonly key: string;
  /** Message id, stable across redeliveries (RabbitMQ `message-id`, JetStream `queue:seq`). */
  readonly id: string;
  /** Application headers, as strings. */
  readonly headers: Readonly<Record<string, string>>;
  /** 1 on the first delivery, +1 on each redelivery. */
  readonly deliveryCount: number;
  /** RabbitMQ routing key or NATS subject. */
  readonly subject: string;
}

/** Lifecycle of a connector source. */
export type ConnectorState = 'idle' | 'connecting' | 'consuming' | 'reconnecting' | 'closed';

/** Counters of a connector source. */
export interface ConnectorStats {
  /** Deliveries received (redeliveries included). */
  readonly delivered: number;
  /** Messages acknowledged after success. */
  readonly acked: number;
  /** Messages handed to the dead-letter route. */
  readonly deadLettered: number;
  /** Deliveries given back unsettled (close, or the connection they came on dropped). */
  readonly released: number;
  /** Deliveries of the current connection not settled yet (bounded by the prefetch). */
  readonly unacked: number;
  /** Successful reconnects. */
  readonly reconnects: number;
}

/** A pipeline source reading a broker: pass it to `stream(source)`. */
export interface ConnectorSource<T = unknown> extends AckSource<ConnectorMessage<T>> {
  /** Current lifecycle state. */
  readonly state: ConnectorState;
  /** Counters so far. */
  stats(): ConnectorStats;
}

/** How a source finds a message's partition key. */
export type KeySelector<T> =
  | { readonly header: string }
  | ((
      payload: T,
      message: { headers: Readonly<Record<string, string>>; subject: string },
    ) => string | number);

/** A message to publish. */
export interface OutgoingMessage<T = unknown> {
  /** The body (JSON-encoded by default). */
  readonly payload: T;
  /** Partition key, sent in the `sluice-key` header. */
  readonly key?: string;
  /** Message id for deduplication (RabbitMQ `message-id`, JetStream `Nats-Msg-Id`); random when absent. */
  readonly id?: string;
  /** Extra headers. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Routing key / subject; the sink's default when absent. */
  readonly subject?: string;
}

/** What the broker confirmed for one published message. */
export interface PublishReceipt {
  readonly id: string;
  /** True when the broker recognised the id as already stored (JetStream deduplication). */
  readonly duplicate: boolean;
  /** JetStream stream sequence, when known. */
  readonly seq?: number;
}

/** A sink that publishes and resolves only once the broker confirmed every message. */
export interface ConnectorSink<T = unknown> {
  /** Publishes in order; resolves when the broker confirmed all of them (publisher confirms / publish acks). */
  publish(
    messages: readonly OutgoingMessage<T>[],
    options?: { signal?: AbortSignal },
  ): Promise<PublishReceipt[]>;
  /** Closes the connection. */
  close(): Promise<void>;
}

/** The header carrying the partition key written by sinks and read by sources by default. */
export const KEY_HEADER = 'sluice-key';
