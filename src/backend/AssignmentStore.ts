// The storage contract behind runner group coordination: one published assignment per group, with its generation.

/** What a leader publishes: the members it saw and the owner of every partition. */
export interface AssignmentInput {
  /** The member that computed it (the leader). */
  readonly leader: string;
  /** Member names the assignment is made for, in name order. */
  readonly members: readonly string[];
  /** Per partition: the index in {@link members} of its owner, or `-1` when nobody owns it. */
  readonly owners: readonly number[];
}

/** A published assignment, as read back. */
export interface GroupAssignment extends AssignmentInput {
  /** `1` for the first published assignment, then one more for each publish. */
  readonly generation: number;
  /** When it was published (ms since the epoch, from the publisher's clock). */
  readonly publishedAt: number;
}

/**
 * Published partition assignments, one per name (a runner group: `<group>/<topic>`). Implemented
 * by every built-in backend as `backend.assignments`; the conformance suite
 * (`src/backend/conformance/assignments.ts`) runs on each.
 *
 * - A publish is a compare-and-set on the generation: it succeeds only when the stored generation
 *   is the one the publisher read (`0` when none), and stores generation + 1. Two leaders racing
 *   (one of them stale) therefore never both publish on the same generation.
 * - {@link generation} reads one number (O(1) whatever the partition count): a runner reads it
 *   every heartbeat and fetches the assignment ({@link get}) only when it changed.
 * - Time is passed in: `publishedAt` comes from the backend's clock, never from the server.
 */
export interface AssignmentStore {
  /** The stored generation of `name`, `0` when nothing was published. */
  generation(name: string): Promise<number>;
  /** The published assignment of `name`, or `undefined`. */
  get(name: string): Promise<GroupAssignment | undefined>;
  /**
   * Publishes `assignment` as generation `expectedGeneration + 1` when the stored generation is
   * `expectedGeneration`; otherwise stores nothing and returns `null`. `owners` entries must be
   * `-1` or an index into `members` (`CONFIG_INVALID` otherwise).
   */
  publish(
    name: string,
    expectedGeneration: number,
    assignment: AssignmentInput,
  ): Promise<GroupAssignment | null>;
}
