// Scheduler: the lease-elected process that releases due delayed events and fires schedule ticks.
import { randomUUID } from 'node:crypto';
import type { Backend } from '../backend/Backend.ts';
import { LeaseElectedLoop, type LoopState } from '../backend/common/LeaseElectedLoop.ts';
import { releaseDue } from '../backend/common/releaseDue.ts';
import type { ScheduleRecord, ScheduleStore } from '../backend/ScheduleStore.ts';
import { type Clock, systemClock } from '../core/Clock.ts';
import { type Duration, durationOr } from '../core/duration.ts';
import { configError } from '../core/errors.ts';
import { type ScheduleOptions, type TickContext, validateSchedule } from './scheduleOptions.ts';
import { planTicks, tickClock, tickId } from './ticks.ts';

/** Options of {@link createScheduler}. */
export interface SchedulerOptions {
  /** The backend holding delayed events, schedules and the scheduler lease. */
  backend: Backend;
  /** Time source of every decision (due times, ticks, the lease). Default `systemClock`. */
  clock?: Clock;
  /** Longest sleep between two rounds (default 250 ms); a round also runs when the next event or tick is due. */
  pollInterval?: Duration;
  /** TTL of the scheduler lease (default 5 s): how long a dead leader blocks the others. */
  leaseTtl?: Duration;
  /** A tick later than this counts as missed and follows the schedule's `missed` policy (default 60 s). */
  missedAfter?: Duration;
  /** Delayed events released per backend call (default 1000). */
  batchSize?: number;
  /** Lease owner id (default a random UUID). */
  owner?: string;
  /** Lease name shared by the schedulers of one backend (default `"sluice:scheduler"`). */
  leaseName?: string;
  /** Called when a round fails; the next round runs as planned. Default `console.error`. */
  onError?: (error: unknown) => void;
}

/** What one round did (as the elected scheduler). */
export interface SchedulerRound {
  /** Delayed events appended to their topics. */
  readonly released: number;
  /** Schedule ticks appended. */
  readonly ticks: number;
}

/** Lifecycle of a {@link Scheduler}. */
export type SchedulerState = LoopState;

/**
 * Appends delayed events when due and fires schedules, in any number of processes: each round a
 * scheduler takes (or keeps) the lease `leaseName` and works only while it holds it. Every append
 * carries a stable id (the delayed event's id; `sluice-schedule:<name>:<tick>` for a tick), so a
 * second scheduler or a repeat after a crash is deduplicated by the topic: each event and each tick
 * lands exactly once.
 */
export class Scheduler {
  private readonly loop: LeaseElectedLoop<SchedulerRound>;
  private readonly clock: Clock;
  private readonly backend: Backend;
  private readonly store: ScheduleStore;
  private readonly pollMs: number;
  private readonly missedAfterMs: number;
  private readonly batchSize: number;
  private readonly produce = new Map<string, (tick: TickContext) => unknown>();
  private readonly abort = new AbortController();

  constructor(private readonly options: SchedulerOptions) {
    const b = options?.backend;
    if (typeof b !== 'object' || b === null || b.delayed === undefined || b.schedules === undefined) {
      throw configError('backend', 'a backend with delayed and schedules stores', b?.kind ?? b);
    }
    this.backend = b;
    this.store = b.schedules;
    this.clock = options.clock ?? systemClock;
    this.pollMs = durationOr(options.pollInterval, 250, 'pollInterval');
    const leaseTtlMs = Math.max(1, Math.round(durationOr(options.leaseTtl, 5000, 'leaseTtl')));
    this.missedAfterMs = durationOr(options.missedAfter, 60_000, 'missedAfter');
    this.batchSize = options.batchSize ?? 1000;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize < 1) {
      throw configError('batchSize', 'an integer >= 1', options.batchSize);
    }
    this.loop = new LeaseElectedLoop<SchedulerRound>({
      backend: b,
      clock: this.clock,
      leaseName: options.leaseName ?? 'sluice:scheduler',
      owner: options.owner ?? randomUUID(),
      leaseTtlMs,
      firstDelayMs: 0,
      errorDelayMs: this.pollMs,
      nextDelay: (r) => (r === null ? this.pollMs : this.nextWait()),
      work: (_lease, still) => this.roundNow(still),
      onError: options.onError ?? console.error,
    });
  }

  /** `running` until {@link close}. */
  get state(): SchedulerState {
    return this.loop.state;
  }

  /** Whether this scheduler held the lease at its last round. */
  get leader(): boolean {
    return this.loop.leader;
  }

  /**
   * Stores a schedule in the backend (replacing one of the same name, which keeps its pause flag
   * and last tick) and registers its `produce` in this process. Throws `CONFIG_INVALID` on bad input.
   */
  async schedule<T>(options: ScheduleOptions<T>): Promise<ScheduleRecord> {
    const { spec, produce } = validateSchedule(options);
    if (produce !== undefined) this.produce.set(spec.name, produce);
    const rec = await this.store.put(spec, this.clock.now());
    this.loop.wake();
    return rec;
  }

  /** Removes a schedule from the backend. Returns false when there was none. */
  async unschedule(name: string): Promise<boolean> {
    this.produce.delete(name);
    return this.store.remove(name);
  }

  /** Runs one round now; resolves with what it did, or `null` when another scheduler leads. */
  runOnce(): Promise<SchedulerRound | null> {
    return this.loop.runOnce();
  }

  /** Stops the rounds, waits for a running one and releases the lease. Idempotent. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.loop.close();
  }

  private async roundNow(still: () => boolean): Promise<SchedulerRound> {
    let released = 0;
    for (;;) {
      const r = await releaseDue(this.backend, this.clock.now(), this.batchSize, still);
      released += r.released + r.deadLettered;
      if (!r.more || !still()) break;
    }
    let ticks = 0;
    for (const rec of await this.store.list()) {
      if (!still()) break;
      // One failing schedule (its produce threw, its topic is gone) does not hold up the others;
      // its tick is not recorded, so the next round tries it again.
      try {
        ticks += await this.fire(rec, still);
      } catch (e) {
        (this.options.onError ?? console.error)(e);
      }
    }
    return { released, ticks };
  }

  /** Appends the ticks of one schedule that are due now, then records the last one. */
  private async fire(rec: ScheduleRecord, still: () => boolean): Promise<number> {
    if (rec.paused) return 0;
    const produce = this.produce.get(rec.name);
    if (rec.produce && produce === undefined) return 0;
    const plan = planTicks(rec, tickClock(rec), this.clock.now(), {
      missedAfterMs: this.missedAfterMs,
      maxTicks: this.batchSize,
    });
    for (const tick of plan.fire) {
      if (!still()) return 0;
      const payload =
        produce !== undefined
          ? await produce({ name: rec.name, tick: new Date(tick), signal: this.abort.signal })
          : rec.payload;
      await this.backend.append(rec.topic, [
        {
          id: tickId(rec.name, tick),
          payload,
          ...(rec.key !== null ? { key: rec.key } : {}),
          headers: { 'sluice-schedule': rec.name, 'sluice-tick': String(tick) },
        },
      ]);
    }
    if (plan.advanceTo !== null) await this.store.advance(rec.name, plan.advanceTo);
    return plan.fire.length;
  }

  /** Milliseconds until the next delayed event or tick is due (at most the poll interval). */
  private async nextWait(): Promise<number> {
    const now = this.clock.now();
    let at = now + this.pollMs;
    const due = await this.backend.delayed?.nextDueAt();
    if (due !== null && due !== undefined) at = Math.min(at, due);
    for (const rec of await this.store.list()) {
      if (rec.paused) continue;
      const next = tickClock(rec).next(rec.lastTick ?? rec.createdAt);
      if (next !== null) at = Math.min(at, next);
    }
    return Math.max(0, at - this.clock.now());
  }
}

/**
 * Starts a {@link Scheduler} on `options.backend`. Run one in every process that should be able
 * to take over; the lease makes exactly one of them work at a time.
 *
 * @example
 * ```ts
 * const scheduler = createScheduler({ backend });
 * await scheduler.schedule({ name: 'cleanup', cron: '0 3 * * *', timezone: 'Europe/Berlin', topic: 'jobs', payload: {} });
 * await scheduler.close();
 * ```
 */
export function createScheduler(options: SchedulerOptions): Scheduler {
  return new Scheduler(options);
}
