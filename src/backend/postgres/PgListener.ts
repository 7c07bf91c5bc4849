// The PostgreSQL LISTEN connection behind watch(): connect, listen, deliver notifications, reconnect with backoff.
import pg from 'pg';
import type { Clock, Timer } from '../../core/Clock.ts';
import { quoteIdent } from './migrations.ts';

/**
 * Lifecycle of a {@link PgListener}: `idle` before the first watcher, `connecting` while a
 * connection and its `LISTEN` are under way, `listening` when notifications flow, `backoff`
 * while waiting to reconnect after a lost connection, `closed` for good.
 */
export type PgListenerState = 'idle' | 'connecting' | 'listening' | 'backoff' | 'closed';

/** Reconnection delays of a {@link PgListener}: exponential from `initialMs` up to `maxMs`, with jitter. */
export interface ReconnectDelays {
  readonly initialMs: number;
  readonly maxMs: number;
}

/**
 * One dedicated connection (outside the pool) that `LISTEN`s on a channel and hands each
 * notification payload to `onNotify`. When the connection is lost (server restart, network) it
 * reconnects with exponential backoff on the injected clock and `LISTEN`s again, until
 * {@link close}. Notifications sent while it was disconnected are lost: they are wake-up hints
 * only, and readers poll anyway.
 */
export class PgListener {
  private lifecycle: PgListenerState = 'idle';
  private client: pg.Client | undefined;
  private timer: Timer | undefined;
  private attempt = 0;
  private waiters: (() => void)[] = [];
  private connectsDone = 0;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly channel: string,
    private readonly clock: Clock,
    private readonly delays: ReconnectDelays,
    private readonly onNotify: (payload: string) => void,
  ) {}

  /** The current state. */
  get state(): PgListenerState {
    return this.lifecycle;
  }

  /** How many times a `LISTEN` connection was established (1 after the first, +1 per reconnect). */
  get connects(): number {
    return this.connectsDone;
  }

  /** The server process id of the listening session, when listening (for diagnostics). */
  get processId(): number | undefined {
    return this.lifecycle === 'listening'
      ? (this.client as unknown as { processID?: number } | undefined)?.processID
      : undefined;
  }

  /** Starts listening (idempotent). */
  start(): void {
    if (this.lifecycle !== 'idle') return;
    void this.connect();
  }

  /**
   * Resolves once a connection attempt in progress has ended (listening or failed). Appends wait
   * for it so that a watcher registered just before an append in the same process sees it;
   * it never waits through a backoff.
   */
  settled(): Promise<void> {
    if (this.lifecycle !== 'connecting') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Stops listening and closes the connection; idempotent. */
  async close(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'closed';
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.wake();
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await client.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'connecting';
    const client = new pg.Client(this.config);
    this.client = client;
    client.on('error', (e) => this.lost(client, e));
    client.on('end', () => this.lost(client));
    client.on('notification', (msg) => {
      if (msg.channel === this.channel && msg.payload !== undefined) this.onNotify(msg.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch (e) {
      this.lost(client, e);
      return;
    }
    if (this.client !== client) return;
    this.lifecycle = 'listening';
    this.attempt = 0;
    this.connectsDone += 1;
    this.wake();
  }

  /** Handles the loss of `client` (once): drops it and schedules a reconnection. */
  private lost(client: pg.Client, _cause?: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    // Late errors of the dropped client must not become uncaught exceptions.
    client.removeAllListeners('notification');
    client.on('error', () => {});
    client.end().catch(() => {});
    if (this.lifecycle === 'closed') return;
    this.lifecycle = 'backoff';
    this.wake();
    const cap = Math.min(this.delays.maxMs, this.delays.initialMs * 2 ** Math.min(this.attempt, 30));
    this.attempt += 1;
    // Equal jitter: at least half the delay, so many processes do not reconnect in lockstep.
    const delay = cap / 2 + Math.random() * (cap / 2);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.connect();
    }, delay);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
