// Vitest reporter: a closing passed/failed/skipped line, or the counts as JSON in $SLUICE_TEST_SUMMARY.
import { writeFileSync } from 'node:fs';
import type { RunnerTask, RunnerTestFile } from 'vitest';
import type { Reporter } from 'vitest/reporters';

/**
 * Prints one plain closing line, `tests: N passed, N failed, N skipped`, after the run, or writes
 * the counts as JSON to `$SLUICE_TEST_SUMMARY` when set.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: RunnerTestFile[] = [], errors: unknown[] = []): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const walk = (t: RunnerTask): void => {
      if (t.type === 'suite') {
        if (t.result?.state === 'fail' && t.tasks.length === 0) failed++;
        for (const c of t.tasks) walk(c);
        return;
      }
      const state = t.result?.state;
      if (state === 'pass') passed++;
      else if (state === 'fail') failed++;
      else skipped++;
    };
    for (const f of files) {
      walk(f);
      // A file that failed to load has no tasks; count it as a failure.
      if (f.result?.state === 'fail' && f.tasks.length === 0) failed++;
    }
    failed += errors.length;
    const file = process.env.SLUICE_TEST_SUMMARY;
    // Under `npm test` the runner script adds up several vitest runs and prints the closing line.
    if (file) writeFileSync(file, JSON.stringify({ passed, failed, skipped }));
    else process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
