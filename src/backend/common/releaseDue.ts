// One release round of delayed events: append the due ones to their topics by id, then remove them.
import { isSluiceError, type SluiceError, serializeError } from '../../core/errors.ts';
import type { AppendInput, Backend } from '../Backend.ts';
import type { DelayedEvent } from '../DelayedStore.ts';

/** What one {@link releaseDue} round did. */
export interface ReleaseRound {
  /** Events appended to their topic (or found there already, by id). */
  readonly released: number;
  /** Events whose topic no longer exists, moved to the DLQ (source `sluice:scheduler`). */
  readonly deadLettered: number;
  /** Whether more events were due than `limit` (run another round at once). */
  readonly more: boolean;
}

/** Source name of dead letters written by the scheduler. */
export const SCHEDULER_SOURCE = 'sluice:scheduler';

function toInput(e: DelayedEvent): AppendInput {
  return {
    id: e.id,
    partition: e.partition,
    payload: e.payload,
    ...(e.key !== undefined ? { key: e.key } : {}),
    ...(e.headers !== undefined ? { headers: e.headers } : {}),
  };
}

/**
 * Releases up to `limit` delayed events due at `now`: for each topic, appends its due events in
 * due order with their own ids (the topic's idempotent append makes a repeated release a no-op),
 * then removes them from the delayed store. Safe to run from several processes at once and to
 * repeat after a crash: every event lands in its topic exactly once. `stillLeader` is asked
 * before each append; when it says no, the round stops.
 */
export async function releaseDue(
  backend: Backend,
  now: number,
  limit: number,
  stillLeader: () => boolean = () => true,
): Promise<ReleaseRound> {
  const delayed = backend.delayed;
  if (delayed === undefined) return { released: 0, deadLettered: 0, more: false };
  const due = await delayed.due(now, limit);
  const byTopic = new Map<string, DelayedEvent[]>();
  for (const e of due) {
    const list = byTopic.get(e.topic);
    if (list === undefined) byTopic.set(e.topic, [e]);
    else list.push(e);
  }
  let released = 0;
  let deadLettered = 0;
  for (const [topic, events] of byTopic) {
    if (!stillLeader()) return { released, deadLettered, more: true };
    try {
      await backend.append(topic, events.map(toInput));
      released += events.length;
    } catch (e) {
      if (!(isSluiceError(e) && e.code === 'NOT_FOUND')) throw e;
      for (const ev of events) await deadLetterMissing(backend, ev, e);
      deadLettered += events.length;
    }
    await delayed.remove(events.map((e) => ({ topic, id: e.id })));
  }
  return { released, deadLettered, more: due.length >= limit };
}

async function deadLetterMissing(backend: Backend, e: DelayedEvent, cause: SluiceError): Promise<void> {
  await backend.dlq.put({
    id: e.id,
    source: SCHEDULER_SOURCE,
    topic: e.topic,
    partition: e.partition,
    ...(e.key !== undefined ? { key: e.key } : {}),
    payload: e.payload,
    error: serializeError(cause),
    attempts: 0,
  });
}
