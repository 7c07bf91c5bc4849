// A real worker process receives SIGTERM mid-item: it finishes the item, starts no new one, closes in reverse order, exits 0.
/** A real worker process receives SIGTERM in the middle of an item (onShutdown drains it). */
import { describe, expect, it } from 'vitest';
import { startFixture } from '../fixtures/patterns/childProcess.ts';

describe('graceful shutdown (real process)', () => {
  it('SIGTERM: the in-flight item finishes, no new item starts, closeables run in reverse order, exit 0', {
    timeout: 30_000,
  }, async () => {
    const child = startFixture('test/fixtures/patterns/shutdownChild.ts', []);
    await child.waitForLine('start 2');
    child.proc.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit, child.stderr()).toEqual({ code: 0, signal: null });
    const lines = child.stdout().trim().split('\n');
    const stopAt = lines.indexOf('stopping');
    expect(stopAt).toBeGreaterThan(0);
    const last = lines.filter((l) => l.startsWith('start ')).at(-1)!;
    const n = last.split(' ')[1];
    // The item that was running when the signal came completed, after the stop began.
    expect(lines.indexOf(`done ${n}`)).toBeGreaterThan(stopAt);
    expect(lines.slice(stopAt).filter((l) => l.startsWith('start '))).toEqual([]);
    expect(lines.slice(-3)).toEqual([`done ${n}`, 'worker stopped', 'resource closed']);
  });
});
