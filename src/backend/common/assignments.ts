// What every backend's assignment store shares: checking a published assignment and its stored text form.
import { configError } from '../../core/errors.ts';
import type { AssignmentInput, GroupAssignment } from '../AssignmentStore.ts';
import { checkName, checkNonNegativeInt } from './args.ts';

/** Checks the arguments of `AssignmentStore.publish`; returns the body text to store. */
export function checkAssignment(name: string, expectedGeneration: number, a: AssignmentInput): string {
  checkName('name', name);
  checkNonNegativeInt('expectedGeneration', expectedGeneration);
  if (typeof a !== 'object' || a === null) throw configError('assignment', 'an object', a);
  checkName('assignment.leader', a.leader);
  if (!Array.isArray(a.members)) throw configError('assignment.members', 'an array of names', a.members);
  for (let i = 0; i < a.members.length; i++) checkName(`assignment.members[${i}]`, a.members[i]);
  if (!Array.isArray(a.owners))
    throw configError('assignment.owners', 'an array of member indexes', a.owners);
  a.owners.forEach((o, i) => {
    if (!Number.isInteger(o) || o < -1 || o >= a.members.length) {
      throw configError(`assignment.owners[${i}]`, `-1 or a member index below ${a.members.length}`, o);
    }
  });
  return JSON.stringify({ leader: a.leader, members: a.members, owners: a.owners });
}

/** The assignment read back from its stored body, generation and publish time. */
export function decodeAssignment(body: string, generation: number, publishedAt: number): GroupAssignment {
  const b = JSON.parse(body) as AssignmentInput;
  return { leader: b.leader, members: b.members, owners: b.owners, generation, publishedAt };
}
