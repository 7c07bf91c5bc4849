// `sluice batch` run as a user runs it: the built CLI (bin/sluice.js over dist/) on modules of a
// user's project that import the package by name — here through tsconfig `paths` to its sources,
// so the module's copy of Sluice (src/) is not the CLI's (dist/).
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchReport } from '../src/pool/runBatch.ts';
import { bin, ensureBuilt, makeProject, runCli } from './support/builtCli.ts';

let project: string;
beforeAll(async () => {
  await ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'sluice-cli-batch-'));
  makeProject(project, { type: 'module', pathsToSources: true });
  const fixtures = join(import.meta.dirname, 'fixtures', 'cli');
  mkdirSync(join(project, 'jobs'));
  for (const f of readdirSync(fixtures)) copyFileSync(join(fixtures, f), join(project, 'jobs', f));
}, 180_000);
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

const sluice = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runCli(['batch', ...args], { cwd: project, env });
const readReport = async (file: string) => JSON.parse(await readFile(file, 'utf8')) as BatchReport;

describe('sluice batch (built CLI, module importing the package through tsconfig paths)', () => {
  it("counts skip() and UnrecoverableError made by the module's copy of the package", async () => {
    const reportFile = join(project, 'skip.json');
    const r = await sluice(['jobs/batch-skip.ts', '--retries', '2', '--report', reportFile]);
    expect(r.stderr).not.toContain('    at ');
    expect(r.code).toBe(1);
    const report = await readReport(reportFile);
    // 0, 2, 4, 6, 8, 10 returned; 3, 9 thrown; 5 and 11 unrecoverable (no retry); 1 and 7 ok.
    expect(report).toMatchObject({ total: 12, ok: 2, skipped: 8, failed: 2 });
    expect(report.details[9]).toMatchObject({ status: 'skipped', reason: 'multiple of 3: 9' });
    expect(report.details[5]).toMatchObject({
      status: 'error',
      attempts: 1,
      error: { code: 'UNRECOVERABLE' },
    });
  });

  it('prints the summary, writes the report and exits 1 on failures', async () => {
    const reportFile = join(project, 'mixed.json');
    const r = await sluice(['jobs/batch-mixed.ts', '--concurrency', '3', '--report', reportFile]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split('\n');
    const header = lines.findIndex((l) => /total.*ok.*skipped.*failed.*concurrency.*duration/.test(l));
    expect(header).toBeGreaterThanOrEqual(0);
    expect(lines[header + 2]).toMatch(/│ 10 +│ 5 +│ 2 +│ 3 +│ 3 +│ \d+ ms/);
    expect(r.stdout).toContain('no record 4');
    expect(r.stdout).not.toContain('\u001b[');
    const report = await readReport(reportFile);
    expect(report).toMatchObject({ total: 10, ok: 5, skipped: 2, failed: 3, concurrency: 3, aborted: false });
    expect(report.details[4]).toMatchObject({
      status: 'error',
      attempts: 1,
      error: { code: 'NOT_FOUND', message: 'no record 4' },
    });
    expect(report.details[3]).toMatchObject({ status: 'skipped', reason: 'item 3 not needed' });
  });

  it('accepts a JavaScript module with an items() generator and a default function; exits 0', async () => {
    const r = await sluice(['jobs/batch-generator.mjs']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/│ 25 +│ 25 +│ 0 +│ 0 +│ 4 +│/);
  });

  it('applies --retries and --timeout', async () => {
    const reportFile = join(project, 'flaky.json');
    const r = await sluice(['jobs/batch-flaky.ts', '--retries', '1', '--timeout', '300ms', '-r', reportFile]);
    expect(r.code).toBe(1);
    const report = await readReport(reportFile);
    expect(report.details.map((d) => [d.status, d.attempts, d.error?.code])).toEqual([
      ['ok', 2, undefined],
      ['ok', 1, undefined],
      ['error', 2, 'TIMEOUT'],
    ]);
  });

  it('takes the default concurrency from SLUICE_MAX_WORKERS and validates it', async () => {
    const reportFile = join(project, 'env.json');
    const ok = await sluice(['jobs/batch-generator.mjs', '--report', reportFile], {
      SLUICE_MAX_WORKERS: '3',
    });
    expect(ok.code).toBe(0);
    expect((await readReport(reportFile)).concurrency).toBe(3);
    const bad = await sluice(['jobs/batch-generator.mjs'], { SLUICE_MAX_WORKERS: 'many' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'CONFIG_INVALID: Expected `SLUICE_MAX_WORKERS` to be an integer >= 1, got "many"',
    );
  });

  it('rejects bad flags and bad modules with CONFIG_INVALID naming the field', async () => {
    const c = await sluice(['jobs/batch-mixed.ts', '--concurrency', '0']);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain('Expected `--concurrency` to be an integer >= 1, got "0"');
    const t = await sluice(['jobs/batch-mixed.ts', '--timeout', 'soon']);
    expect(t.stderr).toContain('Expected `--timeout` to be a duration');
    const m = await sluice(['jobs/batch-bad.mjs']);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain('CONFIG_INVALID: Expected `items` to be an array');
  });

  it('on SIGINT cancels in-flight items, prints and writes the partial report, exits 130', async () => {
    const reportFile = join(project, 'interrupted.json');
    const child = spawn(process.execPath, [bin, 'batch', 'jobs/batch-hang.ts', '-c', '2', '-r', reportFile], {
      cwd: project,
      env: { ...process.env, SLUICE_MAX_WORKERS: '' },
    });
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    await new Promise<void>((resolve) => {
      let err = '';
      child.stderr.on('data', (d) => {
        err += d;
        if (err.includes('started 1')) resolve();
      });
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stdout).toMatch(/│ 6 +│ 0 +│ 4 +│ 2 +│ 2 +│/);
    const report = await readReport(reportFile);
    expect(report).toMatchObject({ aborted: true, failed: 2, skipped: 4 });
    expect(report.details[0]).toMatchObject({ status: 'error', error: { code: 'ABORTED' } });
  });
});
