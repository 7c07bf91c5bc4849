// The runner lifecycle state union and the payloads of its typed events (acquired, lost, released, committed, rebalance, error).
import type { PartitionLossReason } from './PartitionWorker.ts';

/** Lifecycle of a {@link Runner}: created `idle`, then `starting`, `running`, `stopping`, `stopped` (or `failed` when `start()` failed). */
export type RunnerState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** Payload of `partition_acquired`. */
export interface PartitionAcquiredEvent {
  readonly partition: number;
  /** Fencing token of the new lease (0 in fixed mode). */
  readonly fencingToken: number;
  /** The committed offset processing starts from. */
  readonly offset: number;
}

/** Payload of `partition_lost`. */
export interface PartitionLostEvent {
  readonly partition: number;
  readonly fencingToken: number;
  /** `fenced`: a commit was refused; `lease_lost`: renewal found the lease taken or released; `error`: a commit failed for good. */
  readonly reason: PartitionLossReason;
  /** Next offset that was committed by this runner before the loss. */
  readonly offset: number;
  readonly error?: unknown;
}

/** Payload of `partition_released`. */
export interface PartitionReleasedEvent {
  readonly partition: number;
  readonly fencingToken: number;
  /** The committed offset at release (the next owner starts there). */
  readonly offset: number;
  /** `rebalance`: another runner should own it now; `stop`: the runner is stopping. */
  readonly reason: 'rebalance' | 'stop';
}

/** Payload of `committed`. */
export interface CommittedEvent {
  readonly partition: number;
  /** The committed offset (next offset to process). */
  readonly offset: number;
  /** Events covered by this commit. */
  readonly count: number;
  readonly fencingToken: number;
}

/** Payload of `rebalance`: the live runners changed or this runner's share did. */
export interface RebalanceEvent {
  /** Live runner names, sorted. */
  readonly members: readonly string[];
  /** The partitions this runner should own now. */
  readonly assigned: readonly number[];
  /** The partitions it should have owned before. */
  readonly previous: readonly number[];
}

/** Payload of `error`: a failure the runner recovers from by itself (it retries). */
export interface RunnerErrorEvent {
  readonly error: unknown;
  /** What failed: `tick` (heartbeat, renewal, assignment), `read`, `handler`, `commit`, `release`, `leave`. */
  readonly during: string;
  readonly partition?: number;
}

/** Events of a {@link Runner}. */
export type RunnerEvents = {
  partition_acquired: [event: PartitionAcquiredEvent];
  partition_lost: [event: PartitionLostEvent];
  partition_released: [event: PartitionReleasedEvent];
  committed: [event: CommittedEvent];
  rebalance: [event: RebalanceEvent];
  error: [event: RunnerErrorEvent];
  state: [state: RunnerState];
};
