// Zod schemas shared by resilience options: an injected Clock, a function, an integer lower bound.
import { z } from 'zod';
import type { Clock } from '../core/Clock.ts';

/** Zod schema of an injected {@link Clock}: an object with the four clock methods. */
export const clockSchema = z.custom<Clock>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Clock).now === 'function' &&
    typeof (v as Clock).setTimeout === 'function' &&
    typeof (v as Clock).clearTimeout === 'function' &&
    typeof (v as Clock).sleep === 'function',
  { error: 'a Clock (now, setTimeout, clearTimeout, sleep)' },
);

/** Zod schema of a function value. */
export function fnSchema<F>(what = 'a function') {
  return z.custom<F>((v) => typeof v === 'function', { error: what });
}

/** Zod schema of an integer `>= min`. */
export function intAtLeast(min: number) {
  const msg = `an integer >= ${min}`;
  return z.number({ error: msg }).int(msg).min(min, msg);
}
