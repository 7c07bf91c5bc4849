// createSqliteBackend creates the folder of its file, as the CLI does.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from './index.ts';

const dir = mkdtempSync(join(tmpdir(), 'sluice-sqlite-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('createSqliteBackend', () => {
  it('creates missing parent folders of the database file', async () => {
    const path = join(dir, '.sluice', 'nested', 'sluice.db');
    const backend = createSqliteBackend({ path });
    await backend.ensureTopic('orders', { partitions: 2 });
    await backend.close();
    expect(existsSync(path)).toBe(true);
  });
});
