// Tests of the limiter metrics: granted tokens, denials, waits, parked keys and held slots in the Prometheus text format.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../core/ManualClock.ts';
import { concurrencyLimit, rateLimit } from '../flow/rateLimit.ts';
import { instrumentLimiter } from './limiterMetrics.ts';

/** The value of the sample `name{labels}` in the text exposition (labels matched as a subset). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('limiter metrics', () => {
  it('exports granted tokens, denials, waits, parked keys and holds', async () => {
    const clock = new ManualClock();
    const registry = new Registry();
    const api = rateLimit({ rate: 10, name: 'api', key: (s: string) => s, clock });
    const db = concurrencyLimit({ max: 2, name: 'db', clock });
    const stopApi = instrumentLimiter(api, { registry });
    instrumentLimiter(db, { registry });

    api.tryAcquire('a');
    api.tryAcquire('a');
    await clock.runUntil(api.acquire('a'));
    await api.pause(5000, 'b');
    const held = db.tryAcquire('', 2);
    let text = await registry.metrics();
    const l = { limiter: 'api', kind: 'rate', scope: 'local' };
    expect(sample(text, 'sluice_limiter_granted_total', l)).toBe(2);
    expect(sample(text, 'sluice_limiter_denied_total', l)).toBe(2);
    expect(sample(text, 'sluice_limiter_parked_keys', l)).toBe(1);
    expect(sample(text, 'sluice_limiter_wait_seconds_count', l)).toBe(1);
    expect(sample(text, 'sluice_limiter_wait_seconds_sum', l)).toBe(0.1);
    expect(sample(text, 'sluice_limiter_held', { limiter: 'db', kind: 'concurrency' })).toBe(2);

    await held?.release();
    api.tryAcquire('c');
    text = await registry.metrics();
    expect(sample(text, 'sluice_limiter_granted_total', l)).toBe(3);
    expect(sample(text, 'sluice_limiter_held', { limiter: 'db' })).toBe(0);
    stopApi();
    text = await registry.metrics();
    expect(sample(text, 'sluice_limiter_parked_keys', l)).toBeUndefined();
  });
});
