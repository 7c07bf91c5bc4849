// The delayed-event store contract: events kept aside until due, and each topic's default TTL.

/** One delayed event as stored: validated, with its partition resolved and its id fixed. */
export interface DelayedInput {
  readonly id: string;
  readonly partition: number;
  readonly key: string | undefined;
  /** JSON text of the payload. */
  readonly payload: string;
  /** JSON text of the headers, or `undefined` when there are none. */
  readonly headers: string | undefined;
  /** Due time in ms since epoch. */
  readonly deliverAt: number;
}

/** A delayed event as returned by {@link DelayedStore.due}. */
export interface DelayedEvent<T = unknown> {
  readonly topic: string;
  readonly id: string;
  readonly partition: number;
  readonly key?: string;
  readonly payload: T;
  readonly headers?: Record<string, string>;
  readonly deliverAt: number;
}

/** A count per topic (delayed events waiting, schedules targeting it). */
export interface TopicCount {
  readonly topic: string;
  readonly count: number;
}

/**
 * Delayed events, kept aside until their due time, plus each topic's default TTL. Every built-in
 * backend implements it as `backend.delayed`; `src/backend/conformance/delayed.ts` runs on each.
 *
 * Conventions:
 * - **Time is passed in** (`now`); nothing reads the database's or server's clock.
 * - Events are identified by (topic, id). Adding an id already waiting in the topic adds nothing.
 * - {@link due} lists waiting events with `deliverAt <= now`, ordered by due time, then by the order
 *   they were added (so events of one key due at the same time keep their append order).
 * - Releasing is done by the caller (the scheduler): it appends the due events to their topic with
 *   their ids — the topic's idempotent append makes a second release a no-op — then
 *   {@link remove}s them. A crash between the two releases them again, harmlessly.
 */
export interface DelayedStore {
  /** Stores delayed events of `topic` in input order (ids already waiting are skipped). */
  add(topic: string, events: readonly DelayedInput[]): Promise<void>;
  /** Up to `limit` waiting events due at `now`, oldest due first (then in add order). */
  due(now: number, limit: number): Promise<DelayedEvent[]>;
  /** The earliest due time of any waiting event, or `null` when none waits. */
  nextDueAt(): Promise<number | null>;
  /** Removes the given events (after they were appended). Returns how many were removed. */
  remove(events: readonly { readonly topic: string; readonly id: string }[]): Promise<number>;
  /** Waiting events per topic, in topic name order (topics with none are left out). */
  counts(): Promise<TopicCount[]>;
  /** Sets (or with `null` clears) the default TTL in ms of a topic's events. */
  setTopicTtl(topic: string, ttlMs: number | null): Promise<void>;
  /** The default TTL in ms of a topic's events, or `null` when none is set. */
  topicTtl(topic: string): Promise<number | null>;
}
