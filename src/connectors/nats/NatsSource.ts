// The JetStream pull-consumer source: explicit acks after success, dead-letter subject + term, max_deliver honoured.
import {
  AckPolicy,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos, headers as natsHeaders } from '@nats-io/transport-node';
import { type Clock, systemClock, type Timer } from '../../core/Clock.ts';
import { parseDuration } from '../../core/duration.ts';
import { SluiceError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type { Backoff } from '../../resilience/Backoff.ts';
import { toBackoff } from '../../resilience/index.ts';
import { DeliveryBuffer } from '../common/DeliveryBuffer.ts';
import { jsonCodec, selectKey } from '../common/keys.ts';
import type { ConnectorMessage, ConnectorSource, ConnectorState, ConnectorStats } from '../contract.ts';
import { type NatsSourceOptions, natsSourceSchema } from './options.ts';

/** A JetStream delivery as a pipeline item. */
export interface NatsMessage<T = unknown> extends ConnectorMessage<T> {
  /** The raw JetStream message. */
  readonly raw: JsMsg;
  /** Stream sequence. */
  readonly seq: number;
  /** @internal Set when the body did not decode. */
  readonly decodeError: Error | undefined;
}

type Link =
  | { readonly phase: 'down' }
  | {
      readonly phase: 'up';
      readonly nc: NatsConnection;
      readonly js: JetStreamClient;
      readonly jsm: JetStreamManager;
      readonly messages: ConsumerMessages;
    };

/** New deliveries held back while an earlier consumer's unacked messages are redelivered. */
type Hold =
  | { readonly phase: 'none' }
  | {
      readonly phase: 'holding';
      /** The earlier consumer's last delivered stream sequence. */
      readonly above: number;
      /** Unacked messages it left (each comes back once). */
      readonly expected: number;
      /** Clock time after which held messages are released even if some never came back. */
      readonly until: number;
      readonly old: Map<number, NatsMessage<unknown>>;
      readonly held: NatsMessage<unknown>[];
    };

/**
 * A pipeline source over a durable JetStream pull consumer (explicit ack). Each message is acked
 * once the pipeline finished it; one that failed for good is published to the dead-letter
 * subject (headers `Sluice-Stream`, `Sluice-Seq`, `Sluice-Subject`, `Sluice-Error`; `Nats-Msg-Id`
 * `<stream>:<seq>` so a repeated dead-lettering is deduplicated) and then `term`ed. A message
 * delivered more than `1 + deliveryLimit` times is dead-lettered on arrival without running.
 * A message whose dead-lettering fails (the publish to the dead-letter subject was not acked) is
 * `nak`ed with the redelivery backoff's delay and dead-lettered on a later delivery. Messages
 * still unsettled at close come back once `ackWait` expires.
 *
 * @example
 * ```ts
 * const source = natsSource({ servers: 'nats://127.0.0.1:4222', stream: 'ORDERS', consumer: 'shipping' });
 * await stream(source).concurrent({ maxWorkers: 8 }).process((m, ctx) => ship(m.payload, ctx.idempotencyKey)).run({ signal });
 * ```
 */
export class NatsSource<T = unknown> implements ConnectorSource<T> {
  readonly kind = 'ack-source' as const;
  readonly name: string;
  private readonly buffer = new DeliveryBuffer<NatsMessage<T>>();
  private readonly unsettled = new Set<NatsMessage<T>>();
  private readonly clock: Clock;
  private readonly redelivery: Backoff;
  private readonly ackWaitMs: number;
  private readonly deadLetterSubject: string;
  private link: Link = { phase: 'down' };
  private lifecycle: ConnectorState = 'idle';
  private started: Promise<void> | undefined;
  private keepAlive: Timer | undefined;
  private hold: Hold = { phase: 'none' };
  private readonly counts = { delivered: 0, acked: 0, deadLettered: 0, released: 0, reconnects: 0 };

  constructor(readonly options: NatsSourceOptions<T>) {
    validate(natsSourceSchema, options, 'natsSource');
    this.name = options.name ?? options.consumer;
    this.clock = options.clock ?? systemClock;
    this.redelivery =
      options.redeliveryBackoff ??
      toBackoff({ initial: '1s', max: '1m', multiplier: 2, jitter: 'none' } as never);
    this.ackWaitMs =
      options.ackWait === undefined ? 30_000 : parseDuration(options.ackWait, 'natsSource.ackWait');
    this.deadLetterSubject = options.deadLetterSubject ?? `sluice.dlq.${options.stream}.${options.consumer}`;
  }

  get state(): ConnectorState {
    return this.lifecycle;
  }

  stats(): ConnectorStats {
    return { ...this.counts, unacked: this.unsettled.size };
  }

  /** The consumer's `max_deliver` as the source configures it. */
  get maxDeliver(): number {
    return (this.options.deliveryLimit ?? 5) + 2;
  }

  items(signal: AbortSignal | undefined): AsyncIterable<NatsMessage<T>> {
    this.started ??= this.start();
    this.started.catch(() => {});
    return this.iterate(signal);
  }

  keyOf(m: NatsMessage<T>): string {
    if (m.decodeError) throw m.decodeError;
    return m.key;
  }

  idempotencyKeyOf(m: NatsMessage<T>): string {
    return `${this.options.consumer}:${m.id}`;
  }

  settle(
    m: NatsMessage<T>,
    outcome: { status: 'ok' } | { status: 'failed'; error: Error },
  ): void | Promise<void> {
    if (!this.unsettled.delete(m)) return;
    if (outcome.status === 'ok') {
      m.raw.ack();
      this.counts.acked++;
      return;
    }
    return this.deadLetter(m, outcome.error.message);
  }

  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    if (this.keepAlive !== undefined) this.clock.clearTimeout(this.keepAlive);
    this.buffer.end();
    await this.started?.catch(() => {});
    const l = this.link;
    this.link = { phase: 'down' };
    if (l.phase !== 'up') return;
    await l.messages.close().catch(() => {});
    await l.nc.flush().catch(() => {});
    await l.nc.close().catch(() => {});
    // Unsettled messages are not nak'ed: NATS 2.9 was seen to skip the redelivery of a nak'ed
    // message (until ackWait) and to deliver the last one twice. They come back, in stream order,
    // once `ackWait` expires.
    this.counts.released += this.unsettled.size;
    this.unsettled.clear();
  }

  private async *iterate(signal: AbortSignal | undefined): AsyncGenerator<NatsMessage<T>> {
    await this.started;
    yield* this.buffer.iterate(signal);
  }

  private async start(): Promise<void> {
    this.lifecycle = 'connecting';
    const o = this.options;
    const nc = await connect({
      servers: typeof o.servers === 'string' ? o.servers : [...o.servers],
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      name: this.name,
    });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.info(o.stream).catch((e) => {
        throw new SluiceError('NOT_FOUND', `JetStream stream ${JSON.stringify(o.stream)} does not exist`, {
          cause: e,
        });
      });
      const cfg = {
        durable_name: o.consumer,
        ack_policy: AckPolicy.Explicit,
        max_deliver: this.maxDeliver,
        max_ack_pending: o.maxAckPending ?? 64,
        ack_wait: nanos(this.ackWaitMs),
        ...(o.filterSubjects ? { filter_subjects: [...o.filterSubjects] } : {}),
      };
      const existing = await jsm.consumers.info(o.stream, o.consumer).catch(() => undefined);
      if (existing) await jsm.consumers.update(o.stream, o.consumer, cfg);
      else await jsm.consumers.add(o.stream, cfg);
      // Messages a crashed consumer left unacked come back only when their ackWait expires, after
      // newer ones: hold the newer ones until those are done, so per-key order survives the crash.
      // JetStream redelivers them in no particular order: collect them all, then release them in
      // stream order.
      if (existing && existing.num_ack_pending > 0) {
        this.hold = {
          phase: 'holding',
          above: existing.delivered.stream_seq,
          expected: existing.num_ack_pending,
          until: this.clock.now() + 3 * this.ackWaitMs,
          old: new Map(),
          held: [],
        };
      }
      if (o.deadLetterStream !== false) {
        const name = o.deadLetterStream ?? `${o.stream}_DLQ`;
        const dlq = await jsm.streams.info(name).catch(() => undefined);
        if (!dlq) await jsm.streams.add({ name, subjects: [this.deadLetterSubject] });
      }
      const js = jetstream(nc);
      const consumer = await js.consumers.get(o.stream, o.consumer);
      const messages = await consumer.consume({ max_messages: o.maxAckPending ?? 64 });
      if ((this.lifecycle as ConnectorState) === 'closed') {
        await messages.close().catch(() => {});
        await nc.close();
        return;
      }
      this.link = { phase: 'up', nc, js, jsm, messages };
      this.lifecycle = 'consuming';
      void this.watchStatus(nc);
      void this.pull(messages);
      this.scheduleKeepAlive();
    } catch (e) {
      await nc.close().catch(() => {});
      throw e;
    }
  }

  private async pull(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const raw of messages) this.deliver(raw);
    } catch {
      // the iterator ends with the connection; close() reports the outcome
    }
  }

  private async watchStatus(nc: NatsConnection): Promise<void> {
    for await (const s of nc.status()) {
      if (this.lifecycle === 'closed') return;
      if (s.type === 'disconnect') this.lifecycle = 'reconnecting';
      else if (s.type === 'reconnect') {
        this.lifecycle = 'consuming';
        this.counts.reconnects++;
      }
    }
  }

  private deliver(raw: JsMsg): void {
    this.counts.delivered++;
    const headers: Record<string, string> = {};
    if (raw.headers) for (const k of raw.headers.keys()) headers[k] = raw.headers.get(k);
    let payload = undefined as T;
    let decodeError: Error | undefined;
    let key = '';
    try {
      payload = this.options.decode ? this.options.decode(raw.data) : (jsonCodec.decode(raw.data) as T);
      key = selectKey(this.options.key, payload, headers, raw.subject);
    } catch (e) {
      decodeError = new SluiceError(
        'DECODE_FAILED',
        `Message ${raw.seq} of stream ${this.options.stream} did not decode`,
        {
          cause: e,
        },
      );
    }
    const m: NatsMessage<T> = {
      payload,
      key,
      id: `${this.options.stream}:${raw.seq}`,
      headers,
      deliveryCount: raw.info.deliveryCount,
      subject: raw.subject,
      raw,
      seq: raw.seq,
      decodeError,
    };
    this.unsettled.add(m);
    const hold = this.hold;
    if (hold.phase === 'holding') {
      if (m.seq > hold.above) hold.held.push(m as NatsMessage<unknown>);
      else {
        const before = hold.old.get(m.seq);
        if (before) this.unsettled.delete(before as NatsMessage<T>);
        hold.old.set(m.seq, m as NatsMessage<unknown>);
        if (hold.old.size >= hold.expected) this.releaseHold();
      }
      return;
    }
    this.admit(m);
  }

  /** Passes a delivery to the pipeline, or dead-letters it when it exceeded the delivery limit. */
  private admit(m: NatsMessage<T>): void {
    if (m.deliveryCount > this.maxDeliver - 1) {
      this.unsettled.delete(m);
      void this.deadLetter(
        m,
        `delivered ${m.deliveryCount} times (deliveryLimit ${this.maxDeliver - 2})`,
      ).catch(() => {});
      return;
    }
    this.buffer.push(m);
  }

  private async deadLetter(m: NatsMessage<T>, reason: string): Promise<void> {
    const l = this.link;
    if (l.phase !== 'up') return;
    const h = natsHeaders();
    for (const [k, v] of Object.entries(m.headers)) if (!k.startsWith('Nats-')) h.set(k, v);
    h.set('Sluice-Stream', this.options.stream);
    h.set('Sluice-Seq', String(m.seq));
    h.set('Sluice-Subject', m.subject);
    h.set('Sluice-Deliveries', String(m.deliveryCount));
    h.set('Sluice-Error', reason.slice(0, 1000).replace(/[\r\n]+/g, ' '));
    try {
      await l.js.publish(this.deadLetterSubject, m.raw.data, { msgID: m.id, headers: h });
    } catch {
      m.raw.nak(Math.max(1, this.redelivery.next(m.deliveryCount, 0)));
      this.counts.released++;
      return;
    }
    // No reason text: NATS 2.9 ignores a "+TERM <reason>" ack (reasons came with 2.10).
    m.raw.term();
    this.counts.deadLettered++;
  }

  /**
   * Tells JetStream that items still running are in progress, so `ackWait` does not redeliver
   * them; while holding new deliveries, checks whether the earlier ones were all acked.
   */
  private scheduleKeepAlive(): void {
    const every = Math.max(100, Math.floor(this.ackWaitMs / 3));
    const wait = this.hold.phase === 'holding' ? Math.min(every, 200) : every;
    this.keepAlive = this.clock.setTimeout(() => {
      if (this.lifecycle === 'closed') return;
      for (const m of this.unsettled) m.raw.working();
      void this.checkHold().finally(() => {
        if (this.lifecycle !== 'closed') this.scheduleKeepAlive();
      });
    }, wait);
  }

  /** Releases held deliveries when the earlier consumer's messages all came back (or the wait ran out). */
  private async checkHold(): Promise<void> {
    const hold = this.hold;
    if (hold.phase === 'holding' && this.clock.now() >= hold.until) this.releaseHold();
  }

  /** Hands the earlier consumer's redeliveries, then the held new deliveries, to the pipeline in stream order. */
  private releaseHold(): void {
    const hold = this.hold;
    if (hold.phase !== 'holding') return;
    this.hold = { phase: 'none' };
    const old = [...hold.old.values()].sort((a, b) => a.seq - b.seq);
    const held = hold.held.sort((a, b) => a.seq - b.seq);
    for (const m of [...old, ...held]) this.admit(m as NatsMessage<T>);
  }
}

/**
 * Creates a {@link NatsSource}; pass it to `stream(source)`.
 * @example
 * ```ts
 * await stream(natsSource({ servers, stream: 'EVENTS', consumer: 'billing', key: (e) => e.accountId }))
 *   .process(handle)
 *   .run({ signal });
 * ```
 */
export function natsSource<T = unknown>(options: NatsSourceOptions<T>): NatsSource<T> {
  return new NatsSource<T>(options);
}
