// defineSupervisorNode: a DistributedSupervisor node module, as run by `sluice supervisor <file>`.
import { z } from 'zod';
import type { Duration } from '../../core/duration.ts';
import { validate } from '../../core/validate.ts';
import { BehaviorRegistry } from './BehaviorRegistry.ts';
import type { DistributedSupervisorOptions } from './dsupOptions.ts';

/**
 * A DistributedSupervisor node module: the module's default export. The CLI opens the backend,
 * starts the node's {@link Cluster} membership (`heartbeat`, `failureTimeout`, `meta`) under the
 * node name, starts the supervisor, and on SIGTERM/SIGINT closes it (this node's children move
 * to the others) within `--drain-timeout`.
 */
export interface SupervisorNodeDefinition
  extends Omit<DistributedSupervisorOptions, 'cluster' | 'registry' | 'signal' | 'name'> {
  /** Supervisor name, the same on every node. */
  name: string;
  /** Behaviors this node can start. */
  registry: BehaviorRegistry;
  /** Membership heartbeat of the node (default the Cluster's). */
  heartbeat?: Duration;
  /** Silence after which the node counts as failed (default the Cluster's). */
  failureTimeout?: Duration;
  /** Membership meta of the node. */
  meta?: Record<string, unknown>;
}

const schema = z.object({
  name: z.string('a non-empty string').min(1, 'a non-empty string'),
  registry: z.custom<BehaviorRegistry>((v) => v instanceof BehaviorRegistry, 'a BehaviorRegistry'),
});

/**
 * Declares a DistributedSupervisor node module (validated: `CONFIG_INVALID` names the field).
 *
 * @example
 * ```ts
 * // indexers.ts — run on every node with `sluice supervisor indexers.ts --node "$(hostname)"`
 * export default defineSupervisorNode({
 *   name: 'indexers',
 *   registry: new BehaviorRegistry().register('indexer', startIndexer),
 *   nodeSelector: 'least_loaded',
 *   minNodes: 2,
 *   children: [{ id: 'shard-1', behavior: 'indexer', args: { shard: 1 } }],
 * });
 * ```
 */
export function defineSupervisorNode(definition: SupervisorNodeDefinition): SupervisorNodeDefinition {
  validate(schema, definition, 'supervisor');
  return definition;
}
