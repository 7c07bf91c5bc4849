// Projection: an event-sourced read model folded from a topic, with snapshot checkpoints; defineProjection.
import { z } from 'zod';
import type { Backend, LogEvent } from '../../backend/Backend.ts';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import { clockSchema, fnSchema } from '../../resilience/options.ts';
import { backendSchema, nameSchema } from '../options.ts';

/** Definition of a {@link Projection}. */
export interface ProjectionDefinition<S, E = unknown> {
  /** The projection name: names its consumer group and snapshot topic. */
  name: string;
  /** Where the source topic lives (and checkpoints are stored). */
  backend: Backend;
  /** The event topic the read model is built from. */
  topic: string;
  /** The empty state; a function is called for a fresh one, a value is deep-copied. */
  initial: S | (() => S);
  /** Applies one event. May mutate and return `state`, or return a new one. */
  reduce(state: S, event: LogEvent<E>): S | Promise<S>;
  /** Events read per call. Default 500. */
  batchSize?: number;
  /** Checkpoint after this many applied events (and at the end of every catch-up). Default 1000. */
  checkpointEvery?: number;
  /**
   * Store the state with each checkpoint (as the last event of the topic
   * `sluice.projection.<name>`), so a restart resumes from it. `false` keeps only the offsets
   * (for lag monitoring): a new instance then rebuilds from offset 0. Default `true`.
   */
  snapshots?: boolean;
  /** Time source of {@link Projection.run}'s polling. Default `systemClock`. */
  clock?: Clock;
}

/** A checkpoint as stored in the snapshot topic. */
interface Snapshot<S> {
  readonly topic: string;
  readonly offsets: number[];
  readonly state: S;
}

const definitionSchema = z.object({
  name: nameSchema,
  backend: backendSchema,
  topic: nameSchema,
  initial: z.unknown(),
  reduce: fnSchema(),
  batchSize: z.number().int('an integer >= 1').min(1, 'an integer >= 1').optional(),
  checkpointEvery: z.number().int('an integer >= 1').min(1, 'an integer >= 1').optional(),
  snapshots: z.boolean('a boolean').optional(),
  clock: clockSchema.optional(),
});

/**
 * An event-sourced read model: the state is a fold of `reduce` over the events of a topic.
 * {@link catchUp} applies the events appended since the last call; {@link rebuild} starts over
 * from offset 0. Each partition is read in offset order from its own offset; partitions are
 * applied one after the other, so **only the order within a partition is guaranteed** — route
 * events that must be ordered relative to each other to one partition (same key), and the
 * state after a rebuild equals the state built incrementally.
 *
 * Checkpoints commit the projection's offsets with `backend.commit` (group
 * `sluice.projection.<name>`, so lag is visible like any consumer's) after storing a snapshot
 * of the state. Built only on the {@link Backend} contract.
 *
 * @example
 * ```ts
 * const balances = defineProjection({
 *   name: 'balances',
 *   backend,
 *   topic: 'ledger',
 *   initial: () => ({} as Record<string, number>),
 *   reduce: (s, e) => {
 *     const { account, amount } = e.payload as { account: string; amount: number };
 *     s[account] = (s[account] ?? 0) + amount;
 *     return s;
 *   },
 * });
 * const state = await balances.catchUp();
 * ```
 */
export class Projection<S, E = unknown> {
  /** The projection name. */
  readonly name: string;
  /** The source topic. */
  readonly topic: string;
  /** The consumer group its offsets are committed under. */
  readonly group: string;
  /** The topic holding its snapshots. */
  readonly snapshotTopic: string;

  private readonly backend: Backend;
  private readonly def: ProjectionDefinition<S, E>;
  private readonly batchSize: number;
  private readonly checkpointEvery: number;
  private readonly snapshots: boolean;
  private readonly clock: Clock;
  private current: S;
  private positions: number[] = [];
  private loaded = false;
  private sinceCheckpoint = 0;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(definition: ProjectionDefinition<S, E>) {
    validate(definitionSchema, definition, 'defineProjection');
    this.def = definition;
    this.name = definition.name;
    this.topic = definition.topic;
    this.backend = definition.backend;
    this.group = `sluice.projection.${definition.name}`;
    this.snapshotTopic = `sluice.projection.${definition.name}`;
    this.batchSize = definition.batchSize ?? 500;
    this.checkpointEvery = definition.checkpointEvery ?? 1000;
    this.snapshots = definition.snapshots ?? true;
    this.clock = definition.clock ?? systemClock;
    this.current = this.initialState();
  }

  /** The current state (as of the last catch-up). */
  get state(): S {
    return this.current;
  }

  /** The next offset to apply, per partition. */
  get offsets(): readonly number[] {
    return [...this.positions];
  }

  /**
   * Applies every event appended since the last call (after restoring the latest snapshot on
   * first use), checkpoints, and returns the state. Calls are serialized.
   */
  catchUp(options: { signal?: AbortSignal } = {}): Promise<S> {
    return this.serialized(async () => {
      await this.loadOnce();
      await this.apply(options.signal);
      return this.current;
    });
  }

  /** Forgets the state and replays the whole topic from offset 0, then checkpoints. */
  rebuild(options: { signal?: AbortSignal } = {}): Promise<S> {
    return this.serialized(async () => {
      this.loaded = true;
      this.current = this.initialState();
      this.positions = [];
      this.sinceCheckpoint = 0;
      await this.apply(options.signal, true);
      return this.current;
    });
  }

  /** Stores a checkpoint now (snapshot, then offsets). */
  checkpoint(): Promise<void> {
    return this.serialized(() => this.writeCheckpoint());
  }

  /** Events not yet applied, summed over partitions. */
  async lag(): Promise<number> {
    const info = await this.backend.topicInfo(this.topic);
    if (info === undefined) return 0;
    let lag = 0;
    for (let p = 0; p < info.partitions; p++) {
      lag += (await this.backend.endOffset(this.topic, p)) - (this.positions[p] ?? 0);
    }
    return lag;
  }

  /**
   * Keeps the projection up to date until `signal` aborts: catches up, then waits for an
   * append notification (`backend.watch`, when available) or `interval`, and repeats.
   * Resolves when aborted.
   */
  async run(options: { signal: AbortSignal; interval?: Duration }): Promise<void> {
    const signal = options.signal;
    const interval = parseDuration(options.interval ?? '1s', 'run.interval');
    let wake: (() => void) | undefined;
    let pending = false;
    const unwatch = this.backend.watch?.(this.topic, () => {
      pending = true;
      wake?.();
    });
    try {
      while (!signal.aborted) {
        pending = false;
        await this.catchUp({ signal }).catch((e: unknown) => {
          if (!signal.aborted) throw e;
        });
        if (signal.aborted || pending) continue;
        await new Promise<void>((resolve) => {
          const onAbort = () => done();
          const timer = this.clock.setTimeout(() => done(), interval);
          const done = () => {
            this.clock.clearTimeout(timer);
            signal.removeEventListener('abort', onAbort);
            wake = undefined;
            resolve();
          };
          wake = done;
          signal.addEventListener('abort', onAbort, { once: true });
        });
      }
    } finally {
      unwatch?.();
    }
  }

  private async apply(signal: AbortSignal | undefined, forceCheckpoint = false): Promise<void> {
    const info = await this.backend.topicInfo(this.topic);
    if (info === undefined) return;
    for (let q = 0; q < info.partitions; q++) this.positions[q] ??= 0;
    let applied = 0;
    for (let p = 0; p < info.partitions; p++) {
      for (;;) {
        throwIfAborted(signal, `projection "${this.name}"`);
        const from = this.positions[p] ?? 0;
        const batch = await this.backend.read(this.topic, p, from, this.batchSize);
        for (const ev of batch) {
          this.current = await this.def.reduce(this.current, ev as LogEvent<E>);
          this.positions[p] = ev.offset + 1;
        }
        applied += batch.length;
        this.sinceCheckpoint += batch.length;
        if (this.sinceCheckpoint >= this.checkpointEvery) await this.writeCheckpoint();
        if (batch.length < this.batchSize) break;
      }
    }
    if (applied > 0 || this.sinceCheckpoint > 0 || forceCheckpoint) await this.writeCheckpoint();
  }

  private async writeCheckpoint(): Promise<void> {
    if (this.snapshots) {
      await this.backend.ensureTopic(this.snapshotTopic, { partitions: 1 });
      const snapshot: Snapshot<S> = { topic: this.topic, offsets: [...this.positions], state: this.current };
      await this.backend.append(this.snapshotTopic, [{ payload: snapshot, partition: 0 }]);
    }
    for (let p = 0; p < this.positions.length; p++) {
      await this.backend.commit(this.group, this.topic, p, this.positions[p] ?? 0);
    }
    this.sinceCheckpoint = 0;
  }

  private async loadOnce(): Promise<void> {
    if (this.loaded) return;
    if (this.snapshots && (await this.backend.topicInfo(this.snapshotTopic)) !== undefined) {
      const end = await this.backend.endOffset(this.snapshotTopic, 0);
      if (end > 0) {
        const [last] = await this.backend.read(this.snapshotTopic, 0, end - 1, 1);
        const snap = last?.payload as Snapshot<S> | undefined;
        if (snap !== undefined && snap.topic === this.topic && Array.isArray(snap.offsets)) {
          this.current = snap.state;
          this.positions = [...snap.offsets];
        }
      }
    }
    this.loaded = true;
  }

  private initialState(): S {
    const init = this.def.initial;
    return typeof init === 'function' ? (init as () => S)() : structuredClone(init);
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

/**
 * Defines a {@link Projection}.
 *
 * @example
 * ```ts
 * const counts = defineProjection({ name: 'counts', backend, topic: 'clicks', initial: { n: 0 }, reduce: (s) => ({ n: s.n + 1 }) });
 * await counts.catchUp();
 * ```
 */
export function defineProjection<S, E = unknown>(definition: ProjectionDefinition<S, E>): Projection<S, E> {
  return new Projection(definition);
}
