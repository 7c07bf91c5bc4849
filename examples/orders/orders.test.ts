import { describe, expect, it } from 'vitest';
import { generateOrders, runOrderPipeline } from './orders.ts';

describe('order pipeline example', () => {
  it('ships valid orders once, in order per customer, and dead-letters the rest', async () => {
    const input = [...generateOrders(2000, 50)];
    const { report, shipped, shipmentLog, dlq } = await runOrderPipeline(input, { maxWorkers: 4 });

    const invalid = input.filter(
      (o) => o.lines.length === 0 || o.lines.some((l) => l.sku === 'DISCONTINUED'),
    );
    expect(invalid.length).toBeGreaterThan(0);
    expect(report.total).toBe(2000);
    expect(report.failed).toBe(invalid.length);
    expect(report.ok).toBe(2000 - invalid.length);
    expect(report.retries).toBeGreaterThan(0); // the inventory's 503s were retried

    // Each valid order shipped exactly once; the results are in input order.
    const expectedIds = input.filter((o) => !invalid.includes(o)).map((o) => o.id);
    expect(shipped.map((s) => s.orderId)).toEqual(expectedIds);
    expect(new Set(shipped.map((s) => s.trackingNumber)).size).toBe(shipped.length);

    // Processing order per customer equals input order per customer.
    const byCustomer = (ids: Array<{ customerId: string; orderId: string }>) => {
      const m = new Map<string, string[]>();
      for (const s of ids) m.set(s.customerId, [...(m.get(s.customerId) ?? []), s.orderId]);
      return m;
    };
    expect(byCustomer(shipmentLog)).toEqual(byCustomer(shipped));
    expect(shipmentLog.map((s) => s.orderId)).not.toEqual(shipped.map((s) => s.orderId)); // customers interleaved

    // Every failure is in the DLQ with its error, and nothing else is.
    const letters = await dlq.list();
    expect(letters.map((l) => l.payload.id).sort()).toEqual(invalid.map((o) => o.id).sort());
    expect(letters.every((l) => l.attempts === 1 && l.error.code === 'UNRECOVERABLE')).toBe(true);
  });
});
