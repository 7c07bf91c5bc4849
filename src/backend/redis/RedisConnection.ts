// RedisConnection: one Redis backend's command and subscriber connections (one server or a Redis Cluster) and the per-call deadline.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { type CallDeadline, DEFAULT_CALL_TIMEOUT_MS, withCallDeadline } from '../common/callDeadline.ts';
import { closedError } from '../common/errors.ts';
import { RedisKeys } from './keys.ts';
import { mapRedisError } from './redisErrors.ts';
import { callScript, defineScripts, SCRIPTS, type ScriptArg, type ScriptName } from './scripts.ts';

/** Lifecycle of a {@link RedisConnection} (and its backend). */
export type RedisBackendState = 'open' | 'closed';

/**
 * Defaults chosen so an outage surfaces fast as `BACKEND_UNAVAILABLE` instead of hanging:
 * - `maxRetriesPerRequest: 0`: a command queued while disconnected fails at the next failed
 *   reconnection attempt (at most `retryStrategy` ms later) instead of waiting for 20 of them;
 * - `autoResendUnfulfilledCommands: false`: a command in flight when the connection drops fails
 *   (its outcome is unknown) rather than being sent twice;
 * - reconnection forever, every 100 ms growing to 1 s; `commandTimeout` (set to the backend's
 *   `callTimeoutMs`) bounds each command against a hung server, and the call deadline bounds the
 *   whole call (several commands, a wait in the offline queue).
 */
export const DEFAULT_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 0,
  enableOfflineQueue: true,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (times: number) => Math.min(100 * times, 1000),
  connectTimeout: 5000,
  commandTimeout: DEFAULT_CALL_TIMEOUT_MS,
  enableAutoPipelining: true,
  connectionName: 'sluice',
};

/**
 * Defaults of the cluster client, for the same "fail fast, reconnect forever" behaviour: a
 * command is redirected after `MOVED`/`ASK` and retried (up to `maxRedirections` times, every
 * 100 ms) on `CLUSTERDOWN` and `TRYAGAIN` while a failover is under way; a node that is lost
 * is dropped and the slot map is fetched again, so commands go to the promoted replica.
 */
export const DEFAULT_CLUSTER_OPTIONS: ClusterOptions = {
  enableOfflineQueue: true,
  enableAutoPipelining: true,
  retryDelayOnFailover: 100,
  retryDelayOnClusterDown: 100,
  retryDelayOnTryAgain: 100,
  retryDelayOnMoved: 0,
  maxRedirections: 16,
  slotsRefreshTimeout: 2000,
  clusterRetryStrategy: (times: number) => Math.min(100 * times, 1000),
  scaleReads: 'master',
};

/** A node of a Redis Cluster to connect to first (the others are discovered). */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

/** Connection settings of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  readonly url: string | undefined;
  readonly redis: RedisOptions | undefined;
  /** Startup nodes of a Redis Cluster; the backend then uses the cluster key layout. */
  readonly cluster: readonly RedisClusterNode[] | undefined;
  /** ioredis cluster options over {@link DEFAULT_CLUSTER_OPTIONS}. */
  readonly clusterOptions: ClusterOptions | undefined;
  readonly prefix: string;
  /** Deadline of one backend call in ms (see {@link DEFAULT_CALL_TIMEOUT_MS}). */
  readonly callTimeoutMs?: number | undefined;
}

/** The command client: one server or a cluster. */
export type RedisClient = Redis | Cluster;

/**
 * The connections of one Redis backend: a command connection with every Lua script registered,
 * and — created on the first `watch()` — a subscriber connection for append notifications.
 * ioredis reconnects both after an outage; the subscriber subscribes again to every watched
 * topic whenever it becomes ready.
 */
export class RedisConnection {
  readonly client: RedisClient;
  readonly keys: RedisKeys;
  /** Whether the client is a Redis Cluster client (and the keys use the cluster layout). */
  readonly isCluster: boolean;
  /** The last connection error reported by ioredis (for diagnostics). */
  lastError: Error | undefined;

  private lifecycle: RedisBackendState = 'open';
  private subscriber: RedisClient | undefined;
  private readonly watchers = new Map<string, Set<AppendListener>>();
  /** Subscriptions sent but not yet confirmed; appends wait for them so watch-then-append is ordered. */
  private readonly pendingSubscriptions = new Set<Promise<void>>();
  private readonly deadline: CallDeadline;
  /** When the command connection was last dropped for a missed deadline (`Date.now()`). */
  private droppedAt = Number.NEGATIVE_INFINITY;

  constructor(options: RedisConnectionOptions) {
    this.isCluster = options.cluster !== undefined;
    this.keys = new RedisKeys(options.prefix, this.isCluster);
    const ms = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.deadline = { kind: 'redis', ms };
    const merged: RedisOptions = {
      ...DEFAULT_REDIS_OPTIONS,
      commandTimeout: ms,
      connectTimeout: Math.min(DEFAULT_REDIS_OPTIONS.connectTimeout ?? 5000, ms),
      ...options.redis,
    };
    if (options.cluster !== undefined) {
      // Per-node connections never reconnect by themselves: the cluster client drops a lost
      // node and follows the new slot map instead.
      const { retryStrategy: _retry, enableAutoPipelining: _auto, ...node } = merged;
      const user = options.clusterOptions;
      this.client = new Cluster(
        options.cluster.map((n) => ({ host: n.host, port: n.port })),
        {
          ...DEFAULT_CLUSTER_OPTIONS,
          ...user,
          // ioredis routes an auto-pipelined script by its first argument, which is the key
          // count, not a key: scripts of different nodes would share a pipeline. Scripts are
          // sent one by one (each to its key's node); plain commands are still pipelined.
          autoPipeliningIgnoredCommands: [
            ...Object.keys(SCRIPTS),
            ...(user?.autoPipeliningIgnoredCommands ?? []),
          ],
          redisOptions: node,
        },
      );
    } else {
      this.client = options.url === undefined ? new Redis(merged) : new Redis(options.url, merged);
    }
    this.client.on('error', (e: Error) => {
      this.lastError = e;
    });
    defineScripts(this.client);
  }

  /** `open` until {@link close}. */
  get state(): RedisBackendState {
    return this.lifecycle;
  }

  /** The ioredis status of the command connection (`ready`, `reconnecting`, ...). */
  get status(): string {
    return this.client.status;
  }

  /** Throws `CLOSED` after {@link close}. */
  ensureOpen(): void {
    if (this.lifecycle === 'closed') throw closedError('redis');
  }

  /**
   * Runs one operation: `CLOSED` after close, connection failures mapped to
   * `BACKEND_UNAVAILABLE`, validation errors passed through. The whole operation answers within
   * the call deadline or rejects with `BACKEND_UNAVAILABLE`; a missed deadline drops the command
   * connection (ioredis reconnects at once), so no later call queues behind a hung socket.
   */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.ensureOpen();
    try {
      return await withCallDeadline(this.deadline, what, fn, () => this.dropHungConnection());
    } catch (e) {
      throw mapRedisError(e, what);
    }
  }

  /** Reconnects the command connection after a missed deadline, at most once per deadline period. */
  private dropHungConnection(): void {
    const now = Date.now();
    if (this.lifecycle === 'closed' || now - this.droppedAt < this.deadline.ms) return;
    this.droppedAt = now;
    this.client.disconnect(true);
  }

  /** Calls a registered Lua script. */
  script(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    return callScript(this.client, name, keys, args);
  }

  /**
   * Every key matching `pattern`: one SCAN on a single server, a SCAN on every master of a
   * cluster (each master holds its own slots).
   */
  async scanKeys(pattern: string): Promise<string[]> {
    const nodes = this.client instanceof Cluster ? this.client.nodes('master') : [this.client];
    const out: string[] = [];
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        out.push(...keys);
      } while (cursor !== '0');
    }
    return out;
  }

  /** Resolves when every subscription requested so far was confirmed (or failed). */
  async subscriptionsSettled(): Promise<void> {
    if (this.pendingSubscriptions.size === 0) return;
    await Promise.allSettled([...this.pendingSubscriptions]);
  }

  /** Subscribes `onAppend` to append notifications of `topic`; returns the unsubscribe function. */
  watch(topic: string, onAppend: AppendListener): () => void {
    this.ensureOpen();
    const channel = this.keys.channel(topic);
    let set = this.watchers.get(channel);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(channel, set);
      this.subscribe([channel]);
    }
    // Wrap so the same function can be subscribed twice and unsubscribed independently.
    const entry: AppendListener = (p, fresh) => onAppend(p, fresh);
    set.add(entry);
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const s = this.watchers.get(channel);
      if (s === undefined) return;
      s.delete(entry);
      if (s.size > 0) return;
      this.watchers.delete(channel);
      if (this.subscriber !== undefined && this.lifecycle === 'open') {
        this.subscriber.unsubscribe(channel).catch(() => {});
      }
    };
  }

  /** Closes both connections (politely when connected). Idempotent. */
  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    this.watchers.clear();
    const clients = this.subscriber === undefined ? [this.client] : [this.client, this.subscriber];
    await Promise.allSettled(clients.map(quit));
  }

  private subscriberClient(): RedisClient {
    if (this.subscriber !== undefined) return this.subscriber;
    const sub =
      this.client instanceof Cluster
        ? this.client.duplicate(undefined, { enableAutoPipelining: false })
        : this.client.duplicate({ enableAutoPipelining: false, connectionName: 'sluice-watch' });
    sub.on('error', (e: Error) => {
      this.lastError = e;
    });
    sub.on('message', (channel: string, message: string) => this.deliver(channel, message));
    // After a reconnection (or a subscription that failed while the server was down),
    // subscribe again to every watched channel. SUBSCRIBE is idempotent.
    sub.on('ready', () => {
      if (this.lifecycle === 'closed' || this.watchers.size === 0) return;
      this.subscribe([...this.watchers.keys()]);
    });
    this.subscriber = sub;
    return sub;
  }

  private subscribe(channels: string[]): void {
    const sub = this.subscriberClient();
    const p: Promise<void> = sub.subscribe(...channels).then(
      () => {
        this.pendingSubscriptions.delete(p);
      },
      () => {
        // Retried on the next 'ready'; the notification is only a hint.
        this.pendingSubscriptions.delete(p);
      },
    );
    this.pendingSubscriptions.add(p);
  }

  private deliver(channel: string, message: string): void {
    const set = this.watchers.get(channel);
    if (set === undefined || set.size === 0) return;
    const listeners = [...set];
    const { partitions, fresh } = parseAppendMessage(message);
    for (const p of partitions) {
      const events = fresh?.get(p);
      for (const fn of listeners) {
        if (!set.has(fn)) continue;
        try {
          fn(p, events);
        } catch (e) {
          console.error(e);
        }
      }
    }
  }
}

/**
 * A watcher of a topic's appends: the partition, and — when the append script could carry them —
 * the events appended to it as `[offset, encoded event]` in offset order.
 */
export type AppendListener = (partition: number, fresh?: readonly (readonly [number, string])[]) => void;

/**
 * Parses an append notification: `"2,5"` (the touched partitions), optionally followed by `",\n"`
 * and a JSON list of `[partition, offset, encoded]` for the new events. A malformed data part
 * only loses the events (the partitions still wake their readers, who then read).
 */
export function parseAppendMessage(message: string): {
  partitions: number[];
  fresh: Map<number, [number, string][]> | undefined;
} {
  const cut = message.indexOf(',\n');
  const head = cut < 0 ? message : message.slice(0, cut);
  const partitions: number[] = [];
  for (const part of head.split(',')) {
    const p = Number(part);
    if (Number.isSafeInteger(p) && p >= 0) partitions.push(p);
  }
  if (cut < 0) return { partitions, fresh: undefined };
  let fresh: Map<number, [number, string][]> | undefined = new Map();
  try {
    for (const entry of JSON.parse(message.slice(cut + 2)) as unknown[]) {
      const [p, off, enc] = entry as [unknown, unknown, unknown];
      const partition = Number(p);
      const offset = Number(off);
      if (!Number.isSafeInteger(partition) || !Number.isSafeInteger(offset) || typeof enc !== 'string') {
        throw new Error('bad entry');
      }
      const list = fresh.get(partition) ?? [];
      list.push([offset, enc]);
      fresh.set(partition, list);
    }
    for (const list of fresh.values()) list.sort((a, b) => a[0] - b[0]);
  } catch {
    fresh = undefined;
  }
  return { partitions, fresh };
}

/** QUIT when connected (bounded by a short timeout), otherwise drop the socket. */
async function quit(client: RedisClient): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      client.quit(),
      new Promise<void>((_, reject) => {
        timer = setTimeout(() => reject(new Error('QUIT timed out')), 1000);
      }),
    ]);
  } catch {
    client.disconnect();
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
