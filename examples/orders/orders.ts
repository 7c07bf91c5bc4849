// The demo order pipeline: validate, check inventory, ship; ordered per customer, failures to the dead-letter queue.
/**
 * The order-processing pipeline: validate → check inventory → ship, one customer's orders in
 * order, different customers in parallel, failures to a dead-letter queue.
 *
 * Run it with `npx sluice demo`.
 */
import { DeadLetterQueue, type PipelineReport, stream, UnrecoverableError } from 'sluice';

/** An order line. */
export interface OrderLine {
  sku: string;
  qty: number;
}

/** An incoming order. */
export interface Order {
  id: string;
  customerId: string;
  lines: OrderLine[];
}

/** A shipment created for an order. */
export interface Shipment {
  orderId: string;
  customerId: string;
  trackingNumber: string;
}

/**
 * Deterministic orders: `customers` customers, every 97th order has no lines (invalid) and
 * every 211th asks for a discontinued SKU (rejected by inventory).
 */
export function* generateOrders(count: number, customers = 100): Generator<Order> {
  for (let i = 0; i < count; i++) {
    const lines: OrderLine[] =
      i % 97 === 96 ? [] : [{ sku: i % 211 === 210 ? 'DISCONTINUED' : `sku-${i % 13}`, qty: 1 + (i % 3) }];
    yield { id: `order-${i}`, customerId: `customer-${i % customers}`, lines };
  }
}

/** Rejects orders that cannot be processed, without retries. */
export function validate(order: Order): Order {
  if (order.lines.length === 0) throw new UnrecoverableError(`order ${order.id} has no lines`);
  for (const line of order.lines) {
    if (!Number.isInteger(line.qty) || line.qty < 1) {
      throw new UnrecoverableError(`order ${order.id} has a bad quantity for ${line.sku}`);
    }
  }
  return order;
}

/** FNV-1a hash of a string: a deterministic stand-in for chance. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * An inventory service that is briefly unavailable now and then (a retry succeeds). Which
 * orders see the 503 depends only on the seed and the order id — not on which worker ran first —
 * so every run with the same seed gives the same counts.
 */
export class Inventory {
  constructor(private readonly seed = 1) {}

  async reserve(order: Order, attempt = 1): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (order.lines.some((l) => l.sku === 'DISCONTINUED')) {
      throw new UnrecoverableError(`order ${order.id}: SKU discontinued`);
    }
    if (attempt === 1 && fnv1a(`${this.seed}:${order.id}`) % 50 === 0) {
      throw new Error('inventory service unavailable (503)');
    }
  }
}

/** A shipping service that creates each shipment once per idempotency key. */
export class Shipping {
  readonly shipments: Shipment[] = [];
  private readonly byKey = new Map<string, Shipment>();

  async ship(order: Order, idempotencyKey: string): Promise<Shipment> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const existing = this.byKey.get(idempotencyKey);
    if (existing) return existing;
    const shipment = {
      orderId: order.id,
      customerId: order.customerId,
      trackingNumber: `TRK-${idempotencyKey}`,
    };
    this.byKey.set(idempotencyKey, shipment);
    this.shipments.push(shipment);
    return shipment;
  }
}

/** What {@link runOrderPipeline} returns. */
export interface OrderRun {
  report: PipelineReport;
  /** Shipments in input order. */
  shipped: Shipment[];
  /** Shipments in the order they were created. */
  shipmentLog: Shipment[];
  dlq: DeadLetterQueue<Order>;
}

/** Runs the pipeline over `orders`; the same `seed` (default 1) gives the same report counts. */
export async function runOrderPipeline(
  orders: Iterable<Order> | AsyncIterable<Order>,
  options: { maxWorkers?: number; signal?: AbortSignal; seed?: number } = {},
): Promise<OrderRun> {
  const inventory = new Inventory(options.seed);
  const shipping = new Shipping();
  const dlq = new DeadLetterQueue<Order>({ source: 'orders' });

  const { results, report } = await stream(orders)
    .name('orders')
    .partitionBy((order) => order.customerId)
    .concurrent({
      maxWorkers: options.maxWorkers ?? 8,
      concurrencyPerWorker: 4,
      retry: { attempts: 3, backoff: { initial: '10ms', max: '100ms', multiplier: 2 } },
    })
    .process(async (order, ctx) => {
      validate(order);
      await inventory.reserve(order, ctx.attempt);
      return shipping.ship(order, ctx.idempotencyKey);
    })
    .onError((error, order, info) => dlq.push(order, error, info))
    .collect(options.signal ? { signal: options.signal } : {});

  return { report, shipped: results, shipmentLog: shipping.shipments, dlq };
}
