import type { Clock } from '../core/Clock.ts';
import { abortError, isSluiceError, SluiceError, throwIfAborted } from '../core/errors.ts';
import { type Listener, TypedEmitter } from '../core/events.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import { resolveBackoff } from './backoffInput.ts';
import { startHealthMonitor } from './childHealth.ts';
import { Mailbox } from './Mailbox.ts';
import {
  type NormalizedChildSpec,
  type NormalizedSupervisorOptions,
  normalizeChildSpec,
  normalizeSupervisorOptions,
} from './options.ts';
import { RestartWindow } from './RestartWindow.ts';
import type {
  ChildCounts,
  ChildHandle,
  ChildInfo,
  ChildSpec,
  ChildStatus,
  ChildStopReason,
  SupervisorEvents,
  SupervisorOptions,
  SupervisorState,
  SupervisorStats,
  SupervisorStrategy,
} from './types.ts';

interface ExitInfo {
  readonly normal: boolean;
  readonly error?: unknown;
}

/** One running incarnation of a child (an OTP pid). */
interface Instance {
  readonly handle: ChildHandle;
  readonly controller: AbortController;
  /** Set once the supervisor owns the end of this instance (terminating it or handling its exit). */
  settled: boolean;
  exit: ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;
  stopHealth: () => void;
}

interface ChildRecord {
  readonly id: string;
  readonly spec: NormalizedChildSpec;
  readonly args: unknown;
  readonly dynamic: boolean;
  status: ChildStatus;
  instance: Instance | undefined;
  starts: number;
  restarts: number;
  /** This child's own restarts inside the intensity window: the backoff attempt number. */
  readonly recent: RestartWindow;
  lastDelayMs: number;
}

interface TerminateResult {
  /** Set when the instance had already exited before it was asked to stop. */
  readonly exitedBefore?: ExitInfo;
  readonly forced: boolean;
}

/** Listeners that can be given to `Supervisor.start` so that events of the initial starts are seen too. */
export type SupervisorListeners = {
  [E in keyof SupervisorEvents]?: Listener<SupervisorEvents, E>;
};

/** Options of {@link Supervisor.start}: {@link SupervisorOptions} plus early listeners. */
export interface SupervisorStartOptions<A = unknown> extends SupervisorOptions<A> {
  /** Listeners attached before the first child starts. */
  listeners?: SupervisorListeners;
}

const noop = () => {};

/**
 * An Erlang/OTP supervisor for local children: async functions, worker threads, child processes or
 * other supervisors. Children start left to right and stop right to left; a dead child is restarted
 * according to the strategy and its restart type; more than `maxRestarts` restarts within `withinMs`
 * stops every child and fails the supervisor with `MAX_RESTARTS_EXCEEDED`, which a parent supervisor
 * sees as a crash of this child. All changes (exits, API calls, restarts) are handled one at a time,
 * in arrival order.
 *
 * A supervisor is itself a {@link ChildHandle}: `done` resolves when it stops normally and rejects
 * when it fails. That rejection is always handled internally, so an unobserved failure never becomes
 * an unhandled rejection.
 *
 * @example
 * ```ts
 * const sup = await Supervisor.start({
 *   strategy: 'one_for_one',
 *   restartIntensity: { maxRestarts: 3, withinMs: '10s' },
 *   backoff: backoff.exponential({ initial: '100ms', max: '5s' }),
 *   children: [
 *     { id: 'consumer', restart: 'permanent', start: childFromAsync(consume) },
 *     { id: 'resizer', restart: 'transient', start: childFromWorker(new URL('./resize.js', import.meta.url)) },
 *   ],
 * });
 * sup.on('child_restarted', (e) => log.warn(e, 'restarted'));
 * await sup.stop();
 * ```
 */
export class Supervisor<A = unknown> implements ChildHandle {
  /** Always `'supervisor'`. */
  readonly kind = 'supervisor';
  /** Resolves when the supervisor stops normally; rejects with `MAX_RESTARTS_EXCEEDED` when it fails. */
  readonly done: Promise<void>;
  /** Name used in events and errors. */
  readonly name: string;

  private readonly opts: NormalizedSupervisorOptions;
  private readonly clock: Clock;
  private readonly records: ChildRecord[] = [];
  private readonly events = new TypedEmitter<SupervisorEvents>();
  private readonly mailbox = new Mailbox();
  private readonly intensity: RestartWindow;
  /** Aborted as soon as the supervisor starts stopping (on request, auto-shutdown or failure). */
  private readonly life = new AbortController();
  private readonly createdAt: number;
  private current: SupervisorState = 'starting';
  private totalRestarts = 0;
  private dynamicSeq = 0;
  private stopping: Promise<void> | undefined;
  private resolveDone: () => void = noop;
  private rejectDone: (e: unknown) => void = noop;
  private detachSignal: () => void = noop;

  private constructor(opts: NormalizedSupervisorOptions, listeners: SupervisorListeners | undefined) {
    this.opts = opts;
    this.clock = opts.clock;
    this.name = opts.name;
    this.intensity = new RestartWindow(opts.maxRestarts, opts.withinMs);
    this.createdAt = this.clock.now();
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A failure is reported through events and `done`; it must never surface as an unhandled rejection.
    this.done.catch(noop);
    if (listeners) {
      for (const [event, fn] of Object.entries(listeners)) {
        if (typeof fn !== 'function') continue;
        const name = event as keyof SupervisorEvents;
        this.events.on(name, fn as Listener<SupervisorEvents, typeof name>);
      }
    }
    const signal = opts.signal;
    if (signal) {
      const onAbort = () => void this.stop(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.detachSignal = () => signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Validates the options, starts the static children left to right and resolves once all run.
   * When a child fails to start, the ones already started are stopped right to left and the
   * promise rejects with `CHILD_FAILED` (cause: the start error).
   *
   * @throws SluiceError `CONFIG_INVALID` for bad options; `CHILD_FAILED`; `ABORTED` when `signal` aborts.
   * @example
   * ```ts
   * const sup = await Supervisor.start({ strategy: 'one_for_all', children: [db, api] });
   * ```
   */
  static async start<A = unknown>(options: SupervisorStartOptions<A>): Promise<Supervisor<A>> {
    const { listeners, ...rest } = options;
    const opts = normalizeSupervisorOptions(rest as SupervisorOptions, resolveBackoff);
    throwIfAborted(opts.signal, 'supervisor start');
    const sup = new Supervisor<A>(opts, listeners);
    await sup.mailbox.run(() => sup.init());
    return sup;
  }

  /** Current lifecycle state. */
  get state(): SupervisorState {
    return this.current;
  }

  /** Restart strategy. */
  get strategy(): SupervisorStrategy {
    return this.opts.strategy;
  }

  /**
   * Subscribes to an event; returns an unsubscribe function. Listener errors are isolated.
   *
   * @example
   * ```ts
   * sup.on('max_restarts_exceeded', ({ error }) => alert(error.message));
   * ```
   */
  on<E extends keyof SupervisorEvents>(event: E, fn: Listener<SupervisorEvents, E>): () => void {
    return this.events.on(event, fn);
  }

  /** Unsubscribes a listener. */
  off<E extends keyof SupervisorEvents>(event: E, fn: Listener<SupervisorEvents, E>): void {
    this.events.off(event, fn);
  }

  /**
   * Adds and starts a child. With `simple_one_for_one`, pass the `args` of a new instance of the
   * template (kept across its restarts); otherwise pass a {@link ChildSpec}, appended at the end
   * (it starts after, and stops before, the existing children). Resolves with the child id.
   *
   * @throws SluiceError `ALREADY_EXISTS` for a duplicate id, `CHILD_FAILED` when `start` fails,
   *   `CONFIG_INVALID` for a bad spec, `INVALID_STATE` when the supervisor is not running.
   */
  async startChild(specOrArgs: ChildSpec | A): Promise<string> {
    const simple = this.opts.strategy === 'simple_one_for_one';
    const spec = simple ? undefined : normalizeChildSpec(specOrArgs, 'childSpec');
    return this.mailbox.run(async () => {
      this.assertRunning('startChild');
      let rec: ChildRecord;
      if (spec === undefined) {
        const template = this.opts.template!;
        rec = this.newRecord(template, `${template.id}-${++this.dynamicSeq}`, specOrArgs, true);
      } else {
        if (this.find(spec.id)) {
          throw new SluiceError(
            'ALREADY_EXISTS',
            `Supervisor "${this.name}" already has a child with id "${spec.id}"`,
            { context: { supervisor: this.name, id: spec.id } },
          );
        }
        rec = this.newRecord(spec, spec.id, undefined, false);
      }
      this.records.push(rec);
      try {
        await this.startInstance(rec);
      } catch (e) {
        this.removeRecord(rec);
        this.emitStartFailure(rec, e);
        throw this.childFailed(rec, e);
      }
      this.emitStarted(rec);
      return rec.id;
    });
  }

  /**
   * Stops a child (by id, or by the handle of its running instance) within its `shutdownTimeout`.
   * A static non-temporary child is kept as `terminated` (see {@link Supervisor.restartChild});
   * temporary and dynamic children are removed. Never triggers auto-shutdown or a restart.
   *
   * @throws SluiceError `NOT_FOUND` for an unknown child.
   */
  terminateChild(ref: string | ChildHandle): Promise<void> {
    return this.mailbox.run(async () => {
      this.assertRunning('terminateChild');
      const rec = this.require(ref);
      if (rec.instance) await this.stopChild(rec, 'terminated');
      if (rec.spec.restart === 'temporary' || rec.dynamic) this.removeRecord(rec);
      else rec.status = 'terminated';
    });
  }

  /**
   * Starts again a static child that is `terminated` (as OTP `restart_child`). Does not count
   * towards the restart intensity. Not available with `simple_one_for_one`.
   *
   * @throws SluiceError `NOT_FOUND`; `INVALID_STATE` when the child is running or the strategy is
   *   `simple_one_for_one`; `CHILD_FAILED` when its start fails (it stays `terminated`).
   */
  restartChild(id: string): Promise<void> {
    return this.mailbox.run(async () => {
      this.assertRunning('restartChild');
      this.assertNotSimple('restartChild');
      const rec = this.require(id);
      if (rec.status !== 'terminated') {
        throw new SluiceError(
          'INVALID_STATE',
          `Child "${id}" of supervisor "${this.name}" is ${rec.status}`,
          {
            context: { supervisor: this.name, id, status: rec.status },
          },
        );
      }
      try {
        await this.startInstance(rec);
      } catch (e) {
        rec.status = 'terminated';
        this.emitStartFailure(rec, e);
        throw this.childFailed(rec, e);
      }
      this.emitStarted(rec);
    });
  }

  /**
   * Removes the spec of a `terminated` static child (as OTP `delete_child`).
   *
   * @throws SluiceError `NOT_FOUND`; `INVALID_STATE` when it is running or with `simple_one_for_one`.
   */
  deleteChild(id: string): Promise<void> {
    return this.mailbox.run(async () => {
      this.assertRunning('deleteChild');
      this.assertNotSimple('deleteChild');
      const rec = this.require(id);
      if (rec.status !== 'terminated') {
        throw new SluiceError(
          'INVALID_STATE',
          `Child "${id}" of supervisor "${this.name}" is ${rec.status}`,
          {
            context: { supervisor: this.name, id, status: rec.status },
          },
        );
      }
      this.removeRecord(rec);
    });
  }

  /** The children in start order with their state and restart counts. */
  whichChildren(): ChildInfo[] {
    return this.records.map((r) => {
      const info: ChildInfo = {
        id: r.id,
        status: r.status,
        restart: r.spec.restart,
        restarts: r.restarts,
        significant: r.spec.significant,
      };
      const h = r.instance?.handle;
      if (h?.pid !== undefined) info.pid = h.pid;
      if (h?.kind !== undefined) info.kind = h.kind;
      if (r.dynamic) info.args = r.args;
      return info;
    });
  }

  /** Child counts, as OTP `count_children`. */
  countChildren(): ChildCounts {
    let active = 0;
    let supervisors = 0;
    for (const r of this.records) {
      if (r.instance) active++;
      if (r.instance?.handle.kind === 'supervisor') supervisors++;
    }
    return { specs: this.records.length, active, supervisors, workers: this.records.length - supervisors };
  }

  /** Counters and state for dashboards and metrics. */
  stats(): SupervisorStats {
    const restartsByChild: Record<string, number> = {};
    let active = 0;
    for (const r of this.records) {
      restartsByChild[r.id] = r.restarts;
      if (r.instance) active++;
    }
    const now = this.clock.now();
    return {
      childCount: this.records.length,
      activeChildren: active,
      totalRestarts: this.totalRestarts,
      restartsByChild,
      uptimeMs: now - this.createdAt,
      strategy: this.opts.strategy,
      state: this.current,
      restartsInWindow: this.intensity.count(now),
    };
  }

  /**
   * Stops every child right to left (each within its `shutdownTimeout`), then the supervisor.
   * Idempotent; resolves when stopped (also when the supervisor had failed).
   */
  stop(reason: unknown = 'shutdown'): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.current === 'stopped' || this.current === 'failed') return Promise.resolve();
    if (this.current === 'running') this.current = 'stopping';
    if (!this.life.signal.aborted) this.life.abort(reason);
    this.stopping = this.mailbox.run(async () => {
      if (this.current === 'stopped' || this.current === 'failed') return;
      await this.shutdown(reason);
    });
    return this.stopping;
  }

  /** Alias of {@link Supervisor.stop}. */
  close(reason?: unknown): Promise<void> {
    return this.stop(reason);
  }

  /** Resolves once every queued exit, restart and API call has been handled. */
  idle(): Promise<void> {
    return this.mailbox.idle();
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  private async init(): Promise<void> {
    for (const spec of this.opts.children) {
      const rec = this.newRecord(spec, spec.id, undefined, false);
      this.records.push(rec);
      try {
        await this.startInstance(rec);
        if (this.life.signal.aborted) throw abortError(this.life.signal, 'supervisor start');
      } catch (e) {
        if (!rec.instance) {
          this.removeRecord(rec);
          if (!this.life.signal.aborted) this.emitStartFailure(rec, e);
        }
        const aborted = this.life.signal.aborted;
        const error = aborted ? abortError(this.life.signal, 'supervisor start') : this.childFailed(rec, e);
        if (!aborted) this.life.abort(error);
        this.current = 'stopping';
        await this.terminateAll();
        this.finish(aborted ? 'stopped' : 'failed', aborted ? this.life.signal.reason : error);
        throw error;
      }
      this.emitStarted(rec);
    }
    this.current = 'running';
  }

  private async shutdown(reason: unknown): Promise<void> {
    this.current = 'stopping';
    if (!this.life.signal.aborted) this.life.abort(reason);
    await this.terminateAll();
    this.finish('stopped', reason);
  }

  private async fail(rec: ChildRecord, cause: unknown): Promise<void> {
    this.current = 'stopping';
    const error = new SluiceError(
      'MAX_RESTARTS_EXCEEDED',
      `Supervisor "${this.name}" exceeded its restart intensity: more than ${this.opts.maxRestarts} ` +
        `restart(s) within ${this.opts.withinMs}ms (last failing child: "${rec.id}")`,
      {
        cause,
        context: {
          supervisor: this.name,
          id: rec.id,
          maxRestarts: this.opts.maxRestarts,
          withinMs: this.opts.withinMs,
        },
      },
    );
    if (!this.life.signal.aborted) this.life.abort(error);
    this.events.emit('max_restarts_exceeded', {
      supervisor: this.name,
      id: rec.id,
      error,
      maxRestarts: this.opts.maxRestarts,
      withinMs: this.opts.withinMs,
    });
    await this.terminateAll();
    this.finish('failed', error);
  }

  private finish(state: 'stopped' | 'failed', reason: unknown): void {
    this.current = state;
    this.detachSignal();
    this.events.emit('supervisor_stopped', { supervisor: this.name, state, reason });
    if (state === 'stopped') this.resolveDone();
    else this.rejectDone(reason);
  }

  /** Stops every running child right to left (dynamic children all at once, as OTP). */
  private async terminateAll(): Promise<void> {
    const running = this.records.filter((r) => r.instance !== undefined).reverse();
    if (this.opts.strategy === 'simple_one_for_one') {
      await Promise.all(running.map((r) => this.stopChild(r, 'shutdown')));
    } else {
      for (const r of running) await this.stopChild(r, 'shutdown');
    }
    for (const r of this.records) if (!r.instance) r.status = 'terminated';
  }

  // ---------------------------------------------------------------------------------------------
  // Children

  private newRecord(spec: NormalizedChildSpec, id: string, args: unknown, dynamic: boolean): ChildRecord {
    return {
      id,
      spec,
      args,
      dynamic,
      status: 'starting',
      instance: undefined,
      starts: 0,
      restarts: 0,
      recent: new RestartWindow(Number.POSITIVE_INFINITY, this.opts.withinMs),
      lastDelayMs: 0,
    };
  }

  /** Runs the child's `start`; on success the instance is live and watched. Throws on failure. */
  private async startInstance(rec: ChildRecord): Promise<void> {
    throwIfAborted(this.life.signal, `start of child "${rec.id}"`);
    rec.status = 'starting';
    rec.starts++;
    const controller = new AbortController();
    const onLife = () => controller.abort(this.life.signal.reason);
    this.life.signal.addEventListener('abort', onLife, { once: true });
    let handle: ChildHandle;
    try {
      const ctx = { signal: controller.signal, attempt: rec.starts, clock: this.clock };
      handle = await rec.spec.start(rec.dynamic ? { ...ctx, args: rec.args } : ctx);
      assertHandle(handle, rec.id);
    } finally {
      this.life.signal.removeEventListener('abort', onLife);
    }
    let resolveExit: (e: ExitInfo) => void = noop;
    const inst: Instance = {
      handle,
      controller,
      settled: false,
      exit: undefined,
      exited: new Promise<ExitInfo>((r) => {
        resolveExit = r;
      }),
      stopHealth: noop,
    };
    rec.instance = inst;
    rec.status = 'running';
    const onExit = (exit: ExitInfo) => {
      inst.exit = exit;
      resolveExit(exit);
      if (inst.settled) return;
      this.mailbox.run(() => this.handleExit(rec, inst)).catch(reportInternal);
    };
    Promise.resolve(handle.done).then(
      () => onExit({ normal: true }),
      (error: unknown) => onExit({ normal: false, error }),
    );
    if (rec.spec.healthCheck) {
      const name = `health check of child "${rec.id}"`;
      inst.stopHealth = startHealthMonitor(rec.spec.healthCheck, handle, this.clock, name, (reason) => {
        this.mailbox.run(() => this.handleUnhealthy(rec, inst, reason)).catch(reportInternal);
      });
    }
  }

  /** Stops a running child within its shutdown timeout and emits the matching event. */
  private async stopChild(rec: ChildRecord, reason: ChildStopReason): Promise<void> {
    const inst = rec.instance;
    if (!inst) return;
    rec.status = 'stopping';
    const result = await this.terminateInstance(inst, reason, rec.spec.shutdownTimeoutMs);
    rec.instance = undefined;
    rec.status = 'terminated';
    const before = result.exitedBefore;
    if (before && !before.normal) {
      this.events.emit('child_crashed', {
        supervisor: this.name,
        id: rec.id,
        error: before.error,
        phase: 'running',
      });
    } else {
      this.events.emit('child_stopped', {
        supervisor: this.name,
        id: rec.id,
        reason: before ? 'normal' : reason,
        forced: result.forced,
      });
    }
  }

  private async terminateInstance(inst: Instance, reason: ChildStopReason, timeoutMs: number) {
    const exitedBefore = inst.exit;
    inst.settled = true;
    inst.stopHealth();
    if (exitedBefore) return { exitedBefore, forced: false } satisfies TerminateResult;
    inst.controller.abort(reason);
    const { handle } = inst;
    if (timeoutMs === 0 && handle.kill) {
      await callKill(handle);
      return { forced: true } satisfies TerminateResult;
    }
    let stopped: Promise<unknown>;
    try {
      stopped = Promise.resolve(handle.stop(reason));
    } catch (e) {
      stopped = Promise.reject(e);
    }
    const finished = Promise.allSettled([stopped, inst.exited]).then(() => 'stopped' as const);
    if (timeoutMs === Number.POSITIVE_INFINITY) {
      await finished;
      return { forced: false } satisfies TerminateResult;
    }
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = this.clock.setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([finished, timedOut]);
    if (timer !== undefined) this.clock.clearTimeout(timer);
    if (outcome === 'stopped') return { forced: false } satisfies TerminateResult;
    await callKill(handle);
    return { forced: true } satisfies TerminateResult;
  }

  private async handleExit(rec: ChildRecord, inst: Instance): Promise<void> {
    if (rec.instance !== inst || inst.settled) return;
    // While stopping, the shutdown in progress (or queued) collects this instance.
    if (this.current !== 'running' || this.life.signal.aborted) return;
    inst.settled = true;
    inst.stopHealth();
    rec.instance = undefined;
    const exit = inst.exit ?? { normal: false };
    if (exit.normal) {
      this.events.emit('child_stopped', {
        supervisor: this.name,
        id: rec.id,
        reason: 'normal',
        forced: false,
      });
    } else {
      this.events.emit('child_crashed', {
        supervisor: this.name,
        id: rec.id,
        error: exit.error,
        phase: 'running',
      });
    }
    await this.afterExit(rec, exit.normal, exit.error);
  }

  private async handleUnhealthy(rec: ChildRecord, inst: Instance, reason: unknown): Promise<void> {
    if (rec.instance !== inst || inst.settled) return;
    if (this.current !== 'running' || this.life.signal.aborted) return;
    this.events.emit('child_unhealthy', { supervisor: this.name, id: rec.id, reason });
    rec.status = 'stopping';
    const result = await this.terminateInstance(inst, 'unhealthy', rec.spec.shutdownTimeoutMs);
    rec.instance = undefined;
    const before = result.exitedBefore;
    const normal = before?.normal ?? false;
    const error = before
      ? before.error
      : isSluiceError(reason) && reason.code === 'HEALTH_CHECK_FAILED'
        ? reason
        : new SluiceError(
            'HEALTH_CHECK_FAILED',
            `Child "${rec.id}" of supervisor "${this.name}" is unhealthy`,
            {
              cause: reason,
              context: { supervisor: this.name, id: rec.id },
            },
          );
    if (normal) {
      this.events.emit('child_stopped', {
        supervisor: this.name,
        id: rec.id,
        reason: 'normal',
        forced: false,
      });
    } else {
      this.events.emit('child_crashed', { supervisor: this.name, id: rec.id, error, phase: 'running' });
    }
    await this.afterExit(rec, normal, error);
  }

  /** OTP `do_restart`: decide between restart, removal and auto-shutdown after an exit. */
  private async afterExit(rec: ChildRecord, normal: boolean, error: unknown): Promise<void> {
    const restart = rec.spec.restart === 'permanent' || (rec.spec.restart === 'transient' && !normal);
    if (restart) {
      rec.status = 'restarting';
      await this.restartFrom(rec, error);
      return;
    }
    if (rec.spec.restart === 'temporary' || rec.dynamic) this.removeRecord(rec);
    else rec.status = 'terminated';
    if (this.autoShutdownDue(rec)) await this.shutdown('auto_shutdown');
  }

  private autoShutdownDue(rec: ChildRecord): boolean {
    if (this.opts.autoShutdown === 'never' || !rec.spec.significant) return false;
    if (this.opts.autoShutdown === 'any_significant') return true;
    return !this.records.some((r) => r.spec.significant && r.instance !== undefined);
  }

  /**
   * OTP `restart/2`: count the restart against the intensity, stop the affected siblings right to
   * left, wait for the backoff, start the group left to right. A start that fails counts as a new
   * crash of that child and goes round again (so repeated start failures exhaust the intensity).
   */
  private async restartFrom(dead: ChildRecord, cause: unknown): Promise<void> {
    let failed = dead;
    let error = cause;
    for (;;) {
      if (this.life.signal.aborted) return;
      const now = this.clock.now();
      if (!this.intensity.add(now)) {
        await this.fail(failed, error);
        return;
      }
      this.totalRestarts++;
      failed.recent.add(now);
      const attempt = failed.recent.count(now);
      const group = this.groupFor(failed);
      for (let i = group.length - 1; i >= 0; i--) {
        const r = group[i]!;
        if (r === failed) continue;
        if (r.instance) await this.stopChild(r, 'sibling_restart');
        if (r.spec.restart === 'temporary') this.removeRecord(r);
        else r.status = 'restarting';
      }
      const toStart = group.filter((r) => r.spec.restart !== 'temporary' && this.records.includes(r));
      const delayMs = this.backoffDelay(failed, attempt);
      if (delayMs > 0) {
        try {
          await this.clock.sleep(delayMs, this.life.signal);
        } catch {
          return;
        }
      }
      let startFailure: { rec: ChildRecord; error: unknown } | undefined;
      for (const r of toStart) {
        if (this.life.signal.aborted) return;
        if (r.instance) continue;
        try {
          await this.startInstance(r);
        } catch (e) {
          r.status = 'restarting';
          if (this.life.signal.aborted) return;
          this.emitStartFailure(r, e);
          startFailure = { rec: r, error: e };
          break;
        }
        r.restarts++;
        this.events.emit('child_restarted', {
          supervisor: this.name,
          id: r.id,
          attempt: r.starts,
          restarts: r.restarts,
          delayMs,
        });
      }
      if (!startFailure) return;
      failed = startFailure.rec;
      error = startFailure.error;
    }
  }

  private backoffDelay(rec: ChildRecord, attempt: number): number {
    const b: Backoff | undefined = this.opts.backoff;
    if (!b) return 0;
    const d = b.next(attempt, rec.lastDelayMs);
    const ms = Number.isFinite(d) && d > 0 ? d : 0;
    rec.lastDelayMs = ms;
    return ms;
  }

  private groupFor(rec: ChildRecord): ChildRecord[] {
    switch (this.opts.strategy) {
      case 'one_for_all':
        return [...this.records];
      case 'rest_for_one':
        return this.records.slice(this.records.indexOf(rec));
      default:
        return [rec];
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private find(ref: string | ChildHandle): ChildRecord | undefined {
    if (typeof ref === 'string') return this.records.find((r) => r.id === ref);
    return this.records.find((r) => r.instance?.handle === ref);
  }

  private require(ref: string | ChildHandle): ChildRecord {
    const rec = this.find(ref);
    if (rec) return rec;
    const shown = typeof ref === 'string' ? `"${ref}"` : 'for the given handle';
    throw new SluiceError('NOT_FOUND', `Supervisor "${this.name}" has no child ${shown}`, {
      context: { supervisor: this.name, ...(typeof ref === 'string' ? { id: ref } : {}) },
    });
  }

  private removeRecord(rec: ChildRecord): void {
    const i = this.records.indexOf(rec);
    if (i >= 0) this.records.splice(i, 1);
  }

  private assertRunning(op: string): void {
    if (this.current === 'running' && !this.life.signal.aborted) return;
    const state = this.current === 'running' ? 'stopping' : this.current;
    throw new SluiceError('INVALID_STATE', `Cannot ${op}: supervisor "${this.name}" is ${state}`, {
      context: { supervisor: this.name, state },
    });
  }

  private assertNotSimple(op: string): void {
    if (this.opts.strategy !== 'simple_one_for_one') return;
    throw new SluiceError(
      'INVALID_STATE',
      `${op} is not available with simple_one_for_one (use terminateChild and startChild)`,
      { context: { supervisor: this.name } },
    );
  }

  private childFailed(rec: ChildRecord, cause: unknown): SluiceError {
    const msg = cause instanceof Error ? cause.message : String(cause);
    return new SluiceError(
      'CHILD_FAILED',
      `Supervisor "${this.name}" could not start child "${rec.id}": ${msg}`,
      { cause, context: { supervisor: this.name, id: rec.id } },
    );
  }

  private emitStarted(rec: ChildRecord): void {
    const pid = rec.instance?.handle.pid;
    this.events.emit('child_started', {
      supervisor: this.name,
      id: rec.id,
      attempt: rec.starts,
      ...(pid === undefined ? {} : { pid }),
    });
  }

  private emitStartFailure(rec: ChildRecord, error: unknown): void {
    this.events.emit('child_crashed', { supervisor: this.name, id: rec.id, error, phase: 'start' });
  }
}

function assertHandle(handle: unknown, id: string): asserts handle is ChildHandle {
  const h = handle as Partial<ChildHandle> | null | undefined;
  if (
    typeof h === 'object' &&
    h !== null &&
    typeof h.stop === 'function' &&
    typeof (h.done as { then?: unknown } | undefined)?.then === 'function'
  ) {
    return;
  }
  throw new SluiceError(
    'CONFIG_INVALID',
    `Expected the start function of child "${id}" to return a ChildHandle {stop(reason), done}, got ${
      h === null ? 'null' : typeof h
    }`,
    { context: { field: `${id}.start`, got: handle } },
  );
}

async function callKill(handle: ChildHandle): Promise<void> {
  if (!handle.kill) return;
  try {
    await handle.kill();
  } catch {
    // The instance is considered stopped either way.
  }
}

function reportInternal(e: unknown): void {
  console.error('sluice: supervisor internal error', e);
}
