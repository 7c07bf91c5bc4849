// Fleet presence: a serving RunnerFleet heartbeats a membership entry, so `sluice scale --wait` knows one acts on its count.
import type { Backend, Member } from '../../backend/Backend.ts';

/** A serving fleet counts as present while its last heartbeat is this recent (it beats every poll). */
export const FLEET_PRESENCE_TIMEOUT_MS = 10_000;

/** Membership prefix of the serving fleets of `fleet` (`sluice-fleet/<group>/<topic>/`). */
export function fleetMemberPrefix(fleet: string): string {
  return `sluice-fleet/${fleet}/`;
}

/** What a serving fleet publishes in its membership meta. */
export interface FleetPresenceMeta {
  readonly fleet: string;
  readonly desired: number;
  readonly running: number;
  readonly host: string;
  readonly pid: number;
}

/**
 * The fleets serving `fleet` now (`RunnerFleet.start`, `sluice scale --serve`): members of
 * {@link fleetMemberPrefix} heartbeating within `withinMs`. Empty means nobody acts on a desired
 * count recorded for that fleet.
 *
 * @example
 * ```ts
 * if ((await servingFleets(backend, 'billing/payments')).length === 0) console.warn('no fleet serves it');
 * ```
 */
export async function servingFleets(
  backend: Backend,
  fleet: string,
  withinMs: number = FLEET_PRESENCE_TIMEOUT_MS,
): Promise<Member[]> {
  const prefix = fleetMemberPrefix(fleet);
  return (await backend.membership.members(withinMs)).filter((m) => m.node.startsWith(prefix));
}
