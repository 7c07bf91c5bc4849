// RetentionTrimmer: the background trimmer of a backend, elected through the backend's leases.
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { validate } from '../../core/validate.ts';
import type { Backend, TrimResult } from '../Backend.ts';
import { LeaseElectedLoop, type LoopState } from './LeaseElectedLoop.ts';

/** Options of {@link createTrimmer}. */
export interface TrimmerOptions {
  /** The time source of the interval, the lease and `now` of each trim. Default `systemClock`. */
  clock?: Clock;
  /** Time between two trim rounds in ms (default 60 000). */
  intervalMs?: number;
  /**
   * Time to the next round after a busy one, in ms (default the smaller of `intervalMs` and 50).
   * A round is busy when it removed from some topic at least 1% of the events that topic keeps:
   * appends are outpacing the interval, so the next round comes sooner and a topic overshoots its
   * `maxEvents` by about what is appended during one trim, not during a whole `intervalMs`.
   */
  busyIntervalMs?: number;
  /** TTL of the trimmer lease in ms (default 3 × `intervalMs`). */
  leaseTtlMs?: number;
  /** Lease owner id (default a random UUID); one id per process. */
  owner?: string;
  /** Lease name shared by every trimmer of one backend (default `"sluice:trimmer"`). */
  leaseName?: string;
  /** Called after every round this trimmer ran as the elected one. */
  onTrim?: (results: readonly TrimResult[]) => void;
  /** Called when a round fails (the next round runs as planned). Default: `console.error`. */
  onError?: (error: unknown) => void;
}

const optionsSchema = z.object({
  clock: z
    .custom<Clock>(
      (v) => typeof v === 'object' && v !== null && typeof (v as Clock).now === 'function',
      'a Clock (an object with now())',
    )
    .optional(),
  intervalMs: z.number().int('an integer >= 1').min(1, 'an integer >= 1').optional(),
  busyIntervalMs: z.number().int('an integer >= 1').min(1, 'an integer >= 1').optional(),
  leaseTtlMs: z.number().int('an integer >= 1').min(1, 'an integer >= 1').optional(),
  owner: z.string().min(1, 'a non-empty string').optional(),
  leaseName: z.string().min(1, 'a non-empty string').optional(),
  onTrim: z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', 'a function').optional(),
  onError: z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', 'a function').optional(),
});

/** Lifecycle of a {@link RetentionTrimmer}. */
export type TrimmerState = LoopState;

/**
 * Trims every topic of a backend on an interval. Any number of processes may run one: each
 * round, a trimmer takes (or keeps) the backend lease `leaseName` and trims only while it holds
 * it, so one trimmer works at a time and another takes over when it stops renewing.
 * Each round lists the topics and calls `trim(topic, {now})` with the clock's time, which
 * applies the topic's retention and removes passed idempotency markers.
 *
 * @example
 * ```ts
 * const trimmer = createTrimmer(backend, { intervalMs: 30_000 });
 * // ... later
 * await trimmer.close();
 * ```
 */
export class RetentionTrimmer {
  private readonly loop: LeaseElectedLoop<TrimResult[]>;
  /** Whether the last round removed from some topic at least 1% of what it keeps. */
  private busy = false;

  constructor(
    private readonly backend: Backend,
    options: TrimmerOptions = {},
  ) {
    const o = validate(optionsSchema, options, 'trimmer');
    const intervalMs = o.intervalMs ?? 60_000;
    const busyIntervalMs = o.busyIntervalMs ?? Math.min(intervalMs, 50);
    const clock = o.clock ?? systemClock;
    this.loop = new LeaseElectedLoop<TrimResult[]>({
      backend,
      clock,
      leaseName: o.leaseName ?? 'sluice:trimmer',
      owner: o.owner ?? randomUUID(),
      leaseTtlMs: o.leaseTtlMs ?? 3 * intervalMs,
      firstDelayMs: intervalMs,
      errorDelayMs: intervalMs,
      nextDelay: (results) => (results !== null && this.busy ? busyIntervalMs : intervalMs),
      work: (_lease, still) => this.trimAll(clock, still),
      ...(options.onTrim !== undefined ? { onResult: options.onTrim } : {}),
      onError: options.onError ?? console.error,
    });
  }

  /** `running` until {@link close}. */
  get state(): TrimmerState {
    return this.loop.state;
  }

  /** Whether this trimmer held the lease at its last round. */
  get leader(): boolean {
    return this.loop.leader;
  }

  /**
   * Runs one round now: takes or keeps the lease, then trims every topic. Resolves with the
   * results, or `null` when another trimmer holds the lease (or this one is closed).
   */
  runOnce(): Promise<TrimResult[] | null> {
    return this.loop.runOnce();
  }

  /** Stops the interval, waits for a running round and releases the lease. Idempotent. */
  close(): Promise<void> {
    return this.loop.close();
  }

  private async trimAll(clock: Clock, still: () => boolean): Promise<TrimResult[]> {
    const results: TrimResult[] = [];
    this.busy = false;
    for (const t of await this.backend.retention.list()) {
      if (!still()) break;
      const r = await this.backend.trim(t.topic, { now: clock.now() });
      const ends = new Map(t.offsets.map((o) => [o.partition, o.end]));
      const kept = r.partitions.reduce(
        (n, p) => n + Math.max(0, (ends.get(p.partition) ?? p.firstOffset) - p.firstOffset),
        0,
      );
      if (r.partitions.reduce((n, p) => n + p.removed, 0) >= Math.max(1, kept / 100)) this.busy = true;
      results.push(r);
    }
    return results;
  }
}

/**
 * Starts a background {@link RetentionTrimmer} on `backend`.
 *
 * @example
 * ```ts
 * import { createTrimmer } from 'sluice';
 *
 * const trimmer = createTrimmer(backend, { intervalMs: 60_000, onTrim: (r) => console.log(r) });
 * await trimmer.close();
 * ```
 */
export function createTrimmer(backend: Backend, options: TrimmerOptions = {}): RetentionTrimmer {
  return new RetentionTrimmer(backend, options);
}
