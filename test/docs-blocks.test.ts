// Every code block of README.md and docs/*.md that claims to run is run, exactly as written.
//
// A `ts`/`js` block runs as a module of a user's project (it imports 'sluice' by name; here the
// project's tsconfig `paths` send that to the sources). A block that is not meant to run on its
// own — a fragment that uses names defined elsewhere, or a command that needs servers — says so
// on the line before its fence: `<!-- fragment: why -->`. Shell blocks must be marked (they are
// not run here); `sql`, `yaml`, `json`, `text` and unlabelled blocks are data, not code. A block
// neither marked nor running fails this test.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, root } from './support/builtCli.ts';

/** One fenced block of a Markdown file. */
interface Block {
  file: string;
  line: number;
  lang: string;
  code: string;
  /** The reason given by a `<!-- fragment: ... -->` marker, when the block has one. */
  fragment?: string;
}

const RUNNABLE = new Set(['ts', 'typescript', 'js', 'mjs']);
const SHELL = new Set(['sh', 'bash', 'shell', 'console']);

/** The fenced blocks of a Markdown file, with the marker on the line before each fence. */
function extractBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    let prev = start - 1;
    while (prev >= 0 && (lines[prev] ?? '').trim() === '') prev--;
    const marker = /^<!--\s*fragment:\s*(.*?)\s*-->$/.exec((lines[prev] ?? '').trim());
    blocks.push({
      file,
      line: start + 1,
      lang: (open[1] ?? '').toLowerCase(),
      code: `${body.join('\n')}\n`,
      ...(marker ? { fragment: marker[1] ?? '' } : {}),
    });
  }
  return blocks;
}

const files = [
  'README.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];
const blocks = files.flatMap((f) => extractBlocks(f, readFileSync(join(root, f), 'utf8')));
const tsx = pathToFileURL(join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

let project: string;
beforeAll(() => {
  project = mkdtempSync(join(tmpdir(), 'sluice-docs-'));
  makeProject(project, { type: 'module', pathsToSources: true });
});
afterAll(() => rmSync(project, { recursive: true, force: true }));

/** Runs a block as `<project>/<name>.ts` in a fresh folder of the project; resolves with its output. */
function runBlock(b: Block): Promise<{ code: number | null; output: string }> {
  const name = `${b.file.replace(/[/.]/g, '_')}_${b.line}.${b.lang === 'ts' || b.lang === 'typescript' ? 'ts' : 'mjs'}`;
  writeFileSync(join(project, name), b.code);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', tsx, name],
      { cwd: project, timeout: 60_000, env: { ...process.env, FORCE_COLOR: '' } },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, output: `${stdout}${stderr}` });
      },
    );
  });
}

describe('code blocks of README.md and docs/*.md', () => {
  it('every shell block is marked (shell commands are not run here)', () => {
    const unmarked = blocks.filter((b) => SHELL.has(b.lang) && b.fragment === undefined);
    expect(unmarked.map((b) => `${b.file}:${b.line}`)).toEqual([]);
  });

  it('every marker gives a reason', () => {
    const bare = blocks.filter((b) => b.fragment === '');
    expect(bare.map((b) => `${b.file}:${b.line}`)).toEqual([]);
  });

  const runnable = blocks.filter((b) => RUNNABLE.has(b.lang) && b.fragment === undefined);
  it.each(runnable.map((b) => [`${b.file}:${b.line}`, b] as const))(
    '%s runs as written',
    async (_where, b) => {
      const r = await runBlock(b);
      expect(r.code, r.output.slice(-2000)).toBe(0);
    },
  );
});
