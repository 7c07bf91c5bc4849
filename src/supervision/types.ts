// Supervision types: strategies, restart types, child specs and handles, events, state and stats.
import type { Clock } from '../core/Clock.ts';
import type { Duration } from '../core/duration.ts';
import type { SluiceError } from '../core/errors.ts';
import type { Backoff } from '../resilience/Backoff.ts';
import type { BackoffSpec } from '../resilience/backoffFactories.ts';

/**
 * How a supervisor reacts when one child dies (OTP restart strategies):
 * - `one_for_one`: only the dead child is restarted;
 * - `one_for_all`: every other child is stopped (right to left), then all are started (left to right);
 * - `rest_for_one`: the children started after the dead one are stopped (right to left), then the dead
 *   one and those are started again (left to right);
 * - `simple_one_for_one`: one template, children added at run time with `startChild(args)`;
 *   restarts behave like `one_for_one`.
 */
export type SupervisorStrategy = 'one_for_one' | 'one_for_all' | 'rest_for_one' | 'simple_one_for_one';

/**
 * When a child is restarted (OTP restart types):
 * - `permanent`: always;
 * - `transient`: only after an abnormal exit (its `done` rejected);
 * - `temporary`: never, not even when its siblings are restarted as a group.
 */
export type RestartType = 'permanent' | 'transient' | 'temporary';

/** The seed configuration names of {@link RestartType}: `always`, `on_failure`, `never`. */
export type SeedRestartType = 'always' | 'on_failure' | 'never';

/**
 * When the supervisor stops by itself after significant children exit (OTP `auto_shutdown`):
 * - `never` (default): never;
 * - `any_significant`: as soon as any significant child exits without being restarted;
 * - `all_significant`: once every significant child has exited without being restarted.
 * An explicit `terminateChild` never triggers it.
 */
export type AutoShutdown = 'never' | 'any_significant' | 'all_significant';

/**
 * Lifecycle of a supervisor: `starting` (children being started), `running`, `stopping`,
 * `stopped` (stopped on request or by auto-shutdown) or `failed` (restart intensity exceeded,
 * or a child failed to start during `Supervisor.start`).
 */
export type SupervisorState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/**
 * State of one child as reported by `whichChildren()`:
 * - `starting`: its `start` function is running;
 * - `running`: it has a live handle;
 * - `stopping`: the supervisor is stopping it;
 * - `restarting`: it died (or was stopped as part of a group) and waits for its restart (backoff);
 * - `terminated`: not running and not going to be restarted (normal exit of a transient child,
 *   `terminateChild`); `restartChild` can start it again.
 */
export type ChildStatus = 'starting' | 'running' | 'stopping' | 'restarting' | 'terminated';

/** What the supervised thing is; `supervisor` children are counted separately by `countChildren()`. */
export type ChildKind = 'async' | 'worker' | 'process' | 'supervisor' | (string & {});

/**
 * Why a child was stopped:
 * - `normal`: it exited by itself without error;
 * - `shutdown`: its supervisor is stopping (or failed);
 * - `terminated`: `terminateChild` was called;
 * - `sibling_restart`: stopped because a sibling died under `one_for_all`/`rest_for_one`.
 */
export type ChildStopReason = 'normal' | 'shutdown' | 'terminated' | 'sibling_restart' | 'unhealthy';

/**
 * A running child as seen by its supervisor.
 *
 * `done` resolves when the child exits normally and rejects when it crashes; the supervisor learns
 * about the exit only through this promise (no polling). `stop(reason)` asks the child to exit and
 * resolves when it has. An optional `kill()` is used when `stop` does not finish within the child's
 * `shutdownTimeout`; it must return promptly.
 *
 * @example
 * ```ts
 * const handle: ChildHandle = {
 *   done: server.closed,                 // resolves on clean close, rejects on failure
 *   stop: async () => { await server.close(); },
 * };
 * ```
 */
export interface ChildHandle {
  /** Asks the child to exit; resolves when it has. */
  stop(reason?: unknown): Promise<void>;
  /** Resolves on a normal exit, rejects (with the cause) on a crash. */
  readonly done: Promise<void>;
  /** Forces the child down after `shutdownTimeout` (SIGKILL for a process, `terminate()` for a worker). */
  kill?(): void | Promise<void>;
  /** OS process id (processes) or thread id (workers), shown by `whichChildren()`. */
  readonly pid?: number | undefined;
  /** What the child is, shown by `whichChildren()`. */
  readonly kind?: ChildKind;
}

/** What a child's `start` function receives. */
export interface ChildStartContext<A = unknown> {
  /** Aborted when the supervisor stops this instance (or stops while the instance is starting). */
  readonly signal: AbortSignal;
  /** 1 for the first start of this child, then incremented on every (re)start. */
  readonly attempt: number;
  /** The arguments given to `startChild(args)` (`simple_one_for_one`), kept across restarts. */
  readonly args?: A;
  /** The supervisor's clock; nested supervisors inherit it. */
  readonly clock: Clock;
}

/** Starts one instance of a child and returns its handle. Throwing (or rejecting) is a start failure. */
export type ChildStart<A = unknown> = (ctx: ChildStartContext<A>) => Promise<ChildHandle> | ChildHandle;

/**
 * A health check attached to a child. `check` runs every `interval`; failing it
 * `unhealthyThreshold` times in a row (returning `false`, throwing, or not answering within `timeout`)
 * makes the supervisor restart the child as if it had crashed (counted by the restart intensity).
 */
export interface ChildHealthCheck {
  /** Time between checks. */
  interval: Duration;
  /** How long one check may take. Default `'1s'`. */
  timeout?: Duration;
  /** Consecutive failures before the child is declared unhealthy. Default 1. */
  unhealthyThreshold?: number;
  /** The probe: `false` or a throw means unhealthy. */
  // biome-ignore lint/suspicious/noConfusingVoidType: a probe may be an async function that returns nothing.
  check: (signal: AbortSignal, handle: ChildHandle) => Promise<boolean | void> | boolean | void;
}

/**
 * A child specification.
 *
 * @example
 * ```ts
 * const spec: ChildSpec = {
 *   id: 'indexer',
 *   restart: 'permanent',
 *   shutdownTimeout: '10s',
 *   start: childFromAsync(async ({ signal }) => { while (!signal.aborted) await indexOnce(signal); }),
 * };
 * ```
 */
export interface ChildSpec<A = unknown> {
  /** Unique among the supervisor's children. */
  id: string;
  /** Starts an instance. */
  start: ChildStart<A>;
  /** Restart type; the seed names `always`/`on_failure`/`never` are accepted too. Default `permanent`. */
  restart?: RestartType | SeedRestartType;
  /** How long `stop` may take before `kill` is used: a duration or `'infinity'`. Default `'5s'`. */
  shutdownTimeout?: Duration | 'infinity';
  /** Whether the child's exit can trigger `autoShutdown`. Forbidden on `permanent` children. */
  significant?: boolean;
  /** Optional health check. */
  healthCheck?: ChildHealthCheck;
}

/** The restart intensity: more than `maxRestarts` restarts within `withinMs` makes the supervisor fail. */
export interface RestartIntensity {
  /** Restarts allowed within the window (0 = the first crash fails the supervisor). */
  maxRestarts: number;
  /** Sliding window, in ms or as a duration string. */
  withinMs: Duration;
}

/**
 * Options of `Supervisor.start`.
 *
 * @typeParam A - the `args` type of `simple_one_for_one` children.
 */
export interface SupervisorOptions<A = unknown> {
  /** Restart strategy. */
  strategy: SupervisorStrategy;
  /** Static children, started left to right. Must be empty for `simple_one_for_one`. */
  children?: ChildSpec[];
  /** The template of `simple_one_for_one` children (its `id` prefixes the generated ids). */
  childTemplate?: ChildSpec<A>;
  /** Restart intensity. Default `{ maxRestarts: 1, withinMs: 5000 }` (as OTP). */
  restartIntensity?: RestartIntensity;
  /** Shorthand for `restartIntensity.maxRestarts` (seed config, also `max_restarts`). */
  maxRestarts?: number;
  /**
   * Delay before each restart. A {@link Backoff} or any spec understood by `toBackoff`
   * (`'exponential'`, `{initial, max, multiplier}`, a duration...). Default: restart at once.
   * The attempt passed to the backoff is the number of restarts of the dead child inside the
   * intensity window.
   */
  backoff?: Backoff | BackoffSpec;
  /** Auto-shutdown rule. Default `never`. */
  autoShutdown?: AutoShutdown;
  /** Clock used for the intensity window, backoff, shutdown timeouts and health checks. */
  clock?: Clock;
  /** Name used in events and errors. Default `supervisor`. */
  name?: string;
  /** Aborting it stops the supervisor (as its parent would). */
  signal?: AbortSignal;
}

/** One row of `whichChildren()`. */
export interface ChildInfo {
  /** Child id. */
  id: string;
  /** Current state. */
  status: ChildStatus;
  /** Restart type. */
  restart: RestartType;
  /** Times the supervisor restarted this child. */
  restarts: number;
  /** OS pid / thread id of the running instance, when the handle exposes one. */
  pid?: number;
  /** What the child is, when the handle says so. */
  kind?: ChildKind;
  /** Whether the child is significant for auto-shutdown. */
  significant: boolean;
  /** The `startChild(args)` arguments of a dynamic child. */
  args?: unknown;
}

/** Result of `countChildren()` (as OTP `count_children`). */
export interface ChildCounts {
  /** All children the supervisor knows, running or not. */
  specs: number;
  /** Children with a live handle. */
  active: number;
  /** Children whose handle is a supervisor. */
  supervisors: number;
  /** Other children. */
  workers: number;
}

/** Result of `stats()`. */
export interface SupervisorStats {
  /** Children the supervisor knows. */
  childCount: number;
  /** Children running. */
  activeChildren: number;
  /** Restarts performed (a group restart counts once, as in the intensity). */
  totalRestarts: number;
  /** Times each child was restarted (including as part of a group). */
  restartsByChild: Record<string, number>;
  /** Time since the supervisor was created, on its clock. */
  uptimeMs: number;
  /** Restart strategy. */
  strategy: SupervisorStrategy;
  /** Lifecycle state. */
  state: SupervisorState;
  /** Restarts currently counted inside the intensity window. */
  restartsInWindow: number;
}

/** Payloads of supervisor events; every payload names the supervisor. */
export type SupervisorEvents = {
  /** A child started (initial start, `startChild`, `restartChild`). */
  child_started: [{ supervisor: string; id: string; attempt: number; pid?: number }];
  /** A running child ended without a crash: normal exit or stopped by the supervisor. */
  child_stopped: [{ supervisor: string; id: string; reason: ChildStopReason; forced: boolean }];
  /** A child crashed (`phase: 'running'`) or its `start` failed (`phase: 'start'`). */
  child_crashed: [{ supervisor: string; id: string; error: unknown; phase: 'running' | 'start' }];
  /** The supervisor restarted a child (automatic restart, including group restarts). */
  child_restarted: [{ supervisor: string; id: string; attempt: number; restarts: number; delayMs: number }];
  /** A child failed its health check; it is then stopped and handled as a crash. */
  child_unhealthy: [{ supervisor: string; id: string; reason: unknown }];
  /** The supervisor reached `stopped` or `failed`. */
  supervisor_stopped: [{ supervisor: string; state: 'stopped' | 'failed'; reason: unknown }];
  /** The restart intensity was exceeded; the supervisor stops its children and fails. */
  max_restarts_exceeded: [
    { supervisor: string; id: string; error: SluiceError; maxRestarts: number; withinMs: number },
  ];
};
