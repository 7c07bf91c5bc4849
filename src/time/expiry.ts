// ExpiryGate: finds events past their TTL where they are handed to handlers, and dead-letters them as EXPIRED.
import type { Backend, LogEvent } from '../backend/Backend.ts';
import { EXPIRES_AT_HEADER } from '../backend/common/timed.ts';
import type { Clock } from '../core/Clock.ts';
import { SluiceError, serializeError } from '../core/errors.ts';

/**
 * The expiry time of an event: its `sluice-expires-at` header (from `ttl` at append), else its
 * timestamp plus the topic's default TTL, else `undefined` (never expires).
 */
export function expiresAt(event: LogEvent, topicTtlMs: number | null): number | undefined {
  const h = event.headers?.[EXPIRES_AT_HEADER];
  if (h !== undefined) {
    const at = Number(h);
    if (Number.isFinite(at)) return at;
  }
  return topicTtlMs === null ? undefined : event.timestamp + topicTtlMs;
}

/**
 * Checks events of one topic against their TTL just before a handler would get them. Call
 * {@link ready} once before use (it loads the topic's default TTL), then {@link expired} per event
 * (synchronous), and {@link deadLetter} for the expired ones: they go to the backend's DLQ with
 * error code `EXPIRED` and are never handed to the handler.
 * @internal Used by the pipeline's topic source and the runner's partition worker.
 */
export class ExpiryGate {
  private ttl: number | null = null;
  private loaded: Promise<void> | undefined;

  constructor(
    private readonly backend: Backend,
    private readonly topic: string,
    /** DLQ source (the consumer group). */
    private readonly source: string,
    private readonly clock: Clock,
  ) {}

  /** Loads the topic's default TTL (once; later calls return the same promise). */
  ready(): Promise<void> {
    this.loaded ??= (async () => {
      this.ttl = (await this.backend.delayed?.topicTtl(this.topic)) ?? null;
    })();
    return this.loaded;
  }

  /** Whether the event is past its TTL now. */
  expired(event: LogEvent): boolean {
    if (event.headers === undefined && this.ttl === null) return false;
    const at = expiresAt(event, this.ttl);
    return at !== undefined && this.clock.now() >= at;
  }

  /** Dead-letters the expired events of a batch and returns the others, in order. */
  async drop<T>(events: readonly LogEvent<T>[]): Promise<LogEvent<T>[]> {
    const live: LogEvent<T>[] = [];
    for (const e of events) {
      if (this.expired(e)) await this.deadLetter(e);
      else live.push(e);
    }
    return live;
  }

  /** Puts an expired event into the DLQ with code `EXPIRED`. */
  async deadLetter(event: LogEvent): Promise<void> {
    const at = expiresAt(event, this.ttl);
    const error = new SluiceError(
      'EXPIRED',
      `Event ${event.id} expired at ${new Date(at ?? 0).toISOString()} before it was processed`,
      {
        context: { topic: event.topic, partition: event.partition, offset: event.offset, expiresAt: at },
      },
    );
    await this.backend.dlq.put({
      id: event.id,
      source: this.source,
      topic: event.topic,
      partition: event.partition,
      offset: event.offset,
      ...(event.key !== undefined ? { key: event.key } : {}),
      payload: event.payload,
      error: serializeError(error),
      attempts: 0,
    });
  }
}
