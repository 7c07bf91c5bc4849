// In-memory DelayedStore: waiting events in a map by (topic, id), due ones found by a sorted scan.

import { checkName } from '../common/args.ts';
import { decodeJson } from '../common/json.ts';
import {
  checkDelayedInputs,
  checkLimit,
  checkTime,
  checkTtlOrNull,
  countByTopic,
} from '../common/timeArgs.ts';
import type { DelayedEvent, DelayedInput, DelayedStore, TopicCount } from '../DelayedStore.ts';

interface Waiting {
  readonly topic: string;
  readonly input: DelayedInput;
  readonly seq: number;
}

function byDue(a: Waiting, b: Waiting): number {
  return a.input.deliverAt - b.input.deliverAt || a.seq - b.seq;
}

/** In-memory {@link DelayedStore}; part of `MemoryBackend`. */
export class MemoryDelayed implements DelayedStore {
  private readonly waiting = new Map<string, Waiting>();
  private readonly ttls = new Map<string, number>();
  private seq = 0;
  /** Sorted view of {@link waiting}, rebuilt lazily after an add. */
  private sorted: Waiting[] | undefined = [];

  constructor(private readonly ensureOpen: () => void) {}

  async add(topic: string, events: readonly DelayedInput[]): Promise<void> {
    this.ensureOpen();
    checkDelayedInputs(topic, events);
    for (const e of events) {
      const id = `${topic}\u0000${e.id}`;
      if (this.waiting.has(id)) continue;
      this.waiting.set(id, { topic, input: { ...e }, seq: this.seq++ });
      this.sorted = undefined;
    }
  }

  async due(now: number, limit: number): Promise<DelayedEvent[]> {
    this.ensureOpen();
    checkTime('now', now);
    checkLimit(limit);
    const out: DelayedEvent[] = [];
    for (const w of this.view()) {
      if (w.input.deliverAt > now || out.length >= limit) break;
      const e = w.input;
      out.push({
        topic: w.topic,
        id: e.id,
        partition: e.partition,
        ...(e.key !== undefined ? { key: e.key } : {}),
        payload: decodeJson(e.payload),
        ...(e.headers !== undefined ? { headers: decodeJson(e.headers) as Record<string, string> } : {}),
        deliverAt: e.deliverAt,
      });
    }
    return out;
  }

  async nextDueAt(): Promise<number | null> {
    this.ensureOpen();
    return this.view()[0]?.input.deliverAt ?? null;
  }

  async remove(events: readonly { readonly topic: string; readonly id: string }[]): Promise<number> {
    this.ensureOpen();
    let n = 0;
    for (const e of events) {
      if (this.waiting.delete(`${e.topic}\u0000${e.id}`)) n++;
    }
    if (n > 0) this.sorted = this.sorted?.filter((w) => this.waiting.has(`${w.topic}\u0000${w.input.id}`));
    return n;
  }

  async counts(): Promise<TopicCount[]> {
    this.ensureOpen();
    return countByTopic([...this.waiting.values()].map((w) => w.topic));
  }

  async setTopicTtl(topic: string, ttlMs: number | null): Promise<void> {
    this.ensureOpen();
    this.setTopicTtlSync(topic, ttlMs);
  }

  /** Synchronous {@link setTopicTtl} (used by `ensureTopic`). */
  setTopicTtlSync(topic: string, ttlMs: number | null): void {
    checkName('topic', topic);
    const ttl = checkTtlOrNull(ttlMs);
    if (ttl === null) this.ttls.delete(topic);
    else this.ttls.set(topic, ttl);
  }

  async topicTtl(topic: string): Promise<number | null> {
    this.ensureOpen();
    return this.ttls.get(topic) ?? null;
  }

  private view(): Waiting[] {
    this.sorted ??= [...this.waiting.values()].sort(byDue);
    return this.sorted;
  }
}
