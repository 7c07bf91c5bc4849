// The registry of behaviors a DistributedSupervisor node can start, and what a started behavior receives.
import { configError, SluiceError } from '../../core/errors.ts';
import type { ChildHandle } from '../../supervision/types.ts';

/** What a behavior receives when a {@link DistributedSupervisor} starts it on this node. */
export interface BehaviorContext {
  /** The child id. */
  readonly id: string;
  /** This node's name. */
  readonly node: string;
  /** Fencing token of the child's placement lease: pass it to fenced writes (`commit({fence})`). */
  readonly fencingToken: number;
  /** Name of the placement lease (the `lease` of a fence). */
  readonly lease: string;
  /** Aborted when the child must stop (placement lost, terminated, node leaving). */
  readonly signal: AbortSignal;
}

/**
 * Starts a child on this node from the `args` of its spec. Returns a {@link ChildHandle}
 * (`done` resolves on a normal exit and rejects on a crash; `stop()` asks it to exit).
 */
export type Behavior<A = unknown> = (args: A, ctx: BehaviorContext) => ChildHandle | Promise<ChildHandle>;

/**
 * The behaviors a node can start, by name. Only registered behaviors can run on a node: child
 * specs name a behavior and carry JSON `args`, so a placement recorded by another node can be
 * started here. Register the same names on every node.
 *
 * @example
 * ```ts
 * const registry = new BehaviorRegistry().register('indexer', (args: { shard: number }, ctx) =>
 *   childFromAsync(async ({ signal }) => indexShard(args.shard, signal))({ signal: ctx.signal, attempt: 1, clock: systemClock }),
 * );
 * ```
 */
export class BehaviorRegistry {
  private readonly behaviors = new Map<string, Behavior<never>>();

  /** Registers `behavior` under `name` (`ALREADY_EXISTS` when taken). Returns the registry. */
  register<A>(name: string, behavior: Behavior<A>): this {
    if (typeof name !== 'string' || name === '')
      throw configError('behavior name', 'a non-empty string', name);
    if (typeof behavior !== 'function') throw configError(`behavior "${name}"`, 'a function', behavior);
    if (this.behaviors.has(name)) {
      throw new SluiceError('ALREADY_EXISTS', `Behavior "${name}" is already registered`, {
        context: { name },
      });
    }
    this.behaviors.set(name, behavior as Behavior<never>);
    return this;
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.behaviors.has(name);
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.behaviors.keys()].sort();
  }

  /** The behavior `name` (`NOT_FOUND` when it is not registered on this node). */
  get<A = unknown>(name: string): Behavior<A> {
    const b = this.behaviors.get(name);
    if (b === undefined) {
      throw new SluiceError('NOT_FOUND', `Behavior "${name}" is not registered on this node`, {
        context: { name },
      });
    }
    return b as unknown as Behavior<A>;
  }
}
