// Memory of pool runs over async iterables: retained heap after GC must not grow with the item count.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const probe = fileURLToPath(new URL('../../test/fixtures/pool/retainedHeap.ts', import.meta.url));
const FIRST = 200_000;
const SECOND = 600_000;

/** Retained heap (bytes, after a full GC) at FIRST and SECOND items, measured in a fresh process. */
async function retained(mode: 'stream' | 'array', kind: 'async' | 'sync'): Promise<[number, number]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', probe, mode, kind, String(FIRST), String(SECOND)],
    { maxBuffer: 1 << 20 },
  );
  const heap = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, number>;
  const a = heap[String(FIRST)];
  const b = heap[String(SECOND)];
  if (a === undefined || b === undefined) throw new Error(`probe printed ${stdout}`);
  return [a, b];
}

describe('pool memory with async iterables', () => {
  it('mapConcurrentStream over an async generator stays flat (600k items retain no more than 200k)', async () => {
    const [at200k, at600k] = await retained('stream', 'async');
    // Before the fix each pull left ~350 bytes behind: +140 MB between the two points.
    expect(at600k - at200k).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);

  it('mapConcurrent over an async generator retains only its results, like a sync generator', async () => {
    const [syncA, syncB] = await retained('array', 'sync');
    const [asyncA, asyncB] = await retained('array', 'async');
    const perItemSync = (syncB - syncA) / (SECOND - FIRST);
    const perItemAsync = (asyncB - asyncA) / (SECOND - FIRST);
    // The results array is O(n) by contract (~70 bytes per result); nothing else may grow.
    expect(perItemSync).toBeLessThan(150);
    expect(perItemAsync).toBeLessThan(perItemSync + 40);
  }, 120_000);
});
