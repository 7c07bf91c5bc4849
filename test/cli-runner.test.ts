// `sluice runner` (built CLI) refuses a module whose partition count differs from the topic's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqliteBackend } from '../src/backend/sqlite/index.ts';
import { ensureBuilt, makeProject, runCli } from './support/builtCli.ts';

let project: string;
beforeAll(async () => {
  await ensureBuilt();
  project = mkdtempSync(join(tmpdir(), 'sluice-cli-runner-'));
  makeProject(project, { type: 'module' });
  writeFileSync(
    join(project, 'runner.ts'),
    `import { defineRunner } from 'sluice';
export default defineRunner({ group: 'billing', topic: 'payments', partitions: 32, handler: async () => {} });
`,
  );
}, 180_000);
afterAll(() => rmSync(project, { recursive: true, force: true }));

describe('sluice runner', () => {
  it('refuses partitions: 32 on a 16-partition topic with CONFIG_INVALID naming both numbers', async () => {
    const db = join(project, 'sluice.db');
    const b = createSqliteBackend({ path: db });
    await b.ensureTopic('payments', { partitions: 16 });
    await b.close();
    const r = await runCli(['runner', 'runner.ts', '--backend', `sqlite:${db}`, '--node', 'r1'], {
      cwd: project,
    });
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe(
      'sluice: CONFIG_INVALID: Expected `partitions` to be 16, the partition count of topic "payments" (fixed when it was created), got 32',
    );
    expect(r.stdout).not.toContain('acquired');
  });
});
