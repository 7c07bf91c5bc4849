// One running incarnation of a supervised child: its phase union, how it is watched and how it is stopped.
import type { Clock } from '../core/Clock.ts';
import { SluiceError } from '../core/errors.ts';
import type { ChildHandle, ChildStopReason } from './types.ts';

/** How an instance ended: `normal` when its `done` resolved, else the rejection. */
export interface ExitInfo {
  readonly normal: boolean;
  readonly error?: unknown;
}

/**
 * Where an instance is in its life, and who owns its end.
 * - `running`: live; an exit is handed to the supervisor's mailbox.
 * - `exited`: ended on its own; the supervisor has not handled it yet.
 * - `stopping`: the supervisor is terminating it and owns its end.
 * - `stopped`: the supervisor owns its end and it is over (`exit` when it had ended before).
 */
export type InstancePhase =
  | { readonly kind: 'running' }
  | { readonly kind: 'exited'; readonly exit: ExitInfo }
  | { readonly kind: 'stopping' }
  | { readonly kind: 'stopped'; readonly exit?: ExitInfo };

/** One running incarnation of a child (an OTP pid). */
export interface Instance {
  readonly handle: ChildHandle;
  readonly controller: AbortController;
  phase: InstancePhase;
  /** Resolves once the child's `done` settles, whoever owns its end. */
  readonly exited: Promise<ExitInfo>;
  stopHealth: () => void;
}

/** What {@link terminateInstance} found and did. */
export interface TerminateResult {
  /** Set when the instance had already exited before it was asked to stop. */
  readonly exitedBefore?: ExitInfo;
  readonly forced: boolean;
}

const noop = () => {};

/**
 * Wraps a started handle into a `running` instance. `onUnowned` runs when the instance exits while
 * nobody owns its end (phase `running`): the supervisor then decides what the exit means.
 */
export function watchInstance(
  handle: ChildHandle,
  controller: AbortController,
  onUnowned: (inst: Instance) => void,
): Instance {
  let resolveExit: (e: ExitInfo) => void = noop;
  const inst: Instance = {
    handle,
    controller,
    phase: { kind: 'running' },
    exited: new Promise<ExitInfo>((r) => {
      resolveExit = r;
    }),
    stopHealth: noop,
  };
  const onExit = (exit: ExitInfo) => {
    resolveExit(exit);
    if (inst.phase.kind === 'running') {
      inst.phase = { kind: 'exited', exit };
      onUnowned(inst);
    } else if (inst.phase.kind === 'stopping') {
      inst.phase = { kind: 'stopped', exit };
    }
  };
  Promise.resolve(handle.done).then(
    () => onExit({ normal: true }),
    (error: unknown) => onExit({ normal: false, error }),
  );
  return inst;
}

/** The exit an instance has already made, if any. */
export function exitOf(phase: InstancePhase): ExitInfo | undefined {
  return phase.kind === 'exited' || phase.kind === 'stopped' ? phase.exit : undefined;
}

/** True once the supervisor owns the end of the instance (terminating it or handling its exit). */
export function isOwned(phase: InstancePhase): boolean {
  return phase.kind === 'stopping' || phase.kind === 'stopped';
}

/**
 * Takes the end of an instance: aborts its signal, calls `stop(reason)` and waits for it to exit
 * within `timeoutMs`, then calls `kill()` (a timeout of 0 kills at once when `kill` exists).
 */
export async function terminateInstance(
  inst: Instance,
  reason: ChildStopReason,
  timeoutMs: number,
  clock: Clock,
): Promise<TerminateResult> {
  const exitedBefore = exitOf(inst.phase);
  inst.phase = exitedBefore ? { kind: 'stopped', exit: exitedBefore } : { kind: 'stopping' };
  inst.stopHealth();
  if (exitedBefore) return { exitedBefore, forced: false };
  inst.controller.abort(reason);
  const { handle } = inst;
  if (timeoutMs === 0 && handle.kill) {
    await callKill(handle);
    return { forced: true };
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
    return { forced: false };
  }
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = clock.setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([finished, timedOut]);
  if (timer !== undefined) clock.clearTimeout(timer);
  if (outcome === 'stopped') return { forced: false };
  await callKill(handle);
  return { forced: true };
}

/** Checks that a child's `start` returned a {@link ChildHandle}. */
export function assertHandle(handle: unknown, id: string): asserts handle is ChildHandle {
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
