// Zod schemas shared by the patterns' options: a Backend (by shape), a Duration, a non-empty name.
import { z } from 'zod';
import type { Backend } from '../backend/Backend.ts';
import { type Duration, parseDuration } from '../core/duration.ts';

/** Zod schema of a {@link Backend} (checked by shape: the log, lease and membership stores). */
export const backendSchema = z.custom<Backend>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Backend).append === 'function' &&
    typeof (v as Backend).read === 'function' &&
    typeof (v as Backend).commit === 'function' &&
    typeof (v as Backend).leases === 'object',
  { error: 'a Backend (memory, sqlite, postgres or redis)' },
);

/** Zod schema of a {@link Duration} (ms or `"500ms"`, `"1s"`, ...). */
export const durationSchema = z.custom<Duration>((v) => {
  try {
    parseDuration(v);
    return true;
  } catch {
    return false;
  }
}, 'a duration (ms >= 0 or "500ms"/"1s"/"1m"/"1h")');

/** Zod schema of a non-empty name. */
export const nameSchema = z.string('a non-empty string').min(1, 'a non-empty string');
