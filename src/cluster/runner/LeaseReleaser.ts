// Batches a runner's lease releases: every release asked for in one turn of the event loop goes out in one releaseMany.
import type { Backend, Lease } from '../../backend/Backend.ts';

interface Pending {
  readonly lease: Lease;
  readonly resolve: (released: boolean) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Releases a runner's partition leases in batches: the releases asked for within one turn of
 * the event loop (a rebalance hands many idle partitions over at once) are sent as one
 * `releaseMany`, and while one is in flight the next ones gather for the call after it. Each
 * caller gets its own lease's result.
 * @internal Used by {@link RunnerPartitions}.
 */
export class LeaseReleaser {
  private pending: Pending[] = [];
  private scheduled = false;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly backend: Backend) {}

  /** Releases `lease` with the others of this turn; resolves with whether it was still held. */
  release(lease: Lease): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.pending.push({ lease, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight !== undefined) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.inFlight = this.flush().finally(() => {
        this.inFlight = undefined;
        if (this.pending.length > 0) this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    // Names are distinct within one call; a lease asked for twice waits for the next call.
    const seen = new Set<string>();
    const now: Pending[] = [];
    for (const p of batch) {
      if (seen.has(p.lease.name)) this.pending.push(p);
      else {
        seen.add(p.lease.name);
        now.push(p);
      }
    }
    try {
      const released = await this.backend.leases.releaseMany(now.map((p) => p.lease));
      now.forEach((p, i) => {
        p.resolve(released[i] ?? false);
      });
    } catch (e) {
      for (const p of now) p.reject(e);
    }
  }
}
