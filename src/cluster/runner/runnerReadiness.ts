// runnerReadiness: whether a runner holds the partitions its group assigned it, from its events (for /readyz).
import type { Runner } from './runnerTypes.ts';

/** A readiness answer: `ready`, a one-line `reason` and details. */
export interface RunnerReadiness {
  readonly ready: boolean;
  readonly reason: string;
  readonly state: string;
  /** Partitions owned now. */
  readonly owned: readonly number[];
  /** Partitions the last assignment gave this runner (`undefined` before the first one). */
  readonly assigned: readonly number[] | undefined;
}

/** What the runner has been told so far: tagged by whether an assignment was seen. */
type Seen = { kind: 'none' } | { kind: 'assigned'; partitions: readonly number[] };

/**
 * Follows `runner` and answers whether it is ready: `running` and owning every partition of its
 * last assignment (or settled with none, when there are more runners than partitions). With
 * `fixed` (fixed mode, no assignment), `running` is enough. While a partition is still held by
 * its previous owner (handed over after its batch, or expiring after a failure) the runner is not
 * ready; while stopping it answers `draining`.
 *
 * @example
 * ```ts
 * const ready = runnerReadiness(runner);
 * ready().ready; // false until the runner holds its share
 * ```
 */
export function runnerReadiness(runner: Runner, options: { fixed?: boolean } = {}): () => RunnerReadiness {
  let seen: Seen = { kind: 'none' };
  runner.on('rebalance', (e) => {
    seen = { kind: 'assigned', partitions: [...e.assigned] };
  });
  return () => {
    const state = runner.state;
    const owned = runner.assigned();
    const assigned = seen.kind === 'assigned' ? seen.partitions : undefined;
    const base = { state, owned, assigned };
    if (state === 'stopping') return { ...base, ready: false, reason: 'draining: handing partitions over' };
    if (state !== 'running') return { ...base, ready: false, reason: `runner is ${state}` };
    if (options.fixed) return { ...base, ready: true, reason: `fixed mode: owns ${owned.length} partitions` };
    if (assigned === undefined)
      return { ...base, ready: false, reason: 'waiting for the first assignment (joining the group)' };
    const mine = new Set(owned);
    const missing = assigned.filter((p) => !mine.has(p));
    if (missing.length > 0) {
      return {
        ...base,
        ready: false,
        reason: `waiting for partitions ${missing.join(',')} (held by their previous owner until handed over or expired)`,
      };
    }
    if (assigned.length === 0)
      return {
        ...base,
        ready: true,
        reason: 'settled: no partition assigned (more runners than partitions)',
      };
    return { ...base, ready: true, reason: `holds its ${assigned.length} assigned partitions` };
  };
}
