// MD5 (RFC 1321) in pure JavaScript with reused buffers, for partitioners hashing short ids: md5Words/md5Hex.
const encoder = new TextEncoder();
let bytes = new Uint8Array(256);
/** Output of the last {@link md5Words} call: a, b, c, d as little-endian 32-bit words. */
const state = new Int32Array(4);

/** One MD5 compression of the 64-byte block at `off` of `buf` into `state` (rounds unrolled). */
function compress(buf: Uint8Array, off: number): void {
  const m0 = buf[off + 0]! | (buf[off + 1]! << 8) | (buf[off + 2]! << 16) | (buf[off + 3]! << 24);
  const m1 = buf[off + 4]! | (buf[off + 5]! << 8) | (buf[off + 6]! << 16) | (buf[off + 7]! << 24);
  const m2 = buf[off + 8]! | (buf[off + 9]! << 8) | (buf[off + 10]! << 16) | (buf[off + 11]! << 24);
  const m3 = buf[off + 12]! | (buf[off + 13]! << 8) | (buf[off + 14]! << 16) | (buf[off + 15]! << 24);
  const m4 = buf[off + 16]! | (buf[off + 17]! << 8) | (buf[off + 18]! << 16) | (buf[off + 19]! << 24);
  const m5 = buf[off + 20]! | (buf[off + 21]! << 8) | (buf[off + 22]! << 16) | (buf[off + 23]! << 24);
  const m6 = buf[off + 24]! | (buf[off + 25]! << 8) | (buf[off + 26]! << 16) | (buf[off + 27]! << 24);
  const m7 = buf[off + 28]! | (buf[off + 29]! << 8) | (buf[off + 30]! << 16) | (buf[off + 31]! << 24);
  const m8 = buf[off + 32]! | (buf[off + 33]! << 8) | (buf[off + 34]! << 16) | (buf[off + 35]! << 24);
  const m9 = buf[off + 36]! | (buf[off + 37]! << 8) | (buf[off + 38]! << 16) | (buf[off + 39]! << 24);
  const m10 = buf[off + 40]! | (buf[off + 41]! << 8) | (buf[off + 42]! << 16) | (buf[off + 43]! << 24);
  const m11 = buf[off + 44]! | (buf[off + 45]! << 8) | (buf[off + 46]! << 16) | (buf[off + 47]! << 24);
  const m12 = buf[off + 48]! | (buf[off + 49]! << 8) | (buf[off + 50]! << 16) | (buf[off + 51]! << 24);
  const m13 = buf[off + 52]! | (buf[off + 53]! << 8) | (buf[off + 54]! << 16) | (buf[off + 55]! << 24);
  const m14 = buf[off + 56]! | (buf[off + 57]! << 8) | (buf[off + 58]! << 16) | (buf[off + 59]! << 24);
  const m15 = buf[off + 60]! | (buf[off + 61]! << 8) | (buf[off + 62]! << 16) | (buf[off + 63]! << 24);
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let t = 0;
  t = (a + ((b & c) | (~b & d)) + m0 + (0xd76aa478 | 0)) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (d + ((a & b) | (~a & c)) + m1 + (0xe8c7b756 | 0)) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (c + ((d & a) | (~d & b)) + m2 + 0x242070db) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (b + ((c & d) | (~c & a)) + m3 + (0xc1bdceee | 0)) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (a + ((b & c) | (~b & d)) + m4 + (0xf57c0faf | 0)) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (d + ((a & b) | (~a & c)) + m5 + 0x4787c62a) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (c + ((d & a) | (~d & b)) + m6 + (0xa8304613 | 0)) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (b + ((c & d) | (~c & a)) + m7 + (0xfd469501 | 0)) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (a + ((b & c) | (~b & d)) + m8 + 0x698098d8) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (d + ((a & b) | (~a & c)) + m9 + (0x8b44f7af | 0)) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (c + ((d & a) | (~d & b)) + m10 + (0xffff5bb1 | 0)) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (b + ((c & d) | (~c & a)) + m11 + (0x895cd7be | 0)) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (a + ((b & c) | (~b & d)) + m12 + 0x6b901122) | 0;
  a = (b + ((t << 7) | (t >>> 25))) | 0;
  t = (d + ((a & b) | (~a & c)) + m13 + (0xfd987193 | 0)) | 0;
  d = (a + ((t << 12) | (t >>> 20))) | 0;
  t = (c + ((d & a) | (~d & b)) + m14 + (0xa679438e | 0)) | 0;
  c = (d + ((t << 17) | (t >>> 15))) | 0;
  t = (b + ((c & d) | (~c & a)) + m15 + 0x49b40821) | 0;
  b = (c + ((t << 22) | (t >>> 10))) | 0;
  t = (a + ((d & b) | (~d & c)) + m1 + (0xf61e2562 | 0)) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (d + ((c & a) | (~c & b)) + m6 + (0xc040b340 | 0)) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (c + ((b & d) | (~b & a)) + m11 + 0x265e5a51) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (b + ((a & c) | (~a & d)) + m0 + (0xe9b6c7aa | 0)) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = (a + ((d & b) | (~d & c)) + m5 + (0xd62f105d | 0)) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (d + ((c & a) | (~c & b)) + m10 + 0x2441453) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (c + ((b & d) | (~b & a)) + m15 + (0xd8a1e681 | 0)) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (b + ((a & c) | (~a & d)) + m4 + (0xe7d3fbc8 | 0)) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = (a + ((d & b) | (~d & c)) + m9 + 0x21e1cde6) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (d + ((c & a) | (~c & b)) + m14 + (0xc33707d6 | 0)) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (c + ((b & d) | (~b & a)) + m3 + (0xf4d50d87 | 0)) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (b + ((a & c) | (~a & d)) + m8 + 0x455a14ed) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = (a + ((d & b) | (~d & c)) + m13 + (0xa9e3e905 | 0)) | 0;
  a = (b + ((t << 5) | (t >>> 27))) | 0;
  t = (d + ((c & a) | (~c & b)) + m2 + (0xfcefa3f8 | 0)) | 0;
  d = (a + ((t << 9) | (t >>> 23))) | 0;
  t = (c + ((b & d) | (~b & a)) + m7 + 0x676f02d9) | 0;
  c = (d + ((t << 14) | (t >>> 18))) | 0;
  t = (b + ((a & c) | (~a & d)) + m12 + (0x8d2a4c8a | 0)) | 0;
  b = (c + ((t << 20) | (t >>> 12))) | 0;
  t = (a + (b ^ c ^ d) + m5 + (0xfffa3942 | 0)) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = (d + (a ^ b ^ c) + m8 + (0x8771f681 | 0)) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = (c + (d ^ a ^ b) + m11 + 0x6d9d6122) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = (b + (c ^ d ^ a) + m14 + (0xfde5380c | 0)) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = (a + (b ^ c ^ d) + m1 + (0xa4beea44 | 0)) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = (d + (a ^ b ^ c) + m4 + 0x4bdecfa9) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = (c + (d ^ a ^ b) + m7 + (0xf6bb4b60 | 0)) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = (b + (c ^ d ^ a) + m10 + (0xbebfbc70 | 0)) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = (a + (b ^ c ^ d) + m13 + 0x289b7ec6) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = (d + (a ^ b ^ c) + m0 + (0xeaa127fa | 0)) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = (c + (d ^ a ^ b) + m3 + (0xd4ef3085 | 0)) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = (b + (c ^ d ^ a) + m6 + 0x4881d05) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = (a + (b ^ c ^ d) + m9 + (0xd9d4d039 | 0)) | 0;
  a = (b + ((t << 4) | (t >>> 28))) | 0;
  t = (d + (a ^ b ^ c) + m12 + (0xe6db99e5 | 0)) | 0;
  d = (a + ((t << 11) | (t >>> 21))) | 0;
  t = (c + (d ^ a ^ b) + m15 + 0x1fa27cf8) | 0;
  c = (d + ((t << 16) | (t >>> 16))) | 0;
  t = (b + (c ^ d ^ a) + m2 + (0xc4ac5665 | 0)) | 0;
  b = (c + ((t << 23) | (t >>> 9))) | 0;
  t = (a + (c ^ (b | ~d)) + m0 + (0xf4292244 | 0)) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = (d + (b ^ (a | ~c)) + m7 + 0x432aff97) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = (c + (a ^ (d | ~b)) + m14 + (0xab9423a7 | 0)) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = (b + (d ^ (c | ~a)) + m5 + (0xfc93a039 | 0)) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  t = (a + (c ^ (b | ~d)) + m12 + 0x655b59c3) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = (d + (b ^ (a | ~c)) + m3 + (0x8f0ccc92 | 0)) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = (c + (a ^ (d | ~b)) + m10 + (0xffeff47d | 0)) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = (b + (d ^ (c | ~a)) + m1 + (0x85845dd1 | 0)) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  t = (a + (c ^ (b | ~d)) + m8 + 0x6fa87e4f) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = (d + (b ^ (a | ~c)) + m15 + (0xfe2ce6e0 | 0)) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = (c + (a ^ (d | ~b)) + m6 + (0xa3014314 | 0)) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = (b + (d ^ (c | ~a)) + m13 + 0x4e0811a1) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  t = (a + (c ^ (b | ~d)) + m4 + (0xf7537e82 | 0)) | 0;
  a = (b + ((t << 6) | (t >>> 26))) | 0;
  t = (d + (b ^ (a | ~c)) + m11 + (0xbd3af235 | 0)) | 0;
  d = (a + ((t << 10) | (t >>> 22))) | 0;
  t = (c + (a ^ (d | ~b)) + m2 + 0x2ad7d2bb) | 0;
  c = (d + ((t << 15) | (t >>> 17))) | 0;
  t = (b + (d ^ (c | ~a)) + m9 + (0xeb86d391 | 0)) | 0;
  b = (c + ((t << 21) | (t >>> 11))) | 0;
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

/**
 * MD5 (RFC 1321) of the UTF-8 bytes of `s`, in pure JavaScript with preallocated buffers: for
 * the short ids partitioners hash it is several times faster than a `node:crypto` call. Returns a
 * shared `Int32Array` of the four little-endian state words `a, b, c, d` (digest byte `i` is
 * byte `i % 4` of word `i >> 2`), valid until the next call.
 */
export function md5Words(s: string): Int32Array {
  if (bytes.length < s.length * 3 + 72) bytes = new Uint8Array(s.length * 3 + 72);
  let len = 0;
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
      break;
    }
    bytes[i] = c;
  }
  len = ascii ? s.length : encoder.encodeInto(s, bytes).written;
  // Padding: 0x80, zeros to 56 mod 64, then the bit length as 64-bit little-endian.
  const total = ((len + 8) >>> 6) * 64 + 64;
  bytes[len] = 0x80;
  bytes.fill(0, len + 1, total - 8);
  const bits = len * 8;
  bytes[total - 8] = bits & 0xff;
  bytes[total - 7] = (bits >>> 8) & 0xff;
  bytes[total - 6] = (bits >>> 16) & 0xff;
  bytes[total - 5] = (bits >>> 24) & 0xff;
  const hiBits = Math.floor(bits / 4294967296);
  bytes[total - 4] = hiBits & 0xff;
  bytes[total - 3] = (hiBits >>> 8) & 0xff;
  bytes[total - 2] = (hiBits >>> 16) & 0xff;
  bytes[total - 1] = (hiBits >>> 24) & 0xff;
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  for (let off = 0; off < total; off += 64) compress(bytes, off);
  return state;
}

/** MD5 hex digest of the UTF-8 bytes of `s` (same as `createHash('md5').update(s).digest('hex')`). */
export function md5Hex(s: string): string {
  const w = md5Words(s);
  let out = '';
  for (let i = 0; i < 16; i++) {
    const byte = (w[i >> 2]! >>> ((i & 3) * 8)) & 0xff;
    out += byte.toString(16).padStart(2, '0');
  }
  return out;
}
