// A runner's lease work: its holder lease (one renewal for every partition), batched acquisition with offsets, and the check of a set after a late renewal.
import type { Backend, Lease } from '../../backend/Backend.ts';
import type { Clock } from '../../core/Clock.ts';
import { SluiceError } from '../../core/errors.ts';
import type { PartitionWorker } from './PartitionWorker.ts';
import { partitionLeaseName } from './runnerTypes.ts';

/** Name of the holder lease of runner `nodeName` in `group`/`topic`: its partition leases are bound to it. */
export function runnerHolderLeaseName(group: string, topic: string, nodeName: string): string {
  return `sluice-runner-holder/${group}/${topic}/${nodeName}`;
}

/** What renewing the holder lease found. */
export type HolderRenewal =
  /**
   * Renewed. `lapsed`: its expiry had passed before the answer came (now or at an earlier renewal
   * whose check did not complete), so bound leases may have been taken meanwhile.
   */
  | { readonly kind: 'renewed'; readonly lease: Lease; readonly lapsed: boolean }
  /** Taken by another incarnation of the same runner name: every bound lease is gone. */
  | { readonly kind: 'lost' }
  /** No holder lease held yet. */
  | { readonly kind: 'none' };

/**
 * The runner's own lease. Every partition lease the runner acquires is bound to it
 * (`acquireMany({holder})`), so one renewal per heartbeat keeps them all, whatever their number,
 * and a runner that dies frees them all when this one lease expires.
 * @internal Used by {@link PartitionedRunner}.
 */
export class RunnerHolder {
  private held: Lease | undefined;
  /** Whether the last {@link ensure} found the lease held by another incarnation. */
  private busy = false;
  /**
   * Set when a renewal came after the expiry, cleared by {@link checked}: until the partition
   * leases were checked, every renewal says `lapsed` (a check that failed is not forgotten).
   */
  private unchecked = false;

  constructor(
    private readonly backend: Backend,
    private readonly clock: Clock,
    private readonly nodeName: string,
    readonly name: string,
    private readonly owner: string,
    private readonly ttlMs: number,
  ) {}

  /**
   * Takes the holder lease when it is not held yet. `undefined` while another incarnation of this
   * runner name holds it: `busy` hears about it once, until the lease is taken.
   */
  async ensure(busy: (error: SluiceError) => void): Promise<Lease | undefined> {
    if (this.held !== undefined) return this.held;
    this.held = (await this.backend.leases.acquire(this.name, this.owner, this.ttlMs)) ?? undefined;
    if (this.held === undefined && !this.busy) busy(holderBusyError(this.name, this.nodeName));
    this.busy = this.held === undefined;
    return this.held;
  }

  /** Renews the holder lease (see {@link HolderRenewal}). */
  async renew(): Promise<HolderRenewal> {
    const before = this.held;
    if (before === undefined) return { kind: 'none' };
    const lease = await this.backend.leases.renew(before, this.ttlMs);
    if (this.held !== before) return { kind: 'none' }; // released meanwhile (a stop)
    if (lease === null) {
      this.held = undefined;
      this.unchecked = false;
      return { kind: 'lost' };
    }
    this.held = lease;
    if (this.clock.now() >= before.expiresAt) this.unchecked = true;
    return { kind: 'renewed', lease, lapsed: this.unchecked };
  }

  /** The partition leases were checked after a late renewal (see {@link HolderRenewal}). */
  checked(): void {
    this.unchecked = false;
  }

  /** Releases the holder lease (every lease still bound to it is free at once). */
  async release(): Promise<void> {
    const lease = this.held;
    this.held = undefined;
    if (lease !== undefined) await this.backend.leases.release(lease);
  }
}

/** The error a runner reports while another incarnation of its name holds its holder lease. */
function holderBusyError(lease: string, nodeName: string): SluiceError {
  return new SluiceError(
    'INVALID_STATE',
    `Another runner named "${nodeName}" holds the lease "${lease}"; waiting for it to stop or expire`,
    { context: { lease, nodeName } },
  );
}

/** The workers that hold a partition lease now (running or draining). */
function heldWorkers<T>(workers: Iterable<PartitionWorker<T>>): PartitionWorker<T>[] {
  return [...workers].filter(
    (w) => w.lease !== undefined && (w.state === 'running' || w.state === 'draining'),
  );
}

/** A partition acquired, with its lease and committed offset. */
export interface Acquired {
  readonly partition: number;
  readonly lease: Lease;
  readonly offset: number;
}

/**
 * Acquires the leases of `partitions` bound to `holder` (each with its own owner from
 * `nextOwner`, hence its own fencing token) and reads their committed offsets: two backend calls
 * whatever their number. When `stillWanted()` turns false or the offsets cannot be read, the
 * leases taken are released again in one call (so nobody waits for their expiry) and nothing is
 * returned, or the error is rethrown.
 */
export async function acquirePartitions(
  backend: Backend,
  group: string,
  topic: string,
  partitions: readonly number[],
  holder: Lease,
  ttlMs: number,
  nextOwner: () => string,
  stillWanted: () => boolean,
): Promise<Acquired[]> {
  const leases = await backend.leases.acquireMany(
    partitions.map((p) => ({ name: partitionLeaseName(group, topic, p), owner: nextOwner() })),
    ttlMs,
    { holder },
  );
  const got: { partition: number; lease: Lease }[] = [];
  partitions.forEach((partition, i) => {
    const lease = leases[i];
    if (lease != null) got.push({ partition, lease });
  });
  if (got.length === 0) return [];
  const giveBack = () => backend.leases.releaseMany(got.map((g) => g.lease)).catch(() => []);
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
 * After the holder was renewed: every running or draining worker takes the holder's new expiry
 * (no backend call). When the renewal came late (`lapsed`), another runner may have taken some
 * partitions meanwhile, so their leases are checked first in one call (`renewMany`); one found
 * lost drops its partition through `lost`, after the worker's commit in flight (if any) settled:
 * that commit decides (it is refused `FENCED`, or it went through first).
 */
export async function followHolder<T>(
  backend: Backend,
  workers: Iterable<PartitionWorker<T>>,
  holder: Lease,
  lapsed: boolean,
  ttlMs: number,
  lost: (worker: PartitionWorker<T>) => void,
): Promise<void> {
  const held = heldWorkers(workers);
  if (held.length === 0) return;
  const checked = lapsed
    ? await backend.leases.renewMany(
        held.map((w) => w.lease!),
        ttlMs,
      )
    : held.map((w) => w.lease);
  held.forEach((w, i) => {
    if (w.state !== 'running' && w.state !== 'draining') return; // released meanwhile
    const lease = checked[i];
    if (lease != null) {
      w.renewed({ ...lease, expiresAt: holder.expiresAt });
      return;
    }
    const inFlight = w.commitInFlight;
    if (inFlight === undefined) lost(w);
    else void inFlight.then(() => lost(w));
  });
}

/**
 * One heartbeat's lease work: renews the holder lease, then lets the workers follow it
 * ({@link followHolder}); a holder lease found taken drops every partition through `lost`.
 */
export async function renewHolder<T>(
  holder: RunnerHolder,
  backend: Backend,
  workers: Iterable<PartitionWorker<T>>,
  ttlMs: number,
  lost: (worker: PartitionWorker<T>) => void,
): Promise<void> {
  const renewal = await holder.renew();
  if (renewal.kind === 'renewed') {
    await followHolder(backend, workers, renewal.lease, renewal.lapsed, ttlMs, lost);
    // Only now: a check that threw leaves the next renewal `lapsed`, so it is made again.
    if (renewal.lapsed) holder.checked();
  } else if (renewal.kind === 'lost') {
    for (const w of heldWorkers(workers)) lost(w);
  }
}
