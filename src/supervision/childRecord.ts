// A supervisor's record of one child (spec, status, counters) and the pure rules read from it: restart group, backoff, info, errors.
import { isSluiceError, SluiceError } from '../core/errors.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import type { Instance } from './childInstance.ts';
import type { NormalizedChildSpec } from './options.ts';
import { RestartWindow } from './RestartWindow.ts';
import type { ChildInfo, ChildStatus, SupervisorStrategy } from './types.ts';

/** A child as the supervisor keeps it: the spec, its current instance and its counters. */
export interface ChildRecord {
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

/** A new record in status `starting`, without an instance. */
export function newRecord(
  spec: NormalizedChildSpec,
  id: string,
  args: unknown,
  dynamic: boolean,
  withinMs: number,
): ChildRecord {
  return {
    id,
    spec,
    args,
    dynamic,
    status: 'starting',
    instance: undefined,
    starts: 0,
    restarts: 0,
    recent: new RestartWindow(Number.POSITIVE_INFINITY, withinMs),
    lastDelayMs: 0,
  };
}

/** What happens to a child after its instance ended (OTP `do_restart`). */
export type AfterExit = 'restart' | 'remove' | 'keep_terminated';

/**
 * `permanent` children restart always, `transient` ones after a crash (an exit with reason
 * `shutdown` is not a crash); the others are removed (temporary, dynamic) or kept as terminated.
 */
export function afterExitAction(rec: ChildRecord, crashed: boolean): AfterExit {
  const restart = rec.spec.restart === 'permanent' || (rec.spec.restart === 'transient' && crashed);
  if (restart) return 'restart';
  return rec.spec.restart === 'temporary' || rec.dynamic ? 'remove' : 'keep_terminated';
}

/** The children restarted together with `rec` under a strategy, in start order. */
export function restartGroup(
  strategy: SupervisorStrategy,
  records: readonly ChildRecord[],
  rec: ChildRecord,
): ChildRecord[] {
  switch (strategy) {
    case 'one_for_all':
      return [...records];
    case 'rest_for_one':
      return records.slice(records.indexOf(rec));
    default:
      return [rec];
  }
}

/** The delay before restart number `attempt` of `rec` (0 without a backoff); remembers it on the record. */
export function backoffDelay(backoff: Backoff | undefined, rec: ChildRecord, attempt: number): number {
  if (!backoff) return 0;
  const d = backoff.next(attempt, rec.lastDelayMs);
  const ms = Number.isFinite(d) && d > 0 ? d : 0;
  rec.lastDelayMs = ms;
  return ms;
}

/** The public view of a record. */
export function toChildInfo(r: ChildRecord): ChildInfo {
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
}

/** `CHILD_FAILED`: the child's `start` threw. */
export function childFailed(supervisor: string, rec: ChildRecord, cause: unknown): SluiceError {
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new SluiceError(
    'CHILD_FAILED',
    `Supervisor "${supervisor}" could not start child "${rec.id}": ${msg}`,
    { cause, context: { supervisor, id: rec.id } },
  );
}

/** `INVALID_STATE`: the child is not `terminated`. */
export function notTerminated(supervisor: string, rec: ChildRecord): SluiceError {
  return new SluiceError(
    'INVALID_STATE',
    `Child "${rec.id}" of supervisor "${supervisor}" is ${rec.status}`,
    {
      context: { supervisor, id: rec.id, status: rec.status },
    },
  );
}

/** `HEALTH_CHECK_FAILED` for an unhealthy child, unless the reason already is one. */
export function unhealthyError(supervisor: string, id: string, reason: unknown): unknown {
  if (isSluiceError(reason) && reason.code === 'HEALTH_CHECK_FAILED') return reason;
  return new SluiceError('HEALTH_CHECK_FAILED', `Child "${id}" of supervisor "${supervisor}" is unhealthy`, {
    cause: reason,
    context: { supervisor, id },
  });
}
