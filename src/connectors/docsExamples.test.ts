// Runs every code block of docs/connectors.md marked `<!-- runs: ... -->`, exactly as written, on the real brokers.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'connectors.md'), 'utf8');
const blocks = [...doc.matchAll(/<!-- runs:[^>]*-->\n```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = join(import.meta.dirname, '.docs-examples');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/connectors.md examples', () => {
  it('has the runnable blocks', () => {
    expect(blocks.length).toBe(2);
  });

  for (const [i, code] of blocks.entries()) {
    it(`block ${i + 1} runs and prints what its comments say`, async () => {
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `block${i + 1}.ts`);
      writeFileSync(file, `${code}\nexport {};\n`);
      const printed: string[] = [];
      const log = console.log;
      console.log = (...args: unknown[]) => {
        printed.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      };
      try {
        await import(file);
      } finally {
        console.log = log;
      }
      const expected = [...code.matchAll(/console\.log\(.*\); \/\/ (.*)$/gm)].map((m) => m[1]!);
      const normalize = (s: string) =>
        s
          .replace(/[\s[\]]+/g, ' ')
          .replace(/,/g, ' ')
          .replace(/\s+/g, ' ')
          .trim();
      expect(printed.map(normalize)).toEqual(expected.map(normalize));
    }, 30_000);
  }
});
