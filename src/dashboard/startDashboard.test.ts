// Unit tests of the dashboard server: options, replay rules, security headers on every response.
import { describe, expect, it } from 'vitest';
import { createMemoryBackend } from '../backend/memory/index.ts';
import { parsePartitionLease } from './collectStatus.ts';
import { startDashboard } from './startDashboard.ts';

describe('parsePartitionLease', () => {
  it('splits <group>/<topic>/<partition>, groups may contain slashes', () => {
    expect(parsePartitionLease('billing/orders/3')).toEqual({
      group: 'billing',
      topic: 'orders',
      partition: 3,
    });
    expect(parsePartitionLease('team/a/orders/0')).toEqual({
      group: 'team/a',
      topic: 'orders',
      partition: 0,
    });
    for (const n of ['scheduler', 'a/b', 'a/b/x', '/orders/1', 'g//1'])
      expect(parsePartitionLease(n)).toBeUndefined();
  });
});

describe('startDashboard', () => {
  it('validates its options', async () => {
    const backend = createMemoryBackend();
    await expect(startDashboard({ backend, port: 70000 })).rejects.toThrow(/Expected `dashboard.port`/);
    await expect(startDashboard({ backend, token: 'short' })).rejects.toThrow(/Expected `dashboard.token`/);
    await expect(startDashboard({ backend: {} as never })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('replays an entry without a topic only with ?toTopic=, and closes idempotently', async () => {
    const backend = createMemoryBackend();
    await backend.ensureTopic('retry', { partitions: 1 });
    await backend.dlq.put({
      id: 'loose',
      source: 'batch',
      payload: { x: 1 },
      error: { name: 'Error', message: 'e' },
      attempts: 1,
    });
    const dash = await startDashboard({ backend, token: 'a-long-enough-token' });
    const auth = { authorization: 'Bearer a-long-enough-token' };
    try {
      expect(dash.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const conflict = await fetch(`${dash.url}api/dlq/loose/replay`, { method: 'POST', headers: auth });
      expect(conflict.status).toBe(409);
      const ok = await fetch(`${dash.url}api/dlq/loose/replay?toTopic=retry`, {
        method: 'POST',
        headers: auth,
      });
      expect(await ok.json()).toEqual({ replayed: ['loose'] });
      expect((await backend.read('retry', 0, 0, 10)).map((e) => e.payload)).toEqual([{ x: 1 }]);
      expect((await fetch(`${dash.url}nope`, { headers: auth })).status).toBe(404);
    } finally {
      await dash.close();
      await dash.close();
    }
    await expect(fetch(`${dash.url}api/status`, { headers: auth })).rejects.toThrow();
  });

  it('sends security headers on every response and a nonce CSP without unsafe-inline on the page', async () => {
    const backend = createMemoryBackend();
    const dash = await startDashboard({ backend, token: 'a-long-enough-token' });
    const auth = { authorization: 'Bearer a-long-enough-token' };
    try {
      const responses = {
        page: await fetch(dash.url, { headers: auth }),
        status: await fetch(`${dash.url}api/status`, { headers: auth }),
        dlq: await fetch(`${dash.url}api/dlq`, { headers: auth }),
        metrics: await fetch(`${dash.url}metrics`, { headers: auth }),
        notFound: await fetch(`${dash.url}nope`, { headers: auth }),
        unauthorized: await fetch(`${dash.url}api/status`),
        login: await fetch(`${dash.url}?token=a-long-enough-token`, { redirect: 'manual' }),
      };
      expect(responses.unauthorized.status).toBe(401);
      expect(responses.login.status).toBe(303);
      for (const [name, res] of Object.entries(responses)) {
        const h = res.headers;
        expect(h.get('x-content-type-options'), name).toBe('nosniff');
        expect(h.get('referrer-policy'), name).toBe('no-referrer');
        const csp = h.get('content-security-policy') ?? '';
        expect(csp, name).toContain("frame-ancestors 'none'");
        expect(csp, name).not.toContain('unsafe-inline');
      }
      const csp = responses.page.headers.get('content-security-policy') ?? '';
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      expect(csp).toContain(`style-src 'nonce-${nonce}'`);
      const html = await responses.page.text();
      expect(html).toContain(`<script nonce="${nonce}">`);
      expect(html).toContain(`<style nonce="${nonce}">`);
      expect(html).not.toMatch(/\sstyle="/); // inline style attributes would be blocked by the CSP
      const again = await fetch(dash.url, { headers: auth });
      expect(again.headers.get('content-security-policy')).not.toContain(nonce); // a nonce per response
    } finally {
      await dash.close();
    }
  });
});
