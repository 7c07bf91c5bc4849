// Argument checks of the batched backend calls (readMany, committedMany, commitMany, acquireMany, renewMany).
import { configError } from '../../core/errors.ts';
import type { CommitRequest, Lease, LeaseRequest, ReadRequest } from '../Backend.ts';
import { checkName, checkNonNegativeInt, checkPartition, checkPartitionIndex } from './args.ts';

function checkArray(field: string, v: unknown): readonly unknown[] {
  if (!Array.isArray(v)) throw configError(field, 'an array', v);
  return v;
}

function checkObject(field: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) throw configError(field, 'an object', v);
  return v as Record<string, unknown>;
}

/** Requests of `readMany` on a topic with `partitions` partitions. */
export function checkReadRequests(v: unknown, partitions: number): readonly ReadRequest[] {
  const list = checkArray('requests', v);
  for (let i = 0; i < list.length; i++) {
    const r = checkObject(`requests[${i}]`, list[i]);
    checkPartition(r.partition, partitions, `requests[${i}].partition`);
    checkNonNegativeInt(`requests[${i}].fromOffset`, r.fromOffset);
  }
  return list as readonly ReadRequest[];
}

/** Partitions of `committedMany` (the topic is not checked, as in `committed`). */
export function checkPartitionList(v: unknown): readonly number[] {
  const list = checkArray('partitions', v);
  for (let i = 0; i < list.length; i++) checkPartitionIndex(list[i], `partitions[${i}]`);
  return list as readonly number[];
}

function checkDistinct(field: string, names: readonly string[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (seen.has(n)) throw configError(`${field}[${i}].name`, 'a name not given earlier in the list', n);
    seen.add(n);
  }
}

/** Requests of `acquireMany`: non-empty names and owners, distinct names. */
export function checkLeaseRequests(v: unknown): readonly LeaseRequest[] {
  const list = checkArray('requests', v);
  for (let i = 0; i < list.length; i++) {
    const r = checkObject(`requests[${i}]`, list[i]);
    checkName(`requests[${i}].name`, r.name);
    checkName(`requests[${i}].owner`, r.owner);
  }
  const out = list as readonly LeaseRequest[];
  checkDistinct(
    'requests',
    out.map((r) => r.name),
  );
  return out;
}

/** Leases of `renewMany`: name, owner and integer token each, distinct names. */
export function checkLeaseList(v: unknown): readonly Lease[] {
  const list = checkArray('leases', v);
  for (let i = 0; i < list.length; i++) {
    const l = checkObject(`leases[${i}]`, list[i]);
    checkName(`leases[${i}].name`, l.name);
    checkName(`leases[${i}].owner`, l.owner);
    checkNonNegativeInt(`leases[${i}].fencingToken`, l.fencingToken);
  }
  const out = list as readonly Lease[];
  checkDistinct(
    'leases',
    out.map((l) => l.name),
  );
  return out;
}

/** The `holder` option of `acquireMany`: a lease (name, owner, token) that is not bound itself nor requested. */
export function checkLeaseHolder(v: unknown, requests: readonly LeaseRequest[]): Lease | undefined {
  if (v === undefined) return undefined;
  const l = checkObject('options.holder', v);
  checkName('options.holder.name', l.name);
  checkName('options.holder.owner', l.owner);
  checkNonNegativeInt('options.holder.fencingToken', l.fencingToken);
  if (l.holder !== undefined) throw configError('options.holder', 'a lease that is not bound itself', v);
  if (requests.some((r) => r.name === l.name)) {
    throw configError('options.holder', 'a lease other than the ones requested', l.name);
  }
  return l as unknown as Lease;
}

/** Commits of `commitMany`: partition index, offset and optional fence each, distinct partitions. */
export function checkCommitRequests(v: unknown): readonly CommitRequest[] {
  const list = checkArray('commits', v);
  const seen = new Set<number>();
  for (let i = 0; i < list.length; i++) {
    const c = checkObject(`commits[${i}]`, list[i]);
    const p = checkPartitionIndex(c.partition, `commits[${i}].partition`);
    checkNonNegativeInt(`commits[${i}].offset`, c.offset);
    if (c.fence !== undefined) {
      const f = checkObject(`commits[${i}].fence`, c.fence);
      checkName(`commits[${i}].fence.lease`, f.lease);
      checkNonNegativeInt(`commits[${i}].fence.token`, f.token);
    }
    if (seen.has(p))
      throw configError(`commits[${i}].partition`, 'a partition not given earlier in the list', p);
    seen.add(p);
  }
  return list as readonly CommitRequest[];
}
