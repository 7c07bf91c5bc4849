// The partitionedRunner tests' fixture: a memory backend on a ManualClock, a topic of numbered events, runners stopped after each test.
import type { Backend, LogEvent } from '../../src/backend/Backend.ts';
import { createMemoryBackend } from '../../src/backend/memory/index.ts';
import { type PartitionedRunner, partitionedRunner } from '../../src/cluster/runner/PartitionedRunner.ts';
import type { PartitionedRunnerOptions } from '../../src/cluster/runner/runnerOptions.ts';
import { ManualClock } from '../../src/core/ManualClock.ts';

/** The topic the runners consume. */
export const TOPIC = 'orders';
/** The consumer group of the runners. */
export const GROUP = 'billing';

/** The clock of the current test (see {@link freshBackend}). */
export let clock: ManualClock;
/** The backend of the current test (see {@link freshBackend}). */
export let backend: Backend;
/** Runners made by the current test, stopped by {@link stopRunners}. */
export const runners: PartitionedRunner[] = [];

/** A new clock at `now` and a new memory backend on it, without any topic. */
export function freshBackend(now: number): void {
  clock = new ManualClock(now);
  backend = createMemoryBackend({ clock });
}

/** A fresh backend whose topic has `partitions` partitions of `perPartition` events each (payloads 0, 1, ...). */
export async function setup(partitions: number, perPartition: number): Promise<void> {
  freshBackend(1_000_000);
  await backend.ensureTopic(TOPIC, { partitions });
  for (let p = 0; p < partitions; p++) {
    await backend.append(
      TOPIC,
      Array.from({ length: perPartition }, (_, i) => ({ id: `p${p}-${i}`, partition: p, payload: i })),
    );
  }
}

/** A runner of the group named `nodeName` (fast heartbeat and failure timeout), stopped after the test. */
export function runner(
  nodeName: string,
  handler: (e: LogEvent, node: string) => unknown,
  extra: Partial<PartitionedRunnerOptions> = {},
): PartitionedRunner {
  const r = partitionedRunner({
    backend,
    group: GROUP,
    topic: TOPIC,
    nodeName,
    heartbeat: 100,
    failureTimeout: 500,
    batchSize: 10,
    pollInterval: 20,
    clock,
    handler: (e) => handler(e, nodeName),
    ...extra,
  });
  runners.push(r);
  return r;
}

/** Advances the manual clock in steps until `cond` holds. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  stepMs = 20,
  maxMs = 60_000,
): Promise<void> {
  for (let t = 0; t <= maxMs; t += stepMs) {
    if (await cond()) return;
    await clock.advance(stepMs);
  }
  throw new Error('condition not reached');
}

/** The committed offsets of partitions `0 .. partitions - 1`. */
export async function committedAll(partitions: number): Promise<number[]> {
  const out: number[] = [];
  for (let p = 0; p < partitions; p++) out.push(await backend.committed(GROUP, TOPIC, p));
  return out;
}

/** Stops the runners of the test (for `afterEach`), running the clock until they have. */
export async function stopRunners(): Promise<void> {
  const stops = runners.splice(0).map((r) => r.stop());
  await clock.runUntil(Promise.all(stops)).catch(() => {});
}
