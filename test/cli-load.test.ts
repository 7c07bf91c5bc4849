// The built CLI loads a module of any kind (.ts, .mts, .js, .mjs, .cjs) from any folder, and a
// mistake in it (missing file, syntax error, missing import) is one line with file, line, column.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, makeProject, runCli } from './support/builtCli.ts';

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'sluice-cli-load-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TS_JOB = `import { skip } from 'sluice';
const factor: number = await Promise.resolve(2);
export const items: number[] = [1, 2, 3];
export async function process(n: number): Promise<number | ReturnType<typeof skip>> {
  return n === 2 ? skip('two') : n * factor;
}
`;
const JS_JOB = `const factor = await Promise.resolve(2);
export const items = [1, 2, 3];
export default async (n) => n * factor;
`;
const CJS_JOB = `module.exports = { items: [1, 2, 3], process: async (n) => n * 2 };
`;

let folders = 0;

/** Writes `file` in a fresh folder laid out as `layout`, runs `sluice batch` on it. */
async function batchIn(
  layout: 'no package.json' | 'commonjs package' | 'module package',
  file: string,
  source: string,
) {
  const folder = join(dir, `${layout.replaceAll(' ', '-')}-${file.replaceAll('.', '-')}-${++folders}`);
  mkdirSync(folder);
  makeProject(folder, {
    type: layout === 'no package.json' ? null : layout === 'commonjs package' ? 'commonjs' : 'module',
  });
  writeFileSync(join(folder, file), source);
  return runCli(['batch', join(folder, file), '--no-progress'], { cwd: folder });
}

describe('sluice batch loads a module of any kind from any folder', () => {
  for (const layout of ['no package.json', 'commonjs package', 'module package'] as const) {
    it.each([
      ['job.ts', TS_JOB, /│ 3 +│ 2 +│ 1 +│ 0 +│/],
      ['job.mts', TS_JOB, /│ 3 +│ 2 +│ 1 +│ 0 +│/],
      ['job.mjs', JS_JOB, /│ 3 +│ 3 +│ 0 +│ 0 +│/],
      ['job.cjs', CJS_JOB, /│ 3 +│ 3 +│ 0 +│ 0 +│/],
    ])(`${layout}: %s`, async (file, source, row) => {
      const r = await batchIn(layout, file, source);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(row);
    });
  }

  it('no package.json: job.js with ESM syntax and top-level await', async () => {
    const r = await batchIn('no package.json', 'job.js', JS_JOB);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/│ 3 +│ 3 +│ 0 +│ 0 +│/);
  });

  it('no package.json: job.js in CommonJS', async () => {
    const r = await batchIn('no package.json', 'job.js', CJS_JOB);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/│ 3 +│ 3 +│ 0 +│ 0 +│/);
  });
});

/** stderr of a failed run: one line saying what (`--verbose`, listed in --help, adds the stack). */
function expectOneLine(r: { code: number | null; stderr: string }, line: string | RegExp): void {
  expect(r.code).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(line);
}

describe('everyday mistakes are one line, exit 1, the stack with --verbose', () => {
  it('a missing module file', async () => {
    const r = await runCli(['batch', join(dir, 'nope.ts')], { cwd: dir });
    expectOneLine(r, `sluice: NOT_FOUND: Module file not found: ${join(dir, 'nope.ts')}`);
    const run = await runCli(['run', join(dir, 'nope-pipeline.ts')], { cwd: dir });
    expectOneLine(run, /^sluice: NOT_FOUND: Module file not found: .*nope-pipeline\.ts$/);
  });

  it('a syntax error in a TypeScript pipeline module: file, line and column', async () => {
    const file = join(dir, 'broken-pipeline.ts');
    writeFileSync(
      file,
      "import { definePipeline } from 'sluice';\nconst x: number = [1;\nexport default x;\n",
    );
    const r = await runCli(['run', file, '--backend', 'memory'], { cwd: dir });
    expectOneLine(r, `sluice: SYNTAX_ERROR: ${file}:2:21: Expected "]" but found ";"`);
    const verbose = await runCli(['run', file, '--backend', 'memory', '--verbose'], { cwd: dir });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toContain('    at ');
  });

  it('a syntax error in a JavaScript module: file, line and column', async () => {
    const file = join(dir, 'broken.mjs');
    writeFileSync(file, 'export const items = [1, 2];\nexport default async (x) => { return x +; };\n');
    const r = await runCli(['batch', file], { cwd: dir });
    expectOneLine(r, `sluice: SYNTAX_ERROR: ${file}:2:41: Unexpected token ';'`);
  });

  it('an import the module cannot resolve', async () => {
    const file = join(dir, 'imports.ts');
    writeFileSync(file, "import x from 'no-such-package-sluice';\nexport const items = [x];\n");
    const r = await runCli(['batch', file], { cwd: dir });
    expectOneLine(
      r,
      /^sluice: MODULE_NOT_FOUND: Cannot find package 'no-such-package-sluice' imported from /,
    );
  });

  it('a PostgreSQL role that does not exist names the host', async () => {
    const r = await runCli(['status', '--backend', 'postgres://nobody@127.0.0.1:5432/test'], { cwd: dir });
    expectOneLine(
      r,
      'sluice: AUTH_FAILED: The postgres server at 127.0.0.1:5432/test refused the login: role "nobody" does not exist',
    );
  });
});
