// What every conformance test works with: the start time T0, the backend and clock, and rejectsWithCode.
import { expect } from 'vitest';
import { isSluiceError, type SluiceError } from '../../core/errors.ts';
import type { ManualClock } from '../../core/ManualClock.ts';
import type { Backend, LogEvent } from '../Backend.ts';

/** The clock time every conformance test starts at (a realistic epoch time, not 0). */
export const T0 = 1_700_000_000_000;

/** What each conformance test works with: a fresh, empty backend and the clock it reads. */
export interface Harness {
  readonly backend: Backend;
  readonly clock: ManualClock;
}

/** Asserts that `p` rejects with a {@link SluiceError} of `code` and returns that error. */
export async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<SluiceError> {
  const outcome = await p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) {
    expect.fail(`expected a ${code} rejection, got a result: ${JSON.stringify(outcome.value)}`);
  }
  const e = outcome.error;
  expect(isSluiceError(e), `expected a SluiceError, got ${String(e)}`).toBe(true);
  expect((e as SluiceError).code).toBe(code);
  return e as SluiceError;
}

/** Reads a whole partition in pages of `page` events. */
export async function readAll(b: Backend, topic: string, partition: number, page = 100): Promise<LogEvent[]> {
  const out: LogEvent[] = [];
  for (;;) {
    const batch = await b.read(topic, partition, out.length, page);
    out.push(...batch);
    if (batch.length < page) return out;
  }
}

/** A small deterministic pseudo-random generator (mulberry32) so failures replay identically. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
