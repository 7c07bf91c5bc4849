// In-memory LimitStore: GCRA buckets, parks and leased semaphore slots in maps.
import { checkLimitArgs, checkRateSpec, checkSlotSpec, gcraStep } from '../common/gcra.ts';
import type { LimitStore, RateDecision, RateSpec, SlotDecision, SlotSpec } from '../LimitStore.ts';

/** One held slot. */
interface Slot {
  readonly weight: number;
  expiresAt: number;
}

/** In-memory {@link LimitStore}; every decision is synchronous and atomic. Part of `MemoryBackend`. */
export class MemoryLimits implements LimitStore {
  private readonly buckets = new Map<string, number>();
  private readonly parks = new Map<string, number>();
  private readonly semaphores = new Map<string, Map<string, Slot>>();

  constructor(private readonly ensureOpen: () => void) {}

  async take(name: string, key: string, weight: number, spec: RateSpec, now: number): Promise<RateDecision> {
    this.ensureOpen();
    checkLimitArgs(name, key, weight, now);
    checkRateSpec(spec, weight);
    const parked = this.parkEnd(name, key);
    if (parked > now) return { granted: false, retryAfterMs: Math.ceil(parked - now), parked: true };
    const id = `${name}\u0000${key}`;
    const step = gcraStep(this.buckets.get(id) ?? 0, now, weight, spec);
    if (!step.granted) return { granted: false, retryAfterMs: step.waitMs, parked: false };
    this.buckets.set(id, step.tat);
    return { granted: true };
  }

  async park(name: string, key: string, until: number, now: number): Promise<number> {
    this.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    checkLimitArgs(name, key, 1, until);
    const id = `${name}\u0000${key}`;
    const end = Math.max(this.parks.get(id) ?? 0, until);
    this.parks.set(id, end);
    return end;
  }

  async parkedUntil(name: string, key: string, now: number): Promise<number> {
    this.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    const end = this.parkEnd(name, key);
    return end > now ? end : 0;
  }

  async acquireSlot(
    name: string,
    key: string,
    holder: string,
    weight: number,
    spec: SlotSpec,
    now: number,
  ): Promise<SlotDecision> {
    this.ensureOpen();
    checkLimitArgs(name, key, weight, now);
    checkSlotSpec(spec, weight);
    const parked = this.parkEnd(name, key);
    if (parked > now) return { granted: false, retryAfterMs: Math.ceil(parked - now), parked: true };
    const slots = this.live(name, key, now);
    slots.delete(holder);
    let held = 0;
    let earliest = Number.POSITIVE_INFINITY;
    for (const s of slots.values()) {
      held += s.weight;
      earliest = Math.min(earliest, s.expiresAt);
    }
    if (held + weight > spec.max) {
      return { granted: false, retryAfterMs: Math.max(1, Math.ceil(earliest - now)), parked: false };
    }
    const expiresAt = now + spec.ttlMs;
    slots.set(holder, { weight, expiresAt });
    return { granted: true, expiresAt };
  }

  async renewSlot(
    name: string,
    key: string,
    holder: string,
    ttlMs: number,
    now: number,
  ): Promise<number | null> {
    this.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    const slots = this.live(name, key, now);
    const slot = slots.get(holder);
    if (slot === undefined) return null;
    slot.expiresAt = now + ttlMs;
    return slot.expiresAt;
  }

  async releaseSlot(name: string, key: string, holder: string): Promise<boolean> {
    this.ensureOpen();
    const slots = this.semaphores.get(`${name}\u0000${key}`);
    return slots?.delete(holder) ?? false;
  }

  async heldSlots(name: string, key: string, now: number): Promise<number> {
    this.ensureOpen();
    checkLimitArgs(name, key, 1, now);
    let held = 0;
    for (const s of this.live(name, key, now).values()) held += s.weight;
    return held;
  }

  /** The slots of one semaphore with the expired ones dropped. */
  private live(name: string, key: string, now: number): Map<string, Slot> {
    const id = `${name}\u0000${key}`;
    let slots = this.semaphores.get(id);
    if (slots === undefined) this.semaphores.set(id, (slots = new Map()));
    for (const [holder, s] of slots) if (s.expiresAt <= now) slots.delete(holder);
    return slots;
  }

  private parkEnd(name: string, key: string): number {
    const own = this.parks.get(`${name}\u0000${key}`) ?? 0;
    return key === '' ? own : Math.max(own, this.parks.get(`${name}\u0000`) ?? 0);
  }
}
