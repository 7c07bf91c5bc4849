// Taking a saga's lock while saying who holds it: waits for a busy or crashed holder's lease, reporting owner and expiry.
import type { Lease, LeaseStore } from '../../backend/Backend.ts';
import type { Clock } from '../../core/Clock.ts';
import { abortError, isSluiceError, throwIfAborted } from '../../core/errors.ts';
import type { DistributedLock } from '../lock/DistributedLock.ts';
import type { LockHandle } from '../lock/LockHandle.ts';

/**
 * Acquires `lock`, waiting while another owner holds it. Each time the holder or its expiry
 * changes (a new owner, or a renewal by a live one), `onWait` gets the holder's lease. Waits
 * until the lease is released or expires, polling at most every `min(ttl / 3, 1s)` and waking at
 * the expiry itself. `BACKEND_UNAVAILABLE` while waiting counts as "still held".
 *
 * @throws SluiceError `ABORTED` when `signal` aborts, also while waiting.
 */
export async function acquireReporting(
  lock: DistributedLock,
  leases: LeaseStore,
  clock: Clock,
  signal: AbortSignal | undefined,
  onWait: (holder: Lease) => void,
): Promise<LockHandle> {
  const what = `acquisition of lock "${lock.name}"`;
  const pollMs = Math.max(1, Math.min(Math.floor(lock.ttlMs / 3), 1000));
  let reported: string | undefined;
  for (;;) {
    throwIfAborted(signal, what);
    const handle = await tryOnce(() => lock.tryAcquire());
    if (handle) {
      if (signal?.aborted) {
        await handle.release();
        throw abortError(signal, what);
      }
      return handle;
    }
    const holder = await tryOnce(() => leases.get(lock.name));
    let pause = pollMs;
    if (holder) {
      const seen = `${holder.owner}@${holder.expiresAt}`;
      if (seen !== reported) {
        reported = seen;
        onWait(holder);
      }
      pause = Math.max(1, Math.min(pollMs, holder.expiresAt - clock.now()));
    }
    await clock.sleep(pause, signal);
  }
}

/** Runs a backend call; `BACKEND_UNAVAILABLE` becomes `undefined` (try again later). */
async function tryOnce<T>(call: () => Promise<T | null | undefined>): Promise<T | undefined> {
  try {
    return (await call()) ?? undefined;
  } catch (e) {
    if (isSluiceError(e) && e.code === 'BACKEND_UNAVAILABLE') return undefined;
    throw e;
  }
}
