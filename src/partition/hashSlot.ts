// Redis Cluster hash slots: CRC16-XMODEM of a key or its {hash tag}, modulo 16384.
/** Number of hash slots in a Redis Cluster. */
export const HASH_SLOTS = 16384;

/** CRC16-XMODEM (CCITT polynomial 0x1021, initial value 0) lookup table. */
const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

function crcByte(crc: number, byte: number): number {
  return ((crc << 8) ^ CRC16_TABLE[((crc >>> 8) ^ byte) & 0xff]!) & 0xffff;
}

/** CRC16-XMODEM of the UTF-8 bytes of `s[start, end)`, without allocating. */
function crc16String(s: string, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      crc = crcByte(crc, c);
    } else if (c < 0x800) {
      crc = crcByte(crc, 0xc0 | (c >> 6));
      crc = crcByte(crc, 0x80 | (c & 0x3f));
    } else {
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          const cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
          crc = crcByte(crc, 0xf0 | (cp >> 18));
          crc = crcByte(crc, 0x80 | ((cp >> 12) & 0x3f));
          crc = crcByte(crc, 0x80 | ((cp >> 6) & 0x3f));
          crc = crcByte(crc, 0x80 | (cp & 0x3f));
          i++;
          continue;
        }
      }
      // A lone surrogate is encoded as U+FFFD, as TextEncoder and Buffer do.
      if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      crc = crcByte(crc, 0xe0 | (c >> 12));
      crc = crcByte(crc, 0x80 | ((c >> 6) & 0x3f));
      crc = crcByte(crc, 0x80 | (c & 0x3f));
    }
  }
  return crc;
}

/**
 * CRC16-XMODEM (polynomial 0x1021, init 0, no reflection, no final xor) of a string's UTF-8
 * bytes or of raw bytes: the checksum Redis Cluster uses for key slots.
 *
 * @example
 * ```ts
 * crc16('123456789'); // 0x31c3
 * ```
 */
export function crc16(data: string | Uint8Array): number {
  if (typeof data === 'string') return crc16String(data, 0, data.length);
  let crc = 0;
  for (let i = 0; i < data.length; i++) crc = crcByte(crc, data[i]!);
  return crc;
}

/**
 * The Redis Cluster hash slot of a key: `CRC16(key) mod 16384`, hashing only the part between
 * the first `{` and the next `}` when that part is non-empty (a hash tag), exactly like Redis
 * `keyHashSlot`. Keys sharing a tag share a slot, so multi-key operations can run on one node.
 *
 * Strings are hashed as UTF-8, as Redis clients send them.
 *
 * @example
 * ```ts
 * hashSlot('123456789');              // 12739
 * hashSlot('{user1000}.following') === hashSlot('{user1000}.followers'); // true
 * hashSlot('foo{}{bar}');             // the whole key: the first tag is empty
 * ```
 */
export function hashSlot(key: string | Uint8Array): number {
  if (typeof key === 'string') {
    const s = key.indexOf('{');
    if (s >= 0) {
      const e = key.indexOf('}', s + 1);
      if (e > s + 1) return crc16String(key, s + 1, e) & (HASH_SLOTS - 1);
    }
    return crc16String(key, 0, key.length) & (HASH_SLOTS - 1);
  }
  let start = 0;
  let end = key.length;
  const s = key.indexOf(0x7b); // {
  if (s >= 0) {
    const e = key.indexOf(0x7d, s + 1); // }
    if (e > s + 1) {
      start = s + 1;
      end = e;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) crc = crcByte(crc, key[i]!);
  return crc & (HASH_SLOTS - 1);
}
