// supervisorChild: a child spec that runs a nested Supervisor.
import { Supervisor, type SupervisorStartOptions } from './Supervisor.ts';
import type { ChildSpec, RestartType, SeedRestartType } from './types.ts';

/** Options of {@link supervisorChild}: a nested supervisor's options plus its child-spec fields. */
export interface SupervisorChildOptions<A = unknown> extends SupervisorStartOptions<A> {
  /** Child id in the parent. */
  id: string;
  /** Restart type in the parent. Default `permanent`. */
  restart?: RestartType | SeedRestartType;
  /** Whether its auto-shutdown (a normal stop) can trigger the parent's auto-shutdown. */
  significant?: boolean;
}

/**
 * A child spec that runs a nested supervisor. Its `shutdownTimeout` is `'infinity'` (as OTP for
 * supervisor children) so its own children get their full shutdown time. When the nested
 * supervisor exceeds its restart intensity it exits with reason `shutdown`, as in OTP: `done`
 * rejects with `MAX_RESTARTS_EXCEEDED`, the parent restarts it only when it is `permanent` (a
 * `transient` one stays down, and a `significant` one triggers the parent's `autoShutdown`).
 * The nested supervisor inherits the parent's clock unless given one.
 *
 * @example
 * ```ts
 * const root = await Supervisor.start({
 *   strategy: 'one_for_one',
 *   children: [
 *     supervisorChild({ id: 'ingest', strategy: 'rest_for_one', children: [reader, parser] }),
 *   ],
 * });
 * ```
 */
export function supervisorChild<A = unknown>(options: SupervisorChildOptions<A>): ChildSpec {
  const { id, restart, significant, ...supervisorOptions } = options;
  return {
    id,
    restart: restart ?? 'permanent',
    shutdownTimeout: 'infinity',
    ...(significant === undefined ? {} : { significant }),
    start: (ctx) =>
      Supervisor.start<A>({
        name: id,
        ...supervisorOptions,
        clock: supervisorOptions.clock ?? ctx.clock,
        signal: ctx.signal,
      }),
  };
}
