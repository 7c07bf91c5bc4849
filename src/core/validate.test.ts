// Unit tests of validate: parsed options returned; CONFIG_INVALID message naming the field path and value.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { validate } from './validate.ts';

describe('validate', () => {
  const schema = z.object({ maxWorkers: z.number().int().min(1, 'an integer >= 1') });
  it('returns parsed options', () => {
    expect(validate(schema, { maxWorkers: 3 })).toEqual({ maxWorkers: 3 });
  });
  it('names the field and the value in CONFIG_INVALID', () => {
    expect(() => validate(schema, { maxWorkers: 0 }, 'concurrent')).toThrowError(
      'Expected `concurrent.maxWorkers` to be an integer >= 1, got 0',
    );
    expect(() => validate(schema, { maxWorkers: 0 })).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID' }),
    );
  });
});
