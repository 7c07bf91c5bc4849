// The public OTP-style Supervisor class: start, child API (start/terminate/restart/delete), introspection and stop.
import { SluiceError, throwIfAborted } from '../core/errors.ts';
import type { Listener } from '../core/events.ts';
import { resolveBackoff } from './backoffInput.ts';
import { type ChildRecord, childFailed, notTerminated, toChildInfo } from './childRecord.ts';
import {
  type NormalizedSupervisorOptions,
  normalizeChildSpec,
  normalizeSupervisorOptions,
} from './options.ts';
import { SupervisorCore } from './SupervisorCore.ts';
import type {
  ChildCounts,
  ChildHandle,
  ChildInfo,
  ChildSpec,
  SupervisorEvents,
  SupervisorOptions,
  SupervisorState,
  SupervisorStats,
  SupervisorStrategy,
} from './types.ts';

/** Listeners that can be given to `Supervisor.start` so that events of the initial starts are seen too. */
export type SupervisorListeners = {
  [E in keyof SupervisorEvents]?: Listener<SupervisorEvents, E>;
};

/** Options of {@link Supervisor.start}: {@link SupervisorOptions} plus early listeners. */
export interface SupervisorStartOptions<A = unknown> extends SupervisorOptions<A> {
  /** Listeners attached before the first child starts. */
  listeners?: SupervisorListeners;
}

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

  private readonly core: SupervisorCore;
  private readonly createdAt: number;
  private dynamicSeq = 0;
  private stopping: Promise<void> | undefined;

  private constructor(opts: NormalizedSupervisorOptions, listeners: SupervisorListeners | undefined) {
    this.name = opts.name;
    this.core = new SupervisorCore(opts, opts.name);
    this.done = this.core.done;
    this.createdAt = opts.clock.now();
    if (listeners) {
      for (const [event, fn] of Object.entries(listeners)) {
        if (typeof fn !== 'function') continue;
        const name = event as keyof SupervisorEvents;
        this.core.events.on(name, fn as Listener<SupervisorEvents, typeof name>);
      }
    }
    const signal = opts.signal;
    if (signal) {
      const onAbort = () => void this.stop(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.core.detachSignal = () => signal.removeEventListener('abort', onAbort);
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
    await sup.core.mailbox.run(() => sup.core.init());
    return sup;
  }

  /** Current lifecycle state. */
  get state(): SupervisorState {
    return this.core.current;
  }

  /** Restart strategy. */
  get strategy(): SupervisorStrategy {
    return this.core.opts.strategy;
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
    return this.core.events.on(event, fn);
  }

  /** Unsubscribes a listener. */
  off<E extends keyof SupervisorEvents>(event: E, fn: Listener<SupervisorEvents, E>): void {
    this.core.events.off(event, fn);
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
    const simple = this.core.opts.strategy === 'simple_one_for_one';
    const spec = simple ? undefined : normalizeChildSpec(specOrArgs, 'childSpec');
    return this.core.mailbox.run(async () => {
      this.assertRunning('startChild');
      let rec: ChildRecord;
      if (spec === undefined) {
        const template = this.core.opts.template!;
        rec = this.core.newRecord(template, `${template.id}-${++this.dynamicSeq}`, specOrArgs, true);
      } else {
        if (this.find(spec.id)) {
          throw new SluiceError(
            'ALREADY_EXISTS',
            `Supervisor "${this.name}" already has a child with id "${spec.id}"`,
            { context: { supervisor: this.name, id: spec.id } },
          );
        }
        rec = this.core.newRecord(spec, spec.id, undefined, false);
      }
      this.core.records.push(rec);
      try {
        await this.core.startInstance(rec);
      } catch (e) {
        this.core.removeRecord(rec);
        this.core.emitStartFailure(rec, e);
        throw childFailed(this.name, rec, e);
      }
      this.core.emitStarted(rec);
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
    return this.core.mailbox.run(async () => {
      this.assertRunning('terminateChild');
      const rec = this.require(ref);
      if (rec.instance) await this.core.stopChild(rec, 'terminated');
      if (rec.spec.restart === 'temporary' || rec.dynamic) this.core.removeRecord(rec);
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
    return this.core.mailbox.run(async () => {
      this.assertRunning('restartChild');
      this.assertNotSimple('restartChild');
      const rec = this.require(id);
      if (rec.status !== 'terminated') throw notTerminated(this.name, rec);
      try {
        await this.core.startInstance(rec);
      } catch (e) {
        rec.status = 'terminated';
        this.core.emitStartFailure(rec, e);
        throw childFailed(this.name, rec, e);
      }
      this.core.emitStarted(rec);
    });
  }

  /**
   * Removes the spec of a `terminated` static child (as OTP `delete_child`).
   *
   * @throws SluiceError `NOT_FOUND`; `INVALID_STATE` when it is running or with `simple_one_for_one`.
   */
  deleteChild(id: string): Promise<void> {
    return this.core.mailbox.run(async () => {
      this.assertRunning('deleteChild');
      this.assertNotSimple('deleteChild');
      const rec = this.require(id);
      if (rec.status !== 'terminated') throw notTerminated(this.name, rec);
      this.core.removeRecord(rec);
    });
  }

  /** The children in start order with their state and restart counts. */
  whichChildren(): ChildInfo[] {
    return this.core.records.map(toChildInfo);
  }

  /** Child counts, as OTP `count_children`. */
  countChildren(): ChildCounts {
    let active = 0;
    let supervisors = 0;
    for (const r of this.core.records) {
      if (r.instance) active++;
      if (r.instance?.handle.kind === 'supervisor') supervisors++;
    }
    return {
      specs: this.core.records.length,
      active,
      supervisors,
      workers: this.core.records.length - supervisors,
    };
  }

  /** Counters and state for dashboards and metrics. */
  stats(): SupervisorStats {
    const restartsByChild: Record<string, number> = {};
    let active = 0;
    for (const r of this.core.records) {
      restartsByChild[r.id] = r.restarts;
      if (r.instance) active++;
    }
    const now = this.core.clock.now();
    return {
      childCount: this.core.records.length,
      activeChildren: active,
      totalRestarts: this.core.totalRestarts,
      restartsByChild,
      uptimeMs: now - this.createdAt,
      strategy: this.core.opts.strategy,
      state: this.core.current,
      restartsInWindow: this.core.intensity.count(now),
    };
  }

  /**
   * Stops every child right to left (each within its `shutdownTimeout`), then the supervisor.
   * Idempotent; resolves when stopped (also when the supervisor had failed).
   */
  stop(reason: unknown = 'shutdown'): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.core.current === 'stopped' || this.core.current === 'failed') return Promise.resolve();
    if (this.core.current === 'running') this.core.current = 'stopping';
    if (!this.core.life.signal.aborted) this.core.life.abort(reason);
    this.stopping = this.core.mailbox.run(async () => {
      if (this.core.current === 'stopped' || this.core.current === 'failed') return;
      await this.core.shutdown(reason);
    });
    return this.stopping;
  }

  /** Alias of {@link Supervisor.stop}. */
  close(reason?: unknown): Promise<void> {
    return this.stop(reason);
  }

  /** Resolves once every queued exit, restart and API call has been handled. */
  idle(): Promise<void> {
    return this.core.mailbox.idle();
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  private find(ref: string | ChildHandle): ChildRecord | undefined {
    const records = this.core.records;
    if (typeof ref === 'string') return records.find((r) => r.id === ref);
    return records.find((r) => r.instance?.handle === ref);
  }

  private require(ref: string | ChildHandle): ChildRecord {
    const rec = this.find(ref);
    if (rec) return rec;
    const shown = typeof ref === 'string' ? `"${ref}"` : 'for the given handle';
    throw new SluiceError('NOT_FOUND', `Supervisor "${this.name}" has no child ${shown}`, {
      context: { supervisor: this.name, ...(typeof ref === 'string' ? { id: ref } : {}) },
    });
  }

  private assertRunning(op: string): void {
    if (this.core.accepting) return;
    const current = this.core.current;
    const state = current === 'running' ? 'stopping' : current;
    throw new SluiceError('INVALID_STATE', `Cannot ${op}: supervisor "${this.name}" is ${state}`, {
      context: { supervisor: this.name, state },
    });
  }

  private assertNotSimple(op: string): void {
    if (this.core.opts.strategy !== 'simple_one_for_one') return;
    throw new SluiceError(
      'INVALID_STATE',
      `${op} is not available with simple_one_for_one (use terminateChild and startChild)`,
      { context: { supervisor: this.name } },
    );
  }
}
