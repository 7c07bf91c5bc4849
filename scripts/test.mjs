#!/usr/bin/env node
// `npm test`: type check, lint, import-cycle and layer checks, then the test suite in two vitest runs — everything in parallel
// except the tests that restart a server (Redis, RabbitMQ, NATS), which run alone afterwards.
// Prints one closing line for both runs: `tests: N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SERIAL = [
  'test/chaos/redis-restart.test.ts',
  'test/chaos/connector-rabbitmq-restart.test.ts',
  'test/chaos/connector-nats-restart.test.ts',
  'test/chaos/redis-cluster-failover.test.ts',
];
const extra = process.argv.slice(2);

function step(name, cmd, args, env = {}) {
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

let failedSteps = 0;
if (step('type check', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']) !== 0) failedSteps++;
if (step('lint', 'npx', ['biome', 'check', 'src', 'test', 'bench', 'examples', 'scripts']) !== 0)
  failedSteps++;

if (
  step('import cycles', 'npx', [
    'madge',
    '--circular',
    '--extensions',
    'ts',
    '--ts-config',
    'tsconfig.json',
    'src',
  ]) !== 0
)
  failedSteps++;
if (step('layers', process.execPath, ['scripts/check-layers.mjs']) !== 0) failedSteps++;

const dir = mkdtempSync(join(tmpdir(), 'sluice-test-'));
const totals = { passed: 0, failed: 0, skipped: 0 };
const runs = [
  ['tests', ['vitest', 'run', ...SERIAL.flatMap((f) => ['--exclude', f]), ...extra]],
  ['tests that restart servers (serial)', ['vitest', 'run', ...SERIAL, '--no-file-parallelism', ...extra]],
];
runs.forEach(([name, args], i) => {
  const file = join(dir, `summary-${i}.json`);
  const code = step(name, 'npx', args, { SLUICE_TEST_SUMMARY: file });
  try {
    const s = JSON.parse(readFileSync(file, 'utf8'));
    totals.passed += s.passed;
    totals.failed += s.failed;
    totals.skipped += s.skipped;
  } catch {
    totals.failed++; // the run died before reporting
  }
  if (code !== 0) failedSteps++;
});
rmSync(dir, { recursive: true, force: true });
process.stdout.write(
  `\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped\n`,
);
process.exit(failedSteps > 0 || totals.failed > 0 ? 1 : 0);
