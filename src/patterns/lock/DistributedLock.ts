// DistributedLock: a lease-based mutual-exclusion lock with fencing tokens on any backend; acquire, withLock.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { Backend } from '../../backend/Backend.ts';
import { type Clock, systemClock } from '../../core/Clock.ts';
import { type Duration, parseDuration } from '../../core/duration.ts';
import { abortError, isSluiceError, SluiceError, throwIfAborted } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import { clockSchema } from '../../resilience/options.ts';
import { backendSchema, durationSchema, nameSchema } from '../options.ts';
import { LockHandle } from './LockHandle.ts';

/** Options of {@link DistributedLock}. */
export interface DistributedLockOptions {
  /** Where the lease lives; every process contending for the lock uses the same backend. */
  backend: Backend;
  /** The lock name (the lease name). */
  name: string;
  /** Lease time to live; the lock is renewed every `ttl / 3` while held. */
  ttl: Duration;
  /** How often a waiting `acquire` retries. Default `min(ttl / 3, 1s)`. */
  retryInterval?: Duration;
  /** Time source for renewals, expiry and waits. Default `systemClock`. */
  clock?: Clock;
  /** Prefix of owner ids (a random suffix is added per acquisition). Default `hostname:pid`. */
  ownerPrefix?: string;
}

/** Options of {@link DistributedLock.acquire}. */
export interface AcquireOptions {
  /** Aborts a waiting acquisition (rejects with `ABORTED`). */
  signal?: AbortSignal;
  /**
   * `true` (default) waits until the lock is free; `false` tries once and rejects with
   * `LOCK_HELD` (retryable) when another owner holds it; a duration waits at most that long,
   * then rejects with `TIMEOUT`.
   */
  wait?: boolean | Duration;
}

const optionsSchema = z.object({
  backend: backendSchema,
  name: nameSchema,
  ttl: durationSchema,
  retryInterval: durationSchema.optional(),
  clock: clockSchema.optional(),
  ownerPrefix: nameSchema.optional(),
});

const acquireSchema = z.object({
  signal: z.custom<AbortSignal>((v) => v instanceof AbortSignal, 'an AbortSignal').optional(),
  wait: z.union([z.boolean(), durationSchema], 'a boolean or a duration').optional(),
});

/**
 * A mutual-exclusion lock shared by every process using the same backend, built only on the
 * backend's leases, so it works on memory, sqlite, postgres and redis alike.
 *
 * Each acquisition gets a fresh owner id and a **fencing token** that is strictly larger than
 * any earlier holder's. While held, the lease is renewed every `ttl / 3`; if it cannot be kept
 * (taken after a pause, or expired while the backend was unreachable) the handle's `signal`
 * aborts with `LEASE_LOST`. A lock cannot guarantee that a paused process stops writing —
 * protect writes with the fencing token.
 *
 * @example
 * ```ts
 * const lock = new DistributedLock({ backend, name: 'nightly-report', ttl: '30s' });
 * await lock.withLock(async (held) => {
 *   await buildReport({ signal: held.signal });
 *   await backend.commit('reports', 'days', 0, day + 1, { fence: held.fence });
 * });
 * ```
 */
export class DistributedLock {
  /** The lock name. */
  readonly name: string;
  /** Lease ttl in ms. */
  readonly ttlMs: number;

  private readonly backend: Backend;
  private readonly clock: Clock;
  private readonly retryMs: number;
  private readonly ownerPrefix: string;

  constructor(options: DistributedLockOptions) {
    const opts = validate(optionsSchema, options, 'DistributedLock');
    this.backend = opts.backend;
    this.name = opts.name;
    this.ttlMs = Math.round(parseDuration(opts.ttl, 'DistributedLock.ttl'));
    if (this.ttlMs < 3) {
      throw new SluiceError(
        'CONFIG_INVALID',
        `Expected \`DistributedLock.ttl\` to be at least 3ms, got ${this.ttlMs}`,
        {
          context: { field: 'DistributedLock.ttl', got: opts.ttl },
        },
      );
    }
    this.clock = opts.clock ?? systemClock;
    this.retryMs =
      opts.retryInterval === undefined
        ? Math.min(Math.floor(this.ttlMs / 3), 1000)
        : Math.max(1, parseDuration(opts.retryInterval, 'DistributedLock.retryInterval'));
    this.ownerPrefix = opts.ownerPrefix ?? `${hostname()}:${process.pid}`;
  }

  /**
   * Acquires the lock, waiting for it by default. While waiting, `BACKEND_UNAVAILABLE` errors
   * are retried like a busy lock; without waiting they are rethrown.
   */
  async acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    const opts = validate(acquireSchema, options, 'acquire');
    const signal = opts.signal;
    const wait = opts.wait ?? true;
    const deadline =
      wait === true || wait === false ? undefined : this.clock.now() + parseDuration(wait, 'acquire.wait');
    for (;;) {
      throwIfAborted(signal, `acquisition of lock "${this.name}"`);
      let handle: LockHandle | null = null;
      try {
        handle = await this.tryAcquire();
      } catch (e) {
        if (wait === false || !(isSluiceError(e) && e.code === 'BACKEND_UNAVAILABLE')) throw e;
      }
      if (handle !== null) {
        if (signal?.aborted) {
          await handle.release();
          throw abortError(signal, `acquisition of lock "${this.name}"`);
        }
        return handle;
      }
      if (wait === false) {
        throw new SluiceError('LOCK_HELD', `Lock "${this.name}" is held by another owner`, {
          retryable: true,
          context: { lock: this.name },
        });
      }
      let pause = this.retryMs;
      if (deadline !== undefined) {
        const left = deadline - this.clock.now();
        if (left <= 0) {
          throw new SluiceError('TIMEOUT', `Timed out waiting for lock "${this.name}"`, {
            retryable: true,
            context: { lock: this.name },
          });
        }
        pause = Math.min(pause, left);
      }
      await this.clock.sleep(pause, signal);
    }
  }

  /** One attempt: the handle, or `null` when another owner holds the lock. */
  async tryAcquire(): Promise<LockHandle | null> {
    const owner = `${this.ownerPrefix}:${randomUUID()}`;
    const lease = await this.backend.leases.acquire(this.name, owner, this.ttlMs);
    if (lease === null) return null;
    return new LockHandle(
      lease,
      this.backend,
      this.clock,
      this.ttlMs,
      Math.max(1, Math.floor(this.ttlMs / 3)),
    );
  }

  /**
   * Runs `fn` while holding the lock and releases it afterwards (also when `fn` throws). When the
   * lock was lost before `fn` finished, rejects with `LEASE_LOST` even if `fn` resolved: mutual
   * exclusion did not hold for the whole run.
   */
  async withLock<T>(fn: (lock: LockHandle) => Promise<T> | T, options: AcquireOptions = {}): Promise<T> {
    const handle = await this.acquire(options);
    try {
      const result = await fn(handle);
      handle.throwIfLost();
      return result;
    } finally {
      await handle.release();
    }
  }
}
