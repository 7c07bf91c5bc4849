// The key-centred dashboard in headless chromium: a key parked by a rate limit, one held by an open breaker, hot keys, lag sparklines, DLQ by key with bulk replay.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/Backend.ts';
import { createSqliteBackend } from '../../src/backend/sqlite/index.ts';
import { RateLimitedError } from '../../src/core/rateLimited.ts';
import { breakerSource, type Dashboard, pipelineSource, startDashboard } from '../../src/dashboard/index.ts';
import type { PipelineRun } from '../../src/pipeline/PipelineRun.ts';
import { stream } from '../../src/pipeline/stream.ts';
import { createScheduler } from '../../src/time/Scheduler.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
];

let dir: string;
let backend: Backend;
let dash: Dashboard;
let browser: Browser | undefined;
let billing: PipelineRun<unknown, unknown>;
let shipping: PipelineRun<unknown, unknown>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-dashkeys-'));
  backend = createSqliteBackend({ path: join(dir, 'sluice.db') });
  await backend.ensureTopic('invoices', { partitions: 4 });
  const keys = ['tenant-1', 'tenant-2', 'tenant-3', 'tenant-slow'];
  await backend.append(
    'invoices',
    Array.from({ length: 12 }, (_, i) => ({ key: keys[i % 4] as string, payload: { invoice: i } })),
  );
  // A pipeline over the topic: tenant-slow is refused by its API with 429 (parked 10 minutes).
  billing = stream<{ invoice: number }>({ backend, topic: 'invoices', group: 'billing', follow: true })
    .concurrent({ maxWorkers: 2 })
    .process((e) => {
      if (e.key === 'tenant-slow') throw new RateLimitedError({ retryAfter: '10m' });
    })
    .checkpoint({ every: '50ms' })
    .start() as PipelineRun<unknown, unknown>;
  // A pipeline whose carrier API is down: one failure opens the breaker, the key waits for it.
  shipping = stream([
    { key: 'warehouse-9', n: 1 },
    { key: 'warehouse-9', n: 2 },
  ])
    .partitionBy((o) => o.key)
    .concurrent({
      maxWorkers: 1,
      retry: { attempts: 5, backoff: '20ms' },
      supervision: { circuitBreaker: { failureThreshold: 1, timeout: '10m' } },
    })
    .process(() => {
      throw new Error('503 from carrier');
    })
    .start() as PipelineRun<unknown, unknown>;
  for (const [i, key] of ['customer-9', 'customer-1', 'customer-9', 'customer-1', 'customer-9'].entries())
    await backend.dlq.put({
      id: `dead-${i}`,
      source: 'billing',
      topic: 'invoices',
      partition: i % 4,
      offset: i,
      key,
      payload: { invoice: 900 + i },
      error: { name: 'Error', message: `card declined #${i}`, code: 'PAYMENT_FAILED' },
      attempts: 3,
    });
  // Stored in the backend: 7 events due in an hour and 2 schedules (the dashboard reads the stores).
  await backend.append(
    'invoices',
    Array.from({ length: 7 }, (_, i) => ({ key: `reminder-${i}`, payload: { remind: i }, delay: '1h' })),
  );
  const scheduler = createScheduler({ backend });
  await scheduler.schedule({ name: 'nightly-invoices', cron: '0 2 * * *', topic: 'invoices', payload: {} });
  await scheduler.schedule({ name: 'dunning', every: '6h', topic: 'invoices', payload: {} });
  await scheduler.close();
  dash = await startDashboard({
    backend,
    port: 0,
    refreshMs: 300,
    sources: [
      pipelineSource('pipelines', { billing, shipping }),
      breakerSource('resilience', { 'carrier-api': shipping.breaker! }),
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await dash?.close();
  await billing?.stop();
  await shipping?.stop();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('bulk replay API', () => {
  it('needs the token, refuses a cookie without the action header, and wants exactly one of key or ids', async () => {
    expect((await fetch(`${dash.url}api/dlq/replay?key=customer-9`, { method: 'POST' })).status).toBe(401);
    const first = await fetch(`${dash.url}?token=${dash.token}`, { redirect: 'manual' });
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
    const forged = await fetch(`${dash.url}api/dlq/replay?key=customer-9`, {
      method: 'POST',
      headers: { cookie },
    });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('x-content-type-options')).toBe('nosniff');
    const auth = { authorization: `Bearer ${dash.token}` };
    expect((await fetch(`${dash.url}api/dlq/replay`, { method: 'POST', headers: auth })).status).toBe(400);
    const byKey = (await (await fetch(`${dash.url}api/dlq?key=customer-1`, { headers: auth })).json()) as {
      matched: number;
      entries: { id: string }[];
    };
    expect(byKey.entries.map((e) => e.id)).toEqual(['dead-1', 'dead-3']);
    expect(await backend.dlq.count()).toBe(5);
  });
});

async function fits(page: Page, selector: string): Promise<{ inner: number; card: number }> {
  return page.locator(selector).evaluate((t) => ({
    inner: t.getBoundingClientRect().right,
    card: t.closest('.card')?.getBoundingClientRect().right ?? 0,
  }));
}

describe('key-centred dashboard in headless chromium', () => {
  it.runIf(existsSync(CHROMIUM))(
    'shows the parked and breaker-held keys, hot keys and lag trends; filters the DLQ by key and replays them all',
    async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${dash.url}?token=${dash.token}`);

      const slow = page.locator('#keys-table tr[data-key="tenant-slow"]');
      await slow.waitFor();
      expect(await slow.textContent()).toMatch(/pipelines|billing/);
      expect(await slow.locator('.pill').textContent()).toBe('parked');
      expect(await slow.textContent()).toContain('rate limited');
      // Its two later events wait behind it.
      expect(await slow.locator('td').nth(7).textContent()).toBe('2');
      const held = page.locator('#keys-table tr[data-key="warehouse-9"]');
      await expect.poll(() => held.textContent()).toContain('circuit breaker open');
      expect(await held.locator('.pill').textContent()).toBe('parked');
      expect(await page.locator('#breakers').textContent()).toMatch(/carrier-api\s*open/);
      expect(await page.locator('#hot').textContent()).toContain('tenant-slow');
      expect(await page.locator('#k-delayed').textContent()).toBe('7');
      expect(await page.locator('#kpi-delayed').isVisible()).toBe(true);
      expect(await page.locator('#k-schedules').textContent()).toBe('2');
      // Lag per partition over time: sparklines once a few samples were taken.
      await expect.poll(() => page.locator('#partitions svg.spark').count(), { timeout: 10_000 }).toBe(4);

      await page.locator('#dlq-key').fill('customer-9');
      await page.locator('#dlq-filter button[type="submit"]').click();
      await expect.poll(() => page.locator('#dlq-table tr[data-id]').count()).toBe(3);
      expect(await page.locator('#dlq-count').textContent()).toBe('3 with key customer-9 (of 5)');
      mkdirSync('test-results', { recursive: true });
      for (const width of [1400, 800]) {
        await page.setViewportSize({ width, height: 1000 });
        await page.waitForTimeout(350);
        for (const table of ['#keys-table', '#dlq-table', '#hot-table']) {
          const f = await fits(page, table);
          expect(f.inner, `${table} at ${width}px`).toBeLessThanOrEqual(f.card + 0.5);
        }
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - window.innerWidth',
        );
        expect(overflow, `page width at ${width}px`).toBeLessThanOrEqual(0);
        await page.screenshot({ path: `test-results/dashboard-keys-${width}.png`, fullPage: true });
      }
      await page.setViewportSize({ width: 1400, height: 1000 });

      const before = await Promise.all([0, 1, 2, 3].map((p) => backend.endOffset('invoices', p)));
      await page.locator('#bulk-replay').click();
      await expect
        .poll(() => page.locator('#bulk-result').textContent())
        .toBe('replayed 3 with key customer-9');
      await expect
        .poll(() => page.locator('#dlq').textContent())
        .toContain('No dead letter with key customer-9.');
      expect((await backend.dlq.list()).map((d) => d.id)).toEqual(['dead-1', 'dead-3']);
      const replayed = (
        await Promise.all([0, 1, 2, 3].map((p) => backend.read('invoices', p, before[p] ?? 0, 10)))
      ).flat();
      expect(replayed.map((e) => e.headers?.['sluice-dlq-id']).sort()).toEqual([
        'dead-0',
        'dead-2',
        'dead-4',
      ]);
      expect(replayed.every((e) => e.key === 'customer-9')).toBe(true);
      expect(errors, errors.join('\n')).toEqual([]);
    },
  );
});
