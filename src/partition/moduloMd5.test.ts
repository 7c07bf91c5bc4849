// Tests of md5 (RFC 1321 vectors, node:crypto) and of md5Mod/moduloMd5 vs Python values and a BigInt oracle.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { md5Hex, md5Words } from './md5.ts';
import { md5Mod, moduloMd5 } from './moduloMd5.ts';

/** Python's `int(hashlib.md5(id.encode()).hexdigest(), 16) % n`, with node:crypto and BigInt. */
const oracle = (id: string, n: number): number =>
  Number(BigInt(`0x${createHash('md5').update(id, 'utf8').digest('hex')}`) % BigInt(n));

describe('md5', () => {
  // RFC 1321 test suite.
  it.each([
    ['', 'd41d8cd98f00b204e9800998ecf8427e'],
    ['a', '0cc175b9c0f1b6a831c399e269772661'],
    ['abc', '900150983cd24fb0d6963f7d28e17f72'],
    ['message digest', 'f96b697d7cb7938d525a2f31aaf161d0'],
    ['abcdefghijklmnopqrstuvwxyz', 'c3fcd3d76192e4007dfb496cca67e13b'],
    ['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789', 'd174ab98d277d9f5a5611c2c9f419d9f'],
    [
      '12345678901234567890123456789012345678901234567890123456789012345678901234567890',
      '57edf4a22be3c955ac49da2e2107b67a',
    ],
  ])('md5(%j)', (input, hex) => {
    expect(md5Hex(input)).toBe(hex);
  });

  it('agrees with node:crypto on any string, including padding boundaries', () => {
    for (let len = 0; len < 200; len++) {
      const s = 'x'.repeat(len);
      expect(md5Hex(s)).toBe(createHash('md5').update(s).digest('hex'));
    }
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary', maxLength: 300 })), (s) => {
        expect(md5Hex(s)).toBe(createHash('md5').update(s, 'utf8').digest('hex'));
      }),
      { numRuns: 1000 },
    );
    expect(md5Words('abc')).toBeInstanceOf(Int32Array);
  });
});

describe('md5Mod / moduloMd5', () => {
  // Computed with Python 3: int(hashlib.md5(id.encode()).hexdigest(), 16) % n
  it.each([
    ['order-1', 16, 4],
    ['user:42', 7, 1],
    ['héllo wörld', 1000, 600],
    ['', 3, 0],
    ['😀', 2147483647, 941429387],
    ['fleuve-event-123456', 97, 56],
    ['a'.repeat(100), 2 ** 40 + 15, 351517375382],
  ])('md5Mod(%j, %d) = %d (Python value)', (id, n, expected) => {
    expect(md5Mod(id, n)).toBe(expected);
  });

  it('agrees with the BigInt oracle for every modulus range', () => {
    const moduli = [
      1,
      2,
      3,
      10,
      97,
      1000,
      65537,
      2 ** 21,
      2 ** 21 + 1,
      2 ** 31 - 1,
      2 ** 37,
      2 ** 37 + 1,
      2 ** 53 - 1,
    ];
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' })),
        fc.constantFrom(...moduli),
        (id, n) => {
          expect(md5Mod(id, n)).toBe(oracle(id, n));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('routes to names or indexes', () => {
    const byIndex = moduloMd5(5);
    const byName = moduloMd5(['a', 'b', 'c', 'd', 'e']);
    for (let i = 0; i < 1000; i++) {
      const id = `job-${i}`;
      const b = oracle(id, 5);
      expect(byIndex.bucket(id)).toBe(b);
      expect(byIndex.route(id)).toBe(String(b));
      expect(byName.route(id)).toBe('abcde'[b]);
    }
  });

  it('rejects n < 1 and bad member lists with CONFIG_INVALID naming the field', () => {
    expect(() => moduloMd5(0)).toThrowError('Expected `moduloMd5.n` to be an integer >= 1, got 0');
    expect(() => moduloMd5(2.5)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(() => moduloMd5([])).toThrowError(/`moduloMd5.members`.*got \[\]/);
    expect(() => moduloMd5(['a', 'a'])).toThrowError(/`moduloMd5.members.1`.*got "a"/);
  });
});
