// The supervisor's running machinery: child records, starting and stopping instances, exits, restarts and the intensity limit.
import type { Clock } from '../core/Clock.ts';
import { abortError, SluiceError, throwIfAborted } from '../core/errors.ts';
import { TypedEmitter } from '../core/events.ts';
import { startHealthMonitor } from './childHealth.ts';
import { assertHandle, type Instance, isOwned, terminateInstance, watchInstance } from './childInstance.ts';
import {
  afterExitAction,
  backoffDelay,
  type ChildRecord,
  childFailed,
  newRecord,
  restartGroup,
  unhealthyError,
} from './childRecord.ts';
import { isShutdownExit } from './exitReason.ts';
import { Mailbox } from './Mailbox.ts';
import type { NormalizedChildSpec, NormalizedSupervisorOptions } from './options.ts';
import { RestartWindow } from './RestartWindow.ts';
import type { ChildHandle, ChildStopReason, SupervisorEvents, SupervisorState } from './types.ts';

const noop = () => {};

/**
 * The state and the OTP rules behind a {@link Supervisor}. Every method that changes state runs
 * inside the mailbox (the public class queues it there); nothing here is public API.
 */
export class SupervisorCore {
  readonly records: ChildRecord[] = [];
  readonly events = new TypedEmitter<SupervisorEvents>();
  readonly mailbox = new Mailbox();
  readonly intensity: RestartWindow;
  /** Aborted as soon as the supervisor starts stopping (on request, auto-shutdown or failure). */
  readonly life = new AbortController();
  readonly clock: Clock;
  readonly done: Promise<void>;
  current: SupervisorState = 'starting';
  totalRestarts = 0;
  detachSignal: () => void = noop;
  private resolveDone: () => void = noop;
  private rejectDone: (e: unknown) => void = noop;

  constructor(
    readonly opts: NormalizedSupervisorOptions,
    readonly name: string,
  ) {
    this.clock = opts.clock;
    this.intensity = new RestartWindow(opts.maxRestarts, opts.withinMs);
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A failure is reported through events and `done`; it must never surface as an unhandled rejection.
    this.done.catch(noop);
  }

  /** True while API calls that change children are allowed. */
  get accepting(): boolean {
    return this.current === 'running' && !this.life.signal.aborted;
  }

  newRecord(spec: NormalizedChildSpec, id: string, args: unknown, dynamic: boolean): ChildRecord {
    return newRecord(spec, id, args, dynamic, this.opts.withinMs);
  }

  removeRecord(rec: ChildRecord): void {
    const i = this.records.indexOf(rec);
    if (i >= 0) this.records.splice(i, 1);
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /** Starts the static children left to right; on a failure stops the started ones and throws. */
  async init(): Promise<void> {
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
        const error = aborted
          ? abortError(this.life.signal, 'supervisor start')
          : childFailed(this.name, rec, e);
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

  async shutdown(reason: unknown): Promise<void> {
    this.current = 'stopping';
    if (!this.life.signal.aborted) this.life.abort(reason);
    await this.terminateAll();
    this.finish('stopped', reason);
  }

  private async fail(rec: ChildRecord, cause: unknown): Promise<void> {
    this.current = 'stopping';
    const { maxRestarts, withinMs } = this.opts;
    const error = new SluiceError(
      'MAX_RESTARTS_EXCEEDED',
      `Supervisor "${this.name}" exceeded its restart intensity: more than ${maxRestarts} ` +
        `restart(s) within ${withinMs}ms (last failing child: "${rec.id}")`,
      { cause, context: { supervisor: this.name, id: rec.id, maxRestarts, withinMs } },
    );
    if (!this.life.signal.aborted) this.life.abort(error);
    this.events.emit('max_restarts_exceeded', {
      supervisor: this.name,
      id: rec.id,
      error,
      maxRestarts,
      withinMs,
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

  /** Runs the child's `start`; on success the instance is live and watched. Throws on failure. */
  async startInstance(rec: ChildRecord): Promise<void> {
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
    const inst = watchInstance(handle, controller, (i) => {
      this.mailbox.run(() => this.handleExit(rec, i)).catch(reportInternal);
    });
    rec.instance = inst;
    rec.status = 'running';
    if (rec.spec.healthCheck) {
      const name = `health check of child "${rec.id}"`;
      inst.stopHealth = startHealthMonitor(rec.spec.healthCheck, handle, this.clock, name, (reason) => {
        this.mailbox.run(() => this.handleUnhealthy(rec, inst, reason)).catch(reportInternal);
      });
    }
  }

  /** Stops a running child within its shutdown timeout and emits the matching event. */
  async stopChild(rec: ChildRecord, reason: ChildStopReason): Promise<void> {
    const inst = rec.instance;
    if (!inst) return;
    rec.status = 'stopping';
    const result = await terminateInstance(inst, reason, rec.spec.shutdownTimeoutMs, this.clock);
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

  private async handleExit(rec: ChildRecord, inst: Instance): Promise<void> {
    if (rec.instance !== inst || inst.phase.kind !== 'exited') return;
    // While stopping, the shutdown in progress (or queued) collects this instance.
    if (this.current !== 'running' || this.life.signal.aborted) return;
    const exit = inst.phase.exit;
    inst.phase = { kind: 'stopped', exit };
    inst.stopHealth();
    rec.instance = undefined;
    this.emitEnd(rec, exit.normal, exit.error);
    await this.afterExit(rec, exit.normal, exit.error);
  }

  private async handleUnhealthy(rec: ChildRecord, inst: Instance, reason: unknown): Promise<void> {
    if (rec.instance !== inst || isOwned(inst.phase)) return;
    if (this.current !== 'running' || this.life.signal.aborted) return;
    this.events.emit('child_unhealthy', { supervisor: this.name, id: rec.id, reason });
    rec.status = 'stopping';
    const result = await terminateInstance(inst, 'unhealthy', rec.spec.shutdownTimeoutMs, this.clock);
    rec.instance = undefined;
    const before = result.exitedBefore;
    const normal = before?.normal ?? false;
    const error = before ? before.error : unhealthyError(this.name, rec.id, reason);
    this.emitEnd(rec, normal, error);
    await this.afterExit(rec, normal, error);
  }

  /** Decides between restart, removal and auto-shutdown after an exit (OTP `do_restart`). */
  private async afterExit(rec: ChildRecord, normal: boolean, error: unknown): Promise<void> {
    // A child supervisor that exceeded its intensity exits with reason `shutdown` (as in OTP).
    const action = afterExitAction(rec, !normal && !isShutdownExit(error));
    if (action === 'restart') {
      rec.status = 'restarting';
      await this.restartFrom(rec, error);
      return;
    }
    if (action === 'remove') this.removeRecord(rec);
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
      const toStart = await this.stopGroup(failed);
      const delayMs = backoffDelay(this.opts.backoff, failed, failed.recent.count(now));
      if (delayMs > 0) {
        try {
          await this.clock.sleep(delayMs, this.life.signal);
        } catch {
          return;
        }
      }
      const startFailure = await this.startGroup(toStart, delayMs);
      if (startFailure === 'aborted' || startFailure === undefined) return;
      failed = startFailure.rec;
      error = startFailure.error;
    }
  }

  /** Stops the siblings restarted with `failed` right to left; returns the records to start again. */
  private async stopGroup(failed: ChildRecord): Promise<ChildRecord[]> {
    const group = restartGroup(this.opts.strategy, this.records, failed);
    for (let i = group.length - 1; i >= 0; i--) {
      const r = group[i]!;
      if (r === failed) continue;
      if (r.instance) await this.stopChild(r, 'sibling_restart');
      if (r.spec.restart === 'temporary') this.removeRecord(r);
      else r.status = 'restarting';
    }
    return group.filter((r) => r.spec.restart !== 'temporary' && this.records.includes(r));
  }

  /** Starts a restart group left to right; returns the first start failure, if any. */
  private async startGroup(
    toStart: readonly ChildRecord[],
    delayMs: number,
  ): Promise<{ rec: ChildRecord; error: unknown } | 'aborted' | undefined> {
    for (const r of toStart) {
      if (this.life.signal.aborted) return 'aborted';
      if (r.instance) continue;
      try {
        await this.startInstance(r);
      } catch (e) {
        r.status = 'restarting';
        if (this.life.signal.aborted) return 'aborted';
        this.emitStartFailure(r, e);
        return { rec: r, error: e };
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
    return undefined;
  }

  // ---------------------------------------------------------------------------------------------
  // Events

  private emitEnd(rec: ChildRecord, normal: boolean, error: unknown): void {
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
  }

  emitStarted(rec: ChildRecord): void {
    const pid = rec.instance?.handle.pid;
    this.events.emit('child_started', {
      supervisor: this.name,
      id: rec.id,
      attempt: rec.starts,
      ...(pid === undefined ? {} : { pid }),
    });
  }

  emitStartFailure(rec: ChildRecord, error: unknown): void {
    this.events.emit('child_crashed', { supervisor: this.name, id: rec.id, error, phase: 'start' });
  }
}

function reportInternal(e: unknown): void {
  console.error('sluice: supervisor internal error', e);
}
