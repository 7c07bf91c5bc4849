// Tests of crc16 and Redis Cluster hashSlot: spec vectors, hash tags and edge cases, a bitwise CRC oracle.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc16, HASH_SLOTS, hashSlot } from './hashSlot.ts';

/** Bit-by-bit CRC16-XMODEM, an oracle independent of the table implementation. */
function crc16Bitwise(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

describe('crc16', () => {
  it('is CRC16-XMODEM', () => {
    expect(crc16('123456789')).toBe(0x31c3);
    expect(crc16('')).toBe(0);
    expect(crc16(new Uint8Array([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39]))).toBe(0x31c3);
  });

  it('agrees with a bitwise CRC over the UTF-8 bytes of any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (s) => {
        expect(crc16(s)).toBe(crc16Bitwise(Buffer.from(s, 'utf8')));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('hashSlot', () => {
  // Values from the Redis Cluster specification and `CLUSTER KEYSLOT`.
  it.each([
    ['123456789', 12739],
    ['somekey', 11058],
    ['foo{hash_tag}', 2515],
    ['bar{hash_tag}', 2515],
    ['{hash_tag}', 2515],
  ])('hashSlot(%j) = %d', (key, slot) => {
    expect(hashSlot(key)).toBe(slot);
  });

  it('keys with the same tag share a slot', () => {
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('{user1000}.followers'));
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('user1000'));
  });

  it('follows Redis keyHashSlot for the edge cases of its specification', () => {
    const whole = (k: string) => crc16Bitwise(Buffer.from(k)) % HASH_SLOTS;
    // Empty first tag: the whole key is hashed.
    expect(hashSlot('foo{}{bar}')).toBe(whole('foo{}{bar}'));
    expect(hashSlot('{}')).toBe(whole('{}'));
    // Content between the first { and the first } after it.
    expect(hashSlot('foo{{bar}}zap')).toBe(whole('{bar'));
    expect(hashSlot('foo{bar}{zap}')).toBe(whole('bar'));
    // No closing brace, or no brace at all.
    expect(hashSlot('foo{bar')).toBe(whole('foo{bar'));
    expect(hashSlot('foo}bar{')).toBe(whole('foo}bar{'));
  });

  it('treats strings as UTF-8 and accepts raw bytes', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const slot = hashSlot(s);
        expect(slot).toBe(hashSlot(Buffer.from(s, 'utf8')));
        expect(slot).toBeGreaterThanOrEqual(0);
        expect(slot).toBeLessThan(HASH_SLOTS);
      }),
      { numRuns: 1000 },
    );
  });

  it('spreads keys over all slots', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200_000; i++) seen.add(hashSlot(`key:${i}`));
    expect(seen.size).toBeGreaterThan(HASH_SLOTS * 0.99);
  });
});
