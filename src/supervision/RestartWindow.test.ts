// Tests of RestartWindow: maxRestarts within the window, expiry of old restarts.
import { describe, expect, it } from 'vitest';
import { RestartWindow } from './RestartWindow.ts';

describe('RestartWindow', () => {
  it('allows maxRestarts within the window and refuses one more', () => {
    const w = new RestartWindow(2, 1000);
    expect(w.add(0)).toBe(true);
    expect(w.add(10)).toBe(true);
    expect(w.add(20)).toBe(false);
  });

  it('forgets restarts older than the window; a restart exactly withinMs old still counts', () => {
    const w = new RestartWindow(1, 1000);
    expect(w.add(0)).toBe(true);
    expect(w.count(1000)).toBe(1);
    expect(w.count(1001)).toBe(0);
    expect(w.add(1001)).toBe(true);
    expect(w.add(2001)).toBe(false);
  });

  it('maxRestarts 0 refuses the first restart', () => {
    expect(new RestartWindow(0, 1000).add(5)).toBe(false);
  });
});
