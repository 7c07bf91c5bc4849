// defineRunner: the module shape `sluice runner` runs and `sluice scale` scales.
import { z } from 'zod';
import type { Backend } from '../../backend/Backend.ts';
import { configError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type { Runner } from './PartitionedRunner.ts';
import type { PartitionedRunnerOptions } from './runnerOptions.ts';

/**
 * A partitioned runner module, as run by `sluice runner <file>` and scaled by `sluice scale`:
 * the module's default export. The CLI opens the backend, names the node and stops the runner
 * gracefully on SIGTERM/SIGINT.
 */
export interface RunnerDefinition<T = unknown>
  extends Omit<PartitionedRunnerOptions<T>, 'backend' | 'nodeName' | 'clock' | 'signal'> {
  /** Called once the runner is created, before `start()`: attach event listeners, open resources. */
  setup?: (runner: Runner, context: { backend: Backend; nodeName: string }) => void | Promise<void>;
  /** Called after the runner stopped: close what `setup` opened. */
  teardown?: () => void | Promise<void>;
}

const name = z.string('a non-empty string').min(1, 'a non-empty string');
const fn = z.custom<(...a: never[]) => unknown>((v) => typeof v === 'function', 'a function');
const schema = z.object({
  group: name,
  topic: name,
  handler: fn.optional(),
  batchHandler: fn.optional(),
  setup: fn.optional(),
  teardown: fn.optional(),
});

/**
 * Declares a partitioned runner module (validated: `CONFIG_INVALID` names the field).
 *
 * @example
 * ```ts
 * // billing.ts — run with `sluice runner billing.ts`, or a local fleet with `sluice scale billing.ts --serve --to 3`
 * export default defineRunner<Order>({
 *   group: 'billing',
 *   topic: 'orders',
 *   partitions: 16,
 *   handler: async (event, ctx) => charge(event.payload, ctx.idempotencyKey),
 * });
 * ```
 */
export function defineRunner<T = unknown>(definition: RunnerDefinition<T>): RunnerDefinition<T> {
  const d = validate(schema, definition, 'runner');
  if ((d.handler === undefined) === (d.batchHandler === undefined)) {
    throw configError('runner.handler', 'given (or `batchHandler`, but not both)', d.handler);
  }
  return definition;
}
