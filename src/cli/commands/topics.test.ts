// The real `sluice topics` CLI against a SQLite file: ls, set-retention, trim and one-line errors.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const main = join(import.meta.dirname, '..', 'main.ts');

/** Runs the real CLI; resolves with its output and exit code. */
async function sluice(args: string[]) {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', main, ...args], { env: process.env });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
let spec: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-topics-'));
  spec = `sqlite:${join(dir, 'sluice.db')}`;
  const { openBackend } = await import('../backendSpec.ts');
  const backend = await openBackend(spec);
  await backend.ensureTopic('orders', { partitions: 2 });
  await backend.ensureTopic('audit', { partitions: 1, retention: { maxEvents: 100 } });
  await backend.append(
    'orders',
    Array.from({ length: 20 }, (_, i) => ({ partition: i % 2, payload: { i } })),
  );
  await backend.commit('billing', 'orders', 0, 3);
  await backend.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Each test spawns the CLI several times: generous under a loaded machine. */
const SLOW = 180_000;

describe('sluice topics', () => {
  it(
    'lists topics with their retention and stored offsets',
    async () => {
      const r = await sluice(['topics', 'ls', '--backend', spec]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/│ audit +│ 1 +│ maxEvents 100 +│ 0 +│ 0\.\.0/);
      expect(r.stdout).toMatch(/│ orders +│ 2 +│ keep all +│ 20 +│ 0\.\.10 0\.\.10/);
      const json = JSON.parse((await sluice(['topics', 'ls', '--json', '--backend', spec])).stdout);
      expect(json.map((t: { topic: string }) => t.topic)).toEqual(['audit', 'orders']);
    },
    SLOW,
  );

  it(
    'sets retention and trims, never past a group named in --after-committed-by',
    async () => {
      const set = await sluice([
        'topics',
        'set-retention',
        'orders',
        '--max-events',
        '2',
        '--after-committed-by',
        'billing',
        '--backend',
        spec,
      ]);
      expect(set.code).toBe(0);
      expect(set.stdout).toContain('Retention of orders: maxEvents 2, after billing');
      const trim = JSON.parse(
        (await sluice(['topics', 'trim', 'orders', '--json', '--backend', spec])).stdout,
      );
      // Partition 0 is held at billing's committed offset 3; billing never committed partition 1,
      // which is held at 0.
      expect(trim.partitions).toEqual([
        { partition: 0, firstOffset: 3, removed: 3 },
        { partition: 1, firstOffset: 0, removed: 0 },
      ]);
      // Without the group, maxEvents alone decides: 2 newest per partition.
      await sluice(['topics', 'set-retention', 'orders', '--max-events', '2', '--backend', spec]);
      const again = await sluice(['topics', 'trim', 'orders', '--backend', spec]);
      expect(again.code).toBe(0);
      expect(again.stdout).toContain(
        'Trimmed orders: 13 event(s) and 0 idempotency marker(s) removed; first offsets 0:8 1:8',
      );
      const ls = await sluice(['topics', 'ls', '--backend', spec]);
      expect(ls.stdout).toMatch(/│ orders +│ 2 +│ maxEvents 2 +│ 4 +│ 8\.\.10 8\.\.10/);
      const cleared = await sluice(['topics', 'set-retention', 'orders', '--clear', '--backend', spec]);
      expect(cleared.stdout).toContain('Retention of orders: keep all');
    },
    SLOW,
  );

  it(
    'fails with one line for bad input and unknown topics',
    async () => {
      const bad = await sluice(['topics', 'set-retention', 'orders', '--max-events', '0', '--backend', spec]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toContain('--max-events');
      const none = await sluice(['topics', 'set-retention', 'orders', '--backend', spec]);
      expect(none.code).not.toBe(0);
      expect(none.stderr.trim().split('\n')).toHaveLength(1);
      const missing = await sluice(['topics', 'trim', 'nope', '--backend', spec]);
      expect(missing.code).not.toBe(0);
      expect(missing.stderr.trim().split('\n')).toHaveLength(1);
      expect(missing.stderr).toContain('NOT_FOUND');
      const age = await sluice(['topics', 'set-retention', 'orders', '--max-age', 'soon', '--backend', spec]);
      expect(age.code).not.toBe(0);
      expect(age.stderr).toContain('--max-age');
    },
    SLOW,
  );
});
