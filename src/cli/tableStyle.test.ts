// useColor's switches and newTable's headers: bold only when colours are on, never red.
import { describe, expect, it } from 'vitest';
import { newTable, useColor } from './tableStyle.ts';

describe('useColor', () => {
  it('follows the terminal, NO_COLOR, TERM=dumb and FORCE_COLOR', () => {
    expect(useColor({}, true)).toBe(true);
    expect(useColor({}, false)).toBe(false);
    expect(useColor({ NO_COLOR: '1' }, true)).toBe(false);
    expect(useColor({ NO_COLOR: '' }, true)).toBe(true);
    expect(useColor({ TERM: 'dumb' }, true)).toBe(false);
    expect(useColor({ FORCE_COLOR: '1' }, false)).toBe(true);
    expect(useColor({ FORCE_COLOR: '0' }, false)).toBe(false);
    expect(useColor({ CI: 'true' }, true)).toBe(true);
  });
});

describe('newTable', () => {
  it('bolds the headers when colours are on, whatever cli-table3 detects', () => {
    const t = newTable(['total', 'ok'], true);
    t.push([1, 2]);
    const s = t.toString();
    expect(s).toContain('\u001b[1mtotal\u001b[22m');
    expect(s).not.toContain('\u001b[31m');
  });

  it('prints no ANSI codes when colours are off', () => {
    const t = newTable(['total', 'ok'], false);
    t.push([1, 2]);
    expect(t.toString()).not.toContain('\u001b[');
    expect(t.toString()).toContain(' total ');
  });
});
