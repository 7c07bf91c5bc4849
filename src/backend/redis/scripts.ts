import type { Redis } from 'ioredis';
import { DLQ_GET, DLQ_PUT, DLQ_REPLAY, DLQ_SCAN } from './lua/dlqScripts.ts';
import { LEASE_ACQUIRE, LEASE_RELEASE, LEASE_RENEW } from './lua/leaseScripts.ts';
import { APPEND, COMMIT, END_OFFSET, ENSURE_TOPIC, READ } from './lua/logScripts.ts';
import { HEARTBEAT, LEAVE, MEMBERS } from './lua/membershipScripts.ts';

/** Every Lua script of the backend, by the command name it is registered under. */
export const SCRIPTS = {
  sluiceEnsureTopic: ENSURE_TOPIC,
  sluiceAppend: APPEND,
  sluiceRead: READ,
  sluiceEndOffset: END_OFFSET,
  sluiceCommit: COMMIT,
  sluiceLeaseAcquire: LEASE_ACQUIRE,
  sluiceLeaseRenew: LEASE_RENEW,
  sluiceLeaseRelease: LEASE_RELEASE,
  sluiceHeartbeat: HEARTBEAT,
  sluiceMembers: MEMBERS,
  sluiceLeave: LEAVE,
  sluiceDlqPut: DLQ_PUT,
  sluiceDlqGet: DLQ_GET,
  sluiceDlqScan: DLQ_SCAN,
  sluiceDlqReplay: DLQ_REPLAY,
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
export function defineScripts(client: Redis): void {
  for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
}

/** Calls a script registered by {@link defineScripts}. */
export function callScript(
  client: Redis,
  name: ScriptName,
  keys: readonly string[],
  args: readonly ScriptArg[],
): Promise<unknown> {
  const fn = (client as unknown as Record<string, (...a: ScriptArg[]) => Promise<unknown>>)[name];
  if (fn === undefined) throw new Error(`Redis script ${name} is not registered`);
  return fn.call(client, keys.length, ...keys, ...args);
}
