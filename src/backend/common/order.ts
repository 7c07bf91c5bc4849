// Code-point string comparison, the order SQLite BINARY, PostgreSQL COLLATE "C" and Redis ranges agree on.
/**
 * Compares strings by Unicode code point, the order of SQLite's `BINARY` collation, PostgreSQL's
 * `COLLATE "C"` and Redis' lexicographic ranges (UTF-8 byte order). Plain `<` on JS strings
 * compares UTF-16 code units, which disagrees for characters above U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return fixup(x) - fixup(y);
  }
  return a.length - b.length;
}

/** Moves surrogates (U+D800..U+DFFF) above U+E000..U+FFFF so code units sort as code points. */
function fixup(u: number): number {
  if (u >= 0xe000) return u - 0x800;
  if (u >= 0xd800) return u + 0x2000;
  return u;
}
