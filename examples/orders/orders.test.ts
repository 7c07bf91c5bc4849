// Test of the orders example: 2000 generated orders shipped once, in order per customer, failures in the DLQ.
import { describe, expect, it } from 'vitest';
import { generateOrders, Inventory, runOrderPipeline } from './orders.ts';

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

  it('gives the same counts on every run with the same seed, whatever the scheduling', async () => {
    const counts = async (workers: number, seed?: number) => {
      const { report } = await runOrderPipeline(generateOrders(3000, 40), {
        maxWorkers: workers,
        ...(seed === undefined ? {} : { seed }),
      });
      return [report.ok, report.failed, report.retries];
    };
    const first = await counts(8);
    expect(first[2]).toBeGreaterThan(0);
    expect(await counts(3)).toEqual(first);
    expect(await counts(8)).toEqual(first);
    expect(await counts(8, 7)).not.toEqual(first);
  });

  it('the inventory fails the same orders whatever order the calls come in', async () => {
    const orders = [...generateOrders(500, 10)].filter((o) => o.lines.length > 0);
    const failing = async (list: typeof orders) => {
      const inventory = new Inventory(1);
      const out: string[] = [];
      for (const o of list) await inventory.reserve(o).catch(() => out.push(o.id));
      return out.sort();
    };
    const forward = await failing(orders);
    expect(forward.length).toBeGreaterThan(0);
    expect(await failing([...orders].reverse())).toEqual(forward);
  });
});
