// Payloads that JSON cannot store are refused with one line naming the path and the type.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../memory/index.ts';
import { encodeJson } from './json.ts';

describe('encodeJson errors', () => {
  it('names the BigInt, its path and a fix instead of "[object Object]"', () => {
    expect(() => encodeJson({ order: 'o1', amount: 12n }, 'payload')).toThrow(
      'Expected `payload` to be JSON-serializable, got a BigInt (12n) at `payload.amount` (convert it to a string or a number)',
    );
  });

  it('a circular payload gives one line with the path of the cycle', () => {
    const order: Record<string, unknown> = { id: 'o1', lines: [{ sku: 'a' }] };
    (order.lines as Record<string, unknown>[])[0]!.order = order;
    let message = '';
    try {
      encodeJson(order, 'payload');
    } catch (e) {
      message = (e as Error).message;
      expect((e as { code?: string }).code).toBe('CONFIG_INVALID');
    }
    expect(message).toBe(
      'Expected `payload` to be JSON-serializable, got a circular reference to `payload` at `payload.lines[0].order`',
    );
    expect(message).not.toContain('\n');
  });

  it('append reports the event index in the path', async () => {
    const backend = createMemoryBackend();
    await backend.ensureTopic('t', { partitions: 1 });
    await expect(
      backend.append('t', [{ payload: { ok: 1 } }, { payload: { nested: { total: 5n } } }]),
    ).rejects.toThrow(/got a BigInt \(5n\) at `events\[1\]\.payload\.nested\.total`/);
    await backend.close();
  });
});
