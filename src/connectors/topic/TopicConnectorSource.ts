// A Sluice backend topic behind the connector contract: a ConnectorSource over a consumer group and a ConnectorSink appending to the topic.
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import { configError, SluiceError, serializeError } from '../../core/errors.ts';
import type { ItemOutcome } from '../../pipeline/source.ts';
import type {
  ConnectorMessage,
  ConnectorSink,
  ConnectorSource,
  ConnectorState,
  ConnectorStats,
  OutgoingMessage,
  PublishReceipt,
} from '../contract.ts';

/** Options of {@link topicConnectorSource}. */
export interface TopicConnectorSourceOptions {
  /** The backend holding the topic. */
  readonly backend: Backend;
  readonly topic: string;
  /** Consumer group: committed offsets, delivery counts and finished markers are kept per group. */
  readonly group: string;
  /** Most messages taken and not yet settled at once (the contract's prefetch). */
  readonly prefetch: number;
  /** Redeliveries allowed before a message is dead-lettered on arrival (default 5). */
  readonly deliveryLimit?: number;
  /** How long to wait between polls at the end of the log, in ms (default 50). */
  readonly pollInterval?: number;
}

interface InFlight {
  readonly partition: number;
  readonly offset: number;
}

/**
 * A {@link ConnectorSource} over a backend topic, so Sluice's own log follows the connector
 * contract: messages of a partition in offset order (a key maps to one partition); a message is
 * settled by a commit of its group that records a finished marker (`done:<id>`) and moves the
 * committed offset to the first unsettled offset of its partition, so a message finished ahead
 * of an earlier one is skipped after a crash rather than run again; delivery counts are durable
 * markers (`delivery:<id>:<n>`) written before a message is handed out, so a message taken by a
 * consumer that died is redelivered with a higher count and dead-lettered on arrival past the
 * limit; failures are put in the backend's DLQ with the group as source.
 */
export class TopicConnectorSource implements ConnectorSource<unknown> {
  readonly kind = 'ack-source';
  readonly name: string;
  private lifecycle: ConnectorState = 'idle';
  private readonly inFlight = new Map<string, InFlight>();
  private readonly counts = { delivered: 0, acked: 0, deadLettered: 0, released: 0 };
  private wake: (() => void) | undefined;
  private readonly next = new Map<number, number>();
  private readonly limit: number;

  constructor(private readonly o: TopicConnectorSourceOptions) {
    if (!Number.isInteger(o.prefetch) || o.prefetch < 1)
      throw configError('topicConnectorSource.prefetch', 'an integer >= 1', o.prefetch);
    this.limit = o.deliveryLimit ?? 5;
    if (!Number.isInteger(this.limit) || this.limit < 0)
      throw configError('topicConnectorSource.deliveryLimit', 'an integer >= 0', o.deliveryLimit);
    this.name = `topic:${o.topic}:${o.group}`;
  }

  get state(): ConnectorState {
    return this.lifecycle;
  }

  stats(): ConnectorStats {
    return { ...this.counts, unacked: this.inFlight.size, reconnects: 0 };
  }

  keyOf(m: ConnectorMessage<unknown>): string {
    return m.key;
  }

  idempotencyKeyOf(m: ConnectorMessage<unknown>): string {
    return `${this.o.group}:${m.id}`;
  }

  async *items(signal: AbortSignal | undefined): AsyncIterable<ConnectorMessage<unknown>> {
    const { backend, topic, group } = this.o;
    const info = await backend.topicInfo(topic);
    if (info === undefined)
      throw new SluiceError('NOT_FOUND', `Topic ${JSON.stringify(topic)} does not exist`);
    this.lifecycle = 'consuming';
    const partitions = Array.from({ length: info.partitions }, (_, p) => p);
    const committed = await backend.committedMany(group, topic, partitions);
    for (const p of partitions) this.next.set(p, committed[p]!);
    while (this.lifecycle === 'consuming' && signal?.aborted !== true) {
      const room = this.o.prefetch - this.inFlight.size;
      const events = room > 0 ? await this.readRound(partitions, room) : [];
      if (events.length === 0) {
        await this.idle(signal, room > 0 ? (this.o.pollInterval ?? 50) : 1000);
        continue;
      }
      for (const m of await this.deliver(events)) {
        if (this.lifecycle !== 'consuming') return;
        yield m;
      }
    }
  }

  settle(m: ConnectorMessage<unknown>, outcome: ItemOutcome): Promise<void> {
    const pos = this.inFlight.get(m.id);
    if (pos === undefined || this.lifecycle === 'closed') return Promise.resolve();
    return this.finish(m, pos, outcome);
  }

  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.counts.released += this.inFlight.size;
    this.inFlight.clear();
    this.lifecycle = 'closed';
    this.wake?.();
  }

  /** Up to `room` events, reading each partition from where this source got to. */
  private async readRound(partitions: readonly number[], room: number): Promise<LogEvent[]> {
    const reads = await this.o.backend.readMany(
      this.o.topic,
      partitions.map((p) => ({ partition: p, fromOffset: this.next.get(p)! })),
      room,
    );
    const out: LogEvent[] = [];
    for (let i = 0; out.length < room; i++) {
      let any = false;
      for (const batch of reads) {
        const e = batch[i];
        if (e === undefined || out.length >= room) continue;
        out.push(e);
        any = true;
      }
      if (!any) break;
    }
    for (const e of out) this.next.set(e.partition, Math.max(this.next.get(e.partition)!, e.offset + 1));
    return out;
  }

  /** Skips finished events, counts the delivery of the others, dead-letters those past the limit. */
  private async deliver(events: readonly LogEvent[]): Promise<ConnectorMessage<unknown>[]> {
    const { backend, group } = this.o;
    const probe = events.flatMap((e) => [
      `done:${e.id}`,
      ...Array.from({ length: this.limit + 2 }, (_, n) => `delivery:${e.id}:${n + 1}`),
    ]);
    const seen = await backend.processed(group, probe);
    const out: ConnectorMessage<unknown>[] = [];
    const marks: string[] = [];
    const gone: LogEvent[] = [];
    for (const e of events) {
      if (seen.has(`done:${e.id}`)) continue;
      let n = 1;
      while (n <= this.limit + 2 && seen.has(`delivery:${e.id}:${n}`)) n++;
      marks.push(`delivery:${e.id}:${n}`);
      this.inFlight.set(e.id, { partition: e.partition, offset: e.offset });
      this.counts.delivered++;
      const m: ConnectorMessage<unknown> = {
        payload: e.payload,
        key: e.key ?? `partition-${e.partition}`,
        id: e.id,
        headers: e.headers ?? {},
        deliveryCount: n,
        subject: e.topic,
      };
      if (n > 1 + this.limit) gone.push(e);
      else out.push(m);
    }
    if (marks.length > 0) await backend.markProcessed(group, marks);
    for (const e of gone) {
      const error = new Error(`delivered more than ${1 + this.limit} times`);
      await this.finish(
        { payload: e.payload, key: e.key ?? '', id: e.id, headers: {}, deliveryCount: 0, subject: e.topic },
        { partition: e.partition, offset: e.offset },
        { status: 'failed', error },
      );
    }
    return out;
  }

  /** Records the outcome: a DLQ entry for a failure, then the commit with the finished marker. */
  private async finish(m: ConnectorMessage<unknown>, pos: InFlight, outcome: ItemOutcome): Promise<void> {
    const { backend, topic, group } = this.o;
    if (outcome.status === 'failed') {
      await backend.dlq.put({
        id: m.id,
        source: group,
        topic,
        partition: pos.partition,
        offset: pos.offset,
        ...(m.key === '' ? {} : { key: m.key }),
        payload: m.payload,
        error: serializeError(outcome.error),
        attempts: 1,
      });
      this.counts.deadLettered++;
    } else {
      this.counts.acked++;
    }
    this.inFlight.delete(m.id);
    let low = this.next.get(pos.partition)!;
    for (const f of this.inFlight.values()) if (f.partition === pos.partition) low = Math.min(low, f.offset);
    await backend.commit(group, topic, pos.partition, low, { idempotencyKeys: [`done:${m.id}`] });
    this.wake?.();
  }

  private idle(signal: AbortSignal | undefined, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wake = done;
    });
  }
}

/** Creates a {@link TopicConnectorSource}. */
export function topicConnectorSource(options: TopicConnectorSourceOptions): TopicConnectorSource {
  return new TopicConnectorSource(options);
}

/**
 * A {@link ConnectorSink} appending to a backend topic: the key partitions the event and the id
 * deduplicates it (an append of a known id returns its first position). `duplicate` is always
 * false: an append does not say whether the id was already known. `seq` is the event's offset.
 */
export function topicConnectorSink<T>(backend: Backend, topic: string): ConnectorSink<T> {
  return {
    async publish(messages: readonly OutgoingMessage<T>[]): Promise<PublishReceipt[]> {
      const results = await backend.append(
        topic,
        messages.map((m) => ({
          payload: m.payload,
          ...(m.key === undefined ? {} : { key: m.key }),
          ...(m.id === undefined ? {} : { id: m.id }),
          ...(m.headers === undefined ? {} : { headers: { ...m.headers } }),
        })),
      );
      return results.map((r) => ({ id: r.id, duplicate: false, seq: r.offset }));
    },
    close: async () => {},
  };
}
