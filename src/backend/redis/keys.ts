// Key names of the Redis backend: the single-node layout and the Redis Cluster layout with hash tags.

/**
 * Key names of the Redis backend. Every key starts with `${prefix}:`, so everything a backend
 * stores can be found with `SCAN MATCH ${prefix}:*`, followed by a kind (`log:`, `ids:`,
 * `lease:`, ...), so two kinds never collide whatever the user-chosen names contain.
 *
 * Single node (`cluster: false`): the historical layout, e.g. `shop:topics`, `shop:log:orders:3`,
 * `shop:ids:orders` (one id index and one offset counter per topic).
 *
 * Redis Cluster (`cluster: true`): every key carries a hash tag, so every Lua script touches
 * one slot.
 * - Control keys — topics, consumer offsets, idempotency keys, leases and fencing counters,
 *   membership, dead letters, retention settings and markers — share the tag `{prefix}`:
 *   `shop:{shop}:topics`, `shop:{shop}:offsets:billing`. A fenced commit checks the lease,
 *   advances the offset and records the idempotency keys in one script, so they live together.
 * - Topic keys — every partition's event log, the offset counters, the id index, the first
 *   offsets and a copy of the partition count — share one tag per topic:
 *   `shop:{shop:orders}:log:3`. An append checks ids topic-wide (an id appended again with
 *   another key returns its first position) and writes several partitions in one script, so a
 *   topic's partitions live in one slot; topics spread over the cluster's slots and masters.
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
  /** Start of every control key: `prefix` on a single node, `prefix:{prefix}` on a cluster. */
  readonly base: string;

  constructor(
    readonly prefix: string,
    readonly cluster = false,
  ) {
    const p = cluster ? `${prefix}:{${prefix}}` : prefix;
    this.base = p;
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

  /** Start of the keys of one topic on a cluster (`prefix:{prefix:topic}`). */
  topicBase(topic: string): string {
    return `${this.prefix}:{${this.prefix}:${topic}}`;
  }

  /**
   * HASH topic → partition count that the log scripts check: the topics hash on a single node,
   * the topic's own copy (in the topic's slot) on a cluster.
   */
  topicMeta(topic: string): string {
    return this.cluster ? `${this.topicBase(topic)}:topics` : this.topics;
  }

  /** HASH event id → `"partition:offset"` (id deduplication, per topic). */
  ids(topic: string): string {
    return this.cluster ? `${this.topicBase(topic)}:ids` : `${this.prefix}:ids:${topic}`;
  }

  /** HASH partition → next offset (the dense offset counter of each partition). */
  next(topic: string): string {
    return this.cluster ? `${this.topicBase(topic)}:next` : `${this.prefix}:next:${topic}`;
  }

  /** HASH partition → first available offset (absent = 0). */
  first(topic: string): string {
    return this.cluster ? `${this.topicBase(topic)}:first` : `${this.prefix}:first:${topic}`;
  }

  /** HASH offset → encoded event, one per partition. */
  log(topic: string, partition: number): string {
    return this.cluster
      ? `${this.topicBase(topic)}:log:${partition}`
      : `${this.prefix}:log:${topic}:${partition}`;
  }

  /** Pub/sub channel announcing appends to a topic (a wake-up hint; not a key). */
  channel(topic: string): string {
    return `${this.prefix}:appended:${topic}`;
  }

  /** HASH `topic \0 partition` → committed offset, per consumer group. */
  offsets(group: string): string {
    return `${this.base}:offsets:${group}`;
  }

  /** SET of processed idempotency keys, per consumer group. */
  processed(group: string): string {
    return `${this.base}:done:${group}`;
  }

  /** HASH {owner, token, exp} of one lease. */
  lease(name: string): string {
    return `${this.base}:lease:${name}`;
  }

  /** HASH {gen, body, at} of one published runner group assignment. */
  assignment(name: string): string {
    return `${this.prefix}:assign:${name}`;
  }

  /** The fencing counter of one lease (INCR, never reset). */
  fence(name: string): string {
    return `${this.base}:fence:${name}`;
  }

  /** HASH topic → retention JSON. */
  get retention(): string {
    return `${this.base}:retention`;
  }

  /** ZSET idempotency key → log offset, per (group, topic, partition). */
  markers(group: string, topic: string, partition: number): string {
    return `${this.base}:done-at:${group}\u0000${topic}\u0000${partition}`;
  }

  /** SET of `group \0 partition` having a marker ZSET on `topic`. */
  markerIndex(topic: string): string {
    return `${this.base}:done-index:${topic}`;
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
