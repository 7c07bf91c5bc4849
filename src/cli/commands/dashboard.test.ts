// `sluice dashboard` as a process: prints the tokened URL, serves the API, stops on SIGTERM.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { openBackend } from '../backendSpec.ts';

const main = join(import.meta.dirname, '..', 'main.ts');

describe('sluice dashboard', () => {
  it('prints a URL with its token, serves the API behind it and stops on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-dashcli-'));
    const spec = `sqlite:${join(dir, 'sluice.db')}`;
    const b = await openBackend(spec);
    await b.dlq.put({
      id: 'x',
      source: 's',
      payload: 1,
      error: { name: 'Error', message: 'e' },
      attempts: 1,
    });
    await b.close();
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', main, 'dashboard', '--backend', spec, '--port', '0', '--token', 'secret-token-1'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      const line = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout }).once('line', resolve);
        child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
      });
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/)\?token=secret-token-1$/.exec(line);
      expect(m).not.toBeNull();
      const url = m?.[1] as string;
      expect((await fetch(`${url}api/dlq`)).status).toBe(401);
      const res = await fetch(`${url}api/dlq`, { headers: { authorization: 'Bearer secret-token-1' } });
      expect(((await res.json()) as { total: number }).total).toBe(1);
      const exited = new Promise<number | null>((r) => child.once('exit', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
