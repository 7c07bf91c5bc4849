// End-to-end dashboard tests on SQLite: token auth of the HTTP API, and the page in headless chromium.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/Backend.ts';
import { createSqliteBackend } from '../../src/backend/sqlite/index.ts';
import {
  breakerSource,
  type Dashboard,
  type StatusSource,
  startDashboard,
} from '../../src/dashboard/index.ts';
import { CircuitBreaker } from '../../src/resilience/CircuitBreaker.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let dir: string;
let backend: Backend;
let dash: Dashboard;
let browser: Browser | undefined;

const tree: StatusSource = {
  name: 'root',
  supervision: () => ({
    id: 'root',
    kind: 'supervisor',
    status: 'running',
    restarts: 1,
    strategy: 'one_for_one',
    children: [
      { id: 'ingest', kind: 'async', status: 'running', restarts: 0 },
      { id: 'billing', kind: 'worker', status: 'restarting', restarts: 1 },
    ],
  }),
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-dash-'));
  backend = createSqliteBackend({ path: join(dir, 'sluice.db') });
  await backend.ensureTopic('orders', { partitions: 4 });
  await backend.append(
    'orders',
    Array.from({ length: 40 }, (_, i) => ({ payload: { order: i }, key: `customer-${i % 7}` })),
  );
  for (let p = 0; p < 4; p++) await backend.commit('billing', 'orders', p, p * 2);
  await backend.leases.acquire('billing/orders/0', 'node-a', 600_000);
  await backend.leases.acquire('billing/orders/1', 'node-b', 600_000);
  await backend.membership.heartbeat('node-a', {});
  await backend.membership.heartbeat('node-b', {});
  for (let i = 0; i < 3; i++)
    await backend.dlq.put({
      id: `dead-${i}`,
      source: 'billing',
      topic: 'orders',
      partition: i,
      offset: i,
      key: `customer-${i}`,
      payload: { order: 100 + i },
      error: { name: 'Error', message: `card declined #${i}`, code: 'PAYMENT_FAILED' },
      attempts: 3,
    });
  const breaker = new CircuitBreaker({ name: 'payments', failureThreshold: 1 });
  await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
  dash = await startDashboard({
    backend,
    port: 0,
    refreshMs: 500,
    sources: [tree, breakerSource('resilience', { payments: breaker, inventory: new CircuitBreaker() })],
  });
});

afterAll(async () => {
  await browser?.close();
  await dash?.close();
  await backend?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('dashboard HTTP API', () => {
  it('answers 401 without the token, whatever the path', async () => {
    for (const path of ['', 'api/status', 'api/dlq', 'metrics']) {
      const res = await fetch(`${dash.url}${path}`);
      expect(res.status).toBe(401);
    }
    const wrong = await fetch(`${dash.url}api/status`, {
      headers: { authorization: 'Bearer nope-nope-nope' },
    });
    expect(wrong.status).toBe(401);
    const post = await fetch(`${dash.url}api/dlq/dead-0/replay`, { method: 'POST' });
    expect(post.status).toBe(401);
    expect(await backend.dlq.count()).toBe(3);
  });

  it('serves status, DLQ and metrics to a bearer token, and trades ?token= for a cookie', async () => {
    const auth = { authorization: `Bearer ${dash.token}` };
    const status = (await (await fetch(`${dash.url}api/status`, { headers: auth })).json()) as {
      groups: { group: string; lagTotal: number }[];
      supervision: { id: string }[];
      breakers: { name: string; state: string }[];
    };
    expect(status.groups).toEqual([
      expect.objectContaining({ group: 'billing', lagTotal: 40 - (0 + 2 + 4 + 6) }),
    ]);
    expect(status.supervision.map((s) => s.id)).toEqual(['root']);
    expect(status.breakers.map((b) => [b.name, b.state])).toEqual([
      ['payments', 'open'],
      ['inventory', 'closed'],
    ]);
    const dlq = (await (await fetch(`${dash.url}api/dlq`, { headers: auth })).json()) as { total: number };
    expect(dlq.total).toBe(3);
    const metrics = await (await fetch(`${dash.url}metrics`, { headers: auth })).text();
    expect(metrics).toMatch(/sluice_dlq_size\{backend="sqlite"\} 3/);
    const first = await fetch(`${dash.url}?token=${dash.token}`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(cookie).toMatch(/^sluice_token=/);
    expect((await fetch(`${dash.url}api/status`, { headers: { cookie } })).status).toBe(200);
    // A cookie alone cannot trigger an action (cross-site form posts).
    const csrf = await fetch(`${dash.url}api/dlq/dead-0/replay`, { method: 'POST', headers: { cookie } });
    expect(csrf.status).toBe(403);
    const missing = await fetch(`${dash.url}api/dlq/nope/replay`, { method: 'POST', headers: auth });
    expect(missing.status).toBe(404);
    expect(await backend.dlq.count()).toBe(3);
  });
});

describe('dashboard in headless chromium', () => {
  it('finds Debian chromium (never skipped: `.ci/packages` installs it)', () => {
    expect(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run \`bash .ci/packages\` (apt-get install chromium)`,
    ).toBe(true);
  });

  it.runIf(existsSync(CHROMIUM))(
    'shows partitions, tree and breakers, and replays a dead letter from its row',
    async () => {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
      const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      // A CSP violation (an inline style or script without the nonce) shows up as a console error.
      page.on('console', (m) => {
        if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text()))
          errors.push(m.text());
      });

      const denied = await page.goto(dash.url);
      expect(denied?.status()).toBe(401);

      await page.goto(`${dash.url}?token=${dash.token}`);
      expect(new URL(page.url()).searchParams.has('token')).toBe(false);
      await page.locator('#dlq-table tr[data-id="dead-1"]').waitFor();
      await expect.poll(() => page.locator('#k-dlq').textContent()).toBe('3');
      expect(await page.locator('#partitions').textContent()).toContain('node-a');
      expect(await page.locator('#tree').textContent()).toContain('billing');
      expect(await page.locator('#breakers').textContent()).toMatch(/payments\s*open/);

      const before = await Promise.all([0, 1, 2, 3].map((p) => backend.endOffset('orders', p)));
      await page.locator('button[data-replay="dead-1"]').click();
      await page.locator('#dlq-table tr[data-id="dead-1"]').waitFor({ state: 'detached' });
      expect(await page.locator('#dlq-table tr[data-id]').count()).toBe(2);
      expect(await backend.dlq.get('dead-1')).toBeUndefined();
      // The event is back in its topic (partition of its key), marked with its DLQ id.
      const events = (
        await Promise.all([0, 1, 2, 3].map((p) => backend.read('orders', p, before[p] ?? 0, 10)))
      ).flat();
      expect(events.map((e) => [e.payload, e.key, e.headers?.['sluice-dlq-id']])).toEqual([
        [{ order: 101 }, 'customer-1', 'dead-1'],
      ]);
      await expect.poll(() => page.locator('#k-dlq').textContent()).toBe('2');

      // Let the chart gather a few samples with new appends.
      await backend.append(
        'orders',
        Array.from({ length: 30 }, (_, i) => ({ payload: { order: 200 + i } })),
      );
      await page.waitForTimeout(1600);
      expect(await page.locator('#chart polyline').count()).toBe(3);
      mkdirSync('test-results', { recursive: true });
      await page.screenshot({ path: 'test-results/dashboard.png', fullPage: true });
      // Progress bars get their width through the CSSOM (no inline style attributes).
      expect(
        await page
          .locator('.bar span[data-pct]')
          .first()
          .evaluate((e) => e.style.width),
      ).toMatch(/%$/);
      // The DLQ table fits its card at a wide and a narrow window.
      for (const width of [1400, 800]) {
        await page.setViewportSize({ width, height: 1000 });
        await page.waitForTimeout(100);
        const fit = await page.locator('#dlq-table').evaluate((t) => {
          const card = t.closest('.card');
          return { table: t.getBoundingClientRect().right, card: card?.getBoundingClientRect().right ?? 0 };
        });
        expect(fit.table, `DLQ table at ${width}px`).toBeLessThanOrEqual(fit.card);
        await page.screenshot({ path: `test-results/dashboard-${width}.png`, fullPage: true });
      }
      expect(errors).toEqual([]);
    },
  );
});
