// Without `@opentelemetry/api` nothing breaks: the loader's absent branch, and a whole run in a process that cannot resolve it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { loadOtelApi } from './loadApi.ts';

const root = join(import.meta.dirname, '..', '..');

describe('telemetry without @opentelemetry/api', () => {
  it('the loader reports absent when the module cannot be loaded or has no trace API', () => {
    const missing = loadOtelApi(() => {
      throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
    });
    expect(missing).toEqual({ kind: 'absent', reason: "Cannot find module '@opentelemetry/api'" });
    expect(loadOtelApi(() => ({})).kind).toBe('absent');
    expect(
      loadOtelApi((id) => (id === '@opentelemetry/api' ? { trace: { getTracer() {} } } : undefined)).kind,
    ).toBe('present');
  });

  it('append, processing, dead letters and replays work and write no trace headers', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        '--require',
        join(root, 'test/fixtures/hideOtel.cjs'),
        '--import',
        'tsx',
        join(root, 'test/fixtures/telemetryAbsent.ts'),
      ],
      { cwd: root, timeout: 60_000 },
    );
    const out = JSON.parse(stdout.trim().split('\n').pop() as string);
    expect(out.state.kind).toBe('absent');
    expect(out.state.reason).toMatch(/Cannot find module '@opentelemetry\/api'/);
    expect(out.attempts).toBe(2);
    expect(out.errorKeys).toEqual(['message', 'name', 'stack']);
    // The original event has no headers; the replayed one only its DLQ id.
    expect(out.headers).toEqual([null, { 'sluice-dlq-id': expect.any(String) }]);
    expect(out.seen).toEqual([{ payload: { n: 1 }, headers: { 'sluice-dlq-id': expect.any(String) } }]);
  });
});
