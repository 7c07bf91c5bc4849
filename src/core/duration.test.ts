// Unit tests of parseDuration: numbers, unit strings and compounds accepted; bad input gives CONFIG_INVALID.
import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.ts';
import { isSluiceError } from './errors.ts';

describe('parseDuration', () => {
  it.each([
    [250, 250],
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1d', 86_400_000],
    ['1m30s', 90_000],
    ['1m 30s', 90_000],
    ['42', 42],
  ])('parses %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([['soon'], ['1x'], [-1], [Number.NaN], [''], [null], [{}], ['1s garbage']])(
    'rejects %j with CONFIG_INVALID naming the field and value',
    (input) => {
      let err: unknown;
      try {
        parseDuration(input, 'backoff.initial');
      } catch (e) {
        err = e;
      }
      expect(isSluiceError(err)).toBe(true);
      if (!isSluiceError(err)) return;
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('`backoff.initial`');
      expect(err.context.field).toBe('backoff.initial');
    },
  );
});
