// Conformance tests that payloads are JSON and round-trip exactly (unicode, nesting, refused values).
import { describe, expect, it } from 'vitest';
import type { Harness } from './harness.ts';

/** Conformance: payloads are JSON and round-trip exactly. */
export function payloadTests(h: () => Harness): void {
  describe('payloads', () => {
    async function roundTrip(payloads: unknown[]): Promise<unknown[]> {
      const b = h().backend;
      await b.ensureTopic('p', { partitions: 1 });
      await b.append(
        'p',
        payloads.map((payload) => ({ payload })),
      );
      return (await b.read('p', 0, 0, payloads.length + 1)).map((e) => e.payload);
    }

    it('round-trips nested objects and arrays', async () => {
      const doc = {
        order: {
          id: 'o-1',
          lines: [
            { sku: 'A', qty: 2, price: 9.99 },
            { sku: 'B', qty: 1 },
          ],
        },
        flags: [true, false, null],
        deep: { a: { b: { c: { d: [[1, [2, [3]]]] } } } },
        numbers: [0, -1, 2 ** 53 - 1, -(2 ** 53) + 1, 1.5e-10, Math.PI, 1e300],
        empty: { obj: {}, arr: [], str: '' },
      };
      expect(await roundTrip([doc])).toEqual([doc]);
    });

    it('round-trips unicode text, astral characters, escapes and NUL', async () => {
      const texts = [
        'héllo wörld — “quotes” ‘single’',
        '日本語テキスト 中文 한국어',
        'مرحبا بالعالم עברית',
        '🎉👩‍👩‍👧‍👦🏳️‍🌈 e\u0301',
        'tab\tnewline\nreturn\r backslash\\ quote" slash/',
        'nul\u0000inside',
        '\u2028\u2029 line separators',
        '\uffff\ue000\u{10ffff}',
      ];
      expect(await roundTrip([{ texts }, ...texts])).toEqual([{ texts }, ...texts]);
    });

    it('round-trips scalar payloads, including null', async () => {
      const scalars = [null, 0, 42, -3.5, true, false, '', 'text'];
      const got = await roundTrip(scalars);
      expect(got).toEqual(scalars);
      expect(got[0]).toBeNull();
    });

    it('stores JSON semantics: a Date becomes its ISO string, undefined properties disappear', async () => {
      const [got] = await roundTrip([{ at: new Date(0), gone: undefined, kept: 1, list: [undefined] }]);
      expect(got).toEqual({ at: '1970-01-01T00:00:00.000Z', kept: 1, list: [null] });
      expect(Object.keys(got as object).sort()).toEqual(['at', 'kept', 'list']);
    });

    it('the log keeps a snapshot: mutating the input or a read result changes nothing stored', async () => {
      const b = h().backend;
      await b.ensureTopic('p', { partitions: 1 });
      const input = { n: 1, nested: { list: [1, 2] } };
      await b.append('p', [{ payload: input }]);
      input.n = 99;
      input.nested.list.push(3);
      const [first] = await b.read('p', 0, 0, 1);
      expect(first!.payload).toEqual({ n: 1, nested: { list: [1, 2] } });
      (first!.payload as { n: number }).n = 7;
      const [second] = await b.read('p', 0, 0, 1);
      expect(second!.payload).toEqual({ n: 1, nested: { list: [1, 2] } });
    });
  });
}
