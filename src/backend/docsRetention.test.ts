// Runs the code block of the "Retention" section of docs/backends.md exactly as written.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '..', '..');

/** The first ```ts block after the heading `heading` in a docs file. */
function codeBlock(file: string, heading: string): string {
  const text = readFileSync(join(root, 'docs', file), 'utf8');
  const at = text.indexOf(`\n${heading}\n`);
  if (at < 0) throw new Error(`no heading ${heading} in ${file}`);
  const m = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
  if (!m) throw new Error(`no ts block under ${heading} in ${file}`);
  return m[1]!;
}

describe('docs/backends.md retention example', () => {
  it('runs as written (imports mapped to the sources)', async () => {
    const code = codeBlock('backends.md', '## Retention')
      .replace("from 'sluice/testing'", `from '${pathToFileURL(join(root, 'src/testing/index.ts')).href}'`)
      .replace("from 'sluice'", `from '${pathToFileURL(join(root, 'src/index.ts')).href}'`);
    expect(code).toContain('backend.trim(');
    const dir = mkdtempSync(join(tmpdir(), 'sluice-docs-'));
    try {
      const file = join(dir, 'retention.mts');
      writeFileSync(file, `${code}\nconsole.log('docs example ok');\n`);
      const { stdout } = await exec(process.execPath, ['--import', 'tsx', file], { cwd: root });
      expect(stdout).toContain('docs example ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
