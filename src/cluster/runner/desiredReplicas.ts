// The sluice.scale control topic: writing and reading the desired replica count of a runner fleet.
import { hostname } from 'node:os';
import type { Backend } from '../../backend/Backend.ts';
import { configError } from '../../core/errors.ts';

/**
 * The control topic holding desired replica counts: one event per `sluice scale --to N`, payload
 * {@link DesiredReplicasRecord}. The latest record of a fleet wins. One partition, so records
 * keep their order.
 */
export const SCALE_TOPIC = 'sluice.scale';

/** One desired-replicas record. */
export interface DesiredReplicasRecord {
  /** The fleet: `<group>/<topic>` of its runners. */
  readonly fleet: string;
  /** Desired number of runner processes (>= 0). */
  readonly replicas: number;
  /** Who asked (`<host>:<pid>`). */
  readonly by: string;
  /** When (ms since epoch). */
  readonly at: number;
}

/** The fleet name of the runners of `group` on `topic`. */
export function fleetName(group: string, topic: string): string {
  return `${group}/${topic}`;
}

/**
 * Records the desired number of runners of a fleet in the backend (appends to {@link SCALE_TOPIC}).
 * A {@link RunnerFleet} serving that fleet starts or stops runner processes to match.
 *
 * @example
 * ```ts
 * await setDesiredReplicas(backend, fleetName('billing', 'orders'), 5);
 * ```
 */
export async function setDesiredReplicas(
  backend: Backend,
  fleet: string,
  replicas: number,
  at = Date.now(),
): Promise<DesiredReplicasRecord> {
  if (typeof fleet !== 'string' || fleet === '') throw configError('fleet', 'a non-empty string', fleet);
  if (!Number.isInteger(replicas) || replicas < 0) throw configError('replicas', 'an integer >= 0', replicas);
  const record: DesiredReplicasRecord = { fleet, replicas, by: `${hostname()}:${process.pid}`, at };
  await backend.ensureTopic(SCALE_TOPIC, { partitions: 1 });
  await backend.append(SCALE_TOPIC, [{ key: fleet, partition: 0, payload: record }]);
  return record;
}

/**
 * Follows the desired replica count of one fleet: reads the control topic incrementally (only
 * the records appended since the last call).
 */
export class DesiredReplicasReader {
  private offset = 0;
  private latest: DesiredReplicasRecord | undefined;

  constructor(
    private readonly backend: Backend,
    readonly fleet: string,
  ) {}

  /** The latest record of the fleet, or `undefined` when none was ever written. */
  async read(): Promise<DesiredReplicasRecord | undefined> {
    if ((await this.backend.topicInfo(SCALE_TOPIC)) === undefined) return this.latest;
    for (;;) {
      const events = await this.backend.read(SCALE_TOPIC, 0, this.offset, 1000);
      for (const e of events) {
        const r = e.payload as Partial<DesiredReplicasRecord> | null;
        if (r?.fleet === this.fleet && Number.isInteger(r.replicas) && (r.replicas as number) >= 0) {
          this.latest = r as DesiredReplicasRecord;
        }
      }
      if (events.length === 0) return this.latest;
      this.offset = events[events.length - 1]!.offset + 1;
    }
  }
}
