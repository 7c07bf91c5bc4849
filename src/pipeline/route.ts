// Turns a source item into an entry for a worker: its checked key, virtual partition and log position.
import { describeValue, SluiceError } from '../core/errors.ts';
import type { EngineConfig } from './engineTypes.ts';
import { isPartitionKey, keyError, type PartitionKey, slotOfKey } from './keys.ts';
import type { Entry } from './Lane.ts';

/** Which per-item function gave an unusable answer. */
type RouteField = 'partitionBy' | 'priority' | 'weight';

/**
 * An item that could not be routed: its key (or priority, or its key's weight) function threw,
 * or returned an unusable `value`. @internal
 */
export class KeyFailure {
  constructor(
    readonly threw: boolean,
    readonly value: unknown,
    readonly field: RouteField = 'partitionBy',
  ) {}

  /** The `CONFIG_INVALID` error of an unusable value (item `seq`). */
  toError(seq: number): SluiceError {
    if (this.field === 'partitionBy') return keyError(this.value, seq);
    const expected = this.field === 'weight' ? 'a finite number > 0' : 'a finite number';
    return new SluiceError(
      'CONFIG_INVALID',
      `Expected the value returned by \`concurrent.${this.field}\` to be ${expected}, got ${typeof this.value === 'number' ? String(this.value) : describeValue(this.value)}`,
      { context: { field: `concurrent.${this.field}`, got: this.value, seq } },
    );
  }
}

/** Calls a per-item flow function and checks its answer (a finite number, > 0 for weights). */
function flowValue<A>(fn: (a: A) => unknown, arg: A, field: RouteField): number | KeyFailure {
  let v: unknown;
  try {
    v = fn(arg);
  } catch (e) {
    return new KeyFailure(true, e, field);
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || (field === 'weight' && v <= 0))
    return new KeyFailure(false, v, field);
  return v;
}

/** An entry with the virtual partition (`slot`) that picks its worker. @internal */
export interface RoutedEntry<T> extends Entry<T> {
  readonly slot: number;
}

/**
 * Computes the entry of `item` as sequence number `seq`. The key decides the worker (through
 * its virtual partition), also for topic sources, where `partition`/`offset` stay the event's
 * log position: keys of one log partition spread over all workers.
 * @internal
 */
export function routeItem<T>(
  cfg: EngineConfig<T, unknown, unknown>,
  item: T,
  seq: number,
): RoutedEntry<T> | KeyFailure {
  let key: string | number = seq;
  let slot: number;
  if (cfg.keyFn) {
    let k: unknown;
    try {
      k = cfg.keyFn(item);
    } catch (e) {
      return new KeyFailure(true, e);
    }
    if (!isPartitionKey(k)) return new KeyFailure(false, k);
    key = k;
    slot = slotOfKey(k, cfg.partitions);
  } else slot = seq % cfg.partitions;
  const pos = cfg.positionOf?.(item);
  const partition = pos ? pos.partition : slot;
  const flow = cfg.flow;
  if (flow.rank === undefined) return { seq, item, key, slot, partition, offset: pos?.offset, attempts: 0 };
  let priority = 0;
  let weight = 1;
  if (flow.priorityOf !== undefined) {
    const p = flowValue(flow.priorityOf, item, 'priority');
    if (p instanceof KeyFailure) return p;
    priority = p;
  }
  if (flow.weightOf !== undefined) {
    const w = flowValue<PartitionKey>(flow.weightOf, key, 'weight');
    if (w instanceof KeyFailure) return w;
    weight = w;
  }
  return { seq, item, key, slot, partition, offset: pos?.offset, attempts: 0, priority, weight };
}
