// `sluice dlq` as a real process: list with filters, show, replay, purge only with --yes, bad backend spec.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const main = join(import.meta.dirname, '..', 'main.ts');

/** Runs the real CLI; resolves with its output and exit code. */
async function sluice(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await exec(process.execPath, ['--import', 'tsx', main, ...args], {
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
let spec: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-dlq-'));
  spec = `sqlite:${join(dir, 'db', 'sluice.db')}`;
  // The CLI creates the folder of the SQLite file itself.
  const { openBackend } = await import('../backendSpec.ts');
  const backend = await openBackend(spec);
  await backend.ensureTopic('orders', { partitions: 2 });
  await backend.ensureTopic('retry', { partitions: 1 });
  for (const [i, id] of ['a', 'b', 'c', 'd'].entries())
    await backend.dlq.put({
      id,
      source: i < 3 ? 'billing' : 'shipping',
      topic: 'orders',
      partition: 0,
      offset: i,
      key: `k${i}`,
      payload: { n: i },
      error: { name: 'Error', message: `boom ${id}`, code: 'E_TEST' },
      attempts: 3,
    });
  await backend.close();
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sluice dlq', () => {
  it('lists entries as a table and as JSON, with filters', async () => {
    const table = await sluice(['dlq', 'ls', '--backend', spec]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/│ a +│ billing +│ orders\/0@0/);
    expect(table.stdout).toContain('E_TEST: boom d');
    expect(table.stdout).toContain('4 of 4 dead letter(s)');
    const json = await sluice(['dlq', 'ls', '--json', '--source', 'billing', '--limit', '2'], {
      SLUICE_BACKEND: spec,
    });
    const parsed = JSON.parse(json.stdout) as { total: number; entries: { id: string }[] };
    expect(parsed.total).toBe(3);
    expect(parsed.entries.map((e) => e.id)).toEqual(['a', 'b']);
  });

  it('shows one entry, and fails with NOT_FOUND for an unknown id', async () => {
    const shown = await sluice(['dlq', 'show', 'b', '--backend', spec, '--json']);
    expect(JSON.parse(shown.stdout)).toMatchObject({
      id: 'b',
      payload: { n: 1 },
      attempts: 3,
      deliveryCount: 1,
    });
    const missing = await sluice(['dlq', 'show', 'nope', '--backend', spec]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('NOT_FOUND');
  });

  it('replays chosen entries to their topic or another one', async () => {
    const r = await sluice(['dlq', 'replay', '--backend', spec, '--id', 'a', '--id', 'nope', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toEqual({ replayed: ['a'], notReplayed: ['nope'] });
    const r2 = await sluice(['dlq', 'replay', '--backend', spec, '--id', 'd', '--to-topic', 'retry']);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toContain('Replayed 1 dead letter(s): d');
    const { openBackend } = await import('../backendSpec.ts');
    const backend = await openBackend(spec);
    try {
      expect(await backend.dlq.get('a')).toBeUndefined();
      const events = [
        ...(await backend.read('orders', 0, 0, 10)),
        ...(await backend.read('orders', 1, 0, 10)),
      ];
      expect(events.map((e) => e.headers?.['sluice-dlq-id'])).toEqual(['a']);
      const retried = await backend.read('retry', 0, 0, 10);
      expect(retried.map((e) => e.payload)).toEqual([{ n: 3 }]);
    } finally {
      await backend.close();
    }
  });

  it('purges only with --yes', async () => {
    const refused = await sluice(['dlq', 'purge', '--backend', spec, '--id', 'b']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('pass --yes');
    const ok = await sluice(['dlq', 'purge', '--backend', spec, '--id', 'b', '--yes', '--json']);
    expect(JSON.parse(ok.stdout)).toEqual({ purged: 1 });
    const left = await sluice(['dlq', 'ls', '--backend', spec, '--json']);
    expect((JSON.parse(left.stdout) as { entries: { id: string }[] }).entries.map((e) => e.id)).toEqual([
      'c',
    ]);
  });

  it('rejects an unknown backend spec with CONFIG_INVALID', async () => {
    const r = await sluice(['dlq', 'ls', '--backend', 'mysql://x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('CONFIG_INVALID: Expected `backend` to be one of');
  });
});
