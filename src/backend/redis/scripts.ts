// The Lua scripts of the Redis backend, registered on a client (one server or a cluster) with defineCommand.
import type { Cluster, Redis } from 'ioredis';
import { READ_MANY } from './lua/batchScripts.ts';
import { ASSIGNMENT_PUBLISH, COMMIT_MANY } from './lua/coordScripts.ts';
import { DLQ_GET, DLQ_PUT, DLQ_REPLAY, DLQ_SCAN } from './lua/dlqScripts.ts';
import { LEASE_ACQUIRE_MANY, LEASE_READ, LEASE_RELEASE_MANY, LEASE_RENEW_MANY } from './lua/leaseScripts.ts';
import {
  LIMIT_ACQUIRE_SLOT,
  LIMIT_HELD_SLOTS,
  LIMIT_PARK,
  LIMIT_RELEASE_SLOT,
  LIMIT_RENEW_SLOT,
  LIMIT_TAKE,
} from './lua/limitScripts.ts';
import { APPEND, COMMIT, END_OFFSET, ENSURE_TOPIC, READ } from './lua/logScripts.ts';
import { HEARTBEAT, LEAVE, MEMBERS } from './lua/membershipScripts.ts';
import { TRIM_MARKERS, TRIM_PARTITION } from './lua/retentionScripts.ts';
import {
  DELAYED_ADD,
  DELAYED_DUE,
  DELAYED_REMOVE,
  SCHEDULE_PUT,
  SCHEDULE_REMOVE,
  SCHEDULE_SET,
} from './lua/timeScripts.ts';

/** Every Lua script of the backend, by the command name it is registered under. */
export const SCRIPTS = {
  sluiceEnsureTopic: ENSURE_TOPIC,
  sluiceAppend: APPEND,
  sluiceRead: READ,
  sluiceReadMany: READ_MANY,
  sluiceEndOffset: END_OFFSET,
  sluiceCommit: COMMIT,
  sluiceCommitMany: COMMIT_MANY,
  sluiceAssignmentPublish: ASSIGNMENT_PUBLISH,
  sluiceLeaseAcquireMany: LEASE_ACQUIRE_MANY,
  sluiceLeaseRenewMany: LEASE_RENEW_MANY,
  sluiceLeaseReleaseMany: LEASE_RELEASE_MANY,
  sluiceLeaseRead: LEASE_READ,
  sluiceHeartbeat: HEARTBEAT,
  sluiceMembers: MEMBERS,
  sluiceLeave: LEAVE,
  sluiceDlqPut: DLQ_PUT,
  sluiceDlqGet: DLQ_GET,
  sluiceDlqScan: DLQ_SCAN,
  sluiceDlqReplay: DLQ_REPLAY,
  sluiceTrimPartition: TRIM_PARTITION,
  sluiceTrimMarkers: TRIM_MARKERS,
  sluiceLimitTake: LIMIT_TAKE,
  sluiceLimitPark: LIMIT_PARK,
  sluiceLimitAcquireSlot: LIMIT_ACQUIRE_SLOT,
  sluiceLimitRenewSlot: LIMIT_RENEW_SLOT,
  sluiceLimitReleaseSlot: LIMIT_RELEASE_SLOT,
  sluiceLimitHeldSlots: LIMIT_HELD_SLOTS,
  sluiceDelayedAdd: DELAYED_ADD,
  sluiceDelayedDue: DELAYED_DUE,
  sluiceDelayedRemove: DELAYED_REMOVE,
  sluiceSchedulePut: SCHEDULE_PUT,
  sluiceScheduleSet: SCHEDULE_SET,
  sluiceScheduleRemove: SCHEDULE_REMOVE,
} as const;

/** The name of a registered script. */
export type ScriptName = keyof typeof SCRIPTS;

/** An argument of a script call. */
export type ScriptArg = string | number | Buffer;

/**
 * Registers every script on a client with `defineCommand`. ioredis sends `EVALSHA` and falls
 * back to `EVAL` on `NOSCRIPT` (after a `SCRIPT FLUSH` or a server restart), so scripts never
 * need loading by hand.
 */
export function defineScripts(client: Redis | Cluster): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
}

/** Calls a script registered by {@link defineScripts}. */
export function callScript(
  client: Redis | Cluster,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  const fn = (client as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[name];
  if (fn === undefined) throw new Error(`Redis script ${name} is not registered`);
  return fn.call(client, keys.length, ...keys, ...args);
}
