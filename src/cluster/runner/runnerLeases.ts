// A runner's batched lease work: acquiring partitions with their offsets, and renewing every held lease in one call.
import type { Backend, Lease } from '../../backend/Backend.ts';
import type { PartitionWorker } from './PartitionWorker.ts';
import { partitionLeaseName } from './runnerTypes.ts';

/** A partition acquired, with its lease and committed offset. */
export interface Acquired {
  readonly partition: number;
  readonly lease: Lease;
  readonly offset: number;
}

/**
 * Acquires the leases of `partitions` (each with its own owner from `nextOwner`, hence its own
 * fencing token) and reads their committed offsets: two backend calls whatever their number.
 * When `stillWanted()` turns false or the offsets cannot be read, the leases taken are released
 * again (so nobody waits for their expiry) and nothing is returned, or the error is rethrown.
 */
export async function acquirePartitions(
  backend: Backend,
  group: string,
  topic: string,
  partitions: readonly number[],
  ttlMs: number,
  nextOwner: () => string,
  stillWanted: () => boolean,
): Promise<Acquired[]> {
  const leases = await backend.leases.acquireMany(
    partitions.map((p) => ({ name: partitionLeaseName(group, topic, p), owner: nextOwner() })),
    ttlMs,
  );
  const got: { partition: number; lease: Lease }[] = [];
  partitions.forEach((partition, i) => {
    const lease = leases[i];
    if (lease != null) got.push({ partition, lease });
  });
  if (got.length === 0) return [];
  const giveBack = () => Promise.all(got.map((g) => backend.leases.release(g.lease).catch(() => false)));
  let offsets: number[] = [];
  try {
    if (stillWanted()) {
      offsets = await backend.committedMany(
        group,
        topic,
        got.map((g) => g.partition),
      );
    }
  } catch (e) {
    await giveBack();
    throw e;
  }
  if (!stillWanted()) {
    await giveBack();
    return [];
  }
  return got.map((g, i) => ({ ...g, offset: offsets[i] ?? 0 }));
}

/**
 * Renews the leases of every running or draining worker in one backend call. A lease found lost
 * drops its partition through `lost` — after the worker's commit in flight (if any) settled: that
 * commit decides (it is refused `FENCED`, or it went through first).
 */
export async function renewHeld<T>(
  backend: Backend,
  workers: Iterable<PartitionWorker<T>>,
  ttlMs: number,
  lost: (worker: PartitionWorker<T>) => void,
): Promise<void> {
  const held = [...workers].filter(
    (w) => w.lease !== undefined && (w.state === 'running' || w.state === 'draining'),
  );
  if (held.length === 0) return;
  const renewed = await backend.leases.renewMany(
    held.map((w) => w.lease!),
    ttlMs,
  );
  held.forEach((w, i) => {
    if (w.state !== 'running' && w.state !== 'draining') return; // released meanwhile
    const lease = renewed[i];
    if (lease != null) {
      w.renewed(lease);
      return;
    }
    const inFlight = w.commitInFlight;
    if (inFlight === undefined) lost(w);
    else void inFlight.then(() => lost(w));
  });
}
