// runBatch tests: outcome counts, timing on its clock, the report file, abort, attempts, SLUICE_MAX_WORKERS, onProgress errors.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SluiceError } from '../core/errors.ts';
import { ManualClock } from '../core/ManualClock.ts';
import { type BatchProgress, runBatch } from './runBatch.ts';
import { skip } from './skip.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-batch-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('runBatch', () => {
  it('counts outcomes, times the batch on its clock and writes the report file', async () => {
    const clock = new ManualClock(Date.UTC(2024, 0, 1));
    const reportFile = join(dir, 'nested', 'report.json');
    const progress: BatchProgress[] = [];
    const p = runBatch(
      [1, 2, 3, 4, 5],
      async (x) => {
        await clock.sleep(x * 100);
        if (x === 2) throw new SluiceError('NOT_FOUND', 'no such record');
        if (x === 4) return skip('already done');
        if (x === 5) throw new TypeError('boom');
        return x * 2;
      },
      { concurrency: 2, clock, reportFile, onProgress: (pr) => progress.push(pr) },
    );
    await clock.advance(1000);
    const report = await p;
    expect(report).toMatchObject({
      startedAt: '2024-01-01T00:00:00.000Z',
      total: 5,
      concurrency: 2,
      ok: 2,
      skipped: 1,
      failed: 2,
      aborted: false,
    });
    // Lane 1: 100 (x=1) + 300 (x=3) + 500 (x=5); lane 2: 200 + 400 → the batch ends at 900.
    expect(report.durationMs).toBe(900);
    expect(report.finishedAt).toBe('2024-01-01T00:00:00.900Z');
    expect(report.details).toEqual([
      { index: 0, status: 'ok', attempts: 1, workerId: expect.any(Number) },
      {
        index: 1,
        status: 'error',
        attempts: 1,
        workerId: expect.any(Number),
        error: { message: 'no such record', code: 'NOT_FOUND', name: 'SluiceError' },
      },
      { index: 2, status: 'ok', attempts: 1, workerId: expect.any(Number) },
      { index: 3, status: 'skipped', attempts: 1, reason: 'already done' },
      {
        index: 4,
        status: 'error',
        attempts: 1,
        workerId: expect.any(Number),
        error: { message: 'boom', name: 'TypeError' },
      },
    ]);
    expect(JSON.parse(await readFile(reportFile, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    // No temporary file is left behind.
    expect(await readdir(join(dir, 'nested'))).toEqual(['report.json']);
    expect(progress).toHaveLength(5);
    expect(progress.at(-1)).toEqual({ done: 5, ok: 2, failed: 2, skipped: 1, total: 5 });
    expect(progress.map((x) => x.done)).toEqual([1, 2, 3, 4, 5]);
  });

  it('returns a partial report when aborted', async () => {
    const ctrl = new AbortController();
    const report = await runBatch(
      ['a', 'b', 'c', 'd'],
      async (x) => {
        if (x === 'b') ctrl.abort();
        return x;
      },
      { concurrency: 1, signal: ctrl.signal },
    );
    expect(report).toMatchObject({ total: 4, ok: 2, skipped: 2, failed: 0, aborted: true });
    expect(report.details[3]).toEqual({ index: 3, status: 'skipped', attempts: 0, reason: 'aborted' });
  });

  it('records attempts of retried items', async () => {
    const clock = new ManualClock();
    const p = runBatch(
      [1],
      (_x, ctx) => {
        if (ctx.attempt < 3) throw new Error('flaky');
        return 'ok';
      },
      { clock, retry: { attempts: 3, backoff: { next: () => 50 } } },
    );
    await clock.advance(100);
    const report = await p;
    expect(report.details[0]).toMatchObject({ status: 'ok', attempts: 3 });
  });

  it('uses SLUICE_MAX_WORKERS and validates it', async () => {
    const saved = process.env.SLUICE_MAX_WORKERS;
    try {
      process.env.SLUICE_MAX_WORKERS = '3';
      expect((await runBatch([1], (x) => x)).concurrency).toBe(3);
      delete process.env.SLUICE_MAX_WORKERS;
      expect((await runBatch([1], (x) => x)).concurrency).toBe(4);
      process.env.SLUICE_MAX_WORKERS = '0';
      await expect(runBatch([1], (x) => x)).rejects.toMatchObject({
        code: 'CONFIG_INVALID',
        message: 'Expected `SLUICE_MAX_WORKERS` to be an integer >= 1, got "0"',
      });
    } finally {
      if (saved === undefined) delete process.env.SLUICE_MAX_WORKERS;
      else process.env.SLUICE_MAX_WORKERS = saved;
    }
  });

  it('isolates a throwing onProgress', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const report = await runBatch([1, 2], (x) => x, {
        onProgress: () => {
          throw new Error('bad listener');
        },
      });
      expect(report.ok).toBe(2);
      await new Promise((r) => setImmediate(r));
      expect(warnings.some((w) => w.includes('bad listener'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
