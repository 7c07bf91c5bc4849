// Runs every code block of docs/flow-control.md marked `<!-- runs -->`, exactly as written, and checks what it prints.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';

const doc = readFileSync(new URL('../../docs/flow-control.md', import.meta.url), 'utf8');
const blocks = [...doc.matchAll(/<!-- runs -->\n```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(tmpdir(), 'sluice-flow-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Imports a block as a module and returns what it printed with console.log. */
async function run(i: number): Promise<unknown[][]> {
  const file = join(dir, `example-${i}.ts`);
  writeFileSync(file, blocks[i]!);
  const logs: unknown[][] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    logs.push(args);
  });
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    spy.mockRestore();
  }
  return logs;
}

describe('docs/flow-control.md examples', () => {
  it('has the runnable blocks this test expects', () => {
    expect(blocks).toHaveLength(5);
  });

  it('the pool example: per-tenant limits, every call succeeds exactly once', async () => {
    expect(await run(0)).toEqual([[true, 40]]);
  }, 30_000);

  it('the runner example: 12 events handled, never more than 2 handler calls at once', async () => {
    expect(await run(1)).toEqual([[12, 2]]);
  }, 30_000);

  it('the pipeline example: per-tenant pacing, a parked key holds only itself, order kept', async () => {
    expect(await run(2)).toEqual([
      [8, 0, 'big0@0 small0@0 big1@100 small1@100 big1@2100 big2@2200 big3@2300 big4@2400 big5@2500'],
    ]);
  }, 30_000);

  it('the 429 example: every call succeeds and the limiter keeps the server from refusing any', async () => {
    expect(await run(3)).toEqual([[true, 0]]);
  }, 30_000);

  it('the shared per-tenant cap never runs more than 2 at once', async () => {
    expect(await run(4)).toEqual([[2]]);
  }, 30_000);
});
