// validate: zod parsing of options that throws CONFIG_INVALID naming the field path and the value received.
import type { z } from 'zod';
import { describeValue, SluiceError } from './errors.ts';

/**
 * Validates `value` against a zod schema and returns the parsed value, or throws a
 * `CONFIG_INVALID` {@link SluiceError} whose message names the field and the value received:
 * ``Expected `maxWorkers` to be an integer >= 1, got 0``.
 *
 * @param where - a prefix for field paths, e.g. `"concurrent"` gives `concurrent.maxWorkers`.
 */
export function validate<S extends z.ZodType>(schema: S, value: unknown, where?: string): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  if (!issue) throw new SluiceError('CONFIG_INVALID', `Invalid ${where ?? 'options'}`);
  const path = issue.path.map(String);
  const field = [where, ...path].filter((p) => p !== undefined && p !== '').join('.') || 'options';
  const got = getPath(value, issue.path);
  const expected = issue.message.replace(/^Invalid input: /, '');
  const message = `Expected \`${field}\` to be ${expected}, got ${describeValue(got)}`;
  throw new SluiceError('CONFIG_INVALID', message, {
    context: {
      field,
      got,
      issues: r.error.issues.map((i) => ({ path: i.path.map(String), message: i.message })),
    },
  });
}

function getPath(value: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = value;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
