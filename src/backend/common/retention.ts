// Retention shared by every backend: validation, the OFFSET_TRIMMED error and the trim target rule.
import { z } from 'zod';
import { configError, SluiceError } from '../../core/errors.ts';
import { validate } from '../../core/validate.ts';
import type { Retention } from '../Backend.ts';

const retentionSchema = z
  .object({
    maxAge: z.number().int('an integer number of milliseconds >= 1').min(1, 'an integer >= 1').optional(),
    maxEvents: z.number().int('an integer >= 1').min(1, 'an integer >= 1').optional(),
    afterCommittedBy: z.array(z.string().min(1, 'a non-empty string'), 'an array of group names').optional(),
  })
  .strict();

/**
 * Validates a retention (`CONFIG_INVALID` naming the field) and returns a normalized copy with
 * only the given fields; `null` stays `null` (no retention).
 */
export function checkRetention(value: unknown, where = 'retention'): Retention | null {
  if (value === null) return null;
  const r = validate(retentionSchema, value, where);
  const out: { -readonly [K in keyof Retention]: Retention[K] } = {};
  if (r.maxAge !== undefined) out.maxAge = r.maxAge;
  if (r.maxEvents !== undefined) out.maxEvents = r.maxEvents;
  if (r.afterCommittedBy !== undefined) out.afterCommittedBy = [...new Set(r.afterCommittedBy)].sort();
  return out;
}

/** JSON text of a retention for storage (`null` for none). */
export function encodeRetention(r: Retention | null): string | null {
  return r === null ? null : JSON.stringify(r);
}

/** Parses stored retention JSON (`null`/empty for none). */
export function decodeRetention(text: string | null | undefined): Retention | null {
  if (text === null || text === undefined || text === '') return null;
  return JSON.parse(text) as Retention;
}

/**
 * `OFFSET_TRIMMED`: a read asked for an offset that retention already removed. Not retryable:
 * reading again from `firstAvailable` is the caller's decision.
 */
export function offsetTrimmed(
  topic: string,
  partition: number,
  requested: number,
  firstAvailable: number,
): SluiceError {
  return new SluiceError(
    'OFFSET_TRIMMED',
    `Offset ${requested} of topic "${topic}" partition ${partition} was removed by retention; the first available offset is ${firstAvailable}`,
    { context: { topic, partition, requested, firstAvailable } },
  );
}

/** What the trim rule needs to know about one partition. */
export interface TrimInput {
  /** First available offset now. */
  readonly first: number;
  /** End offset (next offset to assign). */
  readonly end: number;
  /**
   * With `maxAge`: the first offset (>= `first`) whose event is not older than the cutoff, or
   * `end` when every stored event is older. `undefined` without `maxAge`.
   */
  readonly ageBound: number | undefined;
  /** Committed offsets of the groups named in `afterCommittedBy` (0 for a group that never committed). */
  readonly holds: readonly number[];
}

/**
 * The new first offset of a partition under `retention`: as far as `maxEvents` and `maxAge`
 * allow (each one on its own may remove an event), but never past a held group's committed
 * offset and never backwards. Without `maxEvents` and `maxAge`, nothing is removed.
 */
export function trimTarget(retention: Retention | null, p: TrimInput): number {
  if (retention === null) return p.first;
  let target = p.first;
  if (retention.maxEvents !== undefined) target = Math.max(target, p.end - retention.maxEvents);
  if (retention.maxAge !== undefined && p.ageBound !== undefined) target = Math.max(target, p.ageBound);
  for (const h of p.holds) target = Math.min(target, h);
  return Math.max(p.first, Math.min(target, p.end));
}

/** The cutoff time of `maxAge` at `now`: events with a timestamp below it are expired. */
export function ageCutoff(retention: Retention | null, now: number): number | undefined {
  return retention?.maxAge === undefined ? undefined : now - retention.maxAge;
}

/** Validates `idempotencyOffsets` against `keys` (same length, integers >= 0). */
export function checkMarkerOffsets(keys: readonly string[], offsets: unknown): readonly number[] | undefined {
  if (offsets === undefined) return undefined;
  if (!Array.isArray(offsets) || offsets.length !== keys.length) {
    throw configError(
      'idempotencyOffsets',
      `an array of ${keys.length} offsets (one per idempotency key)`,
      offsets,
    );
  }
  for (let i = 0; i < offsets.length; i++) {
    const o: unknown = offsets[i];
    if (typeof o !== 'number' || !Number.isSafeInteger(o) || o < 0) {
      throw configError(`idempotencyOffsets[${i}]`, 'an integer >= 0', o);
    }
  }
  return offsets as readonly number[];
}
