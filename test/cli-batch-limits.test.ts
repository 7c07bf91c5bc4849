// `sluice batch --rate / --per-key / --per-key-concurrency / --per-key-rate` run through the built CLI.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchReport } from '../src/pool/runBatch.ts';
import { ensureBuilt, makeProject, runCli } from './support/builtCli.ts';

let project: string;
beforeAll(async () => {
  await ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'sluice-cli-limits-'));
  makeProject(project, { type: 'module' });
  const fixtures = join(import.meta.dirname, 'fixtures', 'cli-limits');
  mkdirSync(join(project, 'jobs'));
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(project, 'jobs', f));
}, 180_000);
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

const sluice = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['batch', ...args], { cwd: project, env });
const readReport = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as BatchReport;

describe('sluice batch limits (built CLI)', () => {
  it('--rate paces the batch and the progress line says how many items wait on it', async () => {
    const reportFile = join(project, 'rate.json');
    const r = await sluice(['jobs/batch-tenants.ts', '--rate', '10/s', '-c', '6', '-r', reportFile]);
    expect(r.code).toBe(0);
    const report = await readReport(reportFile);
    expect(report).toMatchObject({ total: 24, ok: 24, failed: 0 });
    // 10/s with a burst of 1: 24 starts take at least 2.3 s.
    expect(report.durationMs).toBeGreaterThanOrEqual(2_250);
    expect(r.stderr).toMatch(
      /^batch: \d+\/24 done \(ok \d+, failed 0, skipped 0\) \| waiting on rate limit: [1-6]$/m,
    );
  }, 60_000);

  it('--per-key <field> with --per-key-concurrency caps the items of each key', async () => {
    const reportFile = join(project, 'per-key.json');
    const limited = await sluice(
      [
        'jobs/batch-tenants.ts',
        '-c',
        '8',
        '--per-key',
        'tenant',
        '--per-key-concurrency',
        '2',
        '-r',
        reportFile,
      ],
      { MAX_PER_KEY: '2' },
    );
    expect(limited.code).toBe(0);
    expect(await readReport(reportFile)).toMatchObject({ total: 24, ok: 24, failed: 0 });
    // The same batch without the flag runs more than 2 items of the hot tenant at once.
    const unlimited = await sluice(['jobs/batch-tenants.ts', '-c', '8', '-r', reportFile], {
      MAX_PER_KEY: '2',
    });
    expect(unlimited.code).toBe(1);
    expect((await readReport(reportFile)).failed).toBeGreaterThan(0);
  }, 60_000);

  it("uses the module's exported key(item) when --per-key is not given; --per-key-rate paces each key", async () => {
    const reportFile = join(project, 'keyed.json');
    const r = await sluice(
      [
        'jobs/batch-keyed.mjs',
        '-c',
        '6',
        '--per-key-concurrency',
        '1',
        '--per-key-rate',
        '20/s',
        '-r',
        reportFile,
      ],
      { MAX_PER_KEY: '1' },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = await readReport(reportFile);
    expect(report).toMatchObject({ total: 12, ok: 12, failed: 0 });
    // 4 items per key at 20/s: at least 150 ms.
    expect(report.durationMs).toBeGreaterThanOrEqual(150);
  }, 60_000);

  it('rejects bad limit flags with a one-line CONFIG_INVALID naming the flag', async () => {
    const cases: [string[], RegExp][] = [
      [['--rate', '0/s'], /CONFIG_INVALID: Expected `--rate` to be a rate > 0 per a period > 0, got "0\/s"/],
      [['--rate', 'abc'], /CONFIG_INVALID: Expected `--rate` to be a rate such as "100\/s".*got "abc"/],
      [['--per-key-rate', '5/never'], /CONFIG_INVALID: Expected `--per-key-rate` to be .*got "5\/never"/],
      [
        ['--per-key', 'tenant', '--per-key-concurrency', '0'],
        /CONFIG_INVALID: Expected `--per-key-concurrency` to be an integer >= 1, got "0"/,
      ],
      [['--per-key-concurrency', '2'], /CONFIG_INVALID: Expected `--per-key` to be an item field/],
      [
        ['--per-key', 'tenant'],
        /CONFIG_INVALID: Expected `--per-key` to be given with --per-key-concurrency/,
      ],
    ];
    for (const [flags, message] of cases) {
      const r = await sluice(['jobs/batch-tenants.ts', ...flags]);
      expect(r.code, flags.join(' ')).toBe(1);
      expect(r.stderr.trim().split('\n'), flags.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  }, 90_000);

  it('documents the limit flags in --help', async () => {
    const r = await runCli(['batch', '--help'], { cwd: project });
    expect(r.code).toBe(0);
    for (const flag of [
      '--rate <n/period>',
      '--per-key <field>',
      '--per-key-concurrency <n>',
      '--per-key-rate <n/period>',
    ])
      expect(r.stdout).toContain(flag);
    expect(r.stdout).toContain('RateLimitedError');
  });
});
