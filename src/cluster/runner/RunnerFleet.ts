// RunnerFleet: keeps as many runner children alive as the latest desired-replicas record asks, under a Supervisor.
import { hostname } from 'node:os';
import { z } from 'zod';
import type { Backend } from '../../backend/Backend.ts';
import { type Clock, systemClock, type Timer } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { TypedEmitter } from '../../core/events.ts';
import { validate } from '../../core/validate.ts';
import { Supervisor } from '../../supervision/Supervisor.ts';
import type { ChildStart, RestartIntensity } from '../../supervision/types.ts';
import { DesiredReplicasReader } from './desiredReplicas.ts';
import { type FleetPresenceMeta, fleetMemberPrefix } from './fleetPresence.ts';

/** Options of {@link RunnerFleet.start}. */
export interface RunnerFleetOptions {
  /** Where the desired-replicas records live (see {@link setDesiredReplicas}). */
  backend: Backend;
  /** The fleet name (`<group>/<topic>`, see {@link fleetName}). */
  fleet: string;
  /** Starts the runner named `nodeName` (typically a process running `sluice runner`). */
  child: (nodeName: string) => ChildStart;
  /** Replicas while no desired-replicas record exists (default 1). */
  replicas?: number;
  /** Runner names are `<prefix>-<n>` (default: the host name). */
  nodeNamePrefix?: string;
  /** How often the desired count is read (default `1s`). */
  pollInterval?: Duration;
  /** Crashed runners are restarted; more than this fails the fleet (default 5 within 1 minute). */
  restartIntensity?: RestartIntensity;
  /** How long a runner may take to stop gracefully before it is killed (default `30s`). */
  shutdownTimeout?: Duration;
  /** Time source (default `systemClock`). */
  clock?: Clock;
  /** Aborting it stops the fleet. */
  signal?: AbortSignal;
}

/** Events of a {@link RunnerFleet}. */
export type RunnerFleetEvents = {
  /** The number of runners changed to match the desired count. */
  scaled: [event: { from: number; to: number; nodes: readonly string[] }];
  /** Reading the desired count or starting/stopping a runner failed; retried next round. */
  error: [event: { error: unknown }];
};

const schema = z.object({
  backend: z.custom<Backend>((v) => typeof v === 'object' && v !== null, 'a Backend'),
  fleet: z.string('a non-empty string').min(1, 'a non-empty string'),
  child: z.custom<(n: string) => ChildStart>((v) => typeof v === 'function', 'a function'),
  replicas: z.number('an integer >= 0').int('an integer >= 0').min(0, 'an integer >= 0').optional(),
  nodeNamePrefix: z.string('a non-empty string').min(1, 'a non-empty string').optional(),
  pollInterval: z.unknown().optional(),
  restartIntensity: z.unknown().optional(),
  shutdownTimeout: z.unknown().optional(),
  clock: z.unknown().optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal').optional(),
});

/**
 * Keeps a local set of runner processes at the desired count recorded in the backend
 * (`sluice scale --to N` writes it). While it serves, it heartbeats a membership entry under
 * `sluice-fleet/<fleet>/` every poll (see {@link servingFleets}). Runners are children of a one-for-one {@link Supervisor}:
 * a crashed runner is restarted (within the restart intensity); scaling down stops the
 * highest-numbered runners gracefully (they finish their batches, commit and release their
 * partitions, which the others pick up).
 *
 * @example
 * ```ts
 * const fleet = await RunnerFleet.start({
 *   backend, fleet: fleetName('billing', 'orders'), replicas: 2,
 *   child: (node) => childFromProcess('sluice', ['runner', 'billing.ts', '--node', node], { readyOn: 'message' }),
 * });
 * await setDesiredReplicas(backend, fleetName('billing', 'orders'), 4); // the fleet starts 2 more
 * ```
 */
export class RunnerFleet {
  private readonly events = new TypedEmitter<RunnerFleetEvents>();
  private readonly reader: DesiredReplicasReader;
  private readonly running = new Map<number, string>();
  private readonly pollMs: number;
  private readonly clock: Clock;
  private readonly prefix: string;
  private readonly shutdownTimeout: Duration;
  private timer: Timer | undefined;
  private reconciling: Promise<void> | undefined;
  private stopped = false;
  private wanted: number;
  /** This fleet's presence entry (see {@link servingFleets}). */
  private readonly presence: string;
  private readonly onAbort = () => void this.stop();

  private constructor(
    private readonly opts: RunnerFleetOptions,
    private readonly supervisor: Supervisor,
  ) {
    this.reader = new DesiredReplicasReader(opts.backend, opts.fleet);
    this.pollMs = parseDuration(opts.pollInterval ?? 1000, 'runnerFleet.pollInterval');
    this.clock = opts.clock ?? systemClock;
    this.prefix = opts.nodeNamePrefix ?? hostname();
    this.shutdownTimeout = opts.shutdownTimeout ?? 30_000;
    this.wanted = opts.replicas ?? 1;
    this.presence = `${fleetMemberPrefix(opts.fleet)}${hostname()}-${process.pid}`;
  }

  /** Starts the fleet: reads the desired count, starts that many runners, then follows changes. */
  static async start(options: RunnerFleetOptions): Promise<RunnerFleet> {
    validate(schema, options, 'runnerFleet');
    const supervisor = await Supervisor.start({
      strategy: 'one_for_one',
      children: [],
      restartIntensity: options.restartIntensity ?? { maxRestarts: 5, withinMs: 60_000 },
      clock: options.clock ?? systemClock,
      name: `fleet ${options.fleet}`,
    });
    const fleet = new RunnerFleet(options, supervisor);
    options.signal?.addEventListener('abort', fleet.onAbort, { once: true });
    void supervisor.done.then(
      () => fleet.halt(),
      () => fleet.halt(),
    );
    await fleet.reconcile();
    return fleet;
  }

  /** Resolves when the fleet has stopped; rejects (`MAX_RESTARTS_EXCEEDED`) when runners kept crashing. */
  get done(): Promise<void> {
    return this.supervisor.done;
  }

  /** The desired count last read (or the initial `replicas`). */
  desired(): number {
    return this.wanted;
  }

  /** Names of the runners started, in number order. */
  nodes(): string[] {
    return [...this.running.entries()].sort((a, b) => a[0] - b[0]).map(([, n]) => n);
  }

  /** The underlying supervisor (children, restarts). */
  get children(): Supervisor {
    return this.supervisor;
  }

  on<E extends keyof RunnerFleetEvents>(event: E, fn: (...args: RunnerFleetEvents[E]) => void): () => void {
    return this.events.on(event, fn);
  }

  /** Reads the desired count now and starts or stops runners to match it. */
  reconcile(): Promise<void> {
    if (this.reconciling === undefined) {
      this.reconciling = this.doReconcile().finally(() => {
        this.reconciling = undefined;
        this.schedule();
      });
    }
    return this.reconciling;
  }

  /** Stops every runner gracefully, then the fleet. */
  async stop(): Promise<void> {
    this.halt();
    await this.reconciling;
    await this.supervisor.stop();
    this.running.clear();
    await this.opts.backend.membership.leave(this.presence).catch((error: unknown) => {
      this.events.emit('error', { error });
    });
  }

  /** Same as {@link stop}. */
  close(): Promise<void> {
    return this.stop();
  }

  private halt(): void {
    this.stopped = true;
    this.opts.signal?.removeEventListener('abort', this.onAbort);
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.reconcile();
    }, this.pollMs);
  }

  private async doReconcile(): Promise<void> {
    if (this.stopped) return;
    const from = this.running.size;
    try {
      const record = await this.reader.read();
      if (record !== undefined) this.wanted = record.replicas;
      while (!this.stopped && this.running.size < this.wanted) {
        let n = 1;
        while (this.running.has(n)) n++;
        const node = `${this.prefix}-${n}`;
        await this.supervisor.startChild({
          id: node,
          start: this.opts.child(node),
          restart: 'permanent',
          shutdownTimeout: this.shutdownTimeout,
        });
        this.running.set(n, node);
      }
      while (!this.stopped && this.running.size > this.wanted) {
        const n = Math.max(...this.running.keys());
        const node = this.running.get(n)!;
        await this.supervisor.terminateChild(node);
        await this.supervisor.deleteChild(node);
        this.running.delete(n);
      }
      const meta: FleetPresenceMeta = {
        fleet: this.opts.fleet,
        desired: this.wanted,
        running: this.running.size,
        host: hostname(),
        pid: process.pid,
      };
      if (!this.stopped) await this.opts.backend.membership.heartbeat(this.presence, { ...meta });
    } catch (error) {
      this.events.emit('error', { error });
    }
    if (this.running.size !== from) {
      this.events.emit('scaled', { from, to: this.running.size, nodes: this.nodes() });
    }
  }
}
