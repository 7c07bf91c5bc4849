// Options of DistributedSupervisor.start and of its child specs, validated with zod.
import { z } from 'zod';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { configError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import { toRestartType } from '../../supervision/options.ts';
import type { AutoShutdown, RestartIntensity } from '../../supervision/types.ts';
import type { BehaviorRegistry } from './BehaviorRegistry.ts';
import type { Cluster } from './Cluster.ts';
import type {
  DistributedChildSpec,
  DistributedLifecycleEvent,
  DistributedStrategy,
  NormalizedDistributedChild,
} from './dsupTypes.ts';
import type { NodeSelector } from './nodeSelectors.ts';

/** Options of {@link DistributedSupervisor.start}. */
export interface DistributedSupervisorOptions {
  /** This node's cluster membership. */
  cluster: Cluster;
  /** Behaviors this node can start (register the same names on every node). */
  registry: BehaviorRegistry;
  /** Supervisor name: nodes starting a supervisor of the same name share it (default `"default"`). */
  name?: string;
  /** Restart strategy (default `one_for_one`). */
  strategy?: DistributedStrategy;
  /** Where children are placed (default `local_first`). */
  nodeSelector?: NodeSelector;
  /** Static children, started in order. Give the same list on every node. Empty for `simple_one_for_one`. */
  children?: DistributedChildSpec[];
  /** More than `maxRestarts` restarts within `withinMs` stops the supervisor on every node (default 3 within 5 s). */
  restartIntensity?: RestartIntensity;
  /** Stop the supervisor when significant children exit (default `never`). */
  autoShutdown?: AutoShutdown;
  /** How long `startChild`/`restartChild` wait for the child to start (default `30s`). */
  startTimeout?: Duration;
  /**
   * Static children are first placed only once this many nodes run the supervisor (default 1),
   * so nodes started together share them instead of the first leader taking all.
   */
  minNodes?: number;
  /**
   * Static children are first placed no sooner than this long after the leader took over
   * (default `0`): time for the other nodes to join.
   */
  settle?: Duration;
  /**
   * Re-spread running children when nodes join: one at a time, a `permanent` or `transient` child
   * moves from the most loaded node to one with at least 2 children fewer (default: on with
   * `least_loaded`, off otherwise). Temporary children never move.
   */
  respread?: boolean;
  /** Aborting it makes this node leave (as {@link DistributedSupervisor.close}). */
  signal?: AbortSignal;
  /** A lifecycle listener attached before the first round, so the first placements are seen too. */
  onLifecycleEvent?: (event: DistributedLifecycleEvent) => void;
}

/** Options after validation. @internal */
export interface ResolvedDsupOptions {
  cluster: Cluster;
  registry: BehaviorRegistry;
  name: string;
  strategy: DistributedStrategy;
  nodeSelector: NodeSelector | undefined;
  children: NormalizedDistributedChild[];
  maxRestarts: number;
  withinMs: number;
  autoShutdown: AutoShutdown;
  startTimeoutMs: number;
  minNodes: number;
  settleMs: number;
  respread: boolean;
  signal: AbortSignal | undefined;
}

const idSchema = z
  .string('a non-empty string without "/"')
  .min(1, 'a non-empty string without "/"')
  .refine((s) => !s.includes('/'), 'a non-empty string without "/"');

const childSchema = z.object({
  id: idSchema,
  behavior: z.string('a non-empty string').min(1, 'a non-empty string'),
  args: z.unknown().optional(),
  restart: z
    .enum(['permanent', 'transient', 'temporary', 'always', 'on_failure', 'never'], {
      error: "'permanent', 'transient' or 'temporary'",
    })
    .optional(),
  significant: z.boolean('a boolean').optional(),
  shutdownTimeout: z.unknown().optional(),
});

const schema = z.object({
  cluster: z.custom<Cluster>((v) => typeof v === 'object' && v !== null && 'nodeName' in v, 'a Cluster'),
  registry: z.custom<BehaviorRegistry>(
    (v) => typeof v === 'object' && v !== null && typeof (v as BehaviorRegistry).get === 'function',
    'a BehaviorRegistry',
  ),
  name: idSchema.optional(),
  strategy: z
    .enum(['one_for_one', 'one_for_all', 'rest_for_one', 'simple_one_for_one'], {
      error: "'one_for_one', 'one_for_all', 'rest_for_one' or 'simple_one_for_one'",
    })
    .optional(),
  nodeSelector: z.unknown().optional(),
  children: z.array(z.unknown(), 'an array of child specs').optional(),
  restartIntensity: z
    .object({
      maxRestarts: z.number('an integer >= 0').int('an integer >= 0').min(0, 'an integer >= 0'),
      withinMs: z.unknown(),
    })
    .optional(),
  autoShutdown: z
    .enum(['never', 'any_significant', 'all_significant'], {
      error: "'never', 'any_significant' or 'all_significant'",
    })
    .optional(),
  startTimeout: z.unknown().optional(),
  minNodes: z.number('an integer >= 1').int('an integer >= 1').min(1, 'an integer >= 1').optional(),
  settle: z.unknown().optional(),
  respread: z.boolean('a boolean').optional(),
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal').optional(),
  onLifecycleEvent: z
    .custom<(...a: never[]) => unknown>((v) => typeof v === 'function', 'a function')
    .optional(),
});

/** Validates one child spec (`field` names it in errors). */
export function normalizeDistributedChild(spec: unknown, field: string): NormalizedDistributedChild {
  const c = validate(childSchema, spec, field) as DistributedChildSpec;
  const restart = toRestartType(c.restart);
  if (c.significant === true && restart === 'permanent') {
    throw configError(`${field}.significant`, 'false for a permanent child', true);
  }
  const args = c.args === undefined ? null : c.args;
  try {
    JSON.stringify(args);
  } catch {
    throw configError(`${field}.args`, 'JSON-serializable', args);
  }
  return {
    id: c.id,
    behavior: c.behavior,
    args,
    restart,
    significant: c.significant ?? false,
    shutdownTimeoutMs: parseDuration(c.shutdownTimeout ?? 5000, `${field}.shutdownTimeout`),
  };
}

/** Validates {@link DistributedSupervisorOptions}. */
export function resolveDsupOptions(options: DistributedSupervisorOptions): ResolvedDsupOptions {
  const o = validate(schema, options, 'distributedSupervisor');
  const strategy = o.strategy ?? 'one_for_one';
  const children = (o.children ?? []).map((c, i) =>
    normalizeDistributedChild(c, `distributedSupervisor.children.${i}`),
  );
  if (strategy === 'simple_one_for_one' && children.length > 0) {
    throw configError(
      'distributedSupervisor.children',
      'empty with simple_one_for_one (use startChild)',
      o.children,
    );
  }
  const seen = new Set<string>();
  for (const c of children) {
    if (seen.has(c.id))
      throw configError('distributedSupervisor.children', 'children with distinct ids', c.id);
    seen.add(c.id);
  }
  return {
    cluster: o.cluster,
    registry: o.registry,
    name: o.name ?? 'default',
    strategy,
    nodeSelector: o.nodeSelector as NodeSelector | undefined,
    children,
    maxRestarts: o.restartIntensity?.maxRestarts ?? 3,
    withinMs: parseDuration(
      o.restartIntensity?.withinMs ?? 5000,
      'distributedSupervisor.restartIntensity.withinMs',
    ),
    autoShutdown: o.autoShutdown ?? 'never',
    startTimeoutMs: parseDuration(o.startTimeout ?? 30_000, 'distributedSupervisor.startTimeout'),
    minNodes: o.minNodes ?? 1,
    settleMs: parseDuration(o.settle ?? 0, 'distributedSupervisor.settle'),
    respread: o.respread ?? o.nodeSelector === 'least_loaded',
    signal: o.signal,
  };
}
