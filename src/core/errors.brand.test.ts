// Sluice errors are recognised across two copies of the package (brand, not prototype).
import { describe, expect, it } from 'vitest';
import { isSluiceError, isUnrecoverable, SluiceError, UnrecoverableError } from './errors.ts';

const COPY = './errors.ts?copy';

/** A second, separately evaluated copy of errors.ts, as when `src/` and `dist/` are both loaded. */
const otherCopy = async () => (await import(/* @vite-ignore */ COPY)) as typeof import('./errors.ts');

describe('error guards across copies of the package', () => {
  it('instanceof and the guards hold for errors of another copy', async () => {
    const other = await otherCopy();
    expect(other.UnrecoverableError).not.toBe(UnrecoverableError);
    const u = new other.UnrecoverableError('bad order');
    expect(u instanceof UnrecoverableError).toBe(true);
    expect(u instanceof SluiceError).toBe(true);
    expect(isUnrecoverable(u)).toBe(true);
    const s = new other.SluiceError('TIMEOUT', 'slow', { retryable: true });
    expect(s instanceof SluiceError).toBe(true);
    expect(s instanceof UnrecoverableError).toBe(false);
    expect(isSluiceError(s)).toBe(true);
    expect(new SluiceError('X', 'y') instanceof other.SluiceError).toBe(true);
  });

  it('the brand is not enumerable: JSON and equality see only the public fields', () => {
    const e = new UnrecoverableError('no id', { context: { id: 1 } });
    expect(Object.getOwnPropertyDescriptor(e, Symbol.for('sluice.error'))?.enumerable).toBe(false);
    expect(Object.keys(e).sort()).toEqual(['code', 'context', 'name', 'retryable']);
    expect(JSON.parse(JSON.stringify(e))).toMatchObject({ code: 'UNRECOVERABLE', context: { id: 1 } });
    expect(new Error('plain') instanceof SluiceError).toBe(false);
  });
});
