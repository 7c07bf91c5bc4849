// Validation of partitioner members (lists, weight maps, names, weights, counts) and the membership errors.
import { z } from 'zod';
import { configError, SluiceError } from '../core/errors.ts';
import { validate } from '../core/validate.ts';

/** A member list, or a map of member name to relative weight. */
export type MemberSpec = readonly string[] | Readonly<Record<string, number>>;

const memberName = z.string().min(1, 'a non-empty member name');

/** zod schema of a non-empty list of distinct, non-empty member names. */
export const memberListSchema = z
  .array(memberName, 'a non-empty array of distinct member names')
  .min(1, 'a non-empty array of distinct member names')
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((m, i) => {
      if (seen.has(m)) ctx.addIssue({ code: 'custom', path: [i], message: 'a member not listed twice' });
      seen.add(m);
    });
  });

/** zod schema of a relative weight: a finite number > 0. */
export const weightSchema = z
  .number('a finite number > 0')
  .refine((w) => Number.isFinite(w) && w > 0, 'a finite number > 0');

const weightMapSchema = z
  .record(z.string(), weightSchema, 'a non-empty array of member names or a {member: weight} map')
  .refine((r) => Object.keys(r).length > 0, 'a non-empty {member: weight} map')
  .superRefine((r, ctx) => {
    if (Object.hasOwn(r, ''))
      ctx.addIssue({ code: 'custom', path: [''], message: 'a non-empty member name' });
  });

/** Validated member list: names and weights, in the given order. */
export interface WeightedMembers {
  names: string[];
  weights: number[];
}

/**
 * Validates a member list (`field` names it in errors) and returns names with weight 1.
 * Empty and duplicate members give `CONFIG_INVALID`.
 */
export function parseMemberList(value: unknown, field: string): string[] {
  return [...validate(memberListSchema, value, field)];
}

/** Validates a {@link MemberSpec} and returns names and weights. */
export function parseMemberSpec(value: unknown, field: string): WeightedMembers {
  if (Array.isArray(value)) {
    const names = parseMemberList(value, field);
    return { names, weights: names.map(() => 1) };
  }
  if (typeof value !== 'object' || value === null) {
    throw configError(field, 'a non-empty array of member names or a {member: weight} map', value);
  }
  const record = validate(weightMapSchema, value, field);
  const names = Object.keys(record);
  return { names, weights: names.map((n) => record[n]!) };
}

/** Validates one member name for `add`. */
export function parseMemberName(value: unknown, field: string): string {
  return validate(memberName, value, field);
}

/** Validates a weight. */
export function parseWeight(value: unknown, field: string): number {
  return validate(weightSchema, value, field);
}

/** Validates an integer >= 1 (`n`, `vnodes`, `partitions`). */
export function parsePositiveInt(value: unknown, field: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw configError(
      field,
      max === Number.MAX_SAFE_INTEGER ? 'an integer >= 1' : `an integer in [1, ${max}]`,
      value,
    );
  }
  return value;
}

/** The error thrown when removing a member that is not there. */
export function notAMember(member: string, where: string): SluiceError {
  return new SluiceError('NOT_FOUND', `${where}: ${JSON.stringify(member)} is not a member`, {
    context: { member },
  });
}

/** The error thrown when removing the last member. */
export function lastMember(member: string, where: string): SluiceError {
  return new SluiceError(
    'INVALID_STATE',
    `${where}: cannot remove ${JSON.stringify(member)}, the last member (at least one is required)`,
    { context: { member } },
  );
}
