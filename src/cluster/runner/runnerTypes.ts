// The public face of a partitioned runner (Runner, RunnerStats) and the names it uses in the backend.
import type { RunnerEvents, RunnerState } from './runnerEvents.ts';

/** Counters of a {@link Runner}. */
export interface RunnerStats {
  readonly state: RunnerState;
  readonly nodeName: string;
  /** Partitions currently owned and processed. */
  readonly assigned: readonly number[];
  /** Events handled successfully since start. */
  readonly handled: number;
  /** Commits since start. */
  readonly commits: number;
  readonly acquired: number;
  readonly released: number;
  readonly lost: number;
  readonly rebalances: number;
  /** Owned partitions whose batch waits for a retry after a failed attempt: since, until, why. */
  readonly retrying?: readonly {
    partition: number;
    since: number;
    until: number;
    attempt: number;
    error: string;
  }[];
}

/** A partitioned consumer of a topic; see {@link partitionedRunner}. */
export interface Runner {
  readonly state: RunnerState;
  readonly nodeName: string;
  /** Joins the group and starts processing. Rejects with `NOT_FOUND` when the topic is missing and no `partitions` was given. */
  start(): Promise<void>;
  /** Graceful stop: in-flight batches finish and are committed, leases are released, the runner leaves the group. */
  stop(): Promise<void>;
  /** Same as {@link stop}. */
  close(): Promise<void>;
  /** Partitions owned and being processed now, ascending. */
  assigned(): number[];
  /** Counters. */
  stats(): RunnerStats;
  /** Subscribes to an event; returns an unsubscribe function. */
  on<E extends keyof RunnerEvents>(event: E, fn: (...args: RunnerEvents[E]) => void): () => void;
  /** Subscribes for one emission. */
  once<E extends keyof RunnerEvents>(event: E, fn: (...args: RunnerEvents[E]) => void): () => void;
}

/** Prefix of the membership entries of the runners of `group`/`topic`. */
export function runnerMemberPrefix(group: string, topic: string): string {
  return `sluice-runner/${group}/${topic}/`;
}

/** Name of the lease guarding one partition: `<group>/<topic>/<partition>`. */
export function partitionLeaseName(group: string, topic: string, partition: number): string {
  return `${group}/${topic}/${partition}`;
}
