import { Redis, type RedisOptions } from 'ioredis';
import { closedError } from '../common/errors.ts';
import { RedisKeys } from './keys.ts';
import { mapRedisError } from './redisErrors.ts';
import { callScript, defineScripts, type ScriptArg, type ScriptName } from './scripts.ts';

/** Lifecycle of a {@link RedisConnection} (and its backend). */
export type RedisBackendState = 'open' | 'closed';

/**
 * Defaults chosen so an outage surfaces fast as `BACKEND_UNAVAILABLE` instead of hanging:
 * - `maxRetriesPerRequest: 0`: a command queued while disconnected fails at the next failed
 *   reconnection attempt (at most `retryStrategy` ms later) instead of waiting for 20 of them;
 * - `autoResendUnfulfilledCommands: false`: a command in flight when the connection drops fails
 *   (its outcome is unknown) rather than being sent twice;
 * - reconnection forever, every 100 ms growing to 1 s; `commandTimeout` bounds a hung server.
 */
export const DEFAULT_REDIS_OPTIONS: RedisOptions = {
  maxRetriesPerRequest: 0,
  enableOfflineQueue: true,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (times: number) => Math.min(100 * times, 1000),
  connectTimeout: 5000,
  commandTimeout: 10_000,
  enableAutoPipelining: true,
  connectionName: 'sluice',
};

/** Connection settings of {@link RedisConnection}. */
export interface RedisConnectionOptions {
  readonly url: string | undefined;
  readonly redis: RedisOptions | undefined;
  readonly prefix: string;
}

/**
 * The connections of one Redis backend: a command connection with every Lua script registered,
 * and — created on the first `watch()` — a subscriber connection for append notifications.
 * ioredis reconnects both after an outage; the subscriber subscribes again to every watched
 * topic whenever it becomes ready.
 */
export class RedisConnection {
  readonly client: Redis;
  readonly keys: RedisKeys;
  /** The last connection error reported by ioredis (for diagnostics). */
  lastError: Error | undefined;

  private lifecycle: RedisBackendState = 'open';
  private subscriber: Redis | undefined;
  private readonly watchers = new Map<string, Set<(partition: number) => void>>();
  /** Subscriptions sent but not yet confirmed; appends wait for them so watch-then-append is ordered. */
  private readonly pendingSubscriptions = new Set<Promise<void>>();

  constructor(options: RedisConnectionOptions) {
    this.keys = new RedisKeys(options.prefix);
    const merged: RedisOptions = { ...DEFAULT_REDIS_OPTIONS, ...options.redis };
    this.client = options.url === undefined ? new Redis(merged) : new Redis(options.url, merged);
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
   * `BACKEND_UNAVAILABLE`, validation errors passed through.
   */
  async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.ensureOpen();
    try {
      return await fn();
    } catch (e) {
      throw mapRedisError(e, what);
    }
  }

  /** Calls a registered Lua script. */
  script(name: ScriptName, keys: readonly string[], args: readonly ScriptArg[]): Promise<unknown> {
    return callScript(this.client, name, keys, args);
  }

  /** Resolves when every subscription requested so far was confirmed (or failed). */
  async subscriptionsSettled(): Promise<void> {
    if (this.pendingSubscriptions.size === 0) return;
    await Promise.allSettled([...this.pendingSubscriptions]);
  }

  /** Subscribes `onAppend` to append notifications of `topic`; returns the unsubscribe function. */
  watch(topic: string, onAppend: (partition: number) => void): () => void {
    this.ensureOpen();
    const channel = this.keys.channel(topic);
    let set = this.watchers.get(channel);
    if (set === undefined) {
      set = new Set();
      this.watchers.set(channel, set);
      this.subscribe([channel]);
    }
    // Wrap so the same function can be subscribed twice and unsubscribed independently.
    const entry = (p: number) => onAppend(p);
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

  private subscriberClient(): Redis {
    if (this.subscriber !== undefined) return this.subscriber;
    const sub = this.client.duplicate({
      enableAutoPipelining: false,
      connectionName: 'sluice-watch',
    });
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
    for (const part of message.split(',')) {
      const p = Number(part);
      if (!Number.isSafeInteger(p)) continue;
      for (const fn of listeners) {
        if (!set.has(fn)) continue;
        try {
          fn(p);
        } catch (e) {
          console.error(e);
        }
      }
    }
  }
}

/** QUIT when connected (bounded by a short timeout), otherwise drop the socket. */
async function quit(client: Redis): Promise<void> {
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
