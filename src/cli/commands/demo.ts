// `sluice demo`: runs the example order pipeline on generated orders and prints what happened.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { configError } from '../../core/errors.ts';
import type { DeadLetterQueue } from '../../dlq/DeadLetterQueue.ts';
import type { PipelineReport } from '../../pipeline/types.ts';
import { loadUserModule } from '../loadModule.ts';
import { newTable } from '../tableStyle.ts';

interface Shipment {
  orderId: string;
  customerId: string;
}

/** The shape of `examples/orders/orders.ts` that the demo uses. */
interface OrderExample {
  generateOrders(count: number, customers: number): Iterable<unknown>;
  runOrderPipeline(
    orders: Iterable<unknown>,
    options: { maxWorkers: number; seed: number },
  ): Promise<{
    report: PipelineReport;
    shipped: Shipment[];
    shipmentLog: Shipment[];
    dlq: DeadLetterQueue<{ id: string }>;
  }>;
}

/** Finds the package root (the folder holding `examples/`) from this file's location. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'examples', 'orders', 'orders.ts'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('examples/orders/orders.ts not found next to the sluice package');
}

/** `sluice demo`: runs the order-processing example embedded (no server needed). */
export function register(program: Command): void {
  program
    .command('demo')
    .description(
      'Run the order-processing example pipeline embedded: validate → inventory → shipping, errors to a DLQ',
    )
    .option('-n, --orders <n>', 'number of orders', '20000')
    .option('-w, --workers <n>', 'number of workers', '8')
    .option('--seed <n>', 'seed of the simulated inventory outages (same seed, same counts)', '1')
    .action(async (opts: { orders: string; workers: string; seed: string }) => {
      const seed = Number(opts.seed);
      if (!Number.isSafeInteger(seed)) throw configError('--seed', 'an integer', opts.seed);
      const count = Number(opts.orders);
      const workers = Number(opts.workers);
      if (!Number.isInteger(count) || count < 1)
        throw configError('--orders', 'an integer >= 1', opts.orders);
      if (!Number.isInteger(workers) || workers < 1)
        throw configError('--workers', 'an integer >= 1', opts.workers);
      const example = (await loadUserModule(
        join(packageRoot(), 'examples', 'orders', 'orders.ts'),
      )) as unknown as OrderExample;
      const { report, shipped, shipmentLog, dlq } = await example.runOrderPipeline(
        example.generateOrders(count, 100),
        { maxWorkers: workers, seed },
      );
      const perCustomer = new Map<string, string[]>();
      for (const s of shipmentLog)
        perCustomer.set(s.customerId, [...(perCustomer.get(s.customerId) ?? []), s.orderId]);
      const expected = new Map<string, string[]>();
      for (const s of shipped) expected.set(s.customerId, [...(expected.get(s.customerId) ?? []), s.orderId]);
      const inOrder = [...expected].every(
        ([c, ids]) => JSON.stringify(perCustomer.get(c)) === JSON.stringify(ids),
      );

      const table = newTable([
        'total',
        'shipped',
        'dead-lettered',
        'retries',
        'workers',
        'duration',
        'orders/s',
      ]);
      table.push([
        report.total,
        report.ok,
        report.failed,
        report.retries,
        report.maxWorkers,
        `${report.durationMs} ms`,
        report.itemsPerSecond,
      ]);
      process.stdout.write(`Order pipeline: validate → check inventory → ship (partitioned by customer)\n`);
      process.stdout.write(`${table.toString()}\n`);
      process.stdout.write(`Per-customer order preserved: ${inOrder ? 'yes' : 'NO'}\n`);
      const letters = await dlq.list({ limit: 5 });
      if (letters.length > 0) {
        process.stdout.write(`Dead-letter queue (${await dlq.count()} entries, first ${letters.length}):\n`);
        for (const l of letters) process.stdout.write(`  ${l.id}  ${l.payload.id}  ${l.error.message}\n`);
      }
      await dlq.close();
      if (!inOrder) process.exitCode = 1;
    });
}
