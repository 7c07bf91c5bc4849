// `sluice demo` (built CLI): the same counts on every run, no ANSI codes off a terminal or with
// NO_COLOR, and bold (never red) table headers on a terminal.
import { beforeAll, describe, expect, it } from 'vitest';
import { bin, ensureBuilt, runCli, runShell } from './support/builtCli.ts';

beforeAll(async () => {
  await ensureBuilt();
}, 180_000);

/** The table's data row as [total, shipped, dead-lettered, retries]. */
function counts(stdout: string): string[] {
  const row = stdout.split('\n').find((l) => /^│ \d/.test(l));
  return (row ?? '')
    .split('│')
    .map((c) => c.trim())
    .filter(Boolean)
    .slice(0, 4);
}

describe('sluice demo', () => {
  it('is reproducible: the same counts on every run (seeded), others with another seed', async () => {
    const a = await runCli(['demo', '-n', '20000']);
    const b = await runCli(['demo', '-n', '20000', '-w', '3']);
    expect(a.code).toBe(0);
    expect(counts(a.stdout)).toHaveLength(4);
    expect(counts(b.stdout)).toEqual(counts(a.stdout));
    expect(a.stdout).toContain('Per-customer order preserved: yes');
    const c = await runCli(['demo', '-n', '20000', '--seed', '7']);
    expect(counts(c.stdout)[3]).not.toBe(counts(a.stdout)[3]);
  });

  it('prints no ANSI codes when stdout is not a terminal', async () => {
    const r = await runCli(['demo', '-n', '300']);
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('on a terminal: bold headers, not red; NO_COLOR turns colours off', async () => {
    // The terminal is a real pty; the colour switches are set here, not inherited from whoever runs the
    // tests, and `CI` is set as CI servers do (cli-table3's own colour detection turns colours off then).
    const term = 'env -u NO_COLOR -u FORCE_COLOR TERM=xterm-256color CI=true';
    const tty = await runShell(`${term} script -qec "node ${bin} demo -n 300" /dev/null`);
    expect(tty.stdout).toContain('\u001b[1mtotal\u001b[22m');
    expect(tty.stdout).not.toContain('\u001b[31m');
    const plain = await runShell(`${term} NO_COLOR=1 script -qec "node ${bin} demo -n 300" /dev/null`);
    expect(plain.stdout).toContain(' total ');
    expect(plain.stdout).not.toContain('\u001b[');
  });
});
