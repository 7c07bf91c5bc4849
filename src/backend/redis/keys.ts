/**
 * Key names of the Redis backend. Every key starts with `${prefix}:` followed by a kind
 * (`log:`, `ids:`, `lease:`, ...), so two kinds never collide whatever the user-chosen names
 * contain, and everything a backend stores can be found with `SCAN MATCH ${prefix}:*`.
 */
export class RedisKeys {
  /** HASH topic → partition count. */
  readonly topics: string;
  /** ZSET of lease names (score 0) for prefix listing in byte order. */
  readonly leaseIndex: string;
  /** ZSET node → last heartbeat. */
  readonly members: string;
  /** HASH node → meta JSON. */
  readonly memberMeta: string;
  /** HASH node → joinedAt. */
  readonly memberJoined: string;
  /** The dead-letter keys, in the order the DLQ scripts expect them. */
  readonly dlq: DlqKeys;

  constructor(readonly prefix: string) {
    const p = prefix;
    this.topics = `${p}:topics`;
    this.leaseIndex = `${p}:leases`;
    this.members = `${p}:members`;
    this.memberMeta = `${p}:member-meta`;
    this.memberJoined = `${p}:member-joined`;
    this.dlq = {
      index: `${p}:dlq`,
      source: `${p}:dlq-source`,
      topic: `${p}:dlq-topic`,
      meta: `${p}:dlq-meta`,
      payload: `${p}:dlq-payload`,
      error: `${p}:dlq-error`,
      attempts: `${p}:dlq-attempts`,
      count: `${p}:dlq-count`,
      last: `${p}:dlq-last`,
    };
  }

  /** HASH event id → `"partition:offset"` (id deduplication, per topic). */
  ids(topic: string): string {
    return `${this.prefix}:ids:${topic}`;
  }

  /** HASH partition → next offset (the dense offset counter of each partition). */
  next(topic: string): string {
    return `${this.prefix}:next:${topic}`;
  }

  /** HASH offset → encoded event, one per partition. The partition is the last `:` segment. */
  log(topic: string, partition: number): string {
    return `${this.prefix}:log:${topic}:${partition}`;
  }

  /** Pub/sub channel announcing appends to a topic (a wake-up hint). */
  channel(topic: string): string {
    return `${this.prefix}:appended:${topic}`;
  }

  /** HASH `topic \0 partition` → committed offset, per consumer group. */
  offsets(group: string): string {
    return `${this.prefix}:offsets:${group}`;
  }

  /** SET of processed idempotency keys, per consumer group. */
  processed(group: string): string {
    return `${this.prefix}:done:${group}`;
  }

  /** HASH {owner, token, exp} of one lease. */
  lease(name: string): string {
    return `${this.prefix}:lease:${name}`;
  }

  /** The fencing counter of one lease (INCR, never reset). */
  fence(name: string): string {
    return `${this.prefix}:fence:${name}`;
  }

  /** The DLQ keys as a list (script KEYS order). */
  dlqKeyList(): string[] {
    const d = this.dlq;
    return [d.index, d.source, d.topic, d.meta, d.payload, d.error, d.attempts, d.count, d.last];
  }
}

/** Keys of the dead-letter queue: one ZSET for order, one HASH per field (id → value). */
export interface DlqKeys {
  /** ZSET id → first failure time; ties sort by id bytes, i.e. list order. */
  readonly index: string;
  readonly source: string;
  readonly topic: string;
  /** JSON `{partition?, offset?, key?}`. */
  readonly meta: string;
  readonly payload: string;
  readonly error: string;
  readonly attempts: string;
  readonly count: string;
  readonly last: string;
}

/** Field of the offsets hash for one (topic, partition). */
export function offsetField(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

/** Escapes glob metacharacters so a prefix can be used in `SCAN MATCH`. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
