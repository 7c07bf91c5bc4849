// Runs the "Placement at start-up" example of docs/cluster.md exactly as written (against the sources, through the `sluice` alias).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const docs = join(import.meta.dirname, '..', '..', '..', 'docs', 'cluster.md');
const FIRST_LINE = '// Placement at start-up: two nodes started together share the children';

/** The ```ts block of `file` whose first line starts with `first`. */
function codeBlock(file: string, first: string): string {
  const blocks = [...readFileSync(file, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const block = blocks.find((b) => b.startsWith(first));
  if (block === undefined) throw new Error(`no code block starting with "${first}" in ${file}`);
  return block;
}

let dir: string | undefined;
afterEach(() => {
  vi.restoreAllMocks();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('docs/cluster.md: placement at start-up', () => {
  it('runs as written: the children are shared 2/2 and a behavior registered nowhere is refused', async () => {
    // Written next to this test so the example resolves `sluice` as the other tests do.
    dir = mkdtempSync(join(import.meta.dirname, '.docs-'));
    const file = join(dir, 'placement.ts');
    writeFileSync(file, codeBlock(docs, FIRST_LINE));
    const logged: unknown[][] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logged.push(args);
    });
    await import(/* @vite-ignore */ file);
    expect(logged).toEqual([[[2, 2]], ['NO_ELIGIBLE_NODE', 'reporter']]);
  }, 120_000); // real timers and processes shared with other test runs: generous
});
